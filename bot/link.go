package bot

import (
	"context"
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
	Items   []ItemResult
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
