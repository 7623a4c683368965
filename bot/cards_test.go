package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
	"github.com/feedbackbot/feedbackbot/commands"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// cardPlatform records posts and edits, and can refuse edits (429).
type cardPlatform struct {
	recorder
	mu        sync.Mutex
	edits     []bot.OutMessage
	editRefs  []string
	limitNext int
}

func (p *cardPlatform) Update(ctx context.Context, ref bot.MessageRef, m bot.OutMessage) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.limitNext > 0 {
		p.limitNext--
		return &bot.RetryAfterError{After: 10 * time.Millisecond, Err: fmt.Errorf("429")}
	}
	p.edits = append(p.edits, m)
	p.editRefs = append(p.editRefs, ref.ID)
	return nil
}

// editsOf returns the edits of message id.
func (p *cardPlatform) editsOf(id string) []bot.OutMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []bot.OutMessage
	for i, r := range p.editRefs {
		if r == id {
			out = append(out, p.edits[i])
		}
	}
	return out
}

func voter(n int) bot.Actor {
	return bot.PersonActor("test", "w", bot.User{ID: fmt.Sprintf("v%d", n), Name: fmt.Sprintf("v%d", n), Org: "acme"})
}

// TestCardsStayTrue: every card of a request (a merged duplicate's too) is
// edited when what it shows changes, one edit per card for a burst of ten
// votes, through a rate limit, and a refresh queued before a restart is
// done after it.
func TestCardsStayTrue(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		p := &cardPlatform{}
		e := newEngine(t, db, p)
		command(t, e, lead, "c1", "watch")
		post(t, e, "c1", "m1", "alice", "Dark mode for the dashboard")
		post(t, e, "c1", "m2", "bob", "Night theme please")
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if len(p.posts) != 2 || !strings.Contains(p.posts[0].Text, "FB-1") || p.posts[0].Buttons[1].ID != "edit:1" {
			t.Fatalf("cards %+v", p.posts)
		}
		card1, card2 := "bot-1", "bot-2"
		if n := len(p.edits); n != 0 {
			t.Fatalf("%d edits before any change", n)
		}

		// A burst of ten votes: one edit of FB-1's card, showing all of them.
		for i := range 10 {
			if _, err := e.Vote(ctx, voter(i), bot.VoteInput{Request: 1}); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if es := p.editsOf(card1); len(es) != 1 || !strings.Contains(es[0].Text, "11 people") {
			t.Fatalf("edits of FB-1's card after a burst: %+v", es)
		}
		if es := p.editsOf(card2); len(es) != 0 {
			t.Fatalf("FB-2's card edited by votes on FB-1: %+v", es)
		}

		// A merge: both cards edited; the duplicate's card shows where it went.
		command(t, e, lead, "c1", "merge FB-2 into FB-1")
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		es2 := p.editsOf(card2)
		if len(es2) != 1 || !strings.Contains(es2[0].Text, "📌 FB-1: Dark mode") || !strings.Contains(es2[0].Text, "FB-2 was merged into FB-1") {
			t.Fatalf("duplicate's card after merge: %+v", es2)
		}
		if es := p.editsOf(card1); len(es) != 2 || !strings.Contains(es[1].Text, "12 people") {
			t.Fatalf("FB-1's card after merge: %+v", es)
		}

		// Another burst, through a 429: one more edit per card.
		p.mu.Lock()
		p.limitNext = 1
		p.mu.Unlock()
		for i := 10; i < 20; i++ {
			if _, err := e.Vote(ctx, voter(i), bot.VoteInput{Request: 2}); err != nil { // FB-2 resolves to FB-1
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(30 * time.Second)
		for len(p.editsOf(card2)) < 2 {
			if time.Now().After(deadline) {
				t.Fatalf("cards not edited after the rate limit: %+v", p.edits)
			}
			if err := e.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if es := p.editsOf(card1); len(es) != 3 || !strings.Contains(es[2].Text, "22 people") {
			t.Fatalf("FB-1's card after the second burst: %+v", es)
		}
		if es := p.editsOf(card2); len(es) != 2 || !strings.Contains(es[1].Text, "22 people") {
			t.Fatalf("FB-2's card after the second burst: %+v", es)
		}

		// A rename, then a "crash" before the cards are edited (no Flush):
		// a new engine on the same database edits them.
		command(t, e, lead, "c1", "rename FB-1 Dark mode")
		e2 := newEngine(t, db, p)
		if err := e2.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if es := p.editsOf(card1); len(es) != 4 || !strings.Contains(es[3].Text, "📌 FB-1: Dark mode\n") {
			t.Fatalf("FB-1's card after a restart: %+v", es)
		}
		n, err := db.PendingCardRefreshes(ctx)
		if err != nil || n != 0 {
			t.Fatalf("%d refreshes left, %v", n, err)
		}
	})
}

// TestNewCardSeesChangeBeforeItWasSaved: a vote that commits while the
// capture's card is being posted (before the card is saved, so the vote
// queues no card refresh) still shows on the card. Under load, a quick
// click on another replica lands in that gap.
func TestNewCardSeesChangeBeforeItWasSaved(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		p := &cardPlatform{}
		var e *bot.Engine
		voted := false
		p.fail = func(m bot.OutMessage) error {
			if !voted && strings.Contains(m.Text, "FB-1") {
				voted = true
				if _, err := e.Vote(ctx, voter(1), bot.VoteInput{Request: 1}); err != nil {
					t.Errorf("vote while the card is posted: %v", err)
				}
			}
			return nil
		}
		e = newEngine(t, db, p)
		command(t, e, lead, "c1", "watch")
		post(t, e, "c1", "m1", "alice", "Dark mode for the dashboard")
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if !voted || len(p.posts) != 1 || !strings.Contains(p.posts[0].Text, "1 person") {
			t.Fatalf("card as posted: %+v", p.posts)
		}
		edits := p.editsOf("bot-1")
		if len(edits) != 1 || !strings.Contains(edits[0].Text, "2 people") {
			t.Fatalf("edits of the new card %+v, want one showing the vote", edits)
		}
	})
}

// TestNewCardIsItsSuggestionsMessage: the card of a capture with duplicate
// suggestions is saved as the suggestion's message (in the same write as
// the card on store.DB), so deciding the suggestion without a clicked
// message (from another replica, the API) edits that card.
func TestNewCardIsItsSuggestionsMessage(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		p := &cardPlatform{}
		e := bot.NewEngine(db, dedup.New(dedup.DefaultConfig()), bot.DefaultConfig(), nil)
		e.SetCommands(commands.New(e))
		e.AddPlatform(p)
		command(t, e, lead, "c1", "watch")
		post(t, e, "c1", "m1", "alice", "CSV export of the board")
		post(t, e, "c1", "m2", "bob", "Export the board as a PDF")
		if len(p.posts) != 2 || !strings.Contains(p.posts[1].Text, "Possible duplicates of FB-2") {
			t.Fatalf("cards %+v", p.posts)
		}
		s, err := db.FindSuggestion(ctx, 1)
		if err != nil || s.RequestID != 2 || s.MessageID != "bot-2" || s.Channel != "c1" {
			t.Fatalf("suggestion %+v, %v; want the message bot-2", s, err)
		}
		if id, err := db.FindCard(ctx, "test", "", "c1", "bot-2"); err != nil || id != 2 {
			t.Fatalf("card bot-2: %d, %v", id, err)
		}
		res, err := e.DecideSuggestion(ctx, bot.PersonActor("test", "w", lead), bot.DecideInput{Suggestion: 1, State: bot.SuggestionDismissed})
		if err != nil || !res.Changed {
			t.Fatalf("dismiss: %+v, %v", res, err)
		}
		if es := p.editsOf("bot-2"); len(es) != 1 || strings.Contains(es[0].Text, "Possible duplicates") {
			t.Fatalf("edits of the card after the dismissal: %+v", es)
		}
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(p.edits); n != 1 {
			t.Fatalf("%d edits, want the dismissal's only: %+v", n, p.edits)
		}
	})
}
