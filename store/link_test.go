package store_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
)

func ghLink(req int64, n string) *bot.Link {
	return &bot.Link{RequestID: req, Item: "github:acme/app#" + n, URL: "https://github.com/acme/app/issues/" + n, Kind: bot.LinkGitHubIssue, CreatedBy: "alice"}
}

func linkStates(tb testing.TB, db *store.DB, id int64) map[string]string {
	tb.Helper()
	ls, err := db.FindLinks(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	m := map[string]string{}
	for _, l := range ls {
		m[l.Item] = l.State
	}
	return m
}

func TestLinks(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, "A", "m1", "u1")
		b := mustCreate(t, db, "B", "m2", "u2")
		t.Run("Add", func(t *testing.T) {
			l := ghLink(a.ID, "1")
			added, err := db.AddLink(ctx, l)
			if err != nil || !added {
				t.Fatalf("add = %v, %v", added, err)
			}
			if l.ID == 0 || l.RequestID != a.ID || l.State != bot.ItemUnknown || l.CreatedAt.IsZero() {
				t.Fatalf("link %+v", l)
			}
			added, err = db.AddLink(ctx, ghLink(a.ID, "1"))
			if err != nil || added {
				t.Fatalf("second add = %v, %v", added, err)
			}
		})
		t.Run("AddNotFound", func(t *testing.T) {
			_, err := db.AddLink(ctx, ghLink(999, "1"))
			wantCode(t, err, bot.ENOTFOUND)
		})
		t.Run("FindLinksNotFound", func(t *testing.T) {
			_, err := db.FindLinks(ctx, 999)
			wantCode(t, err, bot.ENOTFOUND)
		})
		t.Run("MergedGroup", func(t *testing.T) {
			// b's link counts for a once b is merged into a, and linking the
			// same item to a then changes nothing.
			if _, err := db.AddLink(ctx, ghLink(b.ID, "2")); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Merge(ctx, b.ID, a.ID, "lead"); err != nil {
				t.Fatal(err)
			}
			got := linkStates(t, db, a.ID)
			if len(got) != 2 || got["github:acme/app#2"] != bot.ItemUnknown {
				t.Fatalf("links of a: %v", got)
			}
			if added, err := db.AddLink(ctx, ghLink(a.ID, "2")); err != nil || added {
				t.Fatalf("add through the group = %v, %v", added, err)
			}
			// A link made through the duplicate lands on the canonical request.
			l := ghLink(b.ID, "3")
			if _, err := db.AddLink(ctx, l); err != nil || l.RequestID != a.ID {
				t.Fatalf("link on duplicate: %+v %v", l, err)
			}
			// Removing through the canonical request removes the duplicate's link.
			if ok, err := db.RemoveLink(ctx, a.ID, "github:acme/app#2"); err != nil || !ok {
				t.Fatalf("remove = %v, %v", ok, err)
			}
			if ok, err := db.RemoveLink(ctx, a.ID, "github:acme/app#2"); err != nil || ok {
				t.Fatalf("second remove = %v, %v", ok, err)
			}
			if got := linkStates(t, db, a.ID); len(got) != 2 || got["github:acme/app#2"] != "" {
				t.Fatalf("links of a after remove: %v", got)
			}
		})
		t.Run("LinkedRequests", func(t *testing.T) {
			c := mustCreate(t, db, "C", "m3", "u3")
			if _, err := db.AddLink(ctx, &bot.Link{RequestID: c.ID, Item: "github:acme/app_x#1", URL: "u", Kind: bot.LinkGitHubIssue}); err != nil {
				t.Fatal(err)
			}
			ids, err := db.FindLinkedRequests(ctx, "github:acme/app#")
			if err != nil || !slices.Equal(ids, []int64{a.ID}) {
				t.Fatalf("linked = %v, %v", ids, err)
			}
			// "_" is not a wildcard.
			if ids, err := db.FindLinkedRequests(ctx, "github:acme/app_"); err != nil || !slices.Equal(ids, []int64{c.ID}) {
				t.Fatalf("linked app_ = %v, %v", ids, err)
			}
			if ids, err := db.FindLinkedRequests(ctx, "github:acme/appx"); err != nil || len(ids) != 0 {
				t.Fatalf("linked appx = %v, %v", ids, err)
			}
		})
	})
}

func TestRecordTrackerDelivery(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, "A", "m1", "u1")
		b := mustCreate(t, db, "B", "m2", "u2")
		if _, err := db.AddLink(ctx, ghLink(a.ID, "7")); err != nil {
			t.Fatal(err)
		}
		upd := func(state string, mentions ...int64) bot.ItemUpdate {
			return bot.ItemUpdate{Item: "github:acme/app#7", URL: "https://github.com/acme/app/pull/7", Kind: bot.LinkGitHubPull,
				State: state, Milestone: "v2", Title: "Fix it", Mentions: mentions}
		}
		t.Run("First", func(t *testing.T) {
			d, err := db.RecordTrackerDelivery(ctx, bot.TrackerDeliveryInput{Source: "github", DeliveryID: "d1", Event: "pull_request.opened",
				Items: []bot.ItemUpdate{upd(bot.ItemOpen, b.ID, 999, b.ID)}, CreatedBy: "github"})
			if err != nil {
				t.Fatal(err)
			}
			if d.Done || d.Resumed || len(d.Items) != 1 {
				t.Fatalf("delivery %+v", d)
			}
			it := d.Items[0]
			if it.Prev != bot.ItemUnknown || !slices.Equal(it.Linked, []int64{b.ID}) || !slices.Equal(it.Requests, []int64{a.ID, b.ID}) {
				t.Fatalf("item %+v", it)
			}
			ls, err := db.FindLinks(ctx, a.ID)
			if err != nil || len(ls) != 1 {
				t.Fatal(ls, err)
			}
			if l := ls[0]; l.State != bot.ItemOpen || l.Kind != bot.LinkGitHubPull || l.URL != "https://github.com/acme/app/pull/7" || l.Milestone != "v2" {
				t.Fatalf("link %+v", l)
			}
			if got := linkStates(t, db, b.ID); got["github:acme/app#7"] != bot.ItemOpen {
				t.Fatalf("automatic link %v", got)
			}
		})
		t.Run("Resumed", func(t *testing.T) {
			// The same id again, not finished: nothing is written again and
			// the first results come back.
			d, err := db.RecordTrackerDelivery(ctx, bot.TrackerDeliveryInput{Source: "github", DeliveryID: "d1",
				Items: []bot.ItemUpdate{upd(bot.ItemMerged)}})
			if err != nil {
				t.Fatal(err)
			}
			if d.Done || !d.Resumed || len(d.Items) != 1 || d.Items[0].Prev != bot.ItemUnknown ||
				!slices.Equal(d.Items[0].Linked, []int64{b.ID}) || !slices.Equal(d.Items[0].Requests, []int64{a.ID, b.ID}) {
				t.Fatalf("resumed %+v", d)
			}
			if got := linkStates(t, db, a.ID); got["github:acme/app#7"] != bot.ItemOpen {
				t.Fatalf("state rewritten by a repeated delivery: %v", got)
			}
		})
		t.Run("Done", func(t *testing.T) {
			if err := db.FinishTrackerDelivery(ctx, "github", "d1"); err != nil {
				t.Fatal(err)
			}
			d, err := db.RecordTrackerDelivery(ctx, bot.TrackerDeliveryInput{Source: "github", DeliveryID: "d1", Items: []bot.ItemUpdate{upd(bot.ItemMerged)}})
			if err != nil || !d.Done || len(d.Items) != 0 {
				t.Fatalf("done = %+v, %v", d, err)
			}
			wantCode(t, db.FinishTrackerDelivery(ctx, "github", "nope"), bot.ENOTFOUND)
		})
		t.Run("SourcesApart", func(t *testing.T) {
			d, err := db.RecordTrackerDelivery(ctx, bot.TrackerDeliveryInput{Source: "linear", DeliveryID: "d1"})
			if err != nil || d.Done || d.Resumed {
				t.Fatalf("linear d1 = %+v, %v", d, err)
			}
		})
		t.Run("PrevState", func(t *testing.T) {
			d, err := db.RecordTrackerDelivery(ctx, bot.TrackerDeliveryInput{Source: "github", DeliveryID: "d2", Items: []bot.ItemUpdate{upd(bot.ItemMerged)}})
			if err != nil || d.Items[0].Prev != bot.ItemOpen || len(d.Items[0].Linked) != 0 {
				t.Fatalf("d2 = %+v, %v", d, err)
			}
			if got := linkStates(t, db, b.ID); got["github:acme/app#7"] != bot.ItemMerged {
				t.Fatalf("state not updated on every link: %v", got)
			}
			// An item no request is linked to has no previous state and
			// writes no link.
			d, err = db.RecordTrackerDelivery(ctx, bot.TrackerDeliveryInput{Source: "github", DeliveryID: "d3",
				Items: []bot.ItemUpdate{{Item: "github:acme/app#8", URL: "x", Kind: bot.LinkGitHubIssue, State: bot.ItemOpen}}})
			if err != nil || !d.Unrecorded || d.Items[0].Prev != "" || len(d.Items[0].Requests) != 0 {
				t.Fatalf("d3 = %+v, %v", d, err)
			}
			// Not recorded: the same id again is new (and still about nothing).
			d, err = db.RecordTrackerDelivery(ctx, bot.TrackerDeliveryInput{Source: "github", DeliveryID: "d3",
				Items: []bot.ItemUpdate{{Item: "github:acme/app#8", URL: "x", Kind: bot.LinkGitHubIssue, State: bot.ItemOpen}}})
			if err != nil || d.Resumed || d.Done || !d.Unrecorded {
				t.Fatalf("d3 again = %+v, %v", d, err)
			}
			var n int
			if err := db.DB().Get(&n, db.DB().Rebind(`SELECT COUNT(*) FROM tracker_deliveries WHERE delivery_id = ?`), "d3"); err != nil || n != 0 {
				t.Fatalf("d3 rows %d, %v", n, err)
			}
		})
		t.Run("Atomic", func(t *testing.T) {
			// A failing update (a kind the table refuses) records nothing, so
			// the redelivery is processed as new.
			bad := bot.ItemUpdate{Item: "github:acme/app#9", URL: "x", Kind: "gitlab", State: bot.ItemOpen, Mentions: []int64{a.ID}}
			if _, err := db.RecordTrackerDelivery(ctx, bot.TrackerDeliveryInput{Source: "github", DeliveryID: "d4", Items: []bot.ItemUpdate{bad}}); err == nil {
				t.Fatal("bad kind accepted")
			}
			d, err := db.RecordTrackerDelivery(ctx, bot.TrackerDeliveryInput{Source: "github", DeliveryID: "d4"})
			if err != nil || d.Resumed || d.Done {
				t.Fatalf("d4 after failure = %+v, %v", d, err)
			}
		})
		t.Run("Concurrent", func(t *testing.T) {
			// Two replicas record the same delivery: one records it, the
			// other sees it recorded.
			c := mustCreate(t, db, "C", "m3", "u3")
			var wg sync.WaitGroup
			results := make([]*bot.TrackerDelivery, 4)
			errs := make([]error, 4)
			for i := range results {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i], errs[i] = db.RecordTrackerDelivery(ctx, bot.TrackerDeliveryInput{Source: "github", DeliveryID: "race",
						Items: []bot.ItemUpdate{{Item: "github:acme/app#10", URL: "x", Kind: bot.LinkGitHubIssue, State: bot.ItemOpen, Mentions: []int64{c.ID}}}})
				}()
			}
			wg.Wait()
			first := 0
			for i, d := range results {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				if !d.Resumed {
					first++
				}
				if len(d.Items) != 1 || !slices.Equal(d.Items[0].Linked, []int64{c.ID}) {
					t.Fatalf("replica %d: %+v", i, d)
				}
			}
			if first != 1 {
				t.Fatalf("%d replicas recorded the delivery, want 1", first)
			}
			if ls, _ := db.FindLinks(ctx, c.ID); len(ls) != 1 {
				t.Fatalf("links %v", ls)
			}
		})
	})
}
