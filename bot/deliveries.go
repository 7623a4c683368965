package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"time"
)

// The outbox: replies to post in subscribed threads, written by
// Store.Release in the same transaction as the status changes they
// announce, and posted by the Outbox's worker.
//
// A dispatcher claims deliveries due within two polls (ClaimDeliveriesAhead)
// while it holds fewer than Config.DeliveryMaxInFlight, and puts each on the
// queue of its channel. Every channel with queued work has one goroutine (a
// lane) that posts its deliveries one at a time, each no earlier than its
// NextAt, at most once per the platform's ChannelInterval (Pacer), and under
// the platform-wide rate (Throttle or Config.DeliveryRate). A slow or
// rate-limited channel therefore holds up only itself.
//
// Pacing is computed here only: Schedule gives Store.Release the due times
// of an event's deliveries, the k-th of one channel k channel intervals
// after the event (ReleaseInput.Schedule), and the lanes keep the same
// interval between two posts in a channel. So claims in due order interleave channels and a
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

// OutboxStore is what the outbox needs from the store.
type OutboxStore interface {
	ClaimDeliveriesAhead(ctx context.Context, worker string, limit int, lease, ahead time.Duration) ([]*Delivery, error)
	ExtendDeliveries(ctx context.Context, worker string, ids []int64, lease time.Duration) ([]int64, error)
	ReleaseDeliveries(ctx context.Context, worker string, ids []int64) error
	FinishDelivery(ctx context.Context, id int64, worker, messageID string) error
	RetryDelivery(ctx context.Context, id int64, worker, lastErr string, next time.Time) error
	FailDelivery(ctx context.Context, id int64, worker, lastErr string) error
	EventDeliveryStats(ctx context.Context, eventID int64) (DeliveryStats, error)
}

// speaker is how the outbox reaches the platforms: the engine's registry,
// with every call reported to the metrics.
type speaker interface {
	platform(name string) Platform
	post(ctx context.Context, p Platform, msg OutMessage) (MessageRef, error)
	update(ctx context.Context, p Platform, ref MessageRef, msg OutMessage) error
	delivered(platform, outcome string)
}

// Outbox posts queued deliveries: the worker (Run, or Flush for a single
// pass), per-channel pacing and the platform-wide rate, and the progress
// messages of releases (Track). The engine makes one (Engine.Outbox).
type Outbox struct {
	store OutboxStore
	speak speaker
	cfg   Config
	log   *slog.Logger
	text  Text

	mu        sync.Mutex
	progress  map[int64]*progress  // release event id → progress message
	channelAt map[string]time.Time // channel key → earliest next post
	buckets   map[string]*bucket   // platform → platform-wide posting limit
	// wake tells the worker that deliveries were enqueued.
	wake chan struct{}
}

func newOutbox(store OutboxStore, speak speaker, cfg Config, log *slog.Logger) *Outbox {
	return &Outbox{
		store: store, speak: speak, cfg: cfg, log: log, text: Text{Prefix: cfg.KeyPrefix},
		progress:  map[int64]*progress{},
		channelAt: map[string]time.Time{},
		buckets:   map[string]*bucket{},
		wake:      make(chan struct{}, 1),
	}
}

// Outbox returns the engine's outbox.
func (e *Engine) Outbox() *Outbox { return e.outbox }

func (e *Engine) delivered(platform, outcome string) { e.metrics.Delivered(platform, outcome) }

type progress struct {
	platform string
	ref      MessageRef
	posted   bool // ref is set: the message is in the channel
	msg      OutMessage
	outcome  ReleaseOutcome
	last     time.Time
	retryAt  time.Time // a post or edit failed: not before then
	failures int       // consecutive failures other than 429
	done     bool
}

// progressRetries is how many times in a row a progress post or edit may
// fail other than with a 429 before the message is given up. A 429 is
// retried after its Retry-After for as long as it takes.
const progressRetries = 5

// Track posts a release's progress message at where on platform ("Notifying
// N threads…") and edits it as the event's deliveries are posted, by this
// or any other replica, until they are all settled. A post or edit answered
// with 429 is retried after Retry-After (by the worker's housekeeping, or
// the next Flush); other failures a few times with backoff.
func (o *Outbox) Track(ctx context.Context, platform string, where OutMessage, out *ReleaseOutcome) {
	p := o.speak.platform(platform)
	if p == nil {
		return
	}
	pr := &progress{platform: platform, msg: where, outcome: *out, last: time.Now()}
	where.Text = o.text.progressStart(out)
	ref, err := o.speak.post(ctx, p, where)
	if err == nil {
		pr.ref, pr.posted = ref, true
	} else if !pr.failed(err) {
		o.log.Warn("post progress", "err", err)
		return
	}
	o.mu.Lock()
	o.progress[out.EventID] = pr
	o.mu.Unlock()
}

// failed records a failed post or edit of pr and reports whether it is
// worth retrying (pr.retryAt is then set).
func (pr *progress) failed(err error) bool {
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		pr.retryAt = time.Now().Add(max(ra.After, 100*time.Millisecond))
		return true
	}
	var pe *PermanentError
	if errors.As(err, &pe) {
		return false
	}
	pr.failures++
	if pr.failures >= progressRetries {
		return false
	}
	pr.retryAt = time.Now().Add(time.Duration(1<<pr.failures) * 250 * time.Millisecond)
	return true
}

// progressEvery is the shortest time between two edits of a progress
// message while its deliveries run.
const progressEvery = 2 * time.Second

// updateProgress edits the progress messages this engine posted: when their
// event's deliveries are finished (once), or at most every progressEvery
// meanwhile. The counts come from the store, so deliveries made by other
// replicas count too. A progress message whose first post was rate limited
// is posted here, with the text of the moment.
func (o *Outbox) updateProgress(ctx context.Context) {
	o.mu.Lock()
	ids := make([]int64, 0, len(o.progress))
	for id := range o.progress {
		ids = append(ids, id)
	}
	o.mu.Unlock()
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		o.mu.Lock()
		pr := o.progress[id]
		o.mu.Unlock()
		if pr == nil || pr.done || time.Now().Before(pr.retryAt) {
			continue
		}
		st, err := o.store.EventDeliveryStats(ctx, id)
		if err != nil {
			continue
		}
		finished := st.Pending+st.Running == 0
		if pr.posted && !finished && time.Since(pr.last) < progressEvery {
			continue
		}
		msg := pr.msg
		msg.Text = o.text.progressLine(&pr.outcome, st, finished)
		p := o.speak.platform(pr.platform)
		if p == nil {
			continue
		}
		if !pr.posted {
			if st.Done+st.Failed == 0 && !finished {
				msg.Text = o.text.progressStart(&pr.outcome)
			}
			ref, err := o.speak.post(ctx, p, msg)
			err = o.progressSettled(id, pr, err, finished)
			if err == nil {
				o.mu.Lock()
				pr.ref, pr.posted = ref, true
				o.mu.Unlock()
			}
			continue
		}
		_ = o.progressSettled(id, pr, o.speak.update(ctx, p, pr.ref, msg), finished)
	}
}

// progressSettled records the outcome err of a post or edit of pr: on
// success it is done when finished; a failure is retried later or, when
// retrying cannot help, the message is given up.
func (o *Outbox) progressSettled(id int64, pr *progress, err error, finished bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	pr.last = time.Now()
	if err != nil {
		if pr.failed(err) {
			return err
		}
		o.log.Warn("progress message given up", "err", err)
		finished = true
	} else {
		pr.failures = 0
	}
	if finished {
		pr.done = true
		delete(o.progress, id)
	}
	return err
}

// Kick tells a running worker that deliveries were enqueued, so that it
// claims them now rather than at its next poll.
func (o *Outbox) Kick() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// channelInterval is the posting interval of one channel of platform (its
// Pacer), 0 when it has none or is not connected.
func (o *Outbox) channelInterval(platform string) time.Duration {
	if pc, ok := o.speak.platform(platform).(Pacer); ok {
		return max(pc.ChannelInterval(), 0)
	}
	return 0
}

// Schedule returns the due time of a delivery to each thread, for
// ReleaseInput.Schedule: the k-th thread (from 0, in the given order) of a
// channel is due k channel intervals after now, so that claims in due order
// take every channel's first reply before any channel's second.
func (o *Outbox) Schedule(threads []Thread, now time.Time) []time.Time {
	return SpacedSchedule(o.channelInterval)(threads, now)
}

// SpacedSchedule is Outbox.Schedule with the channel interval of each
// platform given by interval.
func SpacedSchedule(interval func(platform string) time.Duration) func([]Thread, time.Time) []time.Time {
	return func(threads []Thread, now time.Time) []time.Time {
		due := make([]time.Time, len(threads))
		intervals := map[string]time.Duration{}
		seen := map[Thread]int{} // channel (ThreadID "") → threads so far
		for i, t := range threads {
			iv, ok := intervals[t.Platform]
			if !ok {
				iv = max(interval(t.Platform), 0)
				intervals[t.Platform] = iv
			}
			ch := Thread{Platform: t.Platform, Workspace: t.Workspace, Channel: t.Channel}
			due[i] = now.Add(time.Duration(seen[ch]) * iv)
			seen[ch]++
		}
		return due
	}
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
func (o *Outbox) platformBucket(name string, p Platform) *bucket {
	o.mu.Lock()
	defer o.mu.Unlock()
	if b, ok := o.buckets[name]; ok {
		return b
	}
	rate, burst := o.cfg.DeliveryRate, 1
	if rate <= 0 {
		if t, ok := p.(Throttle); ok {
			rate, burst = t.PostRate()
		}
	}
	var b *bucket
	if rate > 0 {
		b = &bucket{every: time.Duration(float64(time.Second) / rate), burst: max(burst, 1)}
	}
	o.buckets[name] = b
	return b
}

// pruneChannels forgets channel pacing that is in the past.
func (o *Outbox) pruneChannels() {
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	for k, at := range o.channelAt {
		if at.Before(now) {
			delete(o.channelAt, k)
		}
	}
}

// claimBatch is the most deliveries one claim takes.
const claimBatch = 500

// worker delivers claimed deliveries through per-channel lanes. Run uses one
// for its lifetime; each Flush uses its own in drain mode.
type worker struct {
	o     *Outbox
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

func newWorker(o *Outbox, drain bool) *worker {
	return &worker{o: o, drain: drain, lanes: map[string]*lane{}, held: map[int64]bool{}, lost: map[int64]bool{}, freed: make(chan struct{}, 1)}
}

// Run runs the worker until ctx ends, then waits for the lanes and hands
// back what they did not post.
func (o *Outbox) Run(ctx context.Context) {
	w := newWorker(o, false)
	defer w.stop()
	poll := time.NewTicker(o.cfg.DeliveryPoll)
	defer poll.Stop()
	renew := time.NewTicker(max(o.cfg.DeliveryLease/3, 10*time.Millisecond))
	defer renew.Stop()
	housekeeping := time.NewTicker(500 * time.Millisecond)
	defer housekeeping.Stop()
	ahead := 2 * o.cfg.DeliveryPoll
	for {
		more, err := w.claim(ctx, claimBatch, ahead)
		if err != nil && ctx.Err() == nil {
			o.log.Warn("claim deliveries", "err", err)
		}
		if more && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-w.freed:
		case <-poll.C:
		case <-renew.C:
			w.renew(ctx)
		case <-housekeeping.C:
			o.updateProgress(ctx)
			o.pruneChannels()
		}
	}
}

// Flush delivers every delivery that is due now, then returns. The console
// calls it after each input line so its transcript is deterministic: posts
// to a platform without channel pacing go out one at a time in claim order,
// and a finished event's progress message is edited before Flush returns.
func (e *Engine) Flush(ctx context.Context) error {
	if err := e.outbox.Flush(ctx); err != nil {
		return err
	}
	return e.flushCards(ctx)
}

// Flush is Engine.Flush.
func (o *Outbox) Flush(ctx context.Context) error {
	w := newWorker(o, true)
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
	o.updateProgress(ctx)
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
	renew := time.NewTicker(max(w.o.cfg.DeliveryLease/3, 10*time.Millisecond))
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
	o := w.o
	w.mu.Lock()
	room := o.cfg.DeliveryMaxInFlight - len(w.held)
	w.atCap = room <= 0
	w.mu.Unlock()
	if room <= 0 {
		return false, nil
	}
	limit = min(limit, room)
	ds, err := o.store.ClaimDeliveriesAhead(ctx, o.cfg.Worker, limit, o.cfg.DeliveryLease, ahead)
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
		if w.drain && o.channelInterval(d.Platform) == 0 {
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
	if len(ds) == limit && len(w.held) >= o.cfg.DeliveryMaxInFlight {
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
	if wasFull && len(w.held) < w.o.cfg.DeliveryMaxInFlight*3/4 {
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
		switch w.o.deliverOne(ctx, w, d) {
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
	held, err := w.o.store.ExtendDeliveries(ctx, w.o.cfg.Worker, ids, w.o.cfg.DeliveryLease)
	if err != nil {
		if ctx.Err() == nil {
			w.o.log.Warn("renew delivery leases", "err", err)
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
	if err := w.o.store.ReleaseDeliveries(ctx, w.o.cfg.Worker, ids); err != nil {
		w.o.log.Warn("release deliveries", "n", len(ids), "err", err)
	}
}

// waitTurn waits until d may be posted: its NextAt, its channel's pace and
// pause, and the platform-wide rate. False when ctx ended first.
func (o *Outbox) waitTurn(ctx context.Context, d *Delivery, p Platform) bool {
	key := channelKey(d)
	iv := o.channelInterval(d.Platform)
	now := time.Now()
	o.mu.Lock()
	at := o.channelAt[key]
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
		o.channelAt[key] = at.Add(iv + iv/50)
	}
	o.mu.Unlock()
	if !sleepUntil(ctx, at) {
		return false
	}
	if b := o.platformBucket(d.Platform, p); b != nil {
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
func (o *Outbox) pauseChannel(d *Delivery, after time.Duration) {
	key := channelKey(d)
	next := time.Now().Add(after)
	o.mu.Lock()
	o.channelAt[key] = next
	o.mu.Unlock()
}

// IdempotencyKey is the key sent with every attempt at posting delivery id.
func IdempotencyKey(id int64) string { return fmt.Sprintf("feedbackbot-delivery-%d", id) }

// deliverOne posts one delivery and records the result.
func (o *Outbox) deliverOne(ctx context.Context, w *worker, d *Delivery) outcome {
	p := o.speak.platform(d.Platform)
	if p == nil {
		o.retryOrFail(ctx, d, fmt.Errorf("platform %s is not connected", d.Platform), 30*time.Second)
		return settled
	}
	if !o.waitTurn(ctx, d, p) {
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
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.cfg.CommandTimeout)
	defer cancel()
	ref, err := o.speak.post(pctx, p, OutMessage{Workspace: d.Workspace, Channel: d.Channel, ThreadID: d.ThreadID, Text: d.Text, Buttons: parseButtons(d.Buttons), IdempotencyKey: IdempotencyKey(d.ID)})
	if err == nil {
		if err := o.store.FinishDelivery(pctx, d.ID, o.cfg.Worker, ref.ID); err != nil {
			o.log.Warn("finish delivery", "id", d.ID, "err", err)
		}
		o.speak.delivered(d.Platform, "delivered")
		return settled
	}
	var ra *RetryAfterError
	var perm *PermanentError
	switch {
	case errors.As(err, &ra):
		o.pauseChannel(d, ra.After)
		o.speak.delivered(d.Platform, "rate_limited")
		if !w.drain && time.Since(d.CreatedAt) <= o.cfg.DeliveryGiveUp {
			return requeue
		}
		o.retryOrFail(pctx, d, err, ra.After)
	case errors.As(err, &perm):
		o.speak.delivered(d.Platform, "failed")
		if err := o.store.FailDelivery(pctx, d.ID, o.cfg.Worker, err.Error()); err != nil {
			o.log.Warn("fail delivery", "id", d.ID, "err", err)
		}
	default:
		o.speak.delivered(d.Platform, "retry")
		o.retryOrFail(pctx, d, err, backoff(d.Attempts))
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

func (o *Outbox) retryOrFail(ctx context.Context, d *Delivery, cause error, after time.Duration) {
	if time.Since(d.CreatedAt) > o.cfg.DeliveryGiveUp {
		o.speak.delivered(d.Platform, "failed")
		if err := o.store.FailDelivery(ctx, d.ID, o.cfg.Worker, cause.Error()); err != nil {
			o.log.Warn("fail delivery", "id", d.ID, "err", err)
		}
		return
	}
	if err := o.store.RetryDelivery(ctx, d.ID, o.cfg.Worker, cause.Error(), time.Now().Add(after).UTC()); err != nil {
		o.log.Warn("retry delivery", "id", d.ID, "err", err)
	}
}
