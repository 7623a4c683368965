package bot

import (
	"context"
	"iter"
	"strconv"
	"time"
)

// Doc is what the duplicate index knows about one request.
type Doc struct {
	ID          int64
	Title       string
	Description string
	// Extra holds further texts that describe the request, such as the texts
	// of its mentions. Scorers may use or ignore them.
	Extra []string
	// Active is false for requests that must never be suggested (merged into
	// another request, or declined). Scorers skip inactive documents.
	Active bool
}

// Candidate is a request that may be a duplicate, with a score in [0,1].
type Candidate struct {
	RequestID int64
	Score     float64
	// Reason says in a few words why the candidate was found (the words
	// or vocabulary concepts the texts share, or an association learned
	// from the team's decisions), e.g. `same words: export, csv`. It may
	// be empty; it is not stored with a suggestion.
	Reason string
}

// Scorer finds likely duplicates of a text among indexed requests. It is kept
// current by the engine: Upsert on create, edit, status change, merge and
// unmerge; Remove when a request disappears. Implementations are safe for
// concurrent use.
type Scorer interface {
	Upsert(doc Doc)
	Remove(id int64)
	// Similar returns at most limit active candidates, best first.
	Similar(ctx context.Context, text string, limit int) ([]Candidate, error)
}

// BulkLoader is implemented by scorers that index many documents faster at
// once than one by one (start-up).
type BulkLoader interface {
	Load(docs []Doc)
}

// SeqLoader is implemented by scorers that index a stream of documents at
// once (start-up) as it is read, without holding it all.
type SeqLoader interface {
	LoadSeq(docs iter.Seq[Doc])
}

// Decision is a team's verdict on whether two requests ask for the same
// thing: a merge (or an auto-merge) says they do, a dismissed suggestion
// ("Not a duplicate") says they do not, and a further mention of a request
// is another way of saying it.
type Decision struct {
	// Key identifies the decision: learning a key that was already learned
	// changes nothing, so replicas can read overlapping windows.
	Key string
	// A and B are the two requests. A is 0 when Text is A's side.
	A, B int64
	// Text is the text of A's side when A is 0 (a mention of B).
	Text string
	// Same is true for duplicates, false for a dismissed suggestion.
	Same bool
	// Undo retracts the decision with the same Key (an unmerge).
	Undo bool
}

// Learner is implemented by scorers that learn from the team's decisions
// (package dedup's index does). The engine calls Learn when it merges or
// dismisses, and with what other replicas decided when it follows the
// index; decisions about requests the scorer does not know are ignored.
type Learner interface {
	Learn(ds []Decision)
}

// DecisionSource is implemented by stores that list the team's decisions
// (store.DB): merges and unmerges, dismissed suggestions and further
// mentions, changed at or after since, oldest first, at most limit (the
// newest limit when more changed).
type DecisionSource interface {
	DecisionsSince(ctx context.Context, since time.Time, limit int) ([]Decision, error)
}

// MergeDecisionKey is the Decision.Key of merging src into dst (and of
// unmerging it again).
func MergeDecisionKey(src, dst int64) string {
	return "merge:" + strconv.FormatInt(src, 10) + ":" + strconv.FormatInt(dst, 10)
}

// DismissDecisionKey is the Decision.Key of dismissing candidate of
// suggestion.
func DismissDecisionKey(suggestion, candidate int64) string {
	return "dismiss:" + strconv.FormatInt(suggestion, 10) + ":" + strconv.FormatInt(candidate, 10)
}

// MentionDecisionKey is the Decision.Key of mention id attached to a
// request.
func MentionDecisionKey(id int64) string {
	return "mention:" + strconv.FormatInt(id, 10)
}

// mentionDecision is what a mention someone attached to an existing
// request teaches the duplicate index (store.DecisionsSince gives the same).
func mentionDecision(m *Mention) Decision {
	return Decision{Key: MentionDecisionKey(m.ID), B: m.RequestID, Text: m.Text, Same: true}
}
