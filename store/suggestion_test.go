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
