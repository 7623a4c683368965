package bot_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
	"github.com/feedbackbot/feedbackbot/commands"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// TestIndexFollowsEditsOnReplicas: a rename, a remove and a restore made on
// one replica reach the duplicate index of another.
func TestIndexFollowsEditsOnReplicas(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		newReplica := func(name string, idx *dedup.Index) *bot.Engine {
			cfg := bot.DefaultConfig()
			cfg.Worker = name
			cfg.IndexPoll = 50 * time.Millisecond
			e := bot.NewEngine(openDB(t, dsn), idx, cfg, nil)
			e.SetCommands(commands.New(e))
			e.AddPlatform(&recorder{})
			return e
		}
		a := newReplica("a", dedup.New(dedup.DefaultConfig()))
		idxB := dedup.New(dedup.DefaultConfig())
		b := newReplica("b", idxB)
		done := make(chan struct{})
		go func() { defer close(done); _ = b.Run(ctx) }()
		defer func() { cancel(); <-done }()

		found := func(query string) bool {
			cs, err := idxB.Similar(ctx, query, 5)
			if err != nil {
				t.Fatal(err)
			}
			return slices.ContainsFunc(cs, func(c bot.Candidate) bool { return c.RequestID == 1 })
		}
		waitFor := func(what string, cond func() bool) {
			t.Helper()
			deadline := time.Now().Add(30 * time.Second)
			for !cond() {
				if time.Now().After(deadline) {
					t.Fatalf("replica b: %s", what)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}

		command(t, a, lead, "c", "watch")
		post(t, a, "c", "m1", "u1", "Export the roadmap to a PDF file")
		waitFor("never indexed FB-1", func() bool { return found("export roadmap pdf") })

		command(t, a, lead, "c", "rename FB-1 Calendar sync with Outlook")
		waitFor("never saw the rename", func() bool { return found("outlook calendar sync") })

		command(t, a, lead, "c", "remove FB-1 -- noise")
		waitFor("still suggests a removed request", func() bool { return !found("outlook calendar sync") })

		command(t, a, lead, "c", "restore FB-1")
		waitFor("never saw the restore", func() bool { return found("outlook calendar sync") })
	})
}
