package bot

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Kinds of tracker items a request can be linked to (Link.Kind).
const (
	LinkGitHubIssue = "github_issue"
	LinkGitHubPull  = "github_pull"
	LinkLinear      = "linear"
)

// States of a linked tracker item (Link.State). GitHub issues are open,
// completed, not_planned or duplicate; pull requests draft, open, merged,
// closed (without merging) or reverted; Linear issues carry their workflow
// state type (triage, backlog, unstarted, started, completed, canceled,
// duplicate) or removed. A link made by command before the tracker has sent
// anything about the item is unknown, which counts as open.
const (
	ItemUnknown    = "unknown"
	ItemOpen       = "open"
	ItemDraft      = "draft"
	ItemCompleted  = "completed"
	ItemNotPlanned = "not_planned"
	ItemDuplicate  = "duplicate"
	ItemMerged     = "merged"
	ItemClosed     = "closed"
	ItemReverted   = "reverted"

	ItemTriage    = "triage"
	ItemBacklog   = "backlog"
	ItemUnstarted = "unstarted"
	ItemStarted   = "started"
	ItemCanceled  = "canceled"
	ItemRemoved   = "removed"
)

// Link ties a request to one issue, pull request or Linear issue.
type Link struct {
	ID        int64 `db:"id" json:"-"`
	RequestID int64 `db:"request_id" json:"-"`
	// Item identifies the tracker item whatever URL form named it:
	// "github:owner/repo#N" (lowercase owner and repository; issues and pull
	// requests share numbers) or "linear:ENG-123".
	Item      string    `db:"item" json:"-"`
	URL       string    `db:"url" json:"url"`
	Kind      string    `db:"kind" json:"kind"`
	State     string    `db:"state" json:"state"`
	Milestone string    `db:"milestone" json:"-"`
	Title     string    `db:"title" json:"-"`
	CreatedBy string    `db:"created_by" json:"-"`
	CreatedAt time.Time `db:"created_at" json:"-"`
	UpdatedAt time.Time `db:"updated_at" json:"-"`
}

// ItemUpdate is what one tracker delivery says about one item: its state now
// and the requests it mentions (to be linked automatically).
type ItemUpdate struct {
	Item      string
	URL       string
	Kind      string
	State     string
	Milestone string
	Title     string
	// Mentions are request ids named in the item's title or body; each one
	// that exists is linked (to its canonical request) if it is not yet.
	// An update with an empty URL changes only the state of existing links.
	Mentions []int64
}

// TrackerDeliveryInput records one webhook delivery and the item updates it
// carries.
type TrackerDeliveryInput struct {
	Source     string // "github" or "linear"
	DeliveryID string
	Event      string // for the record: "issues.closed", "Issue.update", …
	Items      []ItemUpdate
	// CreatedBy is the actor name written on automatic links.
	CreatedBy string
}

// ItemResult is what recording one ItemUpdate found and did.
type ItemResult struct {
	Item string `json:"item"`
	// Prev is the item's state before this delivery ("" when no request was
	// linked to it before).
	Prev string `json:"prev"`
	// Linked are the canonical requests this delivery linked automatically.
	Linked []int64 `json:"linked,omitempty"`
	// Requests are the canonical requests linked to the item now.
	Requests []int64 `json:"-"`
}

// TrackerDelivery is a recorded webhook delivery.
type TrackerDelivery struct {
	// Done is true when the delivery was fully processed before: nothing
	// was recorded again and there is nothing to do.
	Done bool
	// Resumed is true when the delivery was recorded before but not
	// finished (a crash, or another replica working on it now): Items are
	// the first recording's results, to be acted on again idempotently.
	Resumed bool
	// Unrecorded is true when the delivery was about items no request is
	// linked to and that mention no request: nothing was written (not even
	// the delivery id, so the table keeps only deliveries that mattered).
	Unrecorded bool
	Items      []ItemResult
}

// LinkStore is the persistence of tracker links and webhook deliveries.
type LinkStore interface {
	// AddLink links l.RequestID's canonical request to l.Item; false when
	// the request (or a request merged into it) is already linked to it.
	// ENOTFOUND when the request does not exist.
	AddLink(ctx context.Context, l *Link) (bool, error)
	// RemoveLink unlinks item from the request and everything merged into
	// it; false when it was not linked.
	RemoveLink(ctx context.Context, requestID int64, item string) (bool, error)
	// FindLinks returns the links of a request and of everything merged
	// into it, oldest first.
	FindLinks(ctx context.Context, requestID int64) ([]*Link, error)
	// FindLinkedRequests returns the canonical requests linked to an item
	// whose Item starts with prefix, such as "github:owner/repo#".
	FindLinkedRequests(ctx context.Context, prefix string) ([]int64, error)
	// RecordTrackerDelivery records a delivery id once per source, in the
	// same transaction as the item states and automatic links it carries.
	// A delivery seen before changes nothing (see TrackerDelivery).
	RecordTrackerDelivery(ctx context.Context, in TrackerDeliveryInput) (*TrackerDelivery, error)
	// FinishTrackerDelivery marks a recorded delivery processed.
	FinishTrackerDelivery(ctx context.Context, source, deliveryID string) error
}

var (
	githubItemRe = regexp.MustCompile(`^(?:https?://)?(?:www\.)?github\.com/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)/(issues|pull)/([0-9]{1,12})(?:[/?#].*)?$`)
	linearURLRe  = regexp.MustCompile(`^(?:https?://)?linear\.app/([A-Za-z0-9_-]+)/issue/([A-Za-z][A-Za-z0-9]{0,9}-[0-9]{1,12})(?:[/?#].*)?$`)
	linearIDRe   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,9}-[0-9]{1,12}$`)
)

// GitHubItem is the Link.Item of issue or pull request n of owner/repo.
func GitHubItem(owner, repo string, n int64) string {
	return "github:" + strings.ToLower(owner+"/"+repo) + "#" + strconv.FormatInt(n, 10)
}

// LinearItem is the Link.Item of a Linear issue identifier such as ENG-123.
func LinearItem(identifier string) string { return "linear:" + strings.ToUpper(identifier) }

// ParseItem reads what /feedback track names: a GitHub issue or pull
// request URL (https://github.com/OWNER/REPO/issues/N or /pull/N), a Linear
// issue URL (https://linear.app/WORKSPACE/issue/ENG-123/…) or a Linear
// identifier (ENG-123). It returns a Link with Item, URL and Kind set.
// Chat link markup (<url> or <url|label>) is removed first. EINVALID for
// anything else.
func ParseItem(s string) (*Link, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") {
		s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
		s, _, _ = strings.Cut(s, "|")
	}
	if m := githubItemRe.FindStringSubmatch(s); m != nil {
		n, err := strconv.ParseInt(m[4], 10, 64)
		if err == nil && n > 0 {
			kind := LinkGitHubIssue
			if m[3] == "pull" {
				kind = LinkGitHubPull
			}
			return &Link{Item: GitHubItem(m[1], m[2], n), URL: fmt.Sprintf("https://github.com/%s/%s/%s/%d", m[1], m[2], m[3], n), Kind: kind}, nil
		}
	}
	if m := linearURLRe.FindStringSubmatch(s); m != nil {
		id := strings.ToUpper(m[2])
		return &Link{Item: LinearItem(id), URL: "https://linear.app/" + m[1] + "/issue/" + id, Kind: LinkLinear}, nil
	}
	if linearIDRe.MatchString(s) {
		id := strings.ToUpper(s)
		return &Link{Item: LinearItem(id), URL: id, Kind: LinkLinear}, nil
	}
	return nil, Errorf(EINVALID, "%q is not a GitHub issue or pull request URL, a Linear issue URL or a Linear identifier such as ENG-123.", clip(s, 80))
}
