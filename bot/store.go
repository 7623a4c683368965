package bot

import (
	"context"
	"time"
)

// RequestFilter selects requests for FindRequests.
type RequestFilter struct {
	Status Status  // "" for any status
	IDs    []int64 // when non-empty, only these ids
	Query  string  // case-insensitive substring of title or description; "" for all
	Sort   string  // SortDemand (default) or SortNew
	// IncludeMerged also returns requests that are merged into another.
	IncludeMerged bool
	// Tag, when set, selects the requests that carry this tag.
	Tag string
	// IncludeRemoved also returns requests taken off the board.
	IncludeRemoved bool
	Limit          int // 0 means 50
	Offset         int
}

// Sort orders for RequestFilter.Sort.
const (
	SortDemand = "demand"
	SortNew    = "new"
	// SortValue orders by the monthly revenue of the companies behind a
	// request, then by demand.
	SortValue = "value"
)

// ReleaseInput describes a ship or roll back for Store.Release.
type ReleaseInput struct {
	Action         string // ActionShipped or ActionRolledBack
	Version        string
	Note           string
	Actor          string
	IdempotencyKey string // "" for none
	// Fingerprint identifies what was asked with IdempotencyKey, so that
	// the key reused for a different release is told apart.
	Fingerprint string
	RequestIDs  []int64
	// Result, when set, renders the answer to store with the event (in the
	// same transaction), which replays of IdempotencyKey return.
	Result func(*ReleaseResult) string
	// Text renders the reply posted in one subscribed thread, given the
	// requests of this event that the thread is subscribed to (canonical
	// requests, in RequestIDs order).
	Text func(reqs []*Request) string
	// Schedule, when set, returns the due time of the delivery to each of
	// threads (sorted by platform, workspace, channel and thread) for an
	// event at now: the outbox's pacing (Outbox.Schedule), so that claims
	// in due order interleave channels and a worker claims only what its
	// channels can post soon. Nil makes every delivery due at once.
	Schedule func(threads []Thread, now time.Time) []time.Time
}

// ReleaseResult is what Store.Release did.
type ReleaseResult struct {
	Event   *ReleaseEvent
	Changed []*Request // requests whose status changed, canonical
	Skipped []*Request // already in the target state (ship of a shipped request, roll back of one that is not shipped)
	Threads int        // deliveries enqueued
}

// DeliveryStats counts an event's deliveries by state.
type DeliveryStats struct {
	Pending int `db:"pending"`
	Running int `db:"running"`
	Done    int `db:"done"`
	Failed  int `db:"failed"`
}

// Store is the persistence the engine consumes. Every method is one
// transaction. Methods return *Error with ENOTFOUND for missing rows and
// ECONFLICT for uniqueness violations and refused state changes; anything
// else is an internal error.
type Store interface {
	// CurationStore: rename, describe, tags, remove/restore, card refreshes.
	CurationStore
	// LinkStore: links to tracker items and webhook deliveries (bot/link.go).
	LinkStore
	// PortalStore: releases, roadmap and demand timelines (bot/portal.go).
	PortalStore

	// CreateRequest inserts r (status open, not merged) together with its
	// first mention m and m's author as a voter (kind author). It sets r.ID,
	// m.ID, m.RequestID and the timestamps. ECONFLICT, with nothing written,
	// when m's message (platform, workspace, channel, message id) is already
	// captured.
	CreateRequest(ctx context.Context, r *Request, m *Mention) error
	// FindRequestByID returns the request with its Demand, Orgs and Mentions
	// counted over the request and everything merged into it (directly or
	// through chains). It does not follow merged_into; see ResolveRequest.
	FindRequestByID(ctx context.Context, id int64) (*Request, error)
	// ResolveRequest follows merged_into to the canonical request.
	ResolveRequest(ctx context.Context, id int64) (*Request, error)
	// ResolveRequests is ResolveRequest for many ids in one query: the
	// canonical request of each id that exists, by that id.
	ResolveRequests(ctx context.Context, ids []int64) (map[int64]*Request, error)
	// FindRequests returns matching requests with counts, and the total
	// number of matches ignoring Limit and Offset.
	FindRequests(ctx context.Context, f RequestFilter) ([]*Request, int, error)
	// FindMergedInto returns the requests merged directly into id.
	FindMergedInto(ctx context.Context, id int64) ([]*Request, error)
	// EachDoc calls fn for every request, for building the duplicate index.
	// Doc.Active is false for merged or declined requests.
	EachDoc(ctx context.Context, fn func(Doc) error) error
	// DocsChangedSince returns the docs of requests updated at or after t.
	DocsChangedSince(ctx context.Context, t time.Time) ([]Doc, error)

	// AddMention inserts m for m.RequestID and its author as a voter.
	// ECONFLICT when the message is already captured.
	AddMention(ctx context.Context, m *Mention) error
	FindMentionByMessage(ctx context.Context, platform, workspace, channel, messageID string) (*Mention, error)
	// FindThreadMention returns the earliest mention whose message is the
	// thread root or in the thread threadID of that channel.
	FindThreadMention(ctx context.Context, platform, workspace, channel, threadID string) (*Mention, error)
	// FindMentions returns the mentions of a request and of everything
	// merged into it, oldest first.
	FindMentions(ctx context.Context, requestID int64) ([]*Mention, error)
	MarkMentionDeleted(ctx context.Context, platform, workspace, channel, messageID string) error

	// AddVote adds a vote; false when that person already counts for that
	// request (as author or voter).
	AddVote(ctx context.Context, v Voter) (bool, error)
	// RemoveVote removes a kind=vote row; an authorship is never removed.
	// False when there was no such vote.
	RemoveVote(ctx context.Context, requestID int64, platform, workspace, userID string) (bool, error)

	// Merge merges src into dst's canonical request. ECONFLICT when src is
	// already merged, or when dst resolves to src (a cycle).
	Merge(ctx context.Context, src, dst int64, actor string) (*Request, error)
	// Unmerge restores src with exactly its own mentions and voters (and what
	// was merged into it). ECONFLICT when src is not merged.
	Unmerge(ctx context.Context, src int64, actor string) (*Request, error)

	// SetStatus changes the status of request id and appends a history row.
	// ECONFLICT when the request already has that status.
	SetStatus(ctx context.Context, id int64, to Status, actor, version, note string) (*StatusChange, error)
	FindHistory(ctx context.Context, requestID int64) ([]*StatusChange, error)

	// Release ships or rolls back requests in one transaction: statuses,
	// history rows, the event, and one delivery per subscribed thread (the
	// threads of the mentions of each changed request and of everything
	// merged into it), unique per (event, thread). Requests already in the
	// target state are skipped. With an IdempotencyKey already used it returns
	// ECONFLICT and writes nothing.
	Release(ctx context.Context, in ReleaseInput) (*ReleaseResult, error)
	FindReleaseByIdempotencyKey(ctx context.Context, key string) (*ReleaseEvent, error)
	SetReleaseResult(ctx context.Context, eventID int64, result string) error
	// FindShippedIn returns the ids of requests whose status is shipped and
	// whose latest ship was in version.
	FindShippedIn(ctx context.Context, version string) ([]int64, error)

	// CreateRegressionAlert writes the alert and its delivery d in one
	// transaction; d belongs to an event of its own (d.EventID is set), so
	// alerts of two requests of one ship may post in the same channel.
	// False, and nothing written, when (a.Version, a.RequestID) already has
	// an alert.
	CreateRegressionAlert(ctx context.Context, a *RegressionAlert, d *Delivery) (bool, error)
	// FindRegressionAlert returns alert id. ENOTFOUND.
	FindRegressionAlert(ctx context.Context, id int64) (*RegressionAlert, error)
	// FindRegressionAlerts returns the alerts about request ids, oldest first.
	FindRegressionAlerts(ctx context.Context, requestIDs []int64) ([]*RegressionAlert, error)
	// FindChannelsOfKind returns the channels of a workspace with setting kind.
	FindChannelsOfKind(ctx context.Context, platform, workspace, kind string) ([]string, error)

	// SetChannel adds (on) or removes a channel setting; false when nothing changed.
	SetChannel(ctx context.Context, c ChannelSetting, on bool) (bool, error)
	HasChannel(ctx context.Context, platform, workspace, channel, kind string) (bool, error)
	// ChannelKinds returns every setting kind of a channel in one query.
	ChannelKinds(ctx context.Context, platform, workspace, channel string) ([]string, error)

	// CreateSuggestion stores s (state pending) with its candidates.
	CreateSuggestion(ctx context.Context, s *Suggestion) error
	SetSuggestionMessage(ctx context.Context, id int64, ref MessageRef) error
	FindSuggestion(ctx context.Context, id int64) (*Suggestion, error)
	// DecideSuggestion moves a pending suggestion to merged (merging its
	// request into `into` in the same transaction) or dismissed. When the
	// suggestion is no longer pending it changes nothing and returns false.
	DecideSuggestion(ctx context.Context, id int64, state string, into int64, actor string) (*Suggestion, bool, error)
	// DismissedWith returns the ids of requests that were dismissed as
	// duplicates of id (in either direction).
	DismissedWith(ctx context.Context, id int64) ([]int64, error)

	// SaveCard records that the bot's message ref shows request id.
	SaveCard(ctx context.Context, requestID int64, ref MessageRef) error
	// FindCard returns the request id shown by the bot message, ENOTFOUND if none.
	FindCard(ctx context.Context, platform, workspace, channel, messageID string) (int64, error)

	// ClaimDeliveries leases up to limit due deliveries (pending, or running
	// with an expired lease) to worker until now+lease, and returns them.
	// Safe across processes: a delivery is leased to one worker at a time.
	ClaimDeliveries(ctx context.Context, worker string, limit int, lease time.Duration) ([]*Delivery, error)
	// OutboxStore: leasing, settling and pacing deliveries and release
	// progress messages (documented there).
	OutboxStore
	FindDeliveries(ctx context.Context, eventID int64) ([]*Delivery, error)
	// DeliveryQueueDepth counts deliveries not yet done or failed.
	DeliveryQueueDepth(ctx context.Context) (int, error)

	Ping(ctx context.Context) error
	Close() error
}
