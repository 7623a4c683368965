package store

import (
	"context"
	"sync"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
)

// Group commit: captures that arrive while others are being written wait a
// moment and are then written together, in one transaction (one commit,
// one WAL flush; on PostgreSQL one statement and one round trip for the
// whole batch). Nobody waits for a timer: a capture that finds no batch
// being written starts one at once, so a lone capture costs what it did
// before, and under load the batches grow by themselves to what arrived
// during the previous one. Each caller is answered only after the commit
// that holds its rows, with its own result: a message already on the
// board (or twice in the batch) is ECONFLICT for that caller alone, and
// any other failure of a batch is retried item by item, so one bad capture
// never fails the others.

// maxBatch bounds a batch: larger ones make the first caller wait longer
// for little gain.
const maxBatch = 64

// groupItem is one caller's work in a batch; err is its answer, valid
// once done is closed.
type groupItem[T any] struct {
	ctx  context.Context
	in   T
	err  error
	done chan struct{}
}

// group batches calls of run. run gets the batch and a context that no
// single caller's cancellation ends, and sets each item's err.
type group[T any] struct {
	mu       sync.Mutex
	queue    []*groupItem[T]
	inflight int
	// parallel is how many batches may be written at once (1 for
	// captures and cards: the next batch takes all that arrived meanwhile).
	parallel int
	run      func(ctx context.Context, batch []*groupItem[T])
}

// do adds in to the next batch and waits for the commit that holds it, or
// for ctx to end (the write may then still happen, as with any statement
// cancelled while it runs; a capture whose context ends before its batch
// starts is not written).
func (g *group[T]) do(ctx context.Context, in T) error {
	it := &groupItem[T]{ctx: ctx, in: in, done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, it)
	if g.inflight < max(g.parallel, 1) {
		g.inflight++
		go g.lead()
	}
	g.mu.Unlock()
	select {
	case <-it.done:
		return it.err
	case <-ctx.Done():
		// The batch may still be written: the caller cannot tell, as with
		// any answer lost on the way (EUNAVAILABLE when it timed out).
		return storageError(ctx.Err())
	}
}

// lead writes batches until the queue is empty.
func (g *group[T]) lead() {
	for {
		g.mu.Lock()
		if len(g.queue) == 0 {
			g.inflight--
			g.mu.Unlock()
			return
		}
		n := min(len(g.queue), maxBatch)
		batch := make([]*groupItem[T], 0, n)
		for _, it := range g.queue[:n] {
			if err := it.ctx.Err(); err != nil {
				it.err = storageError(err)
				close(it.done)
				continue
			}
			batch = append(batch, it)
		}
		g.queue = append(g.queue[:0], g.queue[n:]...)
		g.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		ctx, cancel := batchContext(batch)
		g.run(ctx, batch)
		cancel()
		for _, it := range batch {
			close(it.done)
		}
	}
}

// batchContext is the context a batch is written in: the values of the
// first caller's, not cancelled by any one caller, with the latest of the
// callers' deadlines when they all have one.
func batchContext[T any](batch []*groupItem[T]) (context.Context, context.CancelFunc) {
	ctx := context.WithoutCancel(batch[0].ctx)
	var latest time.Time
	for _, it := range batch {
		d, ok := it.ctx.Deadline()
		if !ok {
			return context.WithCancel(ctx)
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(ctx, latest)
}

// batchOrEach writes a batch of more than one item (or of one, with
// alone) with all (one statement for the whole batch) and otherwise, or when
// all fails, each item with one. When all fails with EUNAVAILABLE every item
// gets that error; any other failure of all wrote nothing, so each item is
// written on its own and only the one at fault fails.
func batchOrEach[T any](batch []*groupItem[T], alone bool, all func([]*groupItem[T]) error, one func(*groupItem[T]) error) {
	if len(batch) > 1 || alone && len(batch) == 1 {
		err := all(batch)
		if err == nil {
			return
		}
		if bot.ErrorCode(err) == bot.EUNAVAILABLE {
			for _, it := range batch {
				it.err = err
			}
			return
		}
	}
	for _, it := range batch {
		it.err = one(it)
	}
}
