package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
)

func mustSuggest(tb testing.TB, db *store.DB, requestID int64, candidates ...int64) *bot.Suggestion {
	tb.Helper()
	s := &bot.Suggestion{RequestID: requestID, Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", ThreadID: "m1"}
	for i, c := range candidates {
		s.Candidates = append(s.Candidates, bot.Candidate{RequestID: c, Score: 0.9 - float64(i)/10})
	}
	if err := db.CreateSuggestion(context.Background(), s); err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestSuggestions(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, "A", "m1", "u1")
		b := mustCreate(t, db, "B", "m2", "u2")
		c := mustCreate(t, db, "C", "m3", "u3")
		n := mustCreate(t, db, "New", "m4", "u4")

		s := mustSuggest(t, db, n.ID, b.ID, a.ID)
		t.Run("Create", func(t *testing.T) {
			if s.ID == 0 || s.State != bot.SuggestionPending || s.CreatedAt.IsZero() {
				t.Fatalf("suggestion %+v", s)
			}
			ref := bot.MessageRef{Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", ID: "sugg-1", ThreadID: "m4"}
			if err := db.SetSuggestionMessage(ctx, s.ID, ref); err != nil {
				t.Fatal(err)
			}
			got, err := db.FindSuggestion(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.MessageID != "sugg-1" || got.ThreadID != "m4" || len(got.Candidates) != 2 || got.Candidates[0].RequestID != b.ID || got.Candidates[1].Score != 0.8 {
				t.Fatalf("found %+v", got)
			}
			_, err = db.FindSuggestion(ctx, 999)
			wantCode(t, err, bot.ENOTFOUND)
			wantCode(t, db.SetSuggestionMessage(ctx, 999, ref), bot.ENOTFOUND)
			wantCode(t, db.CreateSuggestion(ctx, &bot.Suggestion{RequestID: 999}), bot.ENOTFOUND)
		})
		t.Run("DecideMergedOnceConcurrently", func(t *testing.T) {
			var wg sync.WaitGroup
			results := make([]bool, 6)
			errs := make([]error, 6)
			for i := range results {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, results[i], errs[i] = db.DecideSuggestion(context.Background(), s.ID, bot.SuggestionMerged, b.ID, fmt.Sprintf("lead%d", i))
				}()
			}
			wg.Wait()
			acted := 0
			for i := range results {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				if results[i] {
					acted++
				}
			}
			if acted != 1 {
				t.Fatalf("%d presses acted, want 1", acted)
			}
			got, err := db.FindSuggestion(ctx, s.ID)
			if err != nil || got.State != bot.SuggestionMerged || got.MergedInto == nil || *got.MergedInto != b.ID || got.DecidedBy == "" || got.DecidedAt == nil {
				t.Fatalf("decided %+v, %v", got, err)
			}
			r, err := db.ResolveRequest(ctx, n.ID)
			if err != nil || r.ID != b.ID || r.Demand != 2 {
				t.Fatalf("resolve new: %+v, %v", r, err)
			}
			var merges int
			if err := db.DB().Get(&merges, `SELECT COUNT(*) FROM merges`); err != nil || merges != 1 {
				t.Fatalf("merges logged %d, %v", merges, err)
			}
		})
		t.Run("DecideMergeConflictRollsBack", func(t *testing.T) {
			// c into a, then a suggestion for c can no longer merge.
			s2 := mustSuggest(t, db, c.ID, b.ID)
			mustMerge(t, db, c.ID, a.ID)
			_, _, err := db.DecideSuggestion(ctx, s2.ID, bot.SuggestionMerged, b.ID, "lead")
			wantCode(t, err, bot.ECONFLICT)
			got, err := db.FindSuggestion(ctx, s2.ID)
			if err != nil || got.State != bot.SuggestionPending {
				t.Fatalf("after conflict %+v, %v", got, err)
			}
			if _, err := db.Unmerge(ctx, c.ID, "lead"); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("Dismiss", func(t *testing.T) {
			s3 := mustSuggest(t, db, c.ID, a.ID, b.ID)
			got, ok, err := db.DecideSuggestion(ctx, s3.ID, bot.SuggestionDismissed, 0, "lead")
			if err != nil || !ok || got.State != bot.SuggestionDismissed || got.MergedInto != nil {
				t.Fatalf("dismiss %+v %v %v", got, ok, err)
			}
			got, ok, err = db.DecideSuggestion(ctx, s3.ID, bot.SuggestionMerged, a.ID, "lead")
			if err != nil || ok || got.State != bot.SuggestionDismissed {
				t.Fatalf("second decision %+v %v %v", got, ok, err)
			}
			if r := mustFind(t, db, c.ID); r.MergedInto != nil {
				t.Fatal("a decided suggestion merged")
			}
			ids, err := db.DismissedWith(ctx, c.ID)
			if err != nil || fmt.Sprint(ids) != fmt.Sprint([]int64{a.ID, b.ID}) {
				t.Fatalf("dismissed with c: %v, %v", ids, err)
			}
			ids, err = db.DismissedWith(ctx, a.ID)
			if err != nil || fmt.Sprint(ids) != fmt.Sprint([]int64{c.ID}) {
				t.Fatalf("dismissed with a: %v, %v", ids, err)
			}
		})
		t.Run("Errors", func(t *testing.T) {
			_, _, err := db.DecideSuggestion(ctx, s.ID, "maybe", 0, "lead")
			wantCode(t, err, bot.EINVALID)
			_, _, err = db.DecideSuggestion(ctx, 999, bot.SuggestionDismissed, 0, "lead")
			wantCode(t, err, bot.ENOTFOUND)
		})
	})
}

// CreateSuggestionFrom keeps what bot.KeepCandidates keeps of the
// duplicate index's candidates (canonical requests, once, suggestible,
// not the request itself, up to max, in the index's order, with the
// index's scores and reasons), stores the suggestion with them and
// returns their requests; it writes nothing when none is kept, and
// ENOTFOUND when the suggestion's request does not exist.
func TestCreateSuggestionFrom(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, "A", "m1", "u1")
		b := mustCreate(t, db, "B", "m2", "u2")
		c := mustCreate(t, db, "C", "m3", "u3")
		d := mustCreate(t, db, "D", "m4", "u4")
		e := mustCreate(t, db, "E", "m5", "u5")
		f := mustCreate(t, db, "F", "m6", "u6")
		n := mustCreate(t, db, "New", "m7", "u7")
		mustMerge(t, db, c.ID, a.ID)
		if _, err := db.SetStatus(ctx, d.ID, bot.StatusDeclined, "lead", "", ""); err != nil {
			t.Fatal(err)
		}
		mustVote(t, db, a.ID, "u9", "")
		found := []bot.Candidate{
			{RequestID: c.ID, Score: 0.95, Reason: "merged into A"},
			{RequestID: n.ID, Score: 0.9},
			{RequestID: d.ID, Score: 0.85},
			{RequestID: a.ID, Score: 0.8},
			{RequestID: b.ID, Score: 0.7, Reason: "same words: b"},
			{RequestID: f.ID + 1000, Score: 0.65},
			{RequestID: e.ID, Score: 0.6},
			{RequestID: f.ID, Score: 0.55},
		}
		ids := make([]int64, len(found))
		for i, c := range found {
			ids[i] = c.RequestID
		}
		resolved, err := db.ResolveRequests(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		wantCands, wantReqs := bot.KeepCandidates(n.ID, found, resolved, 3)
		if fmt.Sprint(wantCands) != fmt.Sprint([]bot.Candidate{{RequestID: a.ID, Score: 0.95, Reason: "merged into A"},
			{RequestID: b.ID, Score: 0.7, Reason: "same words: b"}, {RequestID: e.ID, Score: 0.6}}) {
			t.Fatalf("KeepCandidates: %+v", wantCands)
		}
		sg := &bot.Suggestion{RequestID: n.ID, Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", ThreadID: "m7"}
		reqs, err := db.CreateSuggestionFrom(ctx, sg, found, 3)
		if err != nil {
			t.Fatal(err)
		}
		if sg.ID == 0 || sg.State != bot.SuggestionPending || sg.CreatedAt.IsZero() || fmt.Sprint(sg.Candidates) != fmt.Sprint(wantCands) {
			t.Fatalf("suggestion %+v, want candidates %+v", sg, wantCands)
		}
		if len(reqs) != len(wantReqs) {
			t.Fatalf("%d requests returned, want %d", len(reqs), len(wantReqs))
		}
		for i, r := range reqs {
			if fmt.Sprintf("%+v", *r) != fmt.Sprintf("%+v", *wantReqs[i]) {
				t.Fatalf("request %d:\n%+v\nwant (ResolveRequests)\n%+v", i, *r, *wantReqs[i])
			}
		}
		if reqs[0].Demand != 3 {
			t.Fatalf("A shows demand %d, want 3 (its author, C's and a voter)", reqs[0].Demand)
		}
		got, err := db.FindSuggestion(ctx, sg.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.RequestID != n.ID || got.ThreadID != "m7" || got.State != bot.SuggestionPending || len(got.Candidates) != 3 {
			t.Fatalf("stored %+v", got)
		}
		for i, c := range got.Candidates {
			if c.RequestID != wantCands[i].RequestID || c.Score != wantCands[i].Score {
				t.Fatalf("stored candidate %d: %+v, want %+v", i, c, wantCands[i])
			}
		}

		before := countSuggestions(t, db)
		none := &bot.Suggestion{RequestID: n.ID, Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", ThreadID: "m7"}
		reqs, err = db.CreateSuggestionFrom(ctx, none, []bot.Candidate{{RequestID: n.ID, Score: 0.9}, {RequestID: d.ID, Score: 0.8}, {RequestID: f.ID + 1000, Score: 0.7}}, 3)
		if err != nil || reqs != nil || none.ID != 0 || none.Candidates != nil {
			t.Fatalf("nothing to keep: %v, %v, %+v", reqs, err, none)
		}
		missing := &bot.Suggestion{RequestID: f.ID + 1000, Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1"}
		_, err = db.CreateSuggestionFrom(ctx, missing, found, 3)
		wantCode(t, err, bot.ENOTFOUND)
		if missing.ID != 0 {
			t.Fatalf("suggestion of a missing request got id %d", missing.ID)
		}
		if n := countSuggestions(t, db); n != before {
			t.Fatalf("%d suggestions after two that keep nothing or fail, want %d", n, before)
		}
	})
}

func countSuggestions(tb testing.TB, db *store.DB) int {
	tb.Helper()
	var n int
	if err := db.DB().Get(&n, `SELECT COUNT(*) FROM suggestions`); err != nil {
		tb.Fatal(err)
	}
	return n
}
