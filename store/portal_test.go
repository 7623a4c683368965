package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
)

func TestPortalReads(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
		db.SetNow(func() time.Time { return clock })
		tick := func(d time.Duration) { clock = clock.Add(d) }

		a := mustCreate(t, db, "A", "m1", "u1")
		tick(time.Hour)
		mustVote(t, db, a.ID, "u2", "")
		mustVote(t, db, a.ID, "u1", "") // the author again: not a new person
		tick(24 * time.Hour)
		d := mustCreate(t, db, "D", "m4", "u3")
		mustVote(t, db, d.ID, "u2", "") // counted already on a
		mustMerge(t, db, d.ID, a.ID)
		b := mustCreate(t, db, "B", "m2", "u5")
		c := mustCreate(t, db, "C", "m3", "u6")

		rel := func(action, version string, ids ...int64) {
			t.Helper()
			tick(time.Hour)
			if _, err := db.Release(ctx, bot.ReleaseInput{Action: action, Version: version, Actor: "lead", RequestIDs: ids, Text: titles}); err != nil {
				t.Fatal(err)
			}
		}
		rel(bot.ActionShipped, "v1", a.ID, b.ID)
		if _, err := db.SetStatus(ctx, c.ID, bot.StatusPlanned, "pm", "", ""); err != nil { // a status change is no release
			t.Fatal(err)
		}
		rel(bot.ActionRolledBack, "v1", b.ID)
		rel(bot.ActionShipped, "v2", c.ID)

		t.Run("ListReleases", func(t *testing.T) {
			show := func(rs []*bot.Release) string {
				s := ""
				for _, r := range rs {
					s += fmt.Sprintf("%s %s %v;", r.Event.Action, r.Event.Version, r.RequestIDs)
				}
				return s
			}
			rs, total, err := db.ListReleases(ctx, bot.ReleaseFilter{})
			want := fmt.Sprintf("shipped v2 [%d];rolled_back v1 [%d];shipped v1 [%d %d];", c.ID, b.ID, a.ID, b.ID)
			if err != nil || total != 3 || show(rs) != want {
				t.Fatalf("all: %s total %d %v; want %s", show(rs), total, err, want)
			}
			rs, total, err = db.ListReleases(ctx, bot.ReleaseFilter{Limit: 1, Offset: 1})
			if err != nil || total != 3 || show(rs) != fmt.Sprintf("rolled_back v1 [%d];", b.ID) {
				t.Fatalf("page: %s total %d %v", show(rs), total, err)
			}
			rs, total, err = db.ListReleases(ctx, bot.ReleaseFilter{Offset: 2})
			if err != nil || total != 3 || len(rs) != 1 || rs[0].Event.Version != "v1" || rs[0].Event.Action != bot.ActionShipped {
				t.Fatalf("offset only: %s total %d %v", show(rs), total, err)
			}
			rs, total, err = db.ListReleases(ctx, bot.ReleaseFilter{Version: "v1"})
			if err != nil || total != 2 || len(rs) != 2 {
				t.Fatalf("v1: %s total %d %v", show(rs), total, err)
			}
		})
		t.Run("ShippedSince", func(t *testing.T) {
			got, err := db.ShippedSince(ctx, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			if err != nil || len(got) != 2 || got[a.ID].IsZero() || got[c.ID].IsZero() || !got[a.ID].Before(got[c.ID]) {
				t.Fatalf("shipped since: %v %v", got, err) // b is rolled back
			}
			got, err = db.ShippedSince(ctx, clock)
			if err != nil || len(got) != 1 || got[c.ID].IsZero() {
				t.Fatalf("shipped since now: %v %v", got, err)
			}
		})
		t.Run("RequestsOf", func(t *testing.T) {
			// u2 voted on a; u3 asked for d, merged into a: one request.
			for user, want := range map[string]string{"u2": fmt.Sprint(a.ID), "u3": fmt.Sprint(a.ID), "u6": fmt.Sprint(c.ID), "nobody": ""} {
				rs, err := db.RequestsOf(ctx, bot.Identity{Platform: bot.PlatformSlack, Workspace: "T1", UserID: user}, 10)
				got := ""
				for _, r := range rs {
					got += fmt.Sprint(r.ID)
				}
				if err != nil || got != want {
					t.Errorf("requests of %s: %q %v; want %q", user, got, err, want)
				}
			}
		})
		t.Run("DemandTimeline", func(t *testing.T) {
			ts, err := db.DemandTimeline(ctx, a.ID)
			start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
			want := fmt.Sprint([]time.Time{start, start.Add(time.Hour), start.Add(25 * time.Hour)})
			if err != nil || fmt.Sprint(ts) != want {
				t.Fatalf("timeline %v %v; want %s", ts, err, want)
			}
			ts, err = db.DemandTimeline(ctx, b.ID)
			if err != nil || len(ts) != 1 {
				t.Fatalf("timeline of b %v %v", ts, err)
			}
		})
	})
}
