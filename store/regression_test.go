package store_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
)

// TestRegressionAlerts is the contract of the regression alert methods on
// both databases: one alert per (version, request), written with its
// delivery (the {alert} placeholder in the buttons replaced by the alert's
// id) in one transaction, nothing written for a second; concurrent writers
// of the same alert make exactly one; alerts of two requests of one ship
// both post in the same channel; reads by id, by request and in all;
// channels of a kind.
func TestRegressionAlerts(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		db.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return clock })
		tick := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }

		a := mustCreate(t, db, "A", "m1", "u1")
		b := mustCreate(t, db, "B", "m2", "u2")
		ship := func(version string, ids ...int64) *bot.ReleaseEvent {
			t.Helper()
			res, err := db.Release(ctx, bot.ReleaseInput{Action: bot.ActionShipped, Version: version, Actor: "lead", RequestIDs: ids, Text: titles})
			if err != nil {
				t.Fatal(err)
			}
			return res.Event
		}
		v1 := ship("v1", a.ID, b.ID)
		shippedAt := clock
		tick(2 * time.Hour)

		alert := func(req int64, ev *bot.ReleaseEvent, people int) *bot.RegressionAlert {
			return &bot.RegressionAlert{RequestID: req, Version: ev.Version, EventID: ev.ID, People: people, Links: "l1\nl2",
				Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C-rel", ShippedAt: shippedAt}
		}
		delivery := func() *bot.Delivery {
			return &bot.Delivery{Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C-rel", Text: "⚠️ alert",
				Buttons: "rollback:{alert}|Roll back v1"}
		}
		first, d1 := alert(a.ID, v1, 2), delivery()
		created, err := db.CreateRegressionAlert(ctx, first, d1)
		if err != nil || !created || first.ID == 0 || !first.CreatedAt.Equal(clock) {
			t.Fatalf("create: %v %v %+v", created, err, first)
		}
		ds, err := db.FindDeliveries(ctx, d1.EventID)
		if err != nil {
			t.Fatal(err)
		}
		if d1.EventID == v1.ID || len(ds) != 1 || ds[0].Buttons != fmt.Sprintf("rollback:%d|Roll back v1", first.ID) || ds[0].Channel != "C-rel" ||
			ds[0].State != bot.DeliveryPending || ds[0].ThreadID != "" || ds[0].Text != "⚠️ alert" {
			t.Fatalf("alert delivery of event %d (ship %d): %+v", d1.EventID, v1.ID, ds)
		}

		// The same (version, request) again: false, and no second delivery.
		tick(time.Hour)
		again, d2 := alert(a.ID, v1, 3), delivery()
		if created, err := db.CreateRegressionAlert(ctx, again, d2); err != nil || created || again.ID != 0 || d2.EventID != 0 {
			t.Fatalf("second alert: %v %v %+v %+v", created, err, again, d2)
		}

		// Two writers of one alert (another request): exactly one wins.
		var wg sync.WaitGroup
		var wins, fails int
		var winner *bot.Delivery
		var rmu sync.Mutex
		for range 4 {
			wg.Go(func() {
				d := delivery()
				ok, err := db.CreateRegressionAlert(ctx, alert(b.ID, v1, 2), d)
				rmu.Lock()
				defer rmu.Unlock()
				if err != nil {
					fails++
					t.Errorf("concurrent create: %v", err)
				}
				if ok {
					wins++
					winner = d
				}
			})
		}
		wg.Wait()
		if wins != 1 || fails != 0 {
			t.Fatalf("%d concurrent creates won, want 1", wins)
		}
		// b's alert posts in the same channel as a's, for the same ship.
		if ds, err := db.FindDeliveries(ctx, winner.EventID); err != nil || len(ds) != 1 || ds[0].Channel != "C-rel" || winner.EventID == d1.EventID {
			t.Fatalf("b's alert delivery (event %d, a's %d): %+v %v", winner.EventID, d1.EventID, ds, err)
		}

		// A later version of a is another alert.
		tick(time.Hour)
		v2 := ship("v2", a.ID) // a is shipped: skipped, but the event exists
		later := alert(a.ID, v2, 2)
		if created, err := db.CreateRegressionAlert(ctx, later, nil); err != nil || !created {
			t.Fatalf("alert of v2: %v %v", created, err)
		}

		got, err := db.FindRegressionAlert(ctx, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if *got != *first {
			t.Fatalf("find %d: %+v, want %+v", first.ID, got, first)
		}
		_, err = db.FindRegressionAlert(ctx, 999)
		wantCode(t, err, bot.ENOTFOUND)

		show := func(as []*bot.RegressionAlert) string {
			s := ""
			for _, x := range as {
				s += fmt.Sprintf("%d:%s;", x.RequestID, x.Version)
			}
			return s
		}
		all, err := db.ListRegressionAlerts(ctx)
		if want := fmt.Sprintf("%d:v1;%d:v1;%d:v2;", a.ID, b.ID, a.ID); err != nil || show(all) != want {
			t.Fatalf("list: %s %v, want %s", show(all), err, want)
		}
		ofA, err := db.FindRegressionAlerts(ctx, []int64{a.ID})
		if want := fmt.Sprintf("%d:v1;%d:v2;", a.ID, a.ID); err != nil || show(ofA) != want {
			t.Fatalf("of a: %s %v, want %s", show(ofA), err, want)
		}
		if none, err := db.FindRegressionAlerts(ctx, nil); err != nil || len(none) != 0 {
			t.Fatalf("of none: %v %v", none, err)
		}

		for _, c := range []string{"C-b", "C-a"} {
			tick(time.Minute)
			if _, err := db.SetChannel(ctx, bot.ChannelSetting{Platform: bot.PlatformSlack, Workspace: "T1", Channel: c, Kind: bot.ChannelReleases}, true); err != nil {
				t.Fatal(err)
			}
		}
		if cs, err := db.FindChannelsOfKind(ctx, bot.PlatformSlack, "T1", bot.ChannelReleases); err != nil || fmt.Sprint(cs) != "[C-b C-a]" {
			t.Fatalf("release channels %v %v, want oldest first", cs, err)
		}
		if cs, err := db.FindChannelsOfKind(ctx, bot.PlatformSlack, "T2", bot.ChannelReleases); err != nil || len(cs) != 0 {
			t.Fatalf("another workspace: %v %v", cs, err)
		}
	})
}
