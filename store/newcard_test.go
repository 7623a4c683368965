package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

func cardRef(id string) bot.MessageRef {
	return bot.MessageRef{Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", ID: id, ThreadID: "th-" + id}
}

// SaveNewCard, alone and in batches (with SaveCard calls among them): the
// card is saved with what it shows, the suggestion points at it, and the
// request comes back as it is (canonical when merged); a missing
// suggestion is ENOTFOUND with the card saved, a missing request ENOTFOUND
// with nothing saved and the rest of the batch written.
func TestSaveNewCard(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		s := openForTest(t, dsn)
		ctx := context.Background()
		var reqs []newCapture
		for i := range 4 {
			c := capture(fmt.Sprintf("r%d", i), fmt.Sprintf("u%d", i))
			if err := s.CreateRequest(ctx, c.r, c.m); err != nil {
				t.Fatal(err)
			}
			reqs = append(reqs, c)
		}
		sugg := &bot.Suggestion{RequestID: reqs[0].r.ID, Candidates: []bot.Candidate{{RequestID: reqs[1].r.ID, Score: 0.5}}}
		if err := s.CreateSuggestion(ctx, sugg); err != nil {
			t.Fatal(err)
		}
		// A vote committed before the card: in what comes back.
		if _, err := s.AddVote(ctx, bot.Voter{RequestID: reqs[0].r.ID, Platform: bot.PlatformSlack, Workspace: "T1", UserID: "voter", Org: "O-v"}); err != nil {
			t.Fatal(err)
		}
		// reqs[3] merged into reqs[2]: its card shows reqs[2].
		if _, err := s.Merge(ctx, reqs[3].r.ID, reqs[2].r.ID, "lead"); err != nil {
			t.Fatal(err)
		}
		shown := func(id string) (string, int64) {
			var row struct {
				Shown     string `db:"shown"`
				RequestID int64  `db:"request_id"`
			}
			if err := s.db.Get(&row, s.db.Rebind(`SELECT shown, request_id FROM cards WHERE message_id = ?`), id); err != nil {
				t.Fatalf("card %s: %v", id, err)
			}
			return row.Shown, row.RequestID
		}
		now := time.Now().UTC()
		for _, n := range []int{1, 5} {
			pre := fmt.Sprintf("b%d-", n)
			outs := make([]*newCard, 5)
			for i := range outs {
				outs[i] = &newCard{}
			}
			items := []cardSave{
				{requestID: reqs[0].r.ID, ref: cardRef(pre + "a"), at: now, shown: "h-a", withShown: true, suggestion: sugg.ID, out: outs[0]},
				{requestID: reqs[1].r.ID, ref: cardRef(pre + "b"), at: now, shown: "h-b", withShown: true, suggestion: sugg.ID + 1000, out: outs[1]},
				{requestID: reqs[3].r.ID, ref: cardRef(pre + "c"), at: now, shown: "h-c", withShown: true, out: outs[2]},
				{requestID: reqs[1].r.ID, ref: cardRef(pre + "d"), at: now},
				{requestID: reqs[0].r.ID + 1000, ref: cardRef(pre + "e"), at: now, shown: "h-e", withShown: true, out: outs[4]},
			}
			var batch []*groupItem[cardSave]
			for _, in := range items[:n] {
				batch = append(batch, &groupItem[cardSave]{ctx: ctx, in: in, done: make(chan struct{})})
			}
			s.saveCards(ctx, batch)
			for i, it := range batch {
				want := ""
				if i == 4 {
					want = bot.ENOTFOUND
				}
				if got := bot.ErrorCode(it.err); got != want {
					t.Fatalf("batch of %d, item %d: %v, want %q", n, i, it.err, want)
				}
			}
			if o := outs[0]; o.req == nil || !o.suggested || o.req.ID != reqs[0].r.ID || o.req.Demand != 2 {
				t.Fatalf("batch of %d: first card found %+v", n, o)
			}
			if sh, id := shown(pre + "a"); sh != "h-a" || id != reqs[0].r.ID {
				t.Fatalf("batch of %d: card a shows %q for %d", n, sh, id)
			}
			got, err := s.FindSuggestion(ctx, sugg.ID)
			if err != nil || got.MessageID != pre+"a" || got.ThreadID != "th-"+pre+"a" || got.Channel != "C1" {
				t.Fatalf("batch of %d: suggestion %+v, %v", n, got, err)
			}
			if n == 1 {
				continue
			}
			if o := outs[1]; o.req == nil || o.suggested || o.req.ID != reqs[1].r.ID {
				t.Fatalf("missing suggestion: %+v", o)
			}
			if o := outs[2]; o.req == nil || o.req.ID != reqs[3].r.ID || o.req.RootID != reqs[2].r.ID {
				t.Fatalf("merged request's card: %+v", o)
			}
			for _, id := range []string{"b", "c", "d"} {
				if sh, _ := shown(pre + id); (id == "d") != (sh == "") {
					t.Fatalf("card %s shows %q", id, sh)
				}
			}
			if _, err := s.FindCard(ctx, bot.PlatformSlack, "T1", "C1", pre+"e"); bot.ErrorCode(err) != bot.ENOTFOUND {
				t.Fatalf("card of a missing request: %v", err)
			}
		}
		// Through SaveNewCard: the canonical request of a merged one, the
		// errors, and many at once.
		r, err := s.SaveNewCard(ctx, reqs[3].r.ID, cardRef("m"), "h", 0)
		if err != nil || r.ID != reqs[2].r.ID || r.Mentions != 2 {
			t.Fatalf("merged: %+v, %v; want request %d with 2 mentions", r, err, reqs[2].r.ID)
		}
		if _, err := s.SaveNewCard(ctx, reqs[1].r.ID, cardRef("ns"), "h", sugg.ID+1000); bot.ErrorCode(err) != bot.ENOTFOUND {
			t.Fatalf("missing suggestion: %v", err)
		}
		if sh, _ := shown("ns"); sh != "h" {
			t.Fatalf("card with a missing suggestion not saved: %q", sh)
		}
		if _, err := s.SaveNewCard(ctx, reqs[0].r.ID+1000, cardRef("nr"), "h", 0); bot.ErrorCode(err) != bot.ENOTFOUND {
			t.Fatalf("missing request: %v", err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := reqs[i%3]
				r, err := s.SaveNewCard(ctx, c.r.ID, cardRef(fmt.Sprintf("g%d", i)), "h", 0)
				if err == nil && (r.ID != c.r.ID || r.Title != c.r.Title) {
					err = fmt.Errorf("card g%d: request %+v, want %d", i, r, c.r.ID)
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

// On PostgreSQL SaveNewCard (alone and in a batch) waits for a transaction
// that holds the request's row, as a vote does, and returns the request as
// that transaction left it: a change either shows in what SaveNewCard
// returns or, committed after the card, queues the card's refresh.
func TestSaveNewCard_WaitsForAChangeInProgress(t *testing.T) {
	s := openForTest(t, storetest.PostgresDSN(t))
	ctx := context.Background()
	var ids []int64
	for i := range 2 {
		c := capture(fmt.Sprintf("w%d", i), fmt.Sprintf("u%d", i))
		if err := s.CreateRequest(ctx, c.r, c.m); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.r.ID)
	}
	for _, n := range []int{1, 2} {
		t.Run(fmt.Sprintf("batch of %d", n), func(t *testing.T) {
			tx, err := s.db.Beginx()
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			// What AddVote does: lock the group's root, change its counters.
			demand := 10 * n
			for _, id := range ids[:n] {
				if _, err := tx.Exec(`SELECT id FROM requests WHERE id = $1 FOR NO KEY UPDATE`, id); err != nil {
					t.Fatal(err)
				}
				if _, err := tx.Exec(`UPDATE requests SET demand = $1 WHERE id = $2`, demand, id); err != nil {
					t.Fatal(err)
				}
			}
			var batch []*groupItem[cardSave]
			for i, id := range ids[:n] {
				in := cardSave{requestID: id, ref: cardRef(fmt.Sprintf("lock%d-%d", n, i)), at: time.Now().UTC(), shown: "h", withShown: true, out: &newCard{}}
				batch = append(batch, &groupItem[cardSave]{ctx: ctx, in: in, done: make(chan struct{})})
			}
			done := make(chan struct{})
			go func() {
				s.saveCards(ctx, batch)
				close(done)
			}()
			storetest.AwaitLockWait(t, s.db.DB, 1, "the card's write waits for the change in progress", done, "FOR SHARE", "INSERT INTO cards")
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			<-done
			for i, it := range batch {
				if it.err != nil || it.in.out.req == nil || it.in.out.req.Demand != demand {
					t.Fatalf("card %d: %v, request %+v; want the demand %d committed while it waited", i, it.err, it.in.out.req, demand)
				}
			}
		})
	}
}
