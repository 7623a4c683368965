package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/commands"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// TestStatusNotices: a change to a status in NotifyStatuses (default
// planned, in_progress) posts one reply in every subscribed thread through
// the delivery queue, exactly once even when the process stops before
// delivering and another one takes over; other statuses, and an empty list,
// post nothing.
func TestStatusNotices(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		p := &recorder{}
		e := newEngine(t, db, p)
		command(t, e, lead, "c1", "watch")
		command(t, e, lead, "c2", "watch")
		post(t, e, "c1", "m1", "alice", "Dark mode for the dashboard")
		post(t, e, "c2", "m2", "bob", "A night theme")
		command(t, e, lead, "c1", "merge FB-2 into FB-1")
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}

		// Planned, then the process stops before delivering (no Flush).
		resp := command(t, e, lead, "c1", "status FB-2 planned -- next sprint")
		if resp == nil || resp.Text == "" {
			t.Fatal("no answer to status")
		}
		if got := p.threadReplies("is planned"); len(got) != 0 {
			t.Fatalf("replies before any delivery run: %v", got)
		}
		// Two other processes on the same database deliver each reply once.
		for range 2 {
			e2 := newEngine(t, db, p)
			if err := e2.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		got := p.threadReplies("🗓️ FB-1 is planned: Dark mode for the dashboard\n> next sprint")
		if len(got) != 2 || got["c1/m1"] != 1 || got["c2/m2"] != 1 {
			t.Fatalf("planned replies %v, want one in each of the two threads", got)
		}

		command(t, e, lead, "c1", "status FB-1 in_progress")
		command(t, e, lead, "c1", "status FB-1 declined") // not announced by default
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := p.threadReplies("🚧 FB-1 is in progress"); len(got) != 2 || got["c1/m1"] != 1 {
			t.Fatalf("in progress replies %v", got)
		}
		if got := p.threadReplies("declined"); len(got) != 0 {
			t.Fatalf("declined announced: %v", got)
		}
		// The same status again is refused and announces nothing.
		if _, err := e.Handle(ctx, &bot.Event{Kind: bot.EventCommand, Platform: "test", Workspace: "w", Channel: "c1", User: lead, Text: "status FB-1 declined"}); bot.ErrorCode(err) != bot.ECONFLICT {
			t.Fatalf("same status: %v", err)
		}

		// Notices off.
		cfg := bot.DefaultConfig()
		cfg.DeliveryPoll = 20 * time.Millisecond
		cfg.NotifyStatuses = []bot.Status{}
		off := bot.NewEngine(db, &noScorer{docs: map[int64]bot.Doc{}}, cfg, nil)
		off.SetCommands(commands.New(off))
		off.AddPlatform(p)
		command(t, off, lead, "c1", "status FB-1 planned")
		if err := off.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := p.threadReplies("is planned"); got["c1/m1"] != 1 {
			t.Fatalf("a notice with notices off: %v", got)
		}
	})
}
