package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/slack-go/slack"
)

// blockJSON is a rendered block as Slack receives it.
type blockJSON struct {
	Type string `json:"type"`
	Text *struct {
		Type, Text string
	} `json:"text"`
	Elements []struct {
		Type     string `json:"type"`
		ActionID string `json:"action_id"`
		Value    string `json:"value"`
		Style    string `json:"style"`
		Text     struct{ Text string }
	} `json:"elements"`
}

func render(t *testing.T, text string, buttons []bot.Button) []blockJSON {
	t.Helper()
	b, err := json.Marshal(buildBlocks(text, buttons))
	if err != nil {
		t.Fatal(err)
	}
	var out []blockJSON
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBuildBlocks(t *testing.T) {
	t.Run("TextAndButtons", func(t *testing.T) {
		bl := render(t, "FB-1 *Dark mode* <script> & co", []bot.Button{
			{ID: "merge:2:1", Label: "Merge into FB-1", Style: bot.StylePrimary},
			{ID: "dismiss:2", Label: "Not a duplicate", Style: bot.StyleDanger},
		})
		if len(bl) != 2 || bl[0].Type != "section" || bl[1].Type != "actions" {
			t.Fatalf("blocks = %+v", bl)
		}
		if bl[0].Text.Type != "mrkdwn" || bl[0].Text.Text != "FB-1 *Dark mode* &lt;script&gt; &amp; co" {
			t.Fatalf("section = %+v", bl[0].Text)
		}
		e := bl[1].Elements
		if len(e) != 2 || e[0].ActionID != "merge:2:1" || e[0].Value != "merge:2:1" || e[0].Style != "primary" || e[0].Text.Text != "Merge into FB-1" || e[1].Style != "danger" {
			t.Fatalf("elements = %+v", e)
		}
	})
	t.Run("LongTextSplit", func(t *testing.T) {
		var sb strings.Builder
		for i := 0; sb.Len() < 20000; i++ {
			fmt.Fprintf(&sb, "%d. FB-%d Some request title with émoji 🚀 & more\n", i, i)
		}
		bl := render(t, sb.String(), nil)
		if len(bl) < 7 {
			t.Fatalf("%d blocks for 20k chars", len(bl))
		}
		var joined strings.Builder
		for _, b := range bl {
			if n := utf8.RuneCountInString(b.Text.Text); n > maxSectionText || n == 0 {
				t.Fatalf("section of %d runes", n)
			}
			if strings.HasSuffix(b.Text.Text, "&amp") || strings.HasSuffix(b.Text.Text, "&") {
				t.Fatalf("escape cut: %q", b.Text.Text[len(b.Text.Text)-10:])
			}
			joined.WriteString(b.Text.Text + "\n")
		}
		if !strings.Contains(joined.String(), "0. FB-0 ") || !strings.Contains(joined.String(), "&amp; more") {
			t.Fatal("text lost")
		}
	})
	t.Run("NoLineBreaks", func(t *testing.T) {
		bl := render(t, strings.Repeat("é", 7000), nil)
		if len(bl) != 3 || utf8.RuneCountInString(bl[0].Text.Text) != maxSectionText {
			t.Fatalf("%d blocks", len(bl))
		}
	})
	t.Run("Limits", func(t *testing.T) {
		var buttons []bot.Button
		for i := range 30 {
			buttons = append(buttons, bot.Button{ID: fmt.Sprintf("b%d", i), Label: strings.Repeat("x", 100)})
		}
		bl := render(t, strings.Repeat("word ", 60*3000/5), buttons)
		if len(bl) != maxBlocks {
			t.Fatalf("%d blocks, want %d", len(bl), maxBlocks)
		}
		last := bl[len(bl)-3]
		if last.Type != "section" || !strings.HasSuffix(last.Text.Text, "…") || utf8.RuneCountInString(last.Text.Text) > maxSectionText {
			t.Fatalf("last section not cut with …: %q", last.Text.Text[len(last.Text.Text)-20:])
		}
		a1, a2 := bl[len(bl)-2], bl[len(bl)-1]
		if a1.Type != "actions" || len(a1.Elements) != maxActions || len(a2.Elements) != 5 {
			t.Fatalf("actions = %d + %d", len(a1.Elements), len(a2.Elements))
		}
		if n := utf8.RuneCountInString(a1.Elements[0].Text.Text); n != maxButtonText {
			t.Fatalf("button text %d runes", n)
		}
	})
	t.Run("Fallback", func(t *testing.T) {
		if n := utf8.RuneCountInString(fallbackText(strings.Repeat("a", 10000))); n != maxFallbackText {
			t.Fatalf("fallback %d runes", n)
		}
	})
}

func TestPostUpdateReact(t *testing.T) {
	a, api := newTestAdapter(t, Config{}, newRecorder())
	ref, err := a.Post(context.Background(), bot.OutMessage{Workspace: "T1", Channel: "C1", ThreadID: "10.1", Text: "🚀 Shipped in v1.2"})
	if err != nil {
		t.Fatal(err)
	}
	want := bot.MessageRef{Platform: "slack", Workspace: "T1", Channel: "C1", ID: "1700000000.000100", ThreadID: "10.1"}
	if ref != want {
		t.Fatalf("ref = %+v", ref)
	}
	s := api.sent()[0]
	if s.Values.Get("thread_ts") != "10.1" || s.Values.Get("text") != "🚀 Shipped in v1.2" {
		t.Fatalf("post = %+v", s.Values)
	}
	if err := a.Update(context.Background(), ref, bot.OutMessage{Text: "Merged by Alice"}); err != nil {
		t.Fatal(err)
	}
	if u := api.sent()[1]; !strings.HasSuffix(u.Method, "chat.update") || u.Values.Get("ts") != ref.ID || u.Channel != "C1" {
		t.Fatalf("update = %+v", u)
	}
	if err := a.React(context.Background(), ref, ":eyes:"); err != nil {
		t.Fatal(err)
	}
	if api.reacts[0] != "C1/1700000000.000100:eyes" {
		t.Fatalf("react = %v", api.reacts)
	}
	if a.Name() != "slack" || a.ChannelInterval() != time.Second {
		t.Fatal("name / interval")
	}
}

func TestClassify(t *testing.T) {
	var ra *bot.RetryAfterError
	if err := classify("m", &slack.RateLimitedError{RetryAfter: 3 * time.Second}); !errors.As(err, &ra) || ra.After != 3*time.Second {
		t.Fatalf("429: %v", err)
	}
	if err := classify("m", slack.StatusCodeError{Code: 429}); !errors.As(err, &ra) {
		t.Fatalf("429 without Retry-After: %v", err)
	}
	var pe *bot.PermanentError
	for _, code := range []string{"channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "invalid_blocks"} {
		if err := classify("m", slack.SlackErrorResponse{Err: code}); !errors.As(err, &pe) {
			t.Errorf("%s not permanent: %v", code, err)
		}
	}
	for _, err := range []error{slack.StatusCodeError{Code: 503}, errors.New("connection reset"), slack.SlackErrorResponse{Err: "internal_error"}} {
		if c := classify("m", err); errors.As(c, &pe) || errors.As(c, &ra) {
			t.Errorf("%v classified %T", err, c)
		}
	}
	if err := classify("m", slack.StatusCodeError{Code: 404}); !errors.As(err, &pe) {
		t.Errorf("404 not permanent")
	}
}

func TestPostErrors(t *testing.T) {
	a, api := newTestAdapter(t, Config{}, newRecorder())
	api.postErr = slack.SlackErrorResponse{Err: "channel_not_found"}
	_, err := a.Post(context.Background(), bot.OutMessage{Channel: "CX", Text: "x"})
	var pe *bot.PermanentError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v", err)
	}
	api.postErr = &slack.RateLimitedError{RetryAfter: 2 * time.Second}
	err = a.Update(context.Background(), bot.MessageRef{Channel: "C1", ID: "1"}, bot.OutMessage{Text: "x"})
	var ra *bot.RetryAfterError
	if !errors.As(err, &ra) || ra.After != 2*time.Second {
		t.Fatalf("err = %v", err)
	}
}

func TestJobRunnerOrdersByKey(t *testing.T) {
	r := newJobRunner(4, nil)
	var mu = make(chan struct{}, 1)
	var got []int
	for i := range 50 {
		r.submit("k", func(context.Context) {
			mu <- struct{}{}
			got = append(got, i)
			<-mu
		})
	}
	r.wait()
	for i, v := range got {
		if v != i {
			t.Fatalf("order %v", got)
		}
	}
	r.stop(time.Second)
	if r.submit("k", func(context.Context) {}) {
		t.Fatal("accepted after stop")
	}
}

func TestJobRunnerStopCancels(t *testing.T) {
	r := newJobRunner(1, nil)
	started := make(chan struct{})
	r.submit("", func(ctx context.Context) {
		close(started)
		<-ctx.Done() // ends when stop cancels it; that is what the test checks
	})
	select {
	case <-started:
	case <-time.After(time.Minute):
		t.Fatal("job did not start")
	}
	done := make(chan struct{})
	go func() { r.stop(50 * time.Millisecond); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("stop did not cancel the running job")
	}
}

func TestPostRate(t *testing.T) {
	for _, c := range []struct {
		name  string
		rate  float64
		want  float64
		burst int
	}{
		{"DefaultNone", 0, 0, 0}, // no documented workspace-wide figure: no cap
		{"Configured", 2.5, 2.5, 2},
		{"BelowOnePerSecond", 0.5, 0.5, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := newAdapter(Config{BotToken: "xoxb-x", PostRate: c.rate}, nil, nil, discardLogger())
			var th bot.Throttle = a
			if rate, burst := th.PostRate(); rate != c.want || burst != c.burst {
				t.Fatalf("PostRate = %v, %d; want %v, %d", rate, burst, c.want, c.burst)
			}
		})
	}
}

// TestJobRunnerSurvivesPanic: a job that panics is logged once, with its
// stack, and the jobs queued behind it still run (the process survives).
func TestJobRunnerSurvivesPanic(t *testing.T) {
	var logs lockedBuffer
	r := newJobRunner(1, slog.New(slog.NewTextHandler(&logs, nil)))
	ran := make(chan struct{})
	r.submit("k", func(context.Context) { panic("bad payload") })
	r.submit("k", func(context.Context) { close(ran) })
	select {
	case <-ran:
	case <-time.After(30 * time.Second):
		t.Fatal("the job after a panicking one did not run")
	}
	r.stop(time.Second)
	out := logs.String()
	if strings.Count(out, "level=ERROR") != 1 || !strings.Contains(out, "bad payload") || !strings.Contains(out, "stack=") {
		t.Fatalf("want one error line with the panic and its stack, got:\n%s", out)
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers (loggers).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
