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
// foreign key to requests (migration 00090), so the store itself must never
// write one that points nowhere: captures (batched and alone), mentions and
// votes on a request that does not exist are refused and write nothing, and
// every mention and voter row references a request.
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

		var n int
		for _, q := range []string{
			`SELECT COUNT(*) FROM mentions m WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.id = m.request_id)`,
			`SELECT COUNT(*) FROM voters v WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.id = v.request_id)`,
			`SELECT COUNT(*) FROM mentions WHERE message_id = 'x'`,
			`SELECT COUNT(*) FROM voters WHERE user_id = 'zed'`,
		} {
			if err := db.DB().GetContext(ctx, &n, q); err != nil || n != 0 {
				t.Fatalf("%s: %d, %v; want 0", q, n, err)
			}
		}
		if err := db.DB().GetContext(ctx, &n, `SELECT COUNT(*) FROM mentions`); err != nil || n != 24+2 {
			t.Fatalf("mentions %d, %v; want 26", n, err)
		}
	})
}
