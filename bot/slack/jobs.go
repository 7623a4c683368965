package slack

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// jobRunner runs the work for acknowledged events after the ack. Jobs with
// the same key (a channel's conversation or message) run one after the other
// in arrival order; at most max jobs run at once. Every goroutine it starts
// ends by stop. A job that panics is logged (with its stack) and the runner
// goes on: a bad payload cannot take the process down.
type jobRunner struct {
	log     *slog.Logger
	mu      sync.Mutex
	closed  bool
	queues  map[string][]func(context.Context)
	sem     chan struct{}
	wg      sync.WaitGroup
	quit    chan struct{}
	quitOne sync.Once
}

func newJobRunner(max int, log *slog.Logger) *jobRunner {
	if log == nil {
		log = slog.Default()
	}
	return &jobRunner{log: log, queues: make(map[string][]func(context.Context)), sem: make(chan struct{}, max), quit: make(chan struct{})}
}

// submit queues fn under key ("" runs it independently). It reports false
// when the runner is stopped.
func (r *jobRunner) submit(key string, fn func(context.Context)) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	if key == "" {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.run(fn)
		}()
		return true
	}
	q, busy := r.queues[key]
	r.queues[key] = append(q, fn)
	if !busy {
		r.wg.Add(1)
		go r.drain(key)
	}
	return true
}

// drain runs key's queue until it is empty.
func (r *jobRunner) drain(key string) {
	defer r.wg.Done()
	for {
		r.mu.Lock()
		q := r.queues[key]
		if len(q) == 0 {
			delete(r.queues, key)
			r.mu.Unlock()
			return
		}
		fn := q[0]
		q[0] = nil
		r.queues[key] = q[1:]
		r.mu.Unlock()
		r.run(fn)
	}
}

func (r *jobRunner) run(fn func(context.Context)) {
	select {
	case r.sem <- struct{}{}:
	case <-r.quit:
		return
	}
	defer func() { <-r.sem }()
	ctx, cancel := context.WithTimeout(context.Background(), handleTimeout)
	defer cancel()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-r.quit:
			cancel()
		case <-stop:
		}
	}()
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("panic in slack event job", "panic", p, "stack", string(debug.Stack()))
		}
	}()
	fn(ctx)
}

// stop refuses new jobs, waits up to grace for the queued ones, then cancels
// the rest and waits for every goroutine to end.
func (r *jobRunner) stop(grace time.Duration) {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
	r.quitOne.Do(func() { close(r.quit) })
	<-done
}

// wait blocks until every submitted job has finished (tests).
func (r *jobRunner) wait() { r.wg.Wait() }
