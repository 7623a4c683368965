package bot

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"
)

// The duplicate index (the Scorer) is kept current by the engine: filled at
// start (LoadIndex), refreshed after every change this engine makes
// (reindex), and following the changes other replicas make (followIndex).

// LoadIndex fills the duplicate index from the store.
func (e *Engine) LoadIndex(ctx context.Context) error {
	start := time.Now().UTC()
	// Decisions before docs, learned after them, as in followIndex.
	ds, err := e.decisionsSince(ctx, time.Time{})
	if err != nil {
		return fmt.Errorf("load duplicate index: %w", err)
	}
	if sl, ok := e.scorer.(SeqLoader); ok {
		if err := e.loadSeq(ctx, sl); err != nil {
			return fmt.Errorf("load duplicate index: %w", err)
		}
	} else if bl, ok := e.scorer.(BulkLoader); ok {
		if err := e.loadBulk(ctx, bl); err != nil {
			return fmt.Errorf("load duplicate index: %w", err)
		}
	} else if err := e.store.EachDoc(ctx, func(d Doc) error { e.scorer.Upsert(d); return nil }); err != nil {
		return fmt.Errorf("load duplicate index: %w", err)
	}
	e.learn(ds...)
	// The memory the load needed (and learning what the decisions teach)
	// goes back to the operating system: start-up is when the process's
	// resident size peaks.
	debug.FreeOSMemory()
	e.mu.Lock()
	e.indexedAt = start
	e.mu.Unlock()
	return nil
}

// loadSeq streams the docs into sl as the store reads them: the scorer
// analyses and indexes them while the next ones are read, with no pause
// between chunks, and only a few batches are held at a time.
func (e *Engine) loadSeq(ctx context.Context, sl SeqLoader) error {
	var err error
	sl.LoadSeq(func(yield func(Doc) bool) {
		stopped := errors.New("stopped")
		err = e.store.EachDoc(ctx, func(d Doc) error {
			if !yield(d) {
				return stopped
			}
			return nil
		})
		if errors.Is(err, stopped) {
			err = nil
		}
	})
	debug.FreeOSMemory()
	return err
}

// loadBulk streams the docs into bl in chunks: the store reads the next
// chunk while the index analyses the previous one, and only a few chunks
// are held at a time rather than every doc.
func (e *Engine) loadBulk(ctx context.Context, bl BulkLoader) error {
	const chunk = 4096
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan []Doc, 2)
	errc := make(chan error, 1)
	go func() {
		defer close(chunks)
		batch := make([]Doc, 0, chunk)
		send := func() error {
			select {
			case chunks <- batch:
				batch = make([]Doc, 0, chunk)
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		err := e.store.EachDoc(ctx, func(d Doc) error {
			batch = append(batch, d)
			if len(batch) == chunk {
				return send()
			}
			return nil
		})
		if err == nil && len(batch) > 0 {
			err = send()
		}
		errc <- err
	}()
	for docs := range chunks {
		bl.Load(docs)
	}
	return <-errc
}

// docOf returns the index document for a request.
func docOf(r *Request) Doc {
	return Doc{ID: r.ID, Title: r.Title, Description: r.Description, Active: r.MergedInto == nil && r.RemovedAt == nil && r.Status.Suggestible()}
}

// reindex refreshes the index entries of the given requests from the store.
func (e *Engine) reindex(ctx context.Context, ids ...int64) {
	for _, id := range ids {
		e.reindexOne(ctx, id)
	}
}

// reindexOne refreshes the index entry of request id and returns the
// request as read (nil when it could not be read).
func (e *Engine) reindexOne(ctx context.Context, id int64) *Request {
	r, err := e.store.FindRequestByID(ctx, id)
	if err != nil {
		e.log.Warn("reindex", "id", id, "err", err)
		return nil
	}
	e.scorer.Upsert(docOf(r))
	return r
}

// followIndex picks up, every Config.IndexPoll, the requests other
// replicas changed and the decisions their teams made.
func (e *Engine) followIndex(ctx context.Context) {
	t := time.NewTicker(e.cfg.IndexPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		e.mu.RLock()
		since := e.indexedAt
		e.mu.RUnlock()
		now := time.Now().UTC()
		// Overlap a little so a commit that raced the last poll is not missed.
		from := since.Add(-2 * time.Second)
		// The decisions are read before the docs: what a decision changed
		// on the board (a merged request no longer suggested) commits with
		// it, so the docs read afterwards are at least as new, and no
		// lesson is applied to a board older than the lesson (read the
		// other way round, a merge committed between the two reads was
		// learned while its request was still suggested, until the next
		// poll). They are learned once the docs are indexed: learning
		// reads the words of both requests.
		ds, err := e.decisionsSince(ctx, from)
		if err != nil {
			if ctx.Err() == nil {
				e.log.Warn("follow index", "err", err)
			}
			continue
		}
		docs, err := e.store.DocsChangedSince(ctx, from)
		if err != nil {
			if ctx.Err() == nil {
				e.log.Warn("follow index", "err", err)
			}
			continue
		}
		for _, d := range docs {
			e.scorer.Upsert(d)
		}
		e.learn(ds...)
		e.mu.Lock()
		e.indexedAt = now
		e.mu.Unlock()
	}
}

// MaxLearnedDecisions is how many of the team's latest decisions the
// duplicate index reads at start-up (the index keeps about as many).
const MaxLearnedDecisions = 10_000

// decisionsSince reads the team's decisions made since t (merges,
// unmerges, dismissals, further mentions; every replica reads them from
// the store), when the scorer learns and the store keeps them (nil
// otherwise). Keys make learning one twice harmless.
func (e *Engine) decisionsSince(ctx context.Context, since time.Time) ([]Decision, error) {
	if _, ok := e.scorer.(Learner); !ok {
		return nil, nil
	}
	src, ok := e.store.(DecisionSource)
	if !ok {
		return nil, nil
	}
	return src.DecisionsSince(ctx, since, MaxLearnedDecisions)
}

// learn tells a learning scorer about decisions this replica just made.
func (e *Engine) learn(ds ...Decision) {
	if l, ok := e.scorer.(Learner); ok && len(ds) > 0 {
		l.Learn(ds)
	}
}
