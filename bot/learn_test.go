package bot_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
	"github.com/feedbackbot/feedbackbot/commands"
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
