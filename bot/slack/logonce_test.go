package slack_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
)

// panicScorer is a duplicate index whose lookups panic: an internal fault
// inside the engine.
type panicScorer struct{}

func (panicScorer) Upsert(bot.Doc)  {}
func (panicScorer) Remove(id int64) {}
func (panicScorer) Similar(context.Context, string, int) ([]bot.Candidate, error) {
	panic("index corrupted")
}

// TestInternalErrorLoggedOnce: a panic inside the engine while it handles
// a Slack command is recovered and logged once (by the engine, with its
// stack), not again by the adapter, and the person is told "Internal
// error.".
func TestInternalErrorLoggedOnce(t *testing.T) {
	for _, socket := range []bool{true, false} {
		name := "HTTPMode"
		if socket {
			name = "SocketMode"
		}
		t.Run(name, func(t *testing.T) {
			var logs logBuffer
			h := newHarnessWith(t, socket, panicScorer{}, &logs)
			got := h.respond(t, "U1", "C1", "new Dark mode for the dashboard")
			if !strings.Contains(got, "Internal error") {
				t.Fatalf("reply = %q, want the internal error message", got)
			}
			out := logs.String()
			if n := strings.Count(out, "level=ERROR"); n != 1 || !strings.Contains(out, "index corrupted") {
				t.Fatalf("want the panic logged once, got %d error lines:\n%s", n, out)
			}
		})
	}
}

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
