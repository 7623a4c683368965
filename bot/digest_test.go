package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// fakeClock is a store clock moved on by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func clockedDB(t *testing.T, dsn string, c *fakeClock) *store.DB {
	db := openDB(t, dsn)
	db.SetClock(c.now)
	return db
}

// digestPosts returns the posts in channel (top level).
func (r *recorder) inChannel(channel string) []bot.OutMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []bot.OutMessage
	for _, p := range r.posts {
		if p.Channel == channel && p.ThreadID == "" && strings.Contains(p.Text, "Feedback digest") {
			out = append(out, p)
		}
	}
	return out
}

func runDigests(t *testing.T, e *bot.Engine) int {
	t.Helper()
	n, err := e.RunDigests(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDigestSchedule: a daily digest is posted once per day when there is
// something to say, lists new, rising and shipped requests, and a restarted
// engine on the same database does not post it again.
func TestDigestSchedule(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		clock := &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
		rec := &recorder{}
		e := newEngine(t, clockedDB(t, dsn, clock), rec)
		command(t, e, lead, "ideas", "watch")
		if resp := command(t, e, lead, "news", "digest daily"); !strings.Contains(resp.Text, "daily digest") {
			t.Fatalf("digest daily = %q", resp.Text)
		}
		clock.add(time.Hour)
		if n := runDigests(t, e); n != 0 {
			t.Fatalf("posted %d digests before the first was due", n)
		}
		clock.add(24 * time.Hour) // due, but nothing happened
		if n := runDigests(t, e); n != 0 || len(rec.inChannel("news")) != 0 {
			t.Fatalf("empty digest posted: %d, %v", n, rec.inChannel("news"))
		}
		clock.add(time.Minute)
		post(t, e, "ideas", "m1", "ann", "Dark mode for the dashboard please")
		clock.add(time.Hour)
		if n := runDigests(t, e); n != 0 {
			t.Fatalf("posted %d digests an hour after the last", n)
		}
		clock.add(24 * time.Hour)
		if n := runDigests(t, e); n != 1 {
			t.Fatalf("due digest: posted %d, want 1", n)
		}
		if n := runDigests(t, e); n != 0 {
			t.Fatalf("same period posted again: %d", n)
		}
		got := rec.inChannel("news")
		if len(got) != 1 || !strings.Contains(got[0].Text, "New (1)") || !strings.Contains(got[0].Text, "FB-1 Dark mode") {
			t.Fatalf("first digest = %v", got)
		}
		// Next day: two new people on FB-1 and a ship.
		clock.add(time.Minute)
		for _, u := range []string{"bob", "cy"} {
			command(t, e, bot.User{ID: u, Name: u}, "ideas", "vote FB-1")
		}
		command(t, e, lead, "ideas", "ship FB-1 v2.0")
		clock.add(24 * time.Hour)
		if n := runDigests(t, e); n != 1 {
			t.Fatalf("second digest: posted %d, want 1", n)
		}
		got = rec.inChannel("news")
		if len(got) != 2 {
			t.Fatalf("digests = %d, want 2", len(got))
		}
		second := got[1].Text
		for _, want := range []string{"Rising:", "FB-1 Dark mode for the dashboard please · +2 people (3 people)", "🚀 Shipped v2.0: FB-1"} {
			if !strings.Contains(second, want) {
				t.Errorf("second digest lacks %q:\n%s", want, second)
			}
		}
		if strings.Contains(second, "New (") {
			t.Errorf("second digest lists old requests as new:\n%s", second)
		}
		// Restart: a new engine on the same database at the same moment
		// posts nothing; the next period still comes once.
		rec2 := &recorder{}
		e2 := newEngine(t, clockedDB(t, dsn, clock), rec2)
		if n := runDigests(t, e2); n != 0 || len(rec2.inChannel("news")) != 0 {
			t.Fatalf("restart posted the digest again: %d", n)
		}
		clock.add(time.Minute)
		post(t, e2, "ideas", "m2", "dee", "Export to CSV")
		clock.add(24 * time.Hour)
		if n := runDigests(t, e2); n != 1 || len(rec2.inChannel("news")) != 1 || len(rec.inChannel("news")) != 2 {
			t.Fatalf("after restart: posted %d, new %d, old %d", n, len(rec2.inChannel("news")), len(rec.inChannel("news")))
		}
		// Off: nothing more.
		command(t, e2, lead, "news", "digest off")
		post(t, e2, "ideas", "m3", "eve", "Keyboard shortcuts")
		clock.add(8 * 24 * time.Hour)
		if n := runDigests(t, e2); n != 0 {
			t.Fatalf("digest off still posted %d", n)
		}
	})
}

// TestDigestOneReplica: two engines on the same database claim the same
// due digests at once; each channel gets its digest exactly once.
func TestDigestOneReplica(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		clock := &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
		rec1, rec2 := &recorder{}, &recorder{}
		e1 := newEngine(t, clockedDB(t, dsn, clock), rec1)
		e2 := newEngine(t, clockedDB(t, dsn, clock), rec2)
		command(t, e1, lead, "ideas", "watch")
		const channels = 8
		for i := 0; i < channels; i++ {
			command(t, e1, lead, fmt.Sprintf("news%d", i), "digest weekly")
		}
		clock.add(time.Minute)
		post(t, e1, "ideas", "m1", "ann", "Dark mode for the dashboard please")
		clock.add(7*24*time.Hour + time.Minute)
		for round := 0; round < 3; round++ {
			var wg sync.WaitGroup
			counts := make([]int, 2)
			errs := make([]error, 2)
			for i, e := range []*bot.Engine{e1, e2} {
				wg.Add(1)
				go func() { defer wg.Done(); counts[i], errs[i] = e.RunDigests(context.Background()) }()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if want := map[bool]int{true: channels, false: 0}[round == 0]; counts[0]+counts[1] != want {
				t.Fatalf("round %d: replicas posted %d+%d, want %d", round, counts[0], counts[1], want)
			}
		}
		for _, e := range []*bot.Engine{e1, e2} {
			if err := e.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < channels; i++ {
			ch := fmt.Sprintf("news%d", i)
			if n := len(rec1.inChannel(ch)) + len(rec2.inChannel(ch)); n != 1 {
				t.Errorf("%s got %d digests, want 1", ch, n)
			}
		}
	})
}

// TestDigestNow: digest now posts at once in the digest's channel, starts
// the next period, and answers "nothing new" rather than post an empty one;
// people outside the team are refused.
func TestDigestNow(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		clock := &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
		rec := &recorder{}
		e := newEngine(t, clockedDB(t, dsn, clock), rec)
		command(t, e, lead, "ideas", "watch")
		command(t, e, lead, "news", "digest weekly")
		_, err := e.Handle(context.Background(), &bot.Event{Kind: bot.EventCommand, Platform: "test", Workspace: "w", Channel: "ideas", User: bot.User{ID: "ann"}, Text: "digest now"})
		if bot.ErrorCode(err) != bot.EFORBIDDEN || !strings.Contains(bot.ErrorMessage(err), "Only team members can set up digests.") {
			t.Fatalf("non-team digest now: %v", err)
		}
		clock.add(time.Minute)
		if resp := command(t, e, lead, "ideas", "digest now"); !strings.Contains(resp.Text, "Nothing new") {
			t.Fatalf("empty digest now = %q", resp.Text)
		}
		post(t, e, "ideas", "m1", "ann", "Dark mode for the dashboard please")
		clock.add(time.Minute)
		// Run in another channel: the workspace's one digest goes to news.
		if resp := command(t, e, lead, "ideas", "digest now"); !strings.Contains(resp.Text, "Posting the digest") {
			t.Fatalf("digest now = %q", resp.Text)
		}
		if err := e.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := rec.inChannel("news"); len(got) != 1 || !strings.Contains(got[0].Text, "FB-1") {
			t.Fatalf("digest now posts = %v", got)
		}
		clock.add(time.Minute)
		if resp := command(t, e, lead, "ideas", "digest now"); !strings.Contains(resp.Text, "Nothing new") {
			t.Fatalf("digest now after reset = %q", resp.Text)
		}
		// The weekly digest counts from the reset: nothing to say.
		clock.add(7 * 24 * time.Hour)
		if n := runDigests(t, e); n != 0 {
			t.Fatalf("weekly digest after digest now posted %d", n)
		}
	})
}
