package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
	"github.com/feedbackbot/feedbackbot/commands"
	"github.com/feedbackbot/feedbackbot/store"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// recorder is a bot.Platform that records posts and can fail on demand.
type recorder struct {
	mu    sync.Mutex
	n     int
	posts []bot.OutMessage
	fail  func(bot.OutMessage) error
}

func (r *recorder) Name() string { return "test" }

func (r *recorder) Post(ctx context.Context, m bot.OutMessage) (bot.MessageRef, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(m); err != nil {
			return bot.MessageRef{}, err
		}
	}
	r.n++
	r.posts = append(r.posts, m)
	return bot.MessageRef{Platform: "test", Channel: m.Channel, ID: fmt.Sprintf("bot-%d", r.n), ThreadID: m.ThreadID}, nil
}

func (r *recorder) Update(ctx context.Context, ref bot.MessageRef, m bot.OutMessage) error {
	return nil
}

// posted reports whether any post contains substr.
func (r *recorder) posted(substr string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.posts {
		if strings.Contains(p.Text, substr) {
			return true
		}
	}
	return false
}

// threadReplies counts posts per thread whose text contains substr.
func (r *recorder) threadReplies(substr string) map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for _, p := range r.posts {
		if p.ThreadID != "" && strings.Contains(p.Text, substr) {
			out[p.Channel+"/"+p.ThreadID]++
		}
	}
	return out
}

// noScorer finds no duplicates: engine tests that are not about the
// duplicate check use it.
type noScorer struct {
	mu   sync.Mutex
	docs map[int64]bot.Doc
}

func (s *noScorer) Upsert(d bot.Doc) { s.mu.Lock(); s.docs[d.ID] = d; s.mu.Unlock() }
func (s *noScorer) Remove(id int64)  { s.mu.Lock(); delete(s.docs, id); s.mu.Unlock() }
func (s *noScorer) Similar(ctx context.Context, text string, limit int) ([]bot.Candidate, error) {
	return nil, nil
}

func newEngine(t *testing.T, db bot.Store, p bot.Platform) *bot.Engine {
	t.Helper()
	cfg := bot.DefaultConfig()
	cfg.DeliveryPoll = 20 * time.Millisecond
	e := bot.NewEngine(db, &noScorer{docs: map[int64]bot.Doc{}}, cfg, nil)
	e.SetCommands(commands.New(e))
	e.AddPlatform(p)
	return e
}

func openDB(t *testing.T, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var lead = bot.User{ID: "lead", Name: "lead", Team: true, ReleaseLead: true}

func post(t *testing.T, e *bot.Engine, channel, id, author, text string) {
	t.Helper()
	ev := &bot.Event{Kind: bot.EventMessage, Platform: "test", Workspace: "w", Channel: channel, User: bot.User{ID: author},
		Message: &bot.Message{Platform: "test", Workspace: "w", Channel: channel, ID: id, Author: bot.User{ID: author, Name: author}, Text: text}}
	if _, err := e.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
}

func command(t *testing.T, e *bot.Engine, u bot.User, channel, text string) *bot.Response {
	t.Helper()
	resp, err := e.Handle(context.Background(), &bot.Event{Kind: bot.EventCommand, Platform: "test", Workspace: "w", Channel: channel, User: u, Text: text})
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return resp
}

// TestDeliveriesSurviveRestart: a process stopped with deliveries queued
// delivers them after restart, once each.
func TestDeliveriesSurviveRestart(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		offline := &recorder{fail: func(m bot.OutMessage) error {
			if m.ThreadID != "" && strings.Contains(m.Text, "Shipped in") {
				return errors.New("connection refused")
			}
			return nil
		}}
		e1 := newEngine(t, db, offline)
		for i := 0; i < 3; i++ {
			command(t, e1, lead, fmt.Sprintf("c%d", i), "watch")
		}
		const threads = 25
		for i := 0; i < threads; i++ {
			post(t, e1, fmt.Sprintf("c%d", i%3), fmt.Sprintf("m%d", i), fmt.Sprintf("u%d", i), fmt.Sprintf("Idea number %d about widgets", i))
		}
		keys := make([]string, 0, threads)
		reqs, _, err := db.FindRequests(ctx, bot.RequestFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reqs {
			keys = append(keys, bot.FormatKey("FB", r.ID))
		}
		if len(keys) != threads {
			t.Fatalf("captured %d requests, want %d", len(keys), threads)
		}
		command(t, e1, lead, "c0", "ship "+strings.Join(keys, " ")+" v9")
		// The first process tries once and fails: every delivery stays queued.
		if err := e1.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(offline.threadReplies("Shipped in v9")); n != 0 {
			t.Fatalf("offline platform delivered %d", n)
		}
		depth, err := db.DeliveryQueueDepth(ctx)
		if err != nil || depth != threads {
			t.Fatalf("queue depth %d (%v), want %d", depth, err, threads)
		}

		// "Restart": a new engine on the same database with a working platform.
		online := &recorder{}
		e2 := newEngine(t, openDB(t, dsn), online)
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = e2.Run(runCtx) }()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if d, _ := db.DeliveryQueueDepth(ctx); d == 0 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		<-done
		got := online.threadReplies("Shipped in v9")
		if len(got) != threads {
			t.Fatalf("delivered to %d threads after restart, want %d", len(got), threads)
		}
		for th, n := range got {
			if n != 1 {
				t.Errorf("thread %s got %d replies", th, n)
			}
		}
	})
}

func TestReleaseRateLimitedRetries(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, storetest.SQLiteDSN(t))
	const retryAfter = 50 * time.Millisecond
	var (
		mu       sync.Mutex
		attempts []time.Time
	)
	p := &recorder{}
	p.fail = func(m bot.OutMessage) error {
		if m.ThreadID != "" && strings.Contains(m.Text, "Shipped") {
			mu.Lock()
			defer mu.Unlock()
			attempts = append(attempts, time.Now())
			if len(attempts) == 1 {
				return &bot.RetryAfterError{After: retryAfter, Err: errors.New("ratelimited")}
			}
		}
		return nil
	}
	e := newEngine(t, db, p)
	command(t, e, lead, "c", "watch")
	post(t, e, "c", "m1", "u1", "Import from Trello")
	command(t, e, lead, "c", "ship FB-1")
	// Flush until the reply is delivered (the first attempt is refused);
	// what is checked is the order of events, not how long a loaded
	// machine takes between them.
	for deadline := time.Now().Add(30 * time.Second); len(p.threadReplies("Shipped")) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the rate-limited reply was never retried")
		}
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.threadReplies("Shipped"); len(got) != 1 || got["c/m1"] != 1 {
		t.Fatalf("replies %v, want one in c/m1", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(attempts) != 2 {
		t.Fatalf("%d attempts, want the refused one and one retry", len(attempts))
	}
	if gap := attempts[1].Sub(attempts[0]); gap < retryAfter {
		t.Fatalf("retried %v after the 429, before its Retry-After of %v", gap, retryAfter)
	}
}

func TestPermanentFailureIsVisible(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, storetest.SQLiteDSN(t))
	p := &recorder{}
	p.fail = func(m bot.OutMessage) error {
		if m.ThreadID != "" && strings.Contains(m.Text, "Shipped") {
			return &bot.PermanentError{Err: errors.New("channel_not_found")}
		}
		return nil
	}
	e := newEngine(t, db, p)
	command(t, e, lead, "c", "watch")
	post(t, e, "c", "m1", "u1", "Import from Trello")
	command(t, e, lead, "c", "ship FB-1 v1")
	if err := e.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	resp := command(t, e, bot.User{ID: "x"}, "c", "show FB-1")
	if !strings.Contains(resp.Text, "0 sent, 1 failed") || !strings.Contains(resp.Text, "channel_not_found") {
		t.Fatalf("show does not report the failed delivery:\n%s", resp.Text)
	}
}

// TestIndexFollowsOtherReplicas: with two engines on one database, a request
// captured through one is found by the other's duplicate index within a few
// poll intervals.
func TestIndexFollowsOtherReplicas(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		newReplica := func(name string) (*bot.Engine, *recorder) {
			cfg := bot.DefaultConfig()
			cfg.Worker = name
			cfg.IndexPoll = 50 * time.Millisecond
			p := &recorder{}
			e := bot.NewEngine(openDB(t, dsn), dedup.New(dedup.DefaultConfig()), cfg, nil)
			e.SetCommands(commands.New(e))
			e.AddPlatform(p)
			return e, p
		}
		a, _ := newReplica("a")
		b, pb := newReplica("b")
		done := make(chan struct{})
		go func() { defer close(done); _ = b.Run(ctx) }()
		defer func() { cancel(); <-done }()

		command(t, a, lead, "c", "watch")
		post(t, a, "c", "m1", "u1", "Export the roadmap to a PDF file")
		deadline := time.Now().Add(60 * time.Second)
		for {
			resp := command(t, b, bot.User{ID: "u2"}, "c", "search roadmap pdf export")
			if strings.Contains(resp.Text, "FB-1") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica b never indexed FB-1: %s", resp.Text)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// A duplicate captured through b is suggested against a's request.
		post(t, b, "c", "m2", "u3", "Please export the roadmap as PDF")
		if !pb.posted("Possible duplicates of FB-2:\n1. FB-1") {
			t.Fatal("replica b did not suggest FB-1 for FB-2")
		}
	})
}

// callMetrics records platform calls reported to a bot.CallObserver.
type callMetrics struct {
	mu    sync.Mutex
	calls map[string]int
}

func (m *callMetrics) Captured(string, string)  {}
func (m *callMetrics) Suggested()               {}
func (m *callMetrics) Merged()                  {}
func (m *callMetrics) Delivered(string, string) {}
func (m *callMetrics) PlatformCall(platform, method string, d time.Duration, status string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls[platform+" "+method+" "+status]++
}

func TestPlatformCallsAreObserved(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, storetest.SQLiteDSN(t))
	limited := true
	p := &recorder{fail: func(m bot.OutMessage) error {
		if limited && strings.Contains(m.Text, "Shipped in") {
			limited = false
			return &bot.RetryAfterError{After: time.Millisecond, Err: errors.New("ratelimited")}
		}
		return nil
	}}
	e := newEngine(t, db, p)
	m := &callMetrics{calls: map[string]int{}}
	e.SetMetrics(m)
	command(t, e, lead, "c", "watch")
	post(t, e, "c", "m1", "u1", "Import from Trello")
	command(t, e, lead, "c", "ship FB-1 v1")
	_ = e.Flush(ctx)
	time.Sleep(20 * time.Millisecond)
	_ = e.Flush(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.calls["test post 429"] != 1 || m.calls["test post ok"] < 2 || m.calls["test update ok"] < 1 {
		t.Fatalf("observed calls %v", m.calls)
	}
}
