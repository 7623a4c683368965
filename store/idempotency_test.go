package store_test

import (
	"context"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
)

func TestIdempotencyKeys(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fp, st, body, err := db.ClaimIdempotencyKey(ctx, "feedback", "k1", "fp-a")
		if err != nil || fp != "fp-a" || st != 0 || body != "" {
			t.Fatalf("first claim: %q %d %q %v", fp, st, body, err)
		}
		// A second claim, with another fingerprint, sees the first one.
		if fp, _, body, err := db.ClaimIdempotencyKey(ctx, "feedback", "k1", "fp-b"); err != nil || fp != "fp-a" || body != "" {
			t.Fatalf("second claim: %q %q %v", fp, body, err)
		}
		// Scopes are separate.
		if fp, _, _, err := db.ClaimIdempotencyKey(ctx, "other", "k1", "fp-b"); err != nil || fp != "fp-b" {
			t.Fatalf("claim in another scope: %q %v", fp, err)
		}
		if ok, err := db.SaveIdempotentAnswer(ctx, "feedback", "k1", 201, `{"a":1}`); err != nil || !ok {
			t.Fatalf("save: %v %v", ok, err)
		}
		// The first answer stays.
		if ok, err := db.SaveIdempotentAnswer(ctx, "feedback", "k1", 200, `{"a":2}`); err != nil || ok {
			t.Fatalf("second save: %v %v", ok, err)
		}
		if _, st, body, err := db.ClaimIdempotencyKey(ctx, "feedback", "k1", "fp-a"); err != nil || st != 201 || body != `{"a":1}` {
			t.Fatalf("after save: %d %q %v", st, body, err)
		}
	})
}

// A release's answer (Result) and fingerprint are stored in the
// transaction that records the event: whoever finds the event by its
// idempotency key finds them too.
func TestRelease_ResultStoredWithEvent(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := mustCreate(t, db, "Dark mode", "m1", "u1")
		res, err := db.Release(ctx, bot.ReleaseInput{
			Action: bot.ActionShipped, Version: "v1", Actor: "lead", IdempotencyKey: "ci-1", Fingerprint: "fp",
			RequestIDs: []int64{a.ID}, Text: func([]*bot.Request) string { return "shipped" },
			Result: func(r *bot.ReleaseResult) string {
				if len(r.Changed) != 1 {
					t.Errorf("Result sees %d changed", len(r.Changed))
				}
				return `{"changed":["FB-1"]}`
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := db.FindReleaseByIdempotencyKey(ctx, "ci-1")
		if err != nil || ev.ID != res.Event.ID || ev.Result != `{"changed":["FB-1"]}` || ev.Fingerprint != "fp" {
			t.Fatalf("event %+v (%v)", ev, err)
		}
	})
}
