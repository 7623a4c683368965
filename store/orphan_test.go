package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
)

// TestCaptureWritesNoOrphans: on PostgreSQL mentions and voters have no
// foreign key to requests (migration 00090), suggestion candidates none to
// their suggestion (00092), suggestions and candidates none to requests
// (00093), so the store itself must never write one that points nowhere:
// captures (batched and alone), mentions, votes, suggestions and cards on
// a request that does not exist (or naming one) are refused and write
// nothing, and every mention, voter, suggestion, candidate and card row
// references a request or suggestion.
func TestCaptureWritesNoOrphans(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for i := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// 24 messages, 8 of them twice: one of the two is ECONFLICT.
				m := newMention(fmt.Sprintf("o%d", i*3/4), fmt.Sprintf("u%d", i))
				err := db.CreateRequest(context.Background(), &bot.Request{Title: fmt.Sprintf("R%d", i)}, m)
				if err != nil && bot.ErrorCode(err) != bot.ECONFLICT {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		a := mustCreate(t, db, "A", "a0", "alice")
		const missing = 1 << 40
		err := db.AddMention(ctx, &bot.Mention{RequestID: missing, Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", MessageID: "x", AuthorID: "zed"})
		wantCode(t, err, bot.ENOTFOUND)
		_, err = db.AddVote(ctx, bot.Voter{RequestID: missing, Platform: bot.PlatformSlack, Workspace: "T1", UserID: "zed"})
		wantCode(t, err, bot.ENOTFOUND)
		mustAddMention(t, db, a.ID, newMention("a1", "bob"))
		mustVote(t, db, a.ID, "carol", "T1")
		// Suggestions (candidates have no foreign key to their suggestion
		// on PostgreSQL, migration 00092): through both paths, alone and
		// with a missing request (nothing written).
		b := mustCreate(t, db, "B", "b0", "bob")
		c := mustCreate(t, db, "C", "c0", "carol")
		sg := &bot.Suggestion{RequestID: a.ID, Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", MessageID: "s1"}
		if _, err := db.CreateSuggestionFrom(ctx, sg, []bot.Candidate{{RequestID: b.ID, Score: 0.9}, {RequestID: c.ID, Score: 0.8}}, 3); err != nil || sg.ID == 0 {
			t.Fatalf("suggestion from: %v (id %d)", err, sg.ID)
		}
		sg2 := &bot.Suggestion{RequestID: b.ID, Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", MessageID: "s2",
			Candidates: []bot.Candidate{{RequestID: c.ID, Score: 0.7}}}
		if err := db.CreateSuggestion(ctx, sg2); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.CreateSuggestion(ctx, &bot.Suggestion{RequestID: c.ID, Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", MessageID: "s3",
			Candidates: []bot.Candidate{{RequestID: a.ID, Score: 0.7}, {RequestID: missing, Score: 0.6}}}), bot.ENOTFOUND)
		_, err = db.CreateSuggestionFrom(ctx, &bot.Suggestion{RequestID: missing, Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", MessageID: "s4"},
			[]bot.Candidate{{RequestID: a.ID, Score: 0.9}}, 3)
		wantCode(t, err, bot.ENOTFOUND)
		// Suggestions and candidates have no foreign key to requests on
		// PostgreSQL either (migration 00093): a suggestion about a missing
		// request, or naming one, through the one-statement path (up to 3
		// candidates) and the transaction (more), writes nothing.
		for i, sg := range []*bot.Suggestion{
			{RequestID: missing, Candidates: []bot.Candidate{{RequestID: a.ID, Score: 0.7}}},
			{RequestID: missing, Candidates: []bot.Candidate{{RequestID: a.ID}, {RequestID: b.ID}, {RequestID: c.ID}, {RequestID: a.ID + b.ID + c.ID}}},
			{RequestID: a.ID, Candidates: []bot.Candidate{{RequestID: missing}}},
			{RequestID: a.ID, Candidates: []bot.Candidate{{RequestID: b.ID}, {RequestID: c.ID}, {RequestID: b.ID}, {RequestID: missing}}},
		} {
			sg.Platform, sg.Workspace, sg.Channel, sg.MessageID = bot.PlatformSlack, "T1", "C1", "s3"
			if err := db.CreateSuggestion(ctx, sg); bot.ErrorCode(err) != bot.ENOTFOUND {
				t.Fatalf("suggestion %d: %v; want ENOTFOUND", i, err)
			}
		}
		// A candidate that does not exist is not kept (it is no request to
		// show); the others are.
		sg5 := &bot.Suggestion{RequestID: c.ID, Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", MessageID: "s5"}
		if _, err := db.CreateSuggestionFrom(ctx, sg5, []bot.Candidate{{RequestID: missing, Score: 0.9}, {RequestID: a.ID, Score: 0.8}}, 3); err != nil ||
			sg5.ID == 0 || len(sg5.Candidates) != 1 || sg5.Candidates[0].RequestID != a.ID {
			t.Fatalf("suggestion from, a candidate missing: %v, %+v", err, sg5)
		}
		// Cards: a card of a missing request is refused and not written,
		// alone and in a batch.
		wantCode(t, db.SaveCard(ctx, missing, bot.MessageRef{Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", ID: "card-x"}), bot.ENOTFOUND)
		_, err = db.SaveNewCard(ctx, missing, bot.MessageRef{Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", ID: "card-y"}, "h", 0)
		wantCode(t, err, bot.ENOTFOUND)
		var cwg sync.WaitGroup
		cardErrs := make([]error, 8)
		for i := range cardErrs {
			cwg.Add(1)
			go func() {
				defer cwg.Done()
				id := a.ID
				if i%2 == 1 {
					id = missing
				}
				_, cardErrs[i] = db.SaveNewCard(context.Background(), id, bot.MessageRef{Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", ID: fmt.Sprintf("card-%d", i)}, "h", 0)
			}()
		}
		cwg.Wait()
		for i, err := range cardErrs {
			if i%2 == 1 {
				wantCode(t, err, bot.ENOTFOUND)
			} else if err != nil {
				t.Fatalf("card %d: %v", i, err)
			}
		}

		var n int
		for _, q := range []string{
			`SELECT COUNT(*) FROM mentions m WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.id = m.request_id)`,
			`SELECT COUNT(*) FROM voters v WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.id = v.request_id)`,
			`SELECT COUNT(*) FROM mentions WHERE message_id = 'x'`,
			`SELECT COUNT(*) FROM voters WHERE user_id = 'zed'`,
			`SELECT COUNT(*) FROM suggestion_candidates c WHERE NOT EXISTS (SELECT 1 FROM suggestions s WHERE s.id = c.suggestion_id)`,
			`SELECT COUNT(*) FROM suggestions WHERE message_id IN ('s3', 's4')`,
			`SELECT COUNT(*) FROM suggestions s WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.id = s.request_id)`,
			`SELECT COUNT(*) FROM suggestion_candidates c WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.id = c.request_id)`,
			`SELECT COUNT(*) FROM cards c WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.id = c.request_id)`,
			`SELECT COUNT(*) FROM cards WHERE message_id IN ('card-x', 'card-y', 'card-1', 'card-3', 'card-5', 'card-7')`,
		} {
			if err := db.DB().GetContext(ctx, &n, q); err != nil || n != 0 {
				t.Fatalf("%s: %d, %v; want 0", q, n, err)
			}
		}
		if err := db.DB().GetContext(ctx, &n, `SELECT COUNT(*) FROM mentions`); err != nil || n != 24+4 {
			t.Fatalf("mentions %d, %v; want 28", n, err)
		}
		if err := db.DB().GetContext(ctx, &n, `SELECT COUNT(*) FROM suggestion_candidates`); err != nil || n != 4 {
			t.Fatalf("candidates %d, %v; want 4", n, err)
		}
		if err := db.DB().GetContext(ctx, &n, `SELECT COUNT(*) FROM cards WHERE message_id IN ('card-0', 'card-2', 'card-4', 'card-6')`); err != nil || n != 4 {
			t.Fatalf("cards %d, %v; want 4", n, err)
		}
	})
}
