package bot

import (
	"context"
	"database/sql/driver"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Tag limits: a tag is lowercase [a-z0-9-], 1 to MaxTagLen characters, and a
// request has at most MaxTags tags.
const (
	MaxTags   = 10
	MaxTagLen = 32
)

// Tags is a request's set of tags, sorted. In the database it is one text
// column, the tags separated by single spaces.
type Tags []string

// Scan implements sql.Scanner.
func (t *Tags) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case nil:
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("tags: cannot scan %T", src)
	}
	*t = Tags(strings.Fields(s))
	return nil
}

// Value implements driver.Valuer.
func (t Tags) Value() (driver.Value, error) { return t.String(), nil }

// String returns the tags separated by spaces.
func (t Tags) String() string { return strings.Join(t, " ") }

// Has reports whether t holds tag.
func (t Tags) Has(tag string) bool { return slices.Contains(t, tag) }

// SplitTags splits what a person typed into tags: separated by spaces or
// commas, a leading '#' dropped.
func SplitTags(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	out := f[:0]
	for _, t := range f {
		t = strings.TrimPrefix(t, "#")
		if t != "" {
			out = append(out, t)
		}
	}
	return out
}

// ValidTag reports whether tag (already lowercased) is a valid tag.
func ValidTag(tag string) bool {
	if len(tag) < 1 || len(tag) > MaxTagLen {
		return false
	}
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// NormalizeTags lowercases tags, checks each one and returns them sorted
// without repeats. EINVALID (with the first bad tag) when one is not valid.
func NormalizeTags(tags []string) (Tags, error) {
	out := make(Tags, 0, len(tags))
	for _, t := range tags {
		l := strings.ToLower(strings.TrimSpace(t))
		if !ValidTag(l) {
			return nil, &Error{Code: EINVALID, Message: fmt.Sprintf(
				"%q is not a valid tag: tags are 1 to %d characters of a-z, 0-9 and -.", clip(t, 40), MaxTagLen)}
		}
		out = append(out, l)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// CheckTitle validates a title typed by a person: not empty, at most
// MaxTitleRunes runes (a rename is refused, never truncated). It returns
// the trimmed title or EINVALID.
func CheckTitle(title string) (string, error) {
	title = strings.TrimSpace(title)
	if title == "" {
		return "", Errorf(EINVALID, "A title cannot be empty.")
	}
	if strings.ContainsAny(title, "\n\r") {
		return "", Errorf(EINVALID, "A title is one line.")
	}
	if n := utf8.RuneCountInString(title); n > MaxTitleRunes {
		return "", Errorf(EINVALID, "A title is at most %d characters; this one has %d.", MaxTitleRunes, n)
	}
	return title, nil
}

// CheckDescription validates a description typed by a person (at most
// MaxTextRunes runes; empty clears it).
func CheckDescription(text string) (string, error) {
	text = strings.TrimSpace(text)
	if n := utf8.RuneCountInString(text); n > MaxTextRunes {
		return "", Errorf(EINVALID, "A description is at most %d characters; this one has %d.", MaxTextRunes, n)
	}
	return text, nil
}

// Edit kinds (Edit.Kind).
const (
	EditRename   = "rename"
	EditDescribe = "describe"
	EditTags     = "tag"
	EditRemove   = "remove"
	EditRestore  = "restore"
)

// Edit is one append-only row of a request's edit history: a rename, a new
// description, a change of tags (From and To hold the tags before and after,
// space-separated), a removal (Note holds the reason) or a restore.
type Edit struct {
	ID        int64     `db:"id" json:"-"`
	RequestID int64     `db:"request_id" json:"-"`
	Actor     string    `db:"actor" json:"actor"`
	Kind      string    `db:"kind" json:"kind"`
	From      string    `db:"from_value" json:"from"`
	To        string    `db:"to_value" json:"to"`
	Note      string    `db:"note" json:"note,omitempty"`
	CreatedAt time.Time `db:"created_at" json:"at"`
}

// RequestUpdate is a change to a request's curated fields for
// CurationStore.UpdateRequest. Nil fields are left alone. Tags replaces the
// tags; AddTags and RemoveTags change them (applied after Tags).
type RequestUpdate struct {
	Title       *string
	Description *string
	Tags        *[]string
	AddTags     []string
	RemoveTags  []string
}

// UpdateResult is what UpdateRequest did: the request after the change and
// one Edit per field that changed (none when nothing did).
type UpdateResult struct {
	Request *Request
	Edits   []*Edit
}

// CardRefresh is a claimed job to edit every card of a request group (the
// canonical request RootID and everything merged into it). Gen says which
// change it covers: a change after the claim bumps it, and the job runs
// again.
type CardRefresh struct {
	RootID   int64 `db:"root_id"`
	Gen      int64 `db:"gen"`
	Attempts int   `db:"attempts"`
}

// ActionStatus is the release_events action of a status notice: a status
// change announced in the request's threads (Config.NotifyStatuses).
const ActionStatus = "status"

// StatusNoticeInput is an announced status change for
// CurationStore.SetStatusNotify.
type StatusNoticeInput struct {
	Request int64
	Status  Status
	Actor   string
	Note    string
	// Text renders the reply posted in each subscribed thread.
	Text func(reqs []*Request) string
	// Schedule paces the deliveries (Outbox.Schedule).
	Schedule func(threads []Thread, now time.Time) []time.Time
}

// Card is a bot message showing a request.
type Card struct {
	RequestID int64
	MessageRef
	// Shown is a hash of what the card last showed ("" when unknown).
	Shown string
}

// CurationStore is the persistence of board curation (rename, describe,
// tags, remove, restore) and of card refreshes. Every method is one
// transaction.
type CurationStore interface {
	// UpdateRequest applies u to request id (not following merges) and
	// appends an edit row for each field that changed. EINVALID (nothing
	// written) for an empty or too long title, an invalid tag, or more than
	// MaxTags tags; ENOTFOUND.
	UpdateRequest(ctx context.Context, id int64, u RequestUpdate, actor string) (*UpdateResult, error)
	// RemoveRequest takes request id off the board, lists, search and the
	// duplicate index (its mentions, votes and merges stay). ECONFLICT when
	// it is already removed; ENOTFOUND.
	RemoveRequest(ctx context.Context, id int64, actor, reason string) (*Edit, error)
	// RestoreRequest undoes RemoveRequest. ECONFLICT when it is not removed.
	RestoreRequest(ctx context.Context, id int64, actor string) (*Edit, error)
	// FindEdits returns the edit history of a request, oldest first.
	FindEdits(ctx context.Context, requestID int64) ([]*Edit, error)

	// ClaimCardRefreshes leases up to limit pending card refreshes that were
	// first seen at least settle ago (a burst of changes within settle makes
	// one refresh) to worker until now+lease.
	ClaimCardRefreshes(ctx context.Context, worker string, limit int, settle, lease time.Duration) ([]*CardRefresh, error)
	// FinishCardRefresh ends a claimed refresh. When the group changed again
	// since the claim (Gen moved on) the refresh stays queued for another run.
	FinishCardRefresh(ctx context.Context, worker string, c *CardRefresh) error
	// RetryCardRefresh hands a claimed refresh back to be tried again at next.
	RetryCardRefresh(ctx context.Context, worker string, c *CardRefresh, next time.Time) error
	// FindGroupCards returns every card showing a request of the group whose
	// canonical request is rootID.
	FindGroupCards(ctx context.Context, rootID int64) ([]*Card, error)
	// PendingCardRefreshes counts queued refreshes.
	PendingCardRefreshes(ctx context.Context) (int, error)
	// SetCardShown records what card ref shows now.
	SetCardShown(ctx context.Context, ref MessageRef, shown string) error
	// SetStatusNotify changes a request's status and enqueues one reply per
	// subscribed thread in the same transaction (see StatusNoticeInput). It
	// returns the history row and the number of replies queued.
	SetStatusNotify(ctx context.Context, in StatusNoticeInput) (*StatusChange, int, error)
	// FindSuggestionByMessage returns the suggestion the bot message shows.
	// ENOTFOUND.
	FindSuggestionByMessage(ctx context.Context, ref MessageRef) (*Suggestion, error)
}
