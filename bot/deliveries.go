package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
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
// interval between two posts in a channel. So claims in due order
// interleave channels and a worker only claims what its channels can post
// within a few seconds; other replicas claim the rest. FinishDelivery
// records each channel's last post (Store.LastPosts): a worker that claims
// for a channel it has not posted in lately (it just started, after a crash
// or on another replica) keeps the channel's interval after that post
// instead of finding the pace again through 429s.
//
// Leases are renewed every third of Config.DeliveryLease for as long as a
// delivery waits in a lane; a lease found lost at renewal (the worker
// stalled and another took over) is dropped without posting. A graceful
// stop hands unposted deliveries back. A running worker (Run) also beats a
// heartbeat every Config.DeliveryHeartbeat (Store.Heartbeat); the leases of
// a worker that missed three are taken over at once, so a killed worker's
// deliveries wait about three heartbeats rather than a whole lease. Before
// each post a worker whose own heartbeat is late beats first and, if it had
// lapsed, renews its leases, so that it drops what was taken over instead
// of posting it.
//
// A release's progress message is stored (Store.CreateProgress) with the
// platform's message id, so any replica, or the process restarted after a
// crash, edits it as the deliveries go out and makes its final edit once
// (updateProgress).
//
// A 429 (*RetryAfterError) pauses the channel for Retry-After and puts the
// delivery back at the head of its lane. Other errors release the delivery
// with exponential backoff and jitter, and a delivery still failing
// Config.DeliveryGiveUp after it was enqueued is marked failed, as is one
// failing with *PermanentError. FinishDelivery commits right after the post,
// and each post carries the delivery's IdempotencyKey, so a crash between
// the two re-posts under the same key. A re-post that the platform answers
// with the message an earlier attempt posted (MessageRef.Replayed) takes no
// slot of its channel: the next post there keeps its interval after that
// message (replayed).

// OutboxStore is what the outbox needs from the store.
type OutboxStore interface {
	// ClaimDeliveriesAhead is ClaimDeliveries for deliveries due within
	// ahead from now (the worker waits for each one's NextAt), oldest due
	// first.
	ClaimDeliveriesAhead(ctx context.Context, worker string, limit int, lease, ahead time.Duration) ([]*Delivery, error)
	// ExtendDeliveries renews worker's leases on the given running
	// deliveries until now+lease and returns the ids it still holds; the
	// others were taken over or settled and must not be posted.
	ExtendDeliveries(ctx context.Context, worker string, ids []int64, lease time.Duration) ([]int64, error)
	// ReleaseDeliveries hands worker's leased deliveries back to the queue
	// unattempted (a worker stopping before it posted them).
	ReleaseDeliveries(ctx context.Context, worker string, ids []int64) error
	// FinishDelivery marks a leased delivery done.
	FinishDelivery(ctx context.Context, id int64, worker, messageID string) error
	// RetryDelivery releases a leased delivery to be tried again at next.
	RetryDelivery(ctx context.Context, id int64, worker, lastErr string, next time.Time) error
	// FailDelivery marks a leased delivery failed for good.
	FailDelivery(ctx context.Context, id int64, worker, lastErr string) error
	// CreateProgress stores a release's progress message, leased to worker
	// until now+lease for its first post. ECONFLICT when the event has one.
	CreateProgress(ctx context.Context, p *ProgressMessage, worker string, lease time.Duration) error
	// OpenProgress returns the open progress messages whose RetryAt has
	// passed and that nobody holds, oldest event first.
	OpenProgress(ctx context.Context, limit int) ([]*ProgressMessage, error)
	// ClaimProgress leases an open progress message to worker until
	// now+lease and returns it as stored. ECONFLICT when another worker
	// holds it or it is no longer open; ENOTFOUND.
	ClaimProgress(ctx context.Context, eventID int64, worker string, lease time.Duration) (*ProgressMessage, error)
	// SettleProgress writes what worker's post or edit did (MessageID,
	// Shown, State, Failures, RetryAt, EditedAt) and ends its lease.
	// ECONFLICT when the lease was lost.
	SettleProgress(ctx context.Context, p *ProgressMessage, worker string) error
	// StartWorker registers a delivery worker alive until now+ttl and hands
	// back what an earlier process of the same name still held.
	StartWorker(ctx context.Context, worker string, ttl time.Duration) error
	// Heartbeat keeps worker alive until now+ttl; lapsed reports that its
	// previous heartbeat had expired (others may have taken its leases).
	// The leases of a worker whose heartbeat expired are taken over at once.
	Heartbeat(ctx context.Context, worker string, ttl time.Duration) (lapsed bool, err error)
	// StopWorker ends worker's heartbeat (graceful stop).
	StopWorker(ctx context.Context, worker string) error
	// LastPosts returns when the outbox last posted in each channel
	// (ThreadID ignored) that it posted in (FinishDelivery records it).
	LastPosts(ctx context.Context, channels []Thread) (map[Thread]time.Time, error)
	// EventDeliveryStats counts an event's deliveries by state.
	EventDeliveryStats(ctx context.Context, eventID int64) (DeliveryStats, error)
}

// DeliveryWaker is implemented by stores that can tell a worker at once
// that deliveries were enqueued by another process (PostgreSQL: LISTEN and
// NOTIFY), so that a ship made by the HTTP API or on another replica is
// claimed right away rather than at the worker's next poll. The worker
// still polls every Config.DeliveryPoll.
type DeliveryWaker interface {
	// DeliveriesEnqueued returns a channel that receives a value soon
	// after deliveries are enqueued (by any process), until ctx ends; nil
	// when the store cannot tell.
	DeliveriesEnqueued(ctx context.Context) <-chan struct{}
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
	channelAt map[string]time.Time // channel key → earliest next post
	buckets   map[string]*bucket   // platform → platform-wide posting limit
	// wake tells the worker that deliveries were enqueued.
	wake chan struct{}
}

func newOutbox(store OutboxStore, speak speaker, cfg Config, log *slog.Logger) *Outbox {
	return &Outbox{
		store: store, speak: speak, cfg: cfg, log: log, text: Text{Prefix: cfg.KeyPrefix},
		channelAt: map[string]time.Time{},
		buckets:   map[string]*bucket{},
		wake:      make(chan struct{}, 1),
	}
}

// Outbox returns the engine's outbox.
func (e *Engine) Outbox() *Outbox { return e.outbox }

func (e *Engine) delivered(platform, outcome string) { e.metrics.Delivered(platform, outcome) }

// progressRetries is how many times in a row a progress post or edit may
// fail other than with a 429 before the message is given up. A 429 is
// retried after its Retry-After for as long as it takes.
const progressRetries = 5

// progressEvery is the shortest time between two edits of a progress
// message while its deliveries run.
const progressEvery = 2 * time.Second

// ProgressKey is the idempotency key of every attempt at posting the
// progress message of release event id.
func ProgressKey(eventID int64) string { return fmt.Sprintf("feedbackbot-progress-%d", eventID) }

// progressLease is how long one post or edit of a progress message holds
// it: the call is bounded by CommandTimeout.
func (o *Outbox) progressLease() time.Duration {
	return max(o.cfg.DeliveryLease, o.cfg.CommandTimeout+5*time.Second)
}

// Track posts a release's progress message at where on platform ("Notifying
// N threads…"). The message is stored first (Store.CreateProgress), so
// that whichever replica runs the event's deliveries edits it as they are
// posted and makes its final edit once they are all settled, also after
// this process is gone (updateProgress). A post or edit answered with 429
// is retried after Retry-After (by a worker's housekeeping, or the next
// Flush); other failures a few times with backoff.
func (o *Outbox) Track(ctx context.Context, platform string, where OutMessage, out *ReleaseOutcome) {
	p := o.speak.platform(platform)
	if p == nil {
		return
	}
	outcome, err := json.Marshal(out)
	if err != nil {
		return
	}
	pm := &ProgressMessage{EventID: out.EventID, Platform: platform, Workspace: where.Workspace,
		Channel: where.Channel, ThreadID: where.ThreadID, Outcome: string(outcome)}
	if err := o.store.CreateProgress(ctx, pm, o.cfg.Worker, o.progressLease()); err != nil {
		o.log.Warn("store progress message", "event", out.EventID, "err", err)
		return
	}
	where.Text = o.text.progressStart(out)
	where.IdempotencyKey = ProgressKey(out.EventID)
	pctx, cancel := context.WithTimeout(ctx, o.cfg.CommandTimeout)
	defer cancel()
	ref, err := o.speak.post(pctx, p, where)
	o.progressSettled(ctx, pm, ref.ID, where.Text, err, false)
}

// progressRetry records a failed post or edit of pm and returns when to try
// again; false when retrying cannot help.
func progressRetry(pm *ProgressMessage, err error) (time.Time, bool) {
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		return time.Now().Add(max(ra.After, 100*time.Millisecond)), true
	}
	var pe *PermanentError
	if errors.As(err, &pe) {
		return time.Time{}, false
	}
	pm.Failures++
	if pm.Failures >= progressRetries {
		return time.Time{}, false
	}
	return time.Now().Add(time.Duration(1<<pm.Failures) * 250 * time.Millisecond), true
}

// progressSettled stores the outcome err of a post (messageID set) or edit
// of pm showing text, and ends this worker's hold on it: on success it is
// done when finished; a failure is retried later or, when retrying cannot
// help, the message is given up.
func (o *Outbox) progressSettled(ctx context.Context, pm *ProgressMessage, messageID, text string, err error, finished bool) {
	now := time.Now()
	switch {
	case err == nil:
		if messageID != "" {
			pm.MessageID = messageID
		}
		pm.Shown, pm.Failures, pm.EditedAt, pm.RetryAt = text, 0, &now, now
		if finished {
			pm.State = ProgressDone
		}
	default:
		if at, ok := progressRetry(pm, err); ok {
			pm.RetryAt = at
		} else {
			o.log.Warn("progress message given up", "event", pm.EventID, "err", err)
			pm.State = ProgressGivenUp
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := o.store.SettleProgress(sctx, pm, o.cfg.Worker); err != nil {
		o.log.Warn("store progress message", "event", pm.EventID, "err", err)
	}
}

// progressDue reports whether pm is to be posted or edited now.
func progressDue(pm *ProgressMessage, finished bool) bool {
	return finished || pm.MessageID == "" || pm.EditedAt == nil || time.Since(*pm.EditedAt) >= progressEvery
}

// updateProgress posts or edits the stored progress messages that are due,
// whichever replica posted them: when their event's deliveries are all
// settled (the final edit, once), or at most every progressEvery
// meanwhile. The counts come from the store, so deliveries made by other
// replicas count too. A progress message whose first post was rate limited
// is posted here, with the text of the moment. Each post or edit is made
// under a lease on the stored message (Store.ClaimProgress), so two
// replicas never make the same one.
func (o *Outbox) updateProgress(ctx context.Context) {
	pms, err := o.store.OpenProgress(ctx, 100)
	if err != nil {
		if ctx.Err() == nil {
			o.log.Warn("progress messages", "err", err)
		}
		return
	}
	for _, pm := range pms {
		p := o.speak.platform(pm.Platform)
		if p == nil {
			continue // a replica with that platform connected makes it
		}
		st, err := o.store.EventDeliveryStats(ctx, pm.EventID)
		if err != nil {
			continue
		}
		finished := st.Pending+st.Running == 0
		if !progressDue(pm, finished) {
			continue
		}
		pm, err = o.store.ClaimProgress(ctx, pm.EventID, o.cfg.Worker, o.progressLease())
		if err != nil {
			continue // another replica holds it, or made it meanwhile
		}
		var out ReleaseOutcome
		_ = json.Unmarshal([]byte(pm.Outcome), &out)
		msg := OutMessage{Workspace: pm.Workspace, Channel: pm.Channel, ThreadID: pm.ThreadID,
			Text: o.text.progressLine(&out, st, finished)}
		posting := pm.MessageID == ""
		if posting && st.Done+st.Failed == 0 && !finished {
			msg.Text = o.text.progressStart(&out)
		}
		if !progressDue(pm, finished) || !posting && msg.Text == pm.Shown && !finished {
			// Another replica edited it since it was read, or there is
			// nothing new to show: hand it back as it is.
			o.progressSettled(ctx, pm, "", pm.Shown, nil, false)
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, o.cfg.CommandTimeout)
		var ref MessageRef
		if posting {
			msg.IdempotencyKey = ProgressKey(pm.EventID)
			ref, err = o.speak.post(pctx, p, msg)
		} else {
			err = o.speak.update(pctx, p, MessageRef{Platform: pm.Platform, Workspace: pm.Workspace, Channel: pm.Channel, ID: pm.MessageID, ThreadID: pm.ThreadID}, msg)
		}
		cancel()
		o.progressSettled(ctx, pm, ref.ID, msg.Text, err, finished)
	}
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

	// The heartbeat (Run only): hb is its period, 0 for none.
	hb        time.Duration
	hbMu      sync.Mutex
	liveUntil time.Time     // the store takes us for alive until about then
	beaten    chan struct{} // closed after each heartbeat attempt
	beatNow   chan struct{} // asks for a heartbeat now
	hbDone    chan struct{} // closed when the heartbeat goroutine ends
}

type lane struct{ q []*Delivery }

func newWorker(o *Outbox, drain bool) *worker {
	return &worker{o: o, drain: drain, lanes: map[string]*lane{}, held: map[int64]bool{}, lost: map[int64]bool{}, freed: make(chan struct{}, 1)}
}

// Run runs the worker until ctx ends, then waits for the lanes and hands
// back what they did not post.
func (o *Outbox) Run(ctx context.Context) {
	w := newWorker(o, false)
	w.startHeartbeat(ctx)
	defer w.stop()
	poll := time.NewTicker(o.cfg.DeliveryPoll)
	defer poll.Stop()
	renew := time.NewTicker(max(o.cfg.DeliveryLease/3, 10*time.Millisecond))
	defer renew.Stop()
	housekeeping := time.NewTicker(500 * time.Millisecond)
	defer housekeeping.Stop()
	ahead := 2 * o.cfg.DeliveryPoll
	var enqueued <-chan struct{} // nil: never ready
	if dw, ok := o.store.(DeliveryWaker); ok {
		enqueued = dw.DeliveriesEnqueued(ctx)
	}
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
		case <-enqueued:
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

// startHeartbeat registers the worker with the store (handing back what a
// crashed process of the same name held) and keeps telling it that the
// worker is alive, every Config.DeliveryHeartbeat, until ctx ends. Another
// worker takes over the leases of one that missed three heartbeats at once,
// rather than when each lease runs out. Only this goroutine writes the
// heartbeat; lanes that find it late ask it for one and wait (ensureAlive).
func (w *worker) startHeartbeat(ctx context.Context) {
	o := w.o
	w.hb = o.cfg.DeliveryHeartbeat
	w.beaten = make(chan struct{})
	w.beatNow = make(chan struct{}, 1)
	start := time.Now()
	if err := o.store.StartWorker(ctx, o.cfg.Worker, 3*w.hb); err != nil {
		if ctx.Err() == nil {
			o.log.Warn("start delivery worker", "err", err)
		}
	} else {
		w.liveUntil = start.Add(3 * w.hb)
	}
	w.hbDone = make(chan struct{})
	go func() {
		defer close(w.hbDone)
		t := time.NewTicker(w.hb)
		defer t.Stop()
		asked := w.beatNow
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-asked:
			}
			// After a failed heartbeat the next waits for the ticker, so
			// that lanes asking for one do not hammer a failing database.
			if w.beat(ctx) {
				asked = w.beatNow
			} else {
				asked = nil
			}
		}
	}()
}

// beat renews the worker's heartbeat. When it had lapsed, others may have
// taken leases of ours: they are renewed at once, so that the lanes drop
// the ones lost instead of posting them. Then the lanes waiting for it go
// on. It reports whether the heartbeat was written.
func (w *worker) beat(ctx context.Context) bool {
	start := time.Now()
	lapsed, err := w.o.store.Heartbeat(ctx, w.o.cfg.Worker, 3*w.hb)
	if err != nil {
		if ctx.Err() == nil {
			w.o.log.Warn("delivery worker heartbeat", "err", err)
		}
	} else if lapsed {
		w.o.log.Warn("delivery worker heartbeat had lapsed: checking its leases")
		w.renew(ctx)
	}
	w.hbMu.Lock()
	if err == nil {
		w.liveUntil = start.Add(3 * w.hb)
	}
	close(w.beaten)
	w.beaten = make(chan struct{})
	w.hbMu.Unlock()
	return err == nil
}

// ensureAlive is called before each post: when the heartbeat has lapsed
// (the process stalled, the database is slow), so that others may have
// taken the worker for dead, it waits for the next one, which tells it
// which leases it lost, before it posts. False when ctx ended first.
func (w *worker) ensureAlive(ctx context.Context) bool {
	if w.hb == 0 {
		return true
	}
	for {
		w.hbMu.Lock()
		fresh := time.Now().Before(w.liveUntil)
		beaten := w.beaten
		w.hbMu.Unlock()
		if fresh {
			return true
		}
		select {
		case w.beatNow <- struct{}{}:
		default:
		}
		select {
		case <-ctx.Done():
			return false
		case <-beaten:
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
	o.learnPace(ctx, ds)
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

// learnPace reads from the store when the paced channels of ds that this
// process has no pace for (it has not posted there lately) had their last
// reply, by any worker, so that the next post there keeps the channel's
// interval after it: a worker that starts (after a crash, or on another
// replica) continues a channel's pace instead of finding it through 429s.
func (o *Outbox) learnPace(ctx context.Context, ds []*Delivery) {
	intervals := map[string]time.Duration{}
	var chans []Thread
	seen := map[string]bool{}
	for _, d := range ds {
		iv, ok := intervals[d.Platform]
		if !ok {
			iv = o.channelInterval(d.Platform)
			intervals[d.Platform] = iv
		}
		key := channelKey(d)
		if iv <= 0 || seen[key] {
			continue
		}
		seen[key] = true
		o.mu.Lock()
		_, known := o.channelAt[key]
		o.mu.Unlock()
		if !known {
			chans = append(chans, Thread{Platform: d.Platform, Workspace: d.Workspace, Channel: d.Channel})
		}
	}
	if len(chans) == 0 {
		return
	}
	last, err := o.store.LastPosts(ctx, chans)
	if err != nil {
		if ctx.Err() == nil {
			o.log.Warn("channel pace", "err", err)
		}
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for c, t := range last {
		iv := intervals[c.Platform]
		key := c.Platform + "\x00" + c.Workspace + "\x00" + c.Channel
		if at := nextSlot(t, iv); at.After(o.channelAt[key]) {
			o.channelAt[key] = at
		}
	}
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
	if w.hbDone != nil {
		<-w.hbDone
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := w.o.store.StopWorker(ctx, w.o.cfg.Worker); err != nil {
				w.o.log.Warn("stop delivery worker", "err", err)
			}
		}()
	}
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
		o.channelAt[key] = nextSlot(at, iv)
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

// nextSlot is when a channel paced at interval iv may be posted to again
// after a post at t: iv plus a 2% margin, which absorbs network jitter
// between two posts' arrival at the platform (without it an exactly paced
// channel has about every other post refused).
func nextSlot(t time.Time, iv time.Duration) time.Time { return t.Add(iv + iv/50) }

// sent records that a post to d's channel leaves at: the next one keeps
// the channel's interval after it. waitTurn reserved the slot after the one
// this post was due in; a post that leaves late (the process was starved of
// CPU, the platform-wide rate held it) moves the next slot on with it, so a
// late post and a punctual next one do not arrive too close together.
func (o *Outbox) sent(d *Delivery, at time.Time) {
	iv := o.channelInterval(d.Platform)
	if iv <= 0 {
		return
	}
	key := channelKey(d)
	next := nextSlot(at, iv)
	o.mu.Lock()
	if next.After(o.channelAt[key]) {
		o.channelAt[key] = next
	}
	o.mu.Unlock()
}

// replayed gives back the slot that a post to d's channel, sent at sentAt,
// had reserved, when the platform answered it with the message an earlier
// attempt had posted at postedAt (MessageRef.Replayed): nothing new was
// posted, so the channel's next post keeps its interval after postedAt, and
// may go at once when that is past. This is what a re-post after a crash
// costs: the dead worker's replies that were posted but not recorded are
// posted again, and each would otherwise delay the rest of its channel by
// one interval. Without postedAt the slot stays taken.
func (o *Outbox) replayed(d *Delivery, sentAt, postedAt time.Time) {
	iv := o.channelInterval(d.Platform)
	if iv <= 0 || postedAt.IsZero() {
		return
	}
	next := nextSlot(postedAt, iv)
	if next.Before(sentAt) {
		next = sentAt
	}
	key := channelKey(d)
	o.mu.Lock()
	// Only this delivery's lane reserves slots in its channel, and it is
	// posting this one: the reservation to undo is its own.
	if next.Before(o.channelAt[key]) {
		o.channelAt[key] = next
	}
	o.mu.Unlock()
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
	if !w.ensureAlive(ctx) {
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
	sentAt := time.Now()
	o.sent(d, sentAt)
	ref, err := o.speak.post(pctx, p, OutMessage{Workspace: d.Workspace, Channel: d.Channel, ThreadID: d.ThreadID, Text: d.Text, Buttons: parseButtons(d.Buttons), IdempotencyKey: IdempotencyKey(d.ID)})
	if err == nil {
		if ref.Replayed {
			o.replayed(d, sentAt, ref.PostedAt)
		}
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
