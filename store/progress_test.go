package store_test

import (
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
)

// TestProgressMessages: a release's progress message is stored held by the
// worker that posts it; another worker takes it only once it is handed
// back, its lease ran out, or its worker's heartbeat expired; settling a
// message one no longer holds is refused, and a settled one is not open.
func TestProgressMessages(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		ev := mustEnqueue(t, db, "a", 2)
		now := time.Now().UTC()
		db.SetClock(func() time.Time { return now }) // moved by hand

		p := &bot.ProgressMessage{EventID: ev, Platform: "slack", Workspace: "T1", Channel: "C1", Outcome: `{"event_id":1}`}
		if err := db.CreateProgress(ctx, p, "w1", time.Minute); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.CreateProgress(ctx, &bot.ProgressMessage{EventID: ev, Platform: "slack", Channel: "C1"}, "w2", time.Minute), bot.ECONFLICT)
		wantCode(t, db.CreateProgress(ctx, &bot.ProgressMessage{EventID: 999, Platform: "slack", Channel: "C1"}, "w2", time.Minute), bot.ENOTFOUND)
		if open, err := db.OpenProgress(ctx, 10); err != nil || len(open) != 0 {
			t.Fatalf("open while w1 posts it: %d, %v", len(open), err)
		}
		_, err := db.ClaimProgress(ctx, ev, "w2", time.Minute)
		wantCode(t, err, bot.ECONFLICT)
		_, err = db.ClaimProgress(ctx, 999, "w2", time.Minute)
		wantCode(t, err, bot.ENOTFOUND)

		// w1 posted it.
		edited := now
		p.MessageID, p.Shown, p.EditedAt, p.RetryAt = "1700.1", "Notifying 2 threads…", &edited, now
		if err := db.SettleProgress(ctx, p, "w1"); err != nil {
			t.Fatal(err)
		}
		open, err := db.OpenProgress(ctx, 10)
		if err != nil || len(open) != 1 {
			t.Fatalf("open after the post: %d, %v", len(open), err)
		}
		if o := open[0]; o.MessageID != "1700.1" || o.Shown != "Notifying 2 threads…" || o.Channel != "C1" || o.Workspace != "T1" ||
			o.Outcome != `{"event_id":1}` || o.State != bot.ProgressOpen || o.LockedBy != "" || o.EditedAt == nil {
			t.Fatalf("stored %+v", o)
		}

		// w2 takes it for an edit and dies: w3 waits for the lease.
		if _, err := db.ClaimProgress(ctx, ev, "w2", time.Minute); err != nil {
			t.Fatal(err)
		}
		now = now.Add(59 * time.Second)
		_, err = db.ClaimProgress(ctx, ev, "w3", time.Minute)
		wantCode(t, err, bot.ECONFLICT)
		now = now.Add(2 * time.Second)
		if err := db.StartWorker(ctx, "w3", 3*time.Second); err != nil {
			t.Fatal(err)
		}
		got, err := db.ClaimProgress(ctx, ev, "w3", time.Minute)
		if err != nil || got.LockedBy != "w3" || got.MessageID != "1700.1" {
			t.Fatalf("w3 claim after the lease: %+v, %v", got, err)
		}
		wantCode(t, db.SettleProgress(ctx, p, "w2"), bot.ECONFLICT)

		// w3 has a heartbeat and stops beating: w4 takes over before the
		// lease runs out.
		now = now.Add(2 * time.Second)
		_, err = db.ClaimProgress(ctx, ev, "w4", time.Minute)
		wantCode(t, err, bot.ECONFLICT)
		now = now.Add(2 * time.Second)
		if got, err = db.ClaimProgress(ctx, ev, "w4", time.Minute); err != nil {
			t.Fatalf("w4 claim after w3's heartbeat expired: %v", err)
		}

		// The final edit.
		got.State, got.Shown = bot.ProgressDone, "Notified 2 threads: 2 delivered, 0 failed."
		if err := db.SettleProgress(ctx, got, "w4"); err != nil {
			t.Fatal(err)
		}
		if open, err := db.OpenProgress(ctx, 10); err != nil || len(open) != 0 {
			t.Fatalf("open after the final edit: %d, %v", len(open), err)
		}
		_, err = db.ClaimProgress(ctx, ev, "w5", time.Minute)
		wantCode(t, err, bot.ECONFLICT)
		final, err := db.FindProgress(ctx, ev)
		if err != nil || final.State != bot.ProgressDone || final.Shown != got.Shown {
			t.Fatalf("final %+v, %v", final, err)
		}
	})
}

// TestProgressRetryAt: a progress message whose post was refused (429) is
// not open before its retry time.
func TestProgressRetryAt(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		ev := mustEnqueue(t, db, "a", 1)
		now := time.Now().UTC()
		db.SetClock(func() time.Time { return now })
		p := &bot.ProgressMessage{EventID: ev, Platform: "slack", Channel: "C1"}
		if err := db.CreateProgress(ctx, p, "w1", time.Minute); err != nil {
			t.Fatal(err)
		}
		p.RetryAt = now.Add(3 * time.Second)
		if err := db.SettleProgress(ctx, p, "w1"); err != nil {
			t.Fatal(err)
		}
		if open, err := db.OpenProgress(ctx, 10); err != nil || len(open) != 0 {
			t.Fatalf("open before Retry-After: %d, %v", len(open), err)
		}
		now = now.Add(3 * time.Second)
		open, err := db.OpenProgress(ctx, 10)
		if err != nil || len(open) != 1 || open[0].MessageID != "" {
			t.Fatalf("open after Retry-After: %+v, %v", open, err)
		}
	})
}

// TestHeartbeat_DeadWorker: the deliveries leased to a worker that stopped
// beating are claimed by another as soon as its heartbeat expires, long
// before their leases would; a worker that beats keeps them, learns at its
// next beat that its heartbeat had lapsed, and StartWorker hands back what
// an earlier process of the same name held.
func TestHeartbeat_DeadWorker(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		mustEnqueue(t, db, "a", 3)
		now := time.Now().UTC()
		db.SetClock(func() time.Time { return now }) // moved by hand, no sleeps
		const ttl = 3 * time.Second
		if err := db.StartWorker(ctx, "w1", ttl); err != nil {
			t.Fatal(err)
		}
		held, err := db.ClaimDeliveries(ctx, "w1", 10, time.Hour)
		if err != nil || len(held) != 3 {
			t.Fatalf("w1 claimed %d, %v", len(held), err)
		}
		// w1 beats every second: nobody takes its deliveries.
		for range 5 {
			now = now.Add(time.Second)
			if lapsed, err := db.Heartbeat(ctx, "w1", ttl); err != nil || lapsed {
				t.Fatalf("heartbeat: lapsed %v, %v", lapsed, err)
			}
			if got, err := db.ClaimDeliveries(ctx, "w2", 10, time.Hour); err != nil || len(got) != 0 {
				t.Fatalf("w2 claimed %d from a live worker, %v", len(got), err)
			}
		}
		// w1 is killed: its last heartbeat holds for ttl.
		now = now.Add(ttl)
		if got, err := db.ClaimDeliveries(ctx, "w2", 10, time.Hour); err != nil || len(got) != 0 {
			t.Fatalf("w2 claimed %d before w1's heartbeat expired, %v", len(got), err)
		}
		now = now.Add(time.Millisecond)
		// Its own late heartbeat does not make w1 take back what it holds.
		if got, err := db.ClaimDeliveries(ctx, "w1", 10, time.Hour); err != nil || len(got) != 0 {
			t.Fatalf("w1 re-claimed %d of its own, %v", len(got), err)
		}
		got, err := db.ClaimDeliveries(ctx, "w2", 10, time.Hour)
		if err != nil || len(got) != 3 {
			t.Fatalf("w2 claimed %d after w1's heartbeat expired (its leases hold for an hour), %v", len(got), err)
		}
		for _, d := range got {
			if d.LockedBy != "w2" || d.Attempts != 2 {
				t.Fatalf("taken over %+v", d)
			}
		}
		// w1 was only stalled: its next beat says it had lapsed, and its
		// leases are gone.
		if lapsed, err := db.Heartbeat(ctx, "w1", ttl); err != nil || !lapsed {
			t.Fatalf("heartbeat after the stall: lapsed %v, %v", lapsed, err)
		}
		ids := []int64{held[0].ID, held[1].ID, held[2].ID}
		if kept, err := db.ExtendDeliveries(ctx, "w1", ids, time.Hour); err != nil || len(kept) != 0 {
			t.Fatalf("w1 still holds %v, %v", kept, err)
		}
		// w2 stops gracefully: what it still holds is free at once.
		if err := db.StartWorker(ctx, "w2", ttl); err != nil {
			t.Fatal(err) // a restart of w2: hands back its 3 deliveries
		}
		again, err := db.ClaimDeliveries(ctx, "w2", 10, time.Hour)
		if err != nil || len(again) != 3 || again[0].Attempts != 2 {
			t.Fatalf("w2 restarted claimed %+v, %v", again, err)
		}
		if err := db.StopWorker(ctx, "w2"); err != nil {
			t.Fatal(err)
		}
		got, err = db.ClaimDeliveries(ctx, "w3", 10, time.Hour)
		if err != nil || len(got) != 3 {
			t.Fatalf("w3 claimed %d after w2 stopped, %v", len(got), err)
		}
	})
}

// TestLastPosts: finishing a delivery records when its channel was last
// posted in; an older finish does not move it back.
func TestLastPosts(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		r := mustCreate(t, db, "A", "m1", "u1")
		mustAddMention(t, db, r.ID, newMention("m2", "u2"))
		mustAddMention(t, db, r.ID, newMention("x1", "u3", inChannel("C2")))
		if _, err := db.Release(ctx, ship(r.ID)); err != nil {
			t.Fatal(err)
		}
		// Rounded up, not down: the release's deliveries are due from the
		// moment it was written, which may be in this same millisecond.
		base := time.Now().UTC().Add(time.Millisecond).Truncate(time.Millisecond)
		now := base
		db.SetClock(func() time.Time { return now })
		ds, err := db.ClaimDeliveries(ctx, "w1", 10, time.Hour)
		if err != nil || len(ds) != 3 {
			t.Fatalf("claimed %d, %v", len(ds), err)
		}
		ch := func(d *bot.Delivery) bot.Thread {
			return bot.Thread{Platform: d.Platform, Workspace: d.Workspace, Channel: d.Channel}
		}
		var c1 []*bot.Delivery
		var c2 *bot.Delivery
		for _, d := range ds {
			if d.Channel == "C2" {
				c2 = d
			} else {
				c1 = append(c1, d)
			}
		}
		if len(c1) != 2 || c2 == nil {
			t.Fatalf("deliveries %+v", ds)
		}
		last, err := db.LastPosts(ctx, []bot.Thread{ch(c1[0]), ch(c2)})
		if err != nil || len(last) != 0 {
			t.Fatalf("last posts before any: %v, %v", last, err)
		}
		now = base.Add(2 * time.Second)
		if err := db.FinishDelivery(ctx, c1[0].ID, "w1", "1"); err != nil {
			t.Fatal(err)
		}
		now = base.Add(time.Second) // a late bookkeeping of an earlier post
		if err := db.FinishDelivery(ctx, c1[1].ID, "w1", "2"); err != nil {
			t.Fatal(err)
		}
		now = base.Add(3 * time.Second)
		if err := db.RetryDelivery(ctx, c2.ID, "w1", "429", now); err != nil { // not a post
			t.Fatal(err)
		}
		last, err = db.LastPosts(ctx, []bot.Thread{ch(c1[0]), ch(c2), {Platform: "x", Channel: "nowhere"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(last) != 1 || !last[ch(c1[0])].Equal(base.Add(2*time.Second)) {
			t.Fatalf("last posts %v, want %s in %s only", last, base.Add(2*time.Second), c1[0].Channel)
		}
	})
}
