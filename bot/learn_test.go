package bot_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
	"github.com/feedbackbot/feedbackbot/commands"
	"github.com/feedbackbot/feedbackbot/store"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// TestLearningFollowsOtherReplicas: with two engines on one database, what
// the team decides through one (a merge, a dismissal) is learned by the
// other's duplicate index within a few poll intervals, and both indexes end
// up knowing exactly the same; a replica started afterwards learns the same
// decisions at start-up (with the board as it is then) and applies them.
func TestLearningFollowsOtherReplicas(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		newReplica := func(name string) (*bot.Engine, *dedup.Index, *recorder) {
			cfg := bot.DefaultConfig()
			cfg.Worker = name
			cfg.IndexPoll = 50 * time.Millisecond
			p := &recorder{}
			ix := dedup.New(dedup.DefaultConfig())
			e := bot.NewEngine(openDB(t, dsn), ix, cfg, nil)
			e.SetCommands(commands.New(e))
			e.AddPlatform(p)
			if err := e.LoadIndex(ctx); err != nil {
				t.Fatal(err)
			}
			return e, ix, p
		}
		a, ixA, _ := newReplica("a")
		b, ixB, pb := newReplica("b")
		done := make(chan struct{})
		go func() { defer close(done); _ = b.Run(ctx) }()
		defer func() { cancel(); <-done }()

		command(t, a, lead, "c", "watch")
		post(t, a, "c", "m1", "u1", "Dark mode for the dashboard")       // FB-1
		post(t, a, "c", "m2", "u2", "CSV export of the board")           // FB-2
		post(t, a, "c", "m3", "u3", "Low-light palette for late shifts") // FB-3
		post(t, a, "c", "m4", "u4", "Export the board as a PDF")         // FB-4, suggests FB-2
		command(t, a, lead, "c", "merge FB-3 into FB-1")
		team := bot.PersonActor("test", "w", lead)
		if _, err := a.DecideSuggestion(ctx, team, bot.DecideInput{Suggestion: 1, State: bot.SuggestionDismissed}); err != nil {
			t.Fatal(err)
		}
		want := ixA.Learned()
		if want.Decisions != 2 || len(want.Associations) == 0 || len(want.Misled) == 0 {
			t.Fatalf("replica a learned %+v", want)
		}
		waitLearned := func(ix *dedup.Index, who string) {
			t.Helper()
			deadline := time.Now().Add(30 * time.Second)
			for !reflect.DeepEqual(ix.Learned(), want) {
				if time.Now().After(deadline) {
					t.Fatalf("replica %s learned %+v\nwant %+v", who, ix.Learned(), want)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		waitLearned(ixB, "b")
		// The lesson works on b: a paraphrase of the merged request finds
		// the request it was merged into.
		post(t, b, "c", "m5", "u5", "A low-light palette would be nice")
		if !pb.posted("Possible duplicates of FB-5:\n1. FB-1") {
			t.Fatalf("replica b did not suggest FB-1 for the paraphrase: %v", pb.posts)
		}
		if !pb.posted("learned from a merge") {
			t.Errorf("no reason given: %v", pb.posts)
		}
		// A replica started now learns the same decisions at start-up.
		c, ixC, pc := newReplica("c")
		got := ixC.Learned()
		if got.Decisions != want.Decisions || !reflect.DeepEqual(got.Misled, want.Misled) || len(got.Associations) != len(want.Associations) {
			t.Errorf("replica c learned %+v\nwant %+v", got, want)
		}
		post(t, c, "c", "m6", "u6", "A low-light palette for the evening")
		if !pc.posted(". FB-1: Dark mode for the dashboard (open, 2 people, score") {
			t.Errorf("replica c did not suggest FB-1 for the paraphrase: %v", pc.posts)
		}
	})
}

// pollHookDB is a store whose DocsChangedSince calls hook after reading
// (with the call's number, from 1), so a test can commit something between
// a poll's reads.
type pollHookDB struct {
	*store.DB
	mu    sync.Mutex
	calls int
	hook  func(call int)
}

func (p *pollHookDB) DocsChangedSince(ctx context.Context, t time.Time) ([]bot.Doc, error) {
	docs, err := p.DB.DocsChangedSince(ctx, t)
	p.mu.Lock()
	p.calls++
	n, hook := p.calls, p.hook
	p.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return docs, err
}

// TestFollowIndexLearnsNoLessonBeforeItsBoard: a merge committed by
// another replica while a poll is between its reads is never learned
// before the merged request stops being suggested. (Read docs first and
// decisions second, the poll learned such a merge while the merged request
// was still in the index, until the next poll: a paraphrase on that
// replica was then suggested the merged request's root for the merged
// request's own words, not for what the merge taught.)
func TestFollowIndexLearnsNoLessonBeforeItsBoard(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		a := bot.NewEngine(openDB(t, dsn), dedup.New(dedup.DefaultConfig()), bot.DefaultConfig(), nil)
		a.SetCommands(commands.New(a))
		a.AddPlatform(&recorder{})
		if err := a.LoadIndex(ctx); err != nil {
			t.Fatal(err)
		}
		command(t, a, lead, "c", "watch")
		post(t, a, "c", "m1", "u1", "Dark mode for the dashboard")       // FB-1
		post(t, a, "c", "m2", "u2", "Low-light palette for late shifts") // FB-2

		hdb := &pollHookDB{DB: openDB(t, dsn)}
		cfg := bot.DefaultConfig()
		cfg.Worker = "b"
		cfg.IndexPoll = 20 * time.Millisecond
		ixB := dedup.New(dedup.DefaultConfig())
		b := bot.NewEngine(hdb, ixB, cfg, nil)
		if err := b.LoadIndex(ctx); err != nil {
			t.Fatal(err)
		}
		// (Called on b's poll too: no t.Fatal in it.)
		stillSuggested := func() bool {
			cs, _ := ixB.Similar(context.Background(), "Low-light palette for late shifts", 5)
			for _, c := range cs {
				if c.RequestID == 2 {
					return true
				}
			}
			return false
		}
		if !stillSuggested() || ixB.Learned().Decisions != 0 {
			t.Fatalf("replica b before the merge: FB-2 suggested %v, learned %+v", stillSuggested(), ixB.Learned())
		}
		// The poll after the next one commits the merge through replica a
		// right after its docs read; every poll after that checks, before
		// its own reads are applied, that b has not learned the merge
		// while FB-2 is still suggested.
		var mu sync.Mutex
		var violations []string
		merged, checked := -1, 0
		hdb.mu.Lock()
		start := hdb.calls
		hdb.hook = func(n int) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case n == start+2:
				_, err := a.Handle(context.Background(), &bot.Event{Kind: bot.EventCommand, Platform: "test", Workspace: "w", Channel: "c", User: lead, Text: "merge FB-2 into FB-1"})
				if err != nil {
					violations = append(violations, fmt.Sprintf("merge: %v", err))
				}
				merged = n
			case merged > 0:
				checked++
				if ixB.Learned().Decisions > 0 && stillSuggested() {
					violations = append(violations, fmt.Sprintf("poll %d: the merge is learned and FB-2 is still suggested", n))
				}
			}
		}
		hdb.mu.Unlock()
		done := make(chan struct{})
		go func() { defer close(done); _ = b.Run(ctx) }()
		defer func() { cancel(); <-done }()

		deadline := time.Now().Add(60 * time.Second)
		for {
			mu.Lock()
			n := checked
			mu.Unlock()
			if n >= 3 && ixB.Learned().Decisions == 1 && !stillSuggested() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica b after the merge: %d polls checked, learned %+v, FB-2 suggested %v", n, ixB.Learned(), stillSuggested())
			}
			time.Sleep(5 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, v := range violations {
			t.Error(v)
		}
	})
}
