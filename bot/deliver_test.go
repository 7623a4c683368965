package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/commands"
	"github.com/feedbackbot/feedbackbot/store"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// paced is a recording platform with a per-channel interval, an optional
// per-channel post delay, and a log of progress edits.
type paced struct {
	recorder
	interval time.Duration
	delay    func(channel string) time.Duration
	// hold, when set, makes thread replies in that channel wait until it
	// returns a closed channel (or the post's context ends).
	hold    func(channel string) <-chan struct{}
	umu     sync.Mutex
	updates []string
	doneAt  map[string]time.Time   // channel → last post
	shipped map[string][]time.Time // channel → when each "Shipped" thread reply was posted
}

func (p *paced) ChannelInterval() time.Duration { return p.interval }

func (p *paced) Post(ctx context.Context, m bot.OutMessage) (bot.MessageRef, error) {
	if p.delay != nil && m.ThreadID != "" {
		time.Sleep(p.delay(m.Channel))
	}
	if p.hold != nil && m.ThreadID != "" && strings.Contains(m.Text, "Shipped") {
		if gate := p.hold(m.Channel); gate != nil {
			select {
			case <-gate:
			case <-ctx.Done():
				return bot.MessageRef{}, ctx.Err()
			}
		}
	}
	ref, err := p.recorder.Post(ctx, m)
	if err == nil {
		p.umu.Lock()
		if p.doneAt == nil {
			p.doneAt = map[string]time.Time{}
		}
		p.doneAt[m.Channel] = time.Now()
		if m.ThreadID != "" && strings.Contains(m.Text, "Shipped") {
			if p.shipped == nil {
				p.shipped = map[string][]time.Time{}
			}
			p.shipped[m.Channel] = append(p.shipped[m.Channel], time.Now())
		}
		p.umu.Unlock()
	}
	return ref, err
}

func (p *paced) Update(ctx context.Context, ref bot.MessageRef, m bot.OutMessage) error {
	p.umu.Lock()
	defer p.umu.Unlock()
	p.updates = append(p.updates, m.Text)
	return nil
}

func (p *paced) edits(substr string) int {
	p.umu.Lock()
	defer p.umu.Unlock()
	n := 0
	for _, u := range p.updates {
		if strings.Contains(u, substr) {
			n++
		}
	}
	return n
}

// shipThreads captures one request in n threads spread over the channels
// and ships it from channel "release".
func shipThreads(t *testing.T, e *bot.Engine, channels []string, n int) {
	t.Helper()
	command(t, e, lead, "release", "new Export to CSV")
	for i := 0; i < n; i++ {
		ch := channels[i%len(channels)]
		command(t, e, lead, ch, "watch")
		post(t, e, ch, fmt.Sprintf("m%d", i), fmt.Sprintf("u%d", i), fmt.Sprintf("reply %d", i))
	}
	// Every post above is a new request (FB-1 is the one in "release",
	// which gives that channel its progress message): ship them.
	var keys []string
	for i := 0; i < n; i++ {
		keys = append(keys, fmt.Sprintf("FB-%d", i+2))
	}
	command(t, e, lead, "release", "ship "+strings.Join(keys, " ")+" v3")
}

func runEngine(t *testing.T, e *bot.Engine) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSlowChannelDoesNotHoldOthers: posts to one slow channel do not delay
// the other channels' replies: while the slow channel's first post hangs,
// every reply in the other channels goes out.
func TestSlowChannelDoesNotHoldOthers(t *testing.T) {
	db := openDB(t, storetest.SQLiteDSN(t))
	gate := make(chan struct{})
	p := &paced{hold: func(ch string) <-chan struct{} {
		if ch == "slow" {
			return gate
		}
		return nil
	}}
	e := newEngine(t, db, p)
	shipThreads(t, e, []string{"slow", "a", "b"}, 12)
	runEngine(t, e)
	waitFor(t, "fast channels", 60*time.Second, func() bool { return len(p.threadReplies("Shipped in v3")) >= 8 })
	if n := len(p.threadReplies("Shipped in v3")); n != 8 {
		t.Fatalf("%d threads answered while the slow channel hangs, want the 8 of the fast channels", n)
	}
	close(gate)
	waitFor(t, "slow channel", 60*time.Second, func() bool { return len(p.threadReplies("Shipped in v3")) == 12 })
}

// TestChannelPacing: posts in one channel keep the platform's interval,
// other channels go in parallel.
func TestChannelPacing(t *testing.T) {
	db := openDB(t, storetest.SQLiteDSN(t))
	// At 1 s a channel, 4 replies per channel over 4 channels. Checked by
	// the order and spacing of the posts, which a loaded machine can only
	// stretch: each channel's replies are spaced by its interval, and
	// the channels are served side by side (every channel's first reply
	// comes before any channel's last), not one after another.
	const interval = time.Second
	p := &paced{interval: interval}
	e := newEngine(t, db, p)
	shipThreads(t, e, []string{"a", "b", "c", "d"}, 16) // 4 per channel
	runEngine(t, e)
	waitFor(t, "replies", 2*time.Minute, func() bool { return len(p.threadReplies("Shipped in v3")) == 16 })
	p.umu.Lock()
	defer p.umu.Unlock()
	var latestFirst, earliestLast time.Time
	for _, ch := range []string{"a", "b", "c", "d"} {
		ts := p.shipped[ch]
		if len(ts) != 4 {
			t.Fatalf("channel %s got %d replies, want 4", ch, len(ts))
		}
		for i := 1; i < len(ts); i++ {
			// Half the interval: a post that was itself late lets the next
			// one follow a little sooner; without pacing they come at once.
			if gap := ts[i].Sub(ts[i-1]); gap < interval/2 {
				t.Fatalf("channel %s: replies %d and %d only %v apart, want about %v", ch, i, i+1, gap, interval)
			}
		}
		if ts[0].After(latestFirst) {
			latestFirst = ts[0]
		}
		if last := ts[len(ts)-1]; earliestLast.IsZero() || last.Before(earliestLast) {
			earliestLast = last
		}
	}
	if !latestFirst.Before(earliestLast) {
		t.Fatalf("a channel's first reply came %v after another channel had its last: channels served one after another", latestFirst.Sub(earliestLast))
	}
}

// TestDeliveryGivesUp: a delivery that keeps failing is marked failed after
// DeliveryGiveUp and shows in /feedback show.
func TestDeliveryGivesUp(t *testing.T) {
	db := openDB(t, storetest.SQLiteDSN(t))
	p := &paced{}
	p.fail = func(m bot.OutMessage) error {
		if m.ThreadID != "" && strings.Contains(m.Text, "Shipped") {
			return errors.New("connection reset")
		}
		return nil
	}
	cfg := bot.DefaultConfig()
	cfg.DeliveryPoll = 20 * time.Millisecond
	cfg.DeliveryGiveUp = 100 * time.Millisecond
	e := bot.NewEngine(db, &noScorer{docs: map[int64]bot.Doc{}}, cfg, nil)
	e.SetCommands(commands.New(e))
	e.AddPlatform(p)
	command(t, e, lead, "c", "watch")
	post(t, e, "c", "m1", "u1", "Import from Trello")
	command(t, e, lead, "c", "ship FB-1 v1")
	runEngine(t, e)
	waitFor(t, "give up", 60*time.Second, func() bool {
		st, _ := db.EventDeliveryStats(context.Background(), 1)
		return st.Failed == 1
	})
	resp := command(t, e, bot.User{ID: "x"}, "c", "show FB-1")
	if !strings.Contains(resp.Text, "0 sent, 1 failed") || !strings.Contains(resp.Text, "connection reset") {
		t.Fatalf("show does not report the failed delivery:\n%s", resp.Text)
	}
	waitFor(t, "final progress edit", 60*time.Second, func() bool { return settledProgress(t, db, 1) })
	if n := p.edits("Notified 1 thread: 0 delivered, 1 failed."); n != 1 {
		t.Fatalf("final progress edit made %d times", n)
	}
}

// settledProgress reports whether the progress message of event ev is
// stored as done: its final edit was made and nobody edits it again.
func settledProgress(t *testing.T, db *store.DB, ev int64) bool {
	t.Helper()
	pm, err := db.FindProgress(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return pm.State == bot.ProgressDone
}

// TestProgressAcrossReplicas: the progress message posted by the replica
// that answered the release lead gets the counts of every replica's
// deliveries, and exactly one final edit, made by whichever replica sees
// the event settled.
func TestProgressAcrossReplicas(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		// Replica a holds at most two deliveries, and its posts wait until
		// b has posted one, so b takes most of the event.
		fast := &paced{}
		gate := make(chan struct{})
		slow := &paced{hold: func(string) <-chan struct{} { return gate }}
		acfg := bot.DefaultConfig()
		acfg.DeliveryPoll = 20 * time.Millisecond
		acfg.DeliveryMaxInFlight = 2
		acfg.Worker = "a"
		adb := openDB(t, dsn)
		a := bot.NewEngine(adb, &noScorer{docs: map[int64]bot.Doc{}}, acfg, nil)
		a.SetCommands(commands.New(a))
		a.AddPlatform(slow)
		cfg := bot.DefaultConfig()
		cfg.DeliveryPoll = 20 * time.Millisecond
		cfg.Worker = "b"
		b := bot.NewEngine(openDB(t, dsn), &noScorer{docs: map[int64]bot.Doc{}}, cfg, nil)
		b.AddPlatform(fast)
		shipThreads(t, a, []string{"a", "b", "c"}, 30)
		runEngine(t, a)
		runEngine(t, b)
		waitFor(t, "a reply by b", 2*time.Minute, func() bool { return len(fast.threadReplies("Shipped in v3")) > 0 })
		close(gate)
		final := "Notified 30 threads: 30 delivered, 0 failed."
		waitFor(t, "final progress edit", 2*time.Minute, func() bool { return settledProgress(t, adb, 1) })
		byA, byB := len(slow.threadReplies("Shipped in v3")), len(fast.threadReplies("Shipped in v3"))
		if byA+byB != 30 || byB == 0 {
			t.Fatalf("replicas delivered %d + %d, want 30 in all, some by b", byA, byB)
		}
		if n := slow.edits(final) + fast.edits(final); n != 1 {
			t.Fatalf("final edit made %d times (a %d, b %d), want once", n, slow.edits(final), fast.edits(final))
		}
		if slow.posted("Notif") && fast.posted("Notif") {
			t.Fatalf("both replicas posted a progress message")
		}
		t.Logf("replica a delivered %d, b %d; final edit by a %d, b %d", byA, byB, slow.edits(final), fast.edits(final))
	})
}

// TestProgressAfterRestart: the replica that posted the progress message is
// gone before any reply went out (killed right after answering the release
// lead); the process that runs the deliveries next, with another worker
// name, makes the final edit of that message, once, and posts no second
// one. When the first post of the message was answered 429 and its replica
// died, the next one posts it (once) and makes the final edit.
func TestProgressAfterRestart(t *testing.T) {
	for _, limitedPost := range []bool{false, true} {
		t.Run(fmt.Sprintf("limitedPost=%v", limitedPost), func(t *testing.T) {
			storetest.ForEachDB(t, func(t *testing.T, dsn string) {
				// One platform for both processes: the chat service.
				p := &limited{postOK: !limitedPost, noEditLimit: true}
				first := openDB(t, dsn)
				a := newEngine(t, first, p) // never runs its worker: it dies
				shipThreads(t, a, []string{"a", "b"}, 4)
				if limitedPost {
					if p.progressPosts != 0 || p.postTries != 1 {
						t.Fatalf("progress message posted %d times in %d tries, want a 429 first", p.progressPosts, p.postTries)
					}
				} else if p.progressPosts != 1 {
					t.Fatalf("progress message posted %d times, want 1", p.progressPosts)
				}
				cfg := bot.DefaultConfig()
				cfg.DeliveryPoll = 20 * time.Millisecond
				cfg.Worker = "restarted"
				db := openDB(t, dsn)
				b := bot.NewEngine(db, &noScorer{docs: map[int64]bot.Doc{}}, cfg, nil)
				b.AddPlatform(p)
				runEngine(t, b)
				final := "Notified 4 threads: 4 delivered, 0 failed."
				waitFor(t, "final progress edit", 60*time.Second, func() bool { return settledProgress(t, db, 1) })
				if n := len(p.threadReplies("Shipped in v3")); n != 4 {
					t.Fatalf("%d threads answered, want 4", n)
				}
				p.lmu.Lock()
				posts := p.progressPosts
				p.lmu.Unlock()
				if posts != 1 {
					t.Fatalf("progress message posted %d times, want 1", posts)
				}
				if n := p.edits(final); n+btoi(p.posted(final)) != 1 {
					t.Fatalf("final counts shown %d times by edits (posted: %v), want once", n, p.posted(final))
				}
			})
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// limited is a paced platform that answers 429 to the first post of the
// progress message (unless postOK) and to the first final edit of it.
type limited struct {
	paced
	postOK             bool
	noEditLimit        bool // no 429 for the final edit
	lmu                sync.Mutex
	postTries, edTries int
	progressPosts      int
}

func (l *limited) Post(ctx context.Context, m bot.OutMessage) (bot.MessageRef, error) {
	if strings.Contains(m.Text, "Notif") {
		l.lmu.Lock()
		l.postTries++
		first := l.postTries == 1 && !l.postOK
		if !first {
			l.progressPosts++
		}
		l.lmu.Unlock()
		if first {
			return bot.MessageRef{}, &bot.RetryAfterError{After: 200 * time.Millisecond, Err: errors.New("429")}
		}
	}
	return l.paced.Post(ctx, m)
}

func (l *limited) Update(ctx context.Context, ref bot.MessageRef, m bot.OutMessage) error {
	l.lmu.Lock()
	if strings.Contains(m.Text, "Notified") {
		l.edTries++
	}
	first := l.edTries == 1 && strings.Contains(m.Text, "Notified") && !l.noEditLimit
	l.lmu.Unlock()
	if first {
		return &bot.RetryAfterError{After: 200 * time.Millisecond, Err: errors.New("429")}
	}
	return l.paced.Update(ctx, ref, m)
}

// TestProgressRetriedAfter429: a progress message whose post is answered
// 429 is posted after Retry-After, and a final edit answered 429 is made
// after Retry-After: the release lead sees the final counts.
func TestProgressRetriedAfter429(t *testing.T) {
	for _, postOK := range []bool{false, true} {
		t.Run(fmt.Sprintf("postOK=%v", postOK), func(t *testing.T) {
			db := openDB(t, storetest.SQLiteDSN(t))
			// The channel interval keeps the fan-out running long enough
			// for the progress message to be posted before it ends.
			p := &limited{paced: paced{interval: 300 * time.Millisecond}, postOK: postOK}
			cfg := bot.DefaultConfig()
			cfg.DeliveryPoll = 20 * time.Millisecond
			e := bot.NewEngine(db, &noScorer{docs: map[int64]bot.Doc{}}, cfg, nil)
			e.SetCommands(commands.New(e))
			e.AddPlatform(p)
			shipThreads(t, e, []string{"a"}, 3)
			runEngine(t, e)
			final := "Notified 3 threads: 3 delivered, 0 failed."
			waitFor(t, "final progress text after 429s", 60*time.Second, func() bool {
				return p.edits(final) == 1 || p.posted(final)
			})
			p.lmu.Lock()
			defer p.lmu.Unlock()
			if p.progressPosts != 1 {
				t.Fatalf("progress message posted %d times, want 1", p.progressPosts)
			}
			if postOK && p.edTries < 2 {
				t.Fatalf("final edit tried %d times, want a retry after the 429", p.edTries)
			}
		})
	}
}

// TestDeadWorkerLeasesTakenOver: a worker that claimed every delivery of a
// ship and was killed (its heartbeat stopped, its leases hold for an hour)
// does not hold them up: a running worker takes them over once the dead
// one's heartbeat expired. The store's clock is moved by hand.
func TestDeadWorkerLeasesTakenOver(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		var offset atomic.Int64
		db.SetClock(func() time.Time { return time.Now().UTC().Add(time.Duration(offset.Load())) })
		p := &paced{}
		e := newEngine(t, db, p)
		shipThreads(t, e, []string{"a", "b"}, 4)
		if err := db.StartWorker(ctx, "dead", 3*time.Second); err != nil {
			t.Fatal(err)
		}
		if ds, err := db.ClaimDeliveries(ctx, "dead", 100, time.Hour); err != nil || len(ds) != 4 {
			t.Fatalf("the dead worker claimed %d, %v", len(ds), err)
		}
		offset.Store(int64(10 * time.Second)) // past its heartbeat, far from its leases' end
		runEngine(t, e)
		waitFor(t, "the dead worker's deliveries", 60*time.Second, func() bool { return len(p.threadReplies("Shipped in v3")) == 4 })
		for th, n := range p.threadReplies("Shipped in v3") {
			if n != 1 {
				t.Fatalf("%d replies in %s", n, th)
			}
		}
	})
}

// strict is a recording platform that refuses (429) a thread reply posted
// in a channel less than interval after the last one it accepted there.
type strict struct {
	recorder
	interval time.Duration
	smu      sync.Mutex
	last     map[string]time.Time
	refused  int
}

func (s *strict) ChannelInterval() time.Duration { return s.interval }

func (s *strict) Post(ctx context.Context, m bot.OutMessage) (bot.MessageRef, error) {
	if m.ThreadID != "" && strings.Contains(m.Text, "Shipped") {
		s.smu.Lock()
		now := time.Now()
		if last, ok := s.last[m.Channel]; ok && now.Sub(last) < s.interval {
			s.refused++
			s.smu.Unlock()
			return bot.MessageRef{}, &bot.RetryAfterError{After: s.interval - now.Sub(last), Err: errors.New("429")}
		}
		if s.last == nil {
			s.last = map[string]time.Time{}
		}
		s.last[m.Channel] = now
		s.smu.Unlock()
	}
	return s.recorder.Post(ctx, m)
}

// TestRestartKeepsChannelPace: a worker that starts after another posted in
// a channel (a restart after a crash, or another replica) waits one channel
// interval after that post, which it reads from the store, instead of
// posting at the reply's scheduled time and meeting a 429.
func TestRestartKeepsChannelPace(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		p := &strict{interval: time.Second}
		a := newEngine(t, openDB(t, dsn), p)
		shipThreads(t, a, []string{"c"}, 2) // due now and in 1 s
		// The first reply goes out half an interval late (a slow start), so
		// the second one's scheduled time is too soon after it.
		time.Sleep(500 * time.Millisecond)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = a.Run(ctx) }()
		waitFor(t, "the first reply", 60*time.Second, func() bool { return len(p.threadReplies("Shipped in v3")) >= 1 })
		cancel()
		<-done
		if n := len(p.threadReplies("Shipped in v3")); n != 1 {
			t.Fatalf("%d replies before the restart, want 1", n)
		}
		cfg := bot.DefaultConfig()
		cfg.DeliveryPoll = 20 * time.Millisecond
		cfg.Worker = "restarted"
		b := bot.NewEngine(openDB(t, dsn), &noScorer{docs: map[int64]bot.Doc{}}, cfg, nil)
		b.AddPlatform(p)
		runEngine(t, b)
		waitFor(t, "the second reply", 60*time.Second, func() bool { return len(p.threadReplies("Shipped in v3")) == 2 })
		p.smu.Lock()
		defer p.smu.Unlock()
		if p.refused != 0 {
			t.Fatalf("the restarted worker was refused %d times for posting too soon in the channel", p.refused)
		}
	})
}

// replaying is a strict platform that de-duplicates posts by idempotency
// key, as Discord does with a nonce and enforce_nonce: the first keyed
// thread reply it is asked for in channel "c" was already posted long ago
// (by a worker that died before recording it), so it answers that post
// with the old message, Replayed, without counting it against the channel.
type replaying struct {
	recorder
	interval atomic.Int64 // time.Duration
	smu      sync.Mutex
	last     map[string]time.Time
	keys     map[string]bool
	replays  int
	refused  int
}

func (s *replaying) ChannelInterval() time.Duration { return time.Duration(s.interval.Load()) }

func (s *replaying) Post(ctx context.Context, m bot.OutMessage) (bot.MessageRef, error) {
	if m.Channel != "c" || m.ThreadID == "" || m.IdempotencyKey == "" {
		return s.recorder.Post(ctx, m)
	}
	s.smu.Lock()
	now := time.Now()
	if s.keys == nil {
		// The dead worker's post, two intervals ago.
		s.keys = map[string]bool{m.IdempotencyKey: true}
		s.last = map[string]time.Time{m.Channel: now.Add(-2 * s.ChannelInterval())}
	}
	if s.keys[m.IdempotencyKey] {
		s.replays++
		s.smu.Unlock()
		return bot.MessageRef{Platform: "test", Channel: m.Channel, ID: "old-" + m.IdempotencyKey, ThreadID: m.ThreadID,
			Replayed: true, PostedAt: now.Add(-2 * s.ChannelInterval())}, nil
	}
	if now.Sub(s.last[m.Channel]) < s.ChannelInterval() {
		s.refused++
		s.smu.Unlock()
		return bot.MessageRef{}, &bot.RetryAfterError{After: s.ChannelInterval() - now.Sub(s.last[m.Channel]), Err: errors.New("429")}
	}
	s.keys[m.IdempotencyKey] = true
	s.last[m.Channel] = now
	s.smu.Unlock()
	return s.recorder.Post(ctx, m)
}

// TestReplayedRepostTakesNoSlot: a re-post that the platform answers with
// the message an earlier attempt posted (MessageRef.Replayed, after a crash
// between a post and its bookkeeping) does not take a slot of its channel:
// the channel's next reply keeps the interval after the earlier post, long
// past here, and goes out at once instead of one interval (an hour) later.
func TestReplayedRepostTakesNoSlot(t *testing.T) {
	db := openDB(t, storetest.SQLiteDSN(t))
	p := &replaying{}
	e := newEngine(t, db, p)
	shipThreads(t, e, []string{"c"}, 2) // both due now: no interval yet
	p.interval.Store(int64(time.Hour))
	runEngine(t, e)
	// Without the fix the second reply waits an hour.
	waitFor(t, "both deliveries", 60*time.Second, func() bool {
		n, err := db.DeliveryQueueDepth(context.Background())
		return err == nil && n == 0
	})
	p.smu.Lock()
	defer p.smu.Unlock()
	if p.replays != 1 || p.refused != 0 {
		t.Fatalf("%d re-posts answered as replays, %d refused; want 1 and 0", p.replays, p.refused)
	}
	if got := p.threadReplies("Shipped in v3"); len(got) != 1 {
		t.Fatalf("new replies %v, want the one not posted before", got)
	}
}

// wakingStore is a store that can tell workers that deliveries were
// enqueued elsewhere (bot.DeliveryWaker), and records who listens.
type wakingStore struct {
	*store.DB
	ch        chan struct{}
	listening atomic.Int32
}

func (s *wakingStore) DeliveriesEnqueued(ctx context.Context) <-chan struct{} {
	s.listening.Add(1)
	go func() { <-ctx.Done(); s.listening.Add(-1) }()
	return s.ch
}

// TestWorkerListensForEnqueued: a running worker listens to its store's
// notifications of new deliveries (DeliveryWaker) while it runs, and stops
// listening when it stops. (That a notification is sent and heard across
// processes is TestDeliveriesEnqueued in store.)
func TestWorkerListensForEnqueued(t *testing.T) {
	db := openDB(t, storetest.SQLiteDSN(t))
	ws := &wakingStore{DB: db, ch: make(chan struct{}, 1)}
	p := &recorder{}
	worker := newEngine(t, ws, p)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = worker.Run(ctx) }()
	waitFor(t, "the worker to listen", 60*time.Second, func() bool { return ws.listening.Load() == 1 })
	ws.ch <- struct{}{} // a notification while it runs
	cancel()
	<-done
	waitFor(t, "the worker to stop listening", 60*time.Second, func() bool { return ws.listening.Load() == 0 })
}
