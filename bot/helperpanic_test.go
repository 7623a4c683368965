package bot_test

import (
	"context"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/commands"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// faultyScorer is a duplicate index whose lookups (similar) or updates
// (upsert) panic: an internal fault.
type faultyScorer struct{ similar, upsert bool }

func (s faultyScorer) Upsert(bot.Doc) {
	if s.upsert {
		panic("index corrupted on upsert")
	}
}
func (faultyScorer) Remove(int64) {}
func (s faultyScorer) Similar(context.Context, string, int) ([]bot.Candidate, error) {
	if s.similar {
		panic("index corrupted on lookup")
	}
	return nil, nil
}

// TestCapturePanicOnHelperGoroutine: the duplicate check and the new
// request's indexing run on goroutines of their own during a capture; a
// panic there is raised on the capture's own goroutine (Handle answers
// EINTERNAL, the process goes on), for a watched message and for a capture
// without a message (the API's), and the capture's rows are kept.
func TestCapturePanicOnHelperGoroutine(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    faultyScorer
	}{{"lookup", faultyScorer{similar: true}}, {"index", faultyScorer{upsert: true}}} {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t, storetest.SQLiteDSN(t))
			rec := &recorder{}
			e := bot.NewEngine(db, tc.s, bot.DefaultConfig(), nil)
			e.SetCommands(commands.New(e))
			e.AddPlatform(rec)
			command(t, e, lead, "c", "watch")
			ev := &bot.Event{Kind: bot.EventMessage, Platform: "test", Workspace: "w", Channel: "c", User: bot.User{ID: "u1"},
				Message: &bot.Message{Platform: "test", Workspace: "w", Channel: "c", ID: "m1", Author: bot.User{ID: "u1", Name: "u1"}, Text: "Dark mode for the dashboard"}}
			if _, err := e.Handle(context.Background(), ev); bot.ErrorCode(err) != bot.EINTERNAL {
				t.Fatalf("watched message: err %v, want EINTERNAL", err)
			}
			if _, err := db.FindMentionByMessage(context.Background(), "test", "w", "c", "m1"); err != nil {
				t.Fatalf("the capture's mention: %v", err)
			}
			// Called directly (as the API handler does), the panic is the
			// caller's, where net/http or Handle recovers it.
			func() {
				defer func() {
					if r := recover(); r == nil {
						t.Fatal("API capture: no panic in the caller's goroutine")
					}
				}()
				e.CaptureText(context.Background(), bot.PersonActor(bot.PlatformAPI, "", bot.User{ID: "u2", Name: "u2"}),
					bot.CaptureTextInput{Where: bot.Message{Platform: bot.PlatformAPI}, Text: "Export the board to CSV", TextID: "t1"})
			}()
			if _, err := db.FindMentionByMessage(context.Background(), bot.PlatformAPI, "", "", "t1"); err != nil {
				t.Fatalf("the API capture's mention: %v", err)
			}
		})
	}
}
