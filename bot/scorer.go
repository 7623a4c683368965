package bot

import "context"

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
