package store_test

import (
	"slices"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
)

func TestMerge(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, "A", "m1", "u1")
		b := mustCreate(t, db, "B", "m2", "u2")
		c := mustCreate(t, db, "C", "m3", "u3")

		t.Run("OK", func(t *testing.T) {
			r := mustMerge(t, db, a.ID, b.ID)
			if r.ID != b.ID || r.Demand != 2 || r.Mentions != 2 {
				t.Fatalf("merged into %+v", r)
			}
		})
		t.Run("IntoMergedResolves", func(t *testing.T) {
			// Merging c into a (merged into b) merges into b.
			r := mustMerge(t, db, c.ID, a.ID)
			if r.ID != b.ID || r.Demand != 3 {
				t.Fatalf("merged into %+v", r)
			}
			got := mustFind(t, db, c.ID)
			if got.MergedInto == nil || *got.MergedInto != b.ID {
				t.Fatalf("c = %+v", got)
			}
			if _, err := db.Unmerge(ctx, c.ID, "lead"); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("ErrAlreadyMerged", func(t *testing.T) {
			_, err := db.Merge(ctx, a.ID, c.ID, "lead")
			wantCode(t, err, bot.ECONFLICT)
			if msg := bot.ErrorMessage(err); msg != "Request 1 is already merged into request 2." {
				t.Fatalf("message %q", msg)
			}
			wantReason(t, err, bot.ReasonAlreadyMerged, a.ID, b.ID)
		})
		t.Run("ErrCycle", func(t *testing.T) {
			_, err := db.Merge(ctx, b.ID, a.ID, "lead")
			wantCode(t, err, bot.ECONFLICT)
			wantReason(t, err, bot.ReasonMergeCycle, a.ID, b.ID)
			_, err = db.Merge(ctx, c.ID, c.ID, "lead")
			wantCode(t, err, bot.ECONFLICT)
			wantReason(t, err, bot.ReasonMergeSelf, c.ID)
			_, err = db.Unmerge(ctx, c.ID, "lead")
			wantCode(t, err, bot.ECONFLICT)
			wantReason(t, err, bot.ReasonNotMerged, c.ID)
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			_, err := db.Merge(ctx, 999, a.ID, "lead")
			wantCode(t, err, bot.ENOTFOUND)
			wantReason(t, err, bot.ReasonNoRequest, 999)
			_, err = db.Merge(ctx, c.ID, 999, "lead")
			wantCode(t, err, bot.ENOTFOUND)
			_, err = db.Unmerge(ctx, 999, "lead")
			wantCode(t, err, bot.ENOTFOUND)
		})
		t.Run("ChainOfMergedGroup", func(t *testing.T) {
			// b (with a) into c: a→b→c.
			r := mustMerge(t, db, b.ID, c.ID)
			if r.ID != c.ID || r.Demand != 3 || r.Mentions != 3 {
				t.Fatalf("merged into %+v", r)
			}
			ra, err := db.ResolveRequest(ctx, a.ID)
			if err != nil || ra.ID != c.ID {
				t.Fatalf("resolve a: %+v, %v", ra, err)
			}
			// c into a would be a cycle.
			_, err = db.Merge(ctx, c.ID, a.ID, "lead")
			wantCode(t, err, bot.ECONFLICT)
		})
	})
}

func TestUnmerge(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, "A", "m1", "alice")
		mustVote(t, db, a.ID, "bob", "T2")
		b := mustCreate(t, db, "B", "m2", "bob", withOrg("T2"))
		mustAddMention(t, db, b.ID, newMention("r2", "dave", inThread("m2"), withOrg("T4")))
		mustVote(t, db, b.ID, "carol", "T3")
		x := mustCreate(t, db, "X", "m3", "erin", withOrg("T5"))
		mustMerge(t, db, x.ID, b.ID) // x→b
		c := mustCreate(t, db, "C", "m4", "alice")

		beforeA, beforeB, beforeC := counts(t, db, a.ID), counts(t, db, b.ID), counts(t, db, c.ID)
		if beforeB != [3]int{4, 4, 3} {
			t.Fatalf("b counts %v", beforeB)
		}
		mustMerge(t, db, a.ID, c.ID)
		mustMerge(t, db, b.ID, c.ID) // a→c, b→c, x→b→c
		if got := counts(t, db, c.ID); got != [3]int{5, 5, 5} {
			t.Fatalf("c counts %v, want [5 5 5]", got)
		}

		t.Run("OK", func(t *testing.T) {
			r, err := db.Unmerge(ctx, b.ID, "lead")
			if err != nil {
				t.Fatal(err)
			}
			if r.ID != b.ID || r.MergedInto != nil || r.RootID != b.ID || [3]int{r.Demand, r.Orgs, r.Mentions} != beforeB {
				t.Fatalf("unmerged %+v, want counts %v", r, beforeB)
			}
			// x stays merged into b, and now resolves to b.
			rx, err := db.ResolveRequest(ctx, x.ID)
			if err != nil || rx.ID != b.ID {
				t.Fatalf("resolve x: %+v, %v", rx, err)
			}
			if _, err := db.Unmerge(ctx, a.ID, "lead"); err != nil {
				t.Fatal(err)
			}
			if got := counts(t, db, a.ID); got != beforeA {
				t.Fatalf("a counts %v, want %v", got, beforeA)
			}
			if got := counts(t, db, c.ID); got != beforeC {
				t.Fatalf("c counts %v, want %v", got, beforeC)
			}
			ms, err := db.FindMentions(ctx, c.ID)
			if err != nil || len(ms) != 1 {
				t.Fatalf("c mentions %d, %v", len(ms), err)
			}
		})
		t.Run("InnerOfChain", func(t *testing.T) {
			// Merge b (with x) into c, then unmerge x from the middle of the chain.
			mustMerge(t, db, b.ID, c.ID)
			r, err := db.Unmerge(ctx, x.ID, "lead")
			if err != nil {
				t.Fatal(err)
			}
			if [3]int{r.Demand, r.Orgs, r.Mentions} != [3]int{1, 1, 1} {
				t.Fatalf("x %+v", r)
			}
			if got := counts(t, db, b.ID); got != [3]int{3, 3, 2} {
				t.Fatalf("b counts %v, want [3 3 2]", got)
			}
			if got := counts(t, db, c.ID); got != [3]int{4, 4, 3} {
				t.Fatalf("c counts %v, want [4 4 3]", got)
			}
		})
		t.Run("ErrNotMerged", func(t *testing.T) {
			_, err := db.Unmerge(ctx, a.ID, "lead")
			wantCode(t, err, bot.ECONFLICT)
		})
	})
}

// wantReason checks a structured store error: its reason and the request
// ids it names, in order.
func wantReason(t *testing.T, err error, reason string, ids ...int64) {
	t.Helper()
	be, ok := err.(*bot.Error)
	if !ok || be.Reason != reason || !slices.Equal(be.IDs, ids) {
		t.Fatalf("error %#v, want reason %q with ids %v", err, reason, ids)
	}
}
