package store_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
)

// titles renders the titles of reqs, the way a Text func sees them.
func titles(reqs []*bot.Request) string {
	var s []string
	for _, r := range reqs {
		s = append(s, r.Title)
	}
	return strings.Join(s, "+")
}

func ship(ids ...int64) bot.ReleaseInput {
	return bot.ReleaseInput{Action: bot.ActionShipped, Version: "v1", Actor: "lead", RequestIDs: ids, Text: titles}
}

func TestRelease(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		// a: thread m1 with a reply r1 (same thread), and a mention in thread x1 of C2.
		a := mustCreate(t, db, "A", "m1", "u1")
		mustAddMention(t, db, a.ID, newMention("r1", "u2", inThread("m1")))
		mustAddMention(t, db, a.ID, newMention("x1", "u3", inChannel("C2")))
		// d is a duplicate of a with its own thread m4.
		d := mustCreate(t, db, "D", "m4", "u4")
		mustMerge(t, db, d.ID, a.ID)
		// b: thread m2, and an API capture (no thread).
		b := mustCreate(t, db, "B", "m2", "u5")
		mustAddMention(t, db, b.ID, &bot.Mention{Platform: bot.PlatformAPI, MessageID: "api-1", AuthorID: "ext"})
		// a and b share thread m1? No: b also has a reply in a's thread m1.
		mustAddMention(t, db, b.ID, newMention("r2", "u6", inThread("m1")))
		c := mustCreate(t, db, "C", "m3", "u7")

		var first *bot.ReleaseResult
		t.Run("Ship", func(t *testing.T) {
			in := ship(d.ID, b.ID) // d resolves to a
			in.IdempotencyKey = "ci-1"
			in.Note = "enjoy"
			res, err := db.Release(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			first = res
			if res.Event.ID == 0 || res.Event.Action != bot.ActionShipped || res.Event.IdempotencyKey != "ci-1" {
				t.Fatalf("event %+v", res.Event)
			}
			if len(res.Changed) != 2 || res.Changed[0].ID != a.ID || res.Changed[1].ID != b.ID || len(res.Skipped) != 0 {
				t.Fatalf("changed %v skipped %v", res.Changed, res.Skipped)
			}
			if res.Changed[0].Status != bot.StatusShipped {
				t.Fatalf("changed status %q", res.Changed[0].Status)
			}
			// Threads: C1/m1 (a and b), C2/x1 (a), C1/m4 (a via d), C1/m2 (b); not the API mention.
			if res.Threads != 4 {
				t.Fatalf("threads %d, want 4", res.Threads)
			}
			ds, err := db.FindDeliveries(ctx, res.Event.ID)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range ds {
				if d.State != bot.DeliveryPending || d.Attempts != 0 {
					t.Fatalf("delivery %+v", d)
				}
				got = append(got, fmt.Sprintf("%s/%s=%s", d.Channel, d.ThreadID, d.Text))
			}
			sort.Strings(got)
			if want := "[C1/m1=A+B C1/m2=B C1/m4=A C2/x1=A]"; fmt.Sprint(got) != want {
				t.Fatalf("deliveries %v, want %s", got, want)
			}
			hs, err := db.FindHistory(ctx, a.ID)
			if err != nil || len(hs) != 1 || hs[0].EventID == nil || *hs[0].EventID != res.Event.ID || hs[0].Version != "v1" || hs[0].Note != "enjoy" {
				t.Fatalf("history %+v, %v", hs, err)
			}
			if st, err := db.EventDeliveryStats(ctx, res.Event.ID); err != nil || st != (bot.DeliveryStats{Pending: 4}) {
				t.Fatalf("stats %+v, %v", st, err)
			}
			if n, err := db.DeliveryQueueDepth(ctx); err != nil || n != 4 {
				t.Fatalf("depth %d, %v", n, err)
			}
		})
		t.Run("IdempotencyKey", func(t *testing.T) {
			in := ship(c.ID)
			in.IdempotencyKey = "ci-1"
			_, err := db.Release(ctx, in)
			wantCode(t, err, bot.ECONFLICT)
			if r := mustFind(t, db, c.ID); r.Status != bot.StatusOpen {
				t.Fatalf("c status %q after refused release", r.Status)
			}
			ev, err := db.FindReleaseByIdempotencyKey(ctx, "ci-1")
			if err != nil || ev.ID != first.Event.ID || ev.Result != "" {
				t.Fatalf("event %+v, %v", ev, err)
			}
			if err := db.SetReleaseResult(ctx, ev.ID, `{"ok":true}`); err != nil {
				t.Fatal(err)
			}
			ev, err = db.FindReleaseByIdempotencyKey(ctx, "ci-1")
			if err != nil || ev.Result != `{"ok":true}` {
				t.Fatalf("event %+v, %v", ev, err)
			}
			_, err = db.FindReleaseByIdempotencyKey(ctx, "nope")
			wantCode(t, err, bot.ENOTFOUND)
			_, err = db.FindReleaseByIdempotencyKey(ctx, "")
			wantCode(t, err, bot.ENOTFOUND)
			wantCode(t, db.SetReleaseResult(ctx, 999, "x"), bot.ENOTFOUND)
			// Events without a key do not collide.
			for range 2 {
				if _, err := db.Release(ctx, ship(a.ID)); err != nil {
					t.Fatal(err)
				}
			}
		})
		t.Run("SkipShipped", func(t *testing.T) {
			in := ship(a.ID, c.ID)
			in.Version = "v2"
			res, err := db.Release(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Changed) != 1 || res.Changed[0].ID != c.ID || len(res.Skipped) != 1 || res.Skipped[0].ID != a.ID {
				t.Fatalf("changed %v skipped %v", res.Changed, res.Skipped)
			}
			if res.Threads != 1 {
				t.Fatalf("threads %d", res.Threads)
			}
		})
		t.Run("FindShippedIn", func(t *testing.T) {
			for v, want := range map[string]string{"v1": fmt.Sprint([]int64{a.ID, b.ID}), "v2": fmt.Sprint([]int64{c.ID}), "v3": "[]"} {
				ids, err := db.FindShippedIn(ctx, v)
				if err != nil || fmt.Sprint(ids) != want {
					t.Fatalf("shipped in %s: %v, %v; want %s", v, ids, err, want)
				}
			}
		})
		t.Run("Rollback", func(t *testing.T) {
			e := mustCreate(t, db, "E", "m5", "u8")
			res, err := db.Release(ctx, bot.ReleaseInput{Action: bot.ActionRolledBack, Version: "v1", Note: "broken", RequestIDs: []int64{a.ID, e.ID}, Text: titles})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Changed) != 1 || res.Changed[0].ID != a.ID || res.Changed[0].Status != bot.StatusRolledBack || len(res.Skipped) != 1 || res.Skipped[0].ID != e.ID {
				t.Fatalf("changed %v skipped %v", res.Changed, res.Skipped)
			}
			if res.Threads != 3 {
				t.Fatalf("threads %d, want 3", res.Threads)
			}
			ids, err := db.FindShippedIn(ctx, "v1")
			if err != nil || fmt.Sprint(ids) != fmt.Sprint([]int64{b.ID}) {
				t.Fatalf("shipped in v1 after rollback: %v, %v", ids, err)
			}
			// Shipping again is a new event that notifies again.
			res, err = db.Release(ctx, ship(a.ID))
			if err != nil || len(res.Changed) != 1 || res.Threads != 3 {
				t.Fatalf("ship again: %+v, %v", res, err)
			}
		})
		t.Run("Errors", func(t *testing.T) {
			_, err := db.Release(ctx, ship(999))
			wantCode(t, err, bot.ENOTFOUND)
			_, err = db.Release(ctx, ship())
			wantCode(t, err, bot.EINVALID)
			_, err = db.Release(ctx, bot.ReleaseInput{Action: "exploded", RequestIDs: []int64{a.ID}})
			wantCode(t, err, bot.EINVALID)
		})
	})
}
