package store_test

import (
	"slices"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
)

func TestVectorStore(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		r := &bot.Request{Title: "Dark mode"}
		if err := db.CreateRequest(ctx, r, newMention("m1", "alice")); err != nil {
			t.Fatal(err)
		}
		vs := db.VectorCache()
		t.Run("ErrNotFound", func(t *testing.T) {
			if _, _, err := vs.GetVector(ctx, r.ID, "m"); bot.ErrorCode(err) != bot.ENOTFOUND {
				t.Fatalf("err = %v", err)
			}
			if err := vs.PutVector(ctx, r.ID+1000, "m", "h", []float32{1}); bot.ErrorCode(err) != bot.ENOTFOUND {
				t.Fatalf("put for a missing request: err = %v", err)
			}
		})
		t.Run("OK", func(t *testing.T) {
			v1 := []float32{0.25, -1.5, 3e-8, 0}
			if err := vs.PutVector(ctx, r.ID, "m", "h1", v1); err != nil {
				t.Fatal(err)
			}
			h, got, err := vs.GetVector(ctx, r.ID, "m")
			if err != nil || h != "h1" || !slices.Equal(got, v1) {
				t.Fatalf("got %q %v %v", h, got, err)
			}
			// Another model is another row.
			if _, _, err := vs.GetVector(ctx, r.ID, "other"); bot.ErrorCode(err) != bot.ENOTFOUND {
				t.Fatalf("other model: err = %v", err)
			}
			// Recomputed after an edit: replaced.
			v2 := []float32{1, 2}
			if err := vs.PutVector(ctx, r.ID, "m", "h2", v2); err != nil {
				t.Fatal(err)
			}
			h, got, err = vs.GetVector(ctx, r.ID, "m")
			if err != nil || h != "h2" || !slices.Equal(got, v2) {
				t.Fatalf("after replace: %q %v %v", h, got, err)
			}
		})
	})
}
