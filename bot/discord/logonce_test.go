package discord

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/discordtest"
)

// panicScorer is a duplicate index whose lookups panic: an internal fault
// inside the engine.
type panicScorer struct{}

func (panicScorer) Upsert(bot.Doc)  {}
func (panicScorer) Remove(id int64) {}
func (panicScorer) Similar(context.Context, string, int) ([]bot.Candidate, error) {
	panic("index corrupted")
}

// TestInternalErrorLoggedOnce: a panic inside the engine, for an
// interaction and for a gateway message, is recovered and logged once each
// (by the engine, with its stack), not again by the adapter; the
// interaction is answered "Internal error.".
func TestInternalErrorLoggedOnce(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	e := newEngineEnvWith(t, panicScorer{}, slog.New(slog.NewTextHandler(&logs, nil)))
	if r := e.command(t, generalID, tina, "watch"); !strings.Contains(r.Content, "Watching") {
		t.Fatalf("watch: %+v", r)
	}
	if r := e.command(t, generalID, alice, "new", o("text", "Dark mode for the dashboard")); !strings.Contains(r.Content, "Internal error") {
		t.Fatalf("new: %+v, want the internal error message", r)
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Fatalf("interaction: want one error line, got %d:\n%s", n, logs.String())
	}
	if _, err := e.fake.UserMessage(generalID, alice, "Export the board to CSV"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() bool { return strings.Count(logs.String(), "index corrupted") == 2 }, "the message's panic logged")
	if err := e.stop(); err != nil { // waits for the adapter's handlers
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 2 {
		t.Fatalf("want one error line per fault (2), got %d:\n%s", n, logs.String())
	}
}

// TestAdapterPanicRecovered: a panic outside the engine (here a handler
// that is not the engine) in an interaction's goroutine or a gateway
// event's goroutine does not crash the process; it is logged once each,
// with its stack, and the interaction is answered "Internal error.".
func TestAdapterPanicRecovered(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	e := newEnv(t, func(c *Config, _ *discordtest.Options) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	e.rec.setFn(func(context.Context, *bot.Event) (*bot.Response, error) { panic("adapter bug") })
	id, err := e.fake.SlashCommand(generalID, alice, CommandName, "list")
	if err != nil {
		t.Fatal(err)
	}
	if r := finalResponse(t, e.fake, id); !strings.Contains(r.Content, "Internal error") {
		t.Fatalf("answer %+v, want the internal error message", r)
	}
	if _, err := e.fake.UserMessage(generalID, alice, "hello"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, func() bool { return strings.Count(logs.String(), "adapter bug") == 2 }, "both panics logged")
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if n := strings.Count(out, "level=ERROR"); n != 2 || strings.Count(out, "stack=") != 2 {
		t.Fatalf("want two error lines with stacks, got %d:\n%s", n, out)
	}
}
