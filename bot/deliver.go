package bot

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"
)

// The delivery worker.
//
// A dispatcher claims deliveries due within two polls (ClaimDeliveriesAhead)
// while it holds fewer than Config.DeliveryMaxInFlight, and puts each on the
// queue of its channel. Every channel with queued work has one goroutine (a
// lane) that posts its deliveries one at a time, each no earlier than its
// NextAt, at most once per the platform's ChannelInterval (Pacer), and under
// the platform-wide rate (Throttle or Config.DeliveryRate). A slow or
// rate-limited channel therefore holds up only itself.
//
// Store.Release spaces the deliveries of one channel by its interval
// (ReleaseInput.Spacing), so claims in due order interleave channels and a
// worker only claims what its channels can post within a few seconds; other
// replicas claim the rest. Leases are renewed every third of
// Config.DeliveryLease for as long as a delivery waits in a lane; a lease
// found lost at renewal (the worker stalled and another took over) is
// dropped without posting. A graceful stop hands unposted deliveries back.
//
// A 429 (*RetryAfterError) pauses the channel for Retry-After and puts the
// delivery back at the head of its lane. Other errors release the delivery
// with exponential backoff and jitter, and a delivery still failing
// Config.DeliveryGiveUp after it was enqueued is marked failed, as is one
// failing with *PermanentError. FinishDelivery commits right after the post,
// and each post carries the delivery's IdempotencyKey, so a crash between
// the two re-posts under the same key.

type progress struct {
	platform string
	ref      MessageRef
	msg      OutMessage
	outcome  ReleaseOutcome
	last     time.Time
	done     bool
}

func (e *Engine) startProgress(ctx context.Context, platform string, where OutMessage, out *ReleaseOutcome) {
	p := e.platform(platform)
	if p == nil {
		return
	}
	where.Text = e.Text().progressStart(out)
	ref, err := e.post(ctx, p, where)
	if err != nil {
		e.log.Warn("post progress", "err", err)
		return
	}
	e.mu.Lock()
	e.progress[out.EventID] = &progress{platform: platform, ref: ref, msg: where, outcome: *out, last: time.Now()}
	e.mu.Unlock()
}

// progressEvery is the shortest time between two edits of a progress
// message while its deliveries run.
const progressEvery = 2 * time.Second

// updateProgress edits the progress messages this engine posted: when their
// event's deliveries are finished (once), or at most every progressEvery
// meanwhile. The counts come from the store, so deliveries made by other
// replicas count too.
func (e *Engine) updateProgress(ctx context.Context) {
	e.mu.Lock()
	ids := make([]int64, 0, len(e.progress))
	for id := range e.progress {
		ids = append(ids, id)
	}
	e.mu.Unlock()
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		e.mu.Lock()
		pr := e.progress[id]
		e.mu.Unlock()
		if pr == nil || pr.done {
			continue
		}
		st, err := e.store.EventDeliveryStats(ctx, id)
		if err != nil {
			continue
		}
		finished := st.Pending+st.Running == 0
		if !finished && time.Since(pr.last) < progressEvery {
			continue
		}
		msg := pr.msg
		msg.Text = e.Text().progressLine(&pr.outcome, st, finished)
		if p := e.platform(pr.platform); p != nil {
			if err := e.update(ctx, p, pr.ref, msg); err != nil {
				e.log.Warn("update progress", "err", err)
			}
		}
		e.mu.Lock()
		pr.last = time.Now()
		if finished {
			pr.done = true
			delete(e.progress, id)
		}
		e.mu.Unlock()
	}
}

// kick tells a running worker that deliveries were enqueued.
func (e *Engine) kick() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// channelInterval is the posting interval of one channel of platform (its
// Pacer), 0 when it has none or is not connected.
func (e *Engine) channelInterval(platform string) time.Duration {
	if pc, ok := e.platform(platform).(Pacer); ok {
		return max(pc.ChannelInterval(), 0)
	}
	return 0
}

// bucket is a platform-wide posting limit: a token bucket in its GCRA form.
type bucket struct {
	mu    sync.Mutex
	every time.Duration
	burst int
	tat   time.Time // theoretical arrival time of the next post
}

// reserve counts one post and returns when it may be made (now or later).
func (b *bucket) reserve(now time.Time) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tat.Before(now) {
		b.tat = now
	}
	b.tat = b.tat.Add(b.every)
	at := b.tat.Add(-time.Duration(b.burst) * b.every)
	if at.Before(now) {
		return now
	}
	return at
}

// platformBucket returns the platform-wide limit of platform, nil for none.
func (e *Engine) platformBucket(name string, p Platform) *bucket {
	e.mu.Lock()
	defer e.mu.Unlock()
	if b, ok := e.buckets[name]; ok {
		return b
	}
	rate, burst := e.cfg.DeliveryRate, 1
	if rate <= 0 {
		if t, ok := p.(Throttle); ok {
			rate, burst = t.PostRate()
		}
	}
	var b *bucket
	if rate > 0 {
		b = &bucket{every: time.Duration(float64(time.Second) / rate), burst: max(burst, 1)}
	}
	e.buckets[name] = b
	return b
}

// pruneChannels forgets channel pacing that is in the past.
func (e *Engine) pruneChannels() {
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, at := range e.channelAt {
		if at.Before(now) {
			delete(e.channelAt, k)
		}
	}
}

// claimBatch is the most deliveries one claim takes.
const claimBatch = 500

// worker delivers claimed deliveries through per-channel lanes. Run uses one
// for its lifetime; each Flush uses its own in drain mode.
type worker struct {
	e     *Engine
	drain bool // Flush: claim only what is due now, hand 429s back to the queue

	mu    sync.Mutex
	lanes map[string]*lane
	held  map[int64]bool // claimed and not settled
	lost  map[int64]bool // lease lost at renewal: must not be posted
	atCap bool           // the last claim stopped at DeliveryMaxInFlight
	wg    sync.WaitGroup // lanes
	freed chan struct{}  // room again after atCap
}

type lane struct{ q []*Delivery }

func newWorker(e *Engine, drain bool) *worker {
	return &worker{e: e, drain: drain, lanes: map[string]*lane{}, held: map[int64]bool{}, lost: map[int64]bool{}, freed: make(chan struct{}, 1)}
}

// runDeliveries runs the dispatcher until ctx ends, then waits for the
// lanes and hands back what they did not post.
func (e *Engine) runDeliveries(ctx context.Context) {
	w := newWorker(e, false)
	defer w.stop()
	poll := time.NewTicker(e.cfg.DeliveryPoll)
	defer poll.Stop()
	renew := time.NewTicker(max(e.cfg.DeliveryLease/3, 10*time.Millisecond))
	defer renew.Stop()
	housekeeping := time.NewTicker(500 * time.Millisecond)
	defer housekeeping.Stop()
	ahead := 2 * e.cfg.DeliveryPoll
	for {
		more, err := w.claim(ctx, claimBatch, ahead)
		if err != nil && ctx.Err() == nil {
			e.log.Warn("claim deliveries", "err", err)
		}
		if more && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-e.wake:
		case <-w.freed:
		case <-poll.C:
		case <-renew.C:
			w.renew(ctx)
		case <-housekeeping.C:
			e.updateProgress(ctx)
			e.pruneChannels()
		}
	}
}

// Flush delivers every delivery that is due now, then returns. The console
// calls it after each input line so its transcript is deterministic: posts
// to a platform without channel pacing go out one at a time in claim order,
// and a finished event's progress message is edited before Flush returns.
func (e *Engine) Flush(ctx context.Context) error {
	w := newWorker(e, true)
	defer w.stop()
	for {
		more, err := w.claim(ctx, 200, 0)
		if err != nil {
			return err
		}
		n := w.inFlight()
		if n == 0 && !more {
			break
		}
		if err := w.waitLanes(ctx); err != nil {
			return err
		}
	}
	e.updateProgress(ctx)
	return nil
}

func (w *worker) inFlight() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.held)
}

// waitLanes waits until every lane is empty, renewing leases meanwhile.
func (w *worker) waitLanes(ctx context.Context) error {
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	renew := time.NewTicker(max(w.e.cfg.DeliveryLease/3, 10*time.Millisecond))
	defer renew.Stop()
	for {
		select {
		case <-done:
			return ctx.Err()
		case <-renew.C:
			w.renew(ctx)
		}
	}
}

// claim claims up to limit deliveries due within ahead (fewer when the
// worker is near DeliveryMaxInFlight) and queues them on their lanes. It
// reports whether a claim right away may find more.
func (w *worker) claim(ctx context.Context, limit int, ahead time.Duration) (bool, error) {
	e := w.e
	w.mu.Lock()
	room := e.cfg.DeliveryMaxInFlight - len(w.held)
	w.atCap = room <= 0
	w.mu.Unlock()
	if room <= 0 {
		return false, nil
	}
	limit = min(limit, room)
	ds, err := e.store.ClaimDeliveriesAhead(ctx, e.cfg.Worker, limit, e.cfg.DeliveryLease, ahead)
	if err != nil {
		return false, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, d := range ds {
		if w.held[d.ID] {
			// Our own lease ran out before a renewal got through and we took
			// it again: it is already queued or being posted.
			continue
		}
		w.held[d.ID] = true
		key := channelKey(d)
		if w.drain && e.channelInterval(d.Platform) == 0 {
			key = d.Platform // one lane per unpaced platform: posts in claim order
		}
		ln := w.lanes[key]
		if ln == nil {
			ln = &lane{}
			w.lanes[key] = ln
			w.wg.Add(1)
			go w.runLane(ctx, key, ln)
		}
		ln.push(d)
	}
	if len(ds) == limit && len(w.held) >= e.cfg.DeliveryMaxInFlight {
		w.atCap = true
	}
	return len(ds) == limit && !w.atCap, nil
}

func channelKey(d *Delivery) string {
	return d.Platform + "\x00" + d.Workspace + "\x00" + d.Channel
}

// push queues d in due order (claims arrive in due order, so it is almost
// always an append).
func (l *lane) push(d *Delivery) {
	i := len(l.q)
	for i > 0 && (l.q[i-1].NextAt.After(d.NextAt) || l.q[i-1].NextAt.Equal(d.NextAt) && l.q[i-1].ID > d.ID) {
		i--
	}
	l.q = append(l.q, nil)
	copy(l.q[i+1:], l.q[i:])
	l.q[i] = d
}

// settle forgets a delivery the worker no longer holds.
func (w *worker) settle(id int64) {
	w.mu.Lock()
	delete(w.held, id)
	delete(w.lost, id)
	wasFull := w.atCap
	if wasFull && len(w.held) < w.e.cfg.DeliveryMaxInFlight*3/4 {
		w.atCap = false
	}
	w.mu.Unlock()
	if wasFull {
		select {
		case w.freed <- struct{}{}:
		default:
		}
	}
}

// outcome of one delivery attempt for its lane.
type outcome int

const (
	settled outcome = iota // done, failed, released for retry, or not ours
	requeue                // rate limited: back to the head of the lane
	stopped                // the worker is stopping; still held
)

func (w *worker) runLane(ctx context.Context, key string, ln *lane) {
	defer w.wg.Done()
	for {
		w.mu.Lock()
		if len(ln.q) == 0 || ctx.Err() != nil {
			delete(w.lanes, key)
			w.mu.Unlock()
			return
		}
		d := ln.q[0]
		ln.q = ln.q[1:]
		lost := w.lost[d.ID]
		w.mu.Unlock()
		if lost {
			w.settle(d.ID)
			continue
		}
		switch w.e.deliverOne(ctx, w, d) {
		case settled:
			w.settle(d.ID)
		case requeue:
			w.mu.Lock()
			ln.q = append([]*Delivery{d}, ln.q...)
			w.mu.Unlock()
		case stopped:
		}
	}
}

// renew extends the leases of the deliveries the worker holds and marks
// those it lost.
func (w *worker) renew(ctx context.Context) {
	w.mu.Lock()
	ids := make([]int64, 0, len(w.held))
	for id := range w.held {
		ids = append(ids, id)
	}
	w.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	held, err := w.e.store.ExtendDeliveries(ctx, w.e.cfg.Worker, ids, w.e.cfg.DeliveryLease)
	if err != nil {
		if ctx.Err() == nil {
			w.e.log.Warn("renew delivery leases", "err", err)
		}
		return
	}
	ok := make(map[int64]bool, len(held))
	for _, id := range held {
		ok[id] = true
	}
	w.mu.Lock()
	for _, id := range ids {
		if !ok[id] && w.held[id] {
			w.lost[id] = true
		}
	}
	w.mu.Unlock()
}

// stop waits for the lanes, then hands the deliveries still held back to
// the queue so that another worker takes them without waiting for the
// leases to expire.
func (w *worker) stop() {
	w.wg.Wait()
	w.mu.Lock()
	ids := make([]int64, 0, len(w.held))
	for id := range w.held {
		if !w.lost[id] {
			ids = append(ids, id)
		}
	}
	w.held = map[int64]bool{}
	w.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.e.store.ReleaseDeliveries(ctx, w.e.cfg.Worker, ids); err != nil {
		w.e.log.Warn("release deliveries", "n", len(ids), "err", err)
	}
}

// waitTurn waits until d may be posted: its NextAt, its channel's pace and
// pause, and the platform-wide rate. False when ctx ended first.
func (e *Engine) waitTurn(ctx context.Context, d *Delivery, p Platform) bool {
	key := channelKey(d)
	iv := e.channelInterval(d.Platform)
	now := time.Now()
	e.mu.Lock()
	at := e.channelAt[key]
	if at.Before(now) {
		at = now
	}
	if d.NextAt.After(at) {
		at = d.NextAt
	}
	if iv > 0 {
		// A 2% margin absorbs network jitter between two posts' arrival
		// at the platform, which would otherwise refuse about every
		// other post of an exactly paced channel.
		e.channelAt[key] = at.Add(iv + iv/50)
	}
	e.mu.Unlock()
	if !sleepUntil(ctx, at) {
		return false
	}
	if b := e.platformBucket(d.Platform, p); b != nil {
		if !sleepUntil(ctx, b.reserve(time.Now())) {
			return false
		}
	}
	return true
}

func sleepUntil(ctx context.Context, at time.Time) bool {
	wait := time.Until(at)
	if wait <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// pauseChannel keeps the channel of d quiet until now+after, replacing the
// slot the refused post had reserved: the platform said when it may go.
func (e *Engine) pauseChannel(d *Delivery, after time.Duration) {
	key := channelKey(d)
	next := time.Now().Add(after)
	e.mu.Lock()
	e.channelAt[key] = next
	e.mu.Unlock()
}

// IdempotencyKey is the key sent with every attempt at posting delivery id.
func IdempotencyKey(id int64) string { return fmt.Sprintf("feedbackbot-delivery-%d", id) }

// deliverOne posts one delivery and records the result.
func (e *Engine) deliverOne(ctx context.Context, w *worker, d *Delivery) outcome {
	p := e.platform(d.Platform)
	if p == nil {
		e.retryOrFail(ctx, d, fmt.Errorf("platform %s is not connected", d.Platform), 30*time.Second)
		return settled
	}
	if !e.waitTurn(ctx, d, p) {
		return stopped
	}
	w.mu.Lock()
	lost := w.lost[d.ID]
	w.mu.Unlock()
	if lost {
		return settled
	}
	// The post and its bookkeeping run to the end even when the worker is
	// stopping, so a graceful stop never leaves a posted reply unrecorded.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.CommandTimeout)
	defer cancel()
	ref, err := e.post(pctx, p, OutMessage{Workspace: d.Workspace, Channel: d.Channel, ThreadID: d.ThreadID, Text: d.Text, IdempotencyKey: IdempotencyKey(d.ID)})
	if err == nil {
		if err := e.store.FinishDelivery(pctx, d.ID, e.cfg.Worker, ref.ID); err != nil {
			e.log.Warn("finish delivery", "id", d.ID, "err", err)
		}
		e.metrics.Delivered(d.Platform, "delivered")
		return settled
	}
	var ra *RetryAfterError
	var perm *PermanentError
	switch {
	case errors.As(err, &ra):
		e.pauseChannel(d, ra.After)
		e.metrics.Delivered(d.Platform, "rate_limited")
		if !w.drain && time.Since(d.CreatedAt) <= e.cfg.DeliveryGiveUp {
			return requeue
		}
		e.retryOrFail(pctx, d, err, ra.After)
	case errors.As(err, &perm):
		e.metrics.Delivered(d.Platform, "failed")
		if err := e.store.FailDelivery(pctx, d.ID, e.cfg.Worker, err.Error()); err != nil {
			e.log.Warn("fail delivery", "id", d.ID, "err", err)
		}
	default:
		e.metrics.Delivered(d.Platform, "retry")
		e.retryOrFail(pctx, d, err, backoff(d.Attempts))
	}
	return settled
}

// backoff is exponential with jitter: about 1s, 2s, 4s … capped at 5 minutes.
func backoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 9 {
		attempt = 9
	}
	d := time.Second << (attempt - 1)
	if d > 5*time.Minute {
		d = 5 * time.Minute
	}
	return d/2 + time.Duration(rand.Int64N(int64(d)))
}

func (e *Engine) retryOrFail(ctx context.Context, d *Delivery, cause error, after time.Duration) {
	if time.Since(d.CreatedAt) > e.cfg.DeliveryGiveUp {
		e.metrics.Delivered(d.Platform, "failed")
		if err := e.store.FailDelivery(ctx, d.ID, e.cfg.Worker, cause.Error()); err != nil {
			e.log.Warn("fail delivery", "id", d.ID, "err", err)
		}
		return
	}
	if err := e.store.RetryDelivery(ctx, d.ID, e.cfg.Worker, cause.Error(), time.Now().Add(after).UTC()); err != nil {
		e.log.Warn("retry delivery", "id", d.ID, "err", err)
	}
}
