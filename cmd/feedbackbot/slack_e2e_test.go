package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/internal/slacktest"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a running bot.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startBot runs the whole binary (Main) with env, and returns the HTTP
// listener's base URL; the bot stops when the test ends.
func startBot(t *testing.T, env map[string]string) string {
	t.Helper()
	addrc := make(chan string, 1)
	logs := &syncBuffer{}
	m := &Main{
		Stdin: strings.NewReader(""), Stdout: logs, Stderr: logs,
		Getenv:    func(k string) string { return env[k] },
		Listening: func(addr string) { addrc <- addr },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Execute(ctx, nil) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("bot stopped with %v\n%s", err, logs.String())
			}
		case <-time.After(time.Minute):
			t.Errorf("bot did not stop within a minute\n%s", logs.String())
		}
	})
	select {
	case addr := <-addrc:
		return "http://" + addr
	case err := <-done:
		t.Fatalf("bot exited: %v\n%s", err, logs.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("bot did not listen\n%s", logs.String())
	}
	return ""
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestBinarySlackHTTPMode drives the real binary configured only through the
// documented environment variables against the fake Slack in HTTP mode.
func TestBinarySlackHTTPMode(t *testing.T) {
	f := slacktest.New(slacktest.Options{})
	t.Cleanup(f.Close)
	f.AddUser(slacktest.User{ID: "ULEAD", Name: "lead", DisplayName: "Lea"})
	f.AddUser(slacktest.User{ID: "UCUST", Name: "cust", DisplayName: "Cus"})
	const secret = "signing-secret"
	base := startBot(t, map[string]string{
		"DATABASE_URL":          storetest.SQLiteDSN(t),
		"FEEDBACKBOT_HTTP_ADDR": "127.0.0.1:0",
		"SLACK_BOT_TOKEN":       f.Options().BotToken,
		"SLACK_SIGNING_SECRET":  secret,
		"SLACK_API_URL":         f.APIURL(),
		"SLACK_RELEASE_LEADS":   "ULEAD",
	})
	waitUntil(t, "/readyz", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	send := &slacktest.HTTPSender{BaseURL: base, Secret: secret}
	ctx := context.Background()

	if code, err := send.Command(ctx, f.SlashCommand("ULEAD", "CIDEAS", "watch")); err != nil || code != 200 {
		t.Fatalf("watch: %d %v", code, err)
	}
	waitUntil(t, "watch reply", func() bool { return len(f.Responses()) == 1 })
	m := f.NewMessage("CIDEAS", "UCUST", "Please support SAML single sign-on", "")
	if code, err := send.Event(ctx, f.MessageEvent(m)); err != nil || code != 200 {
		t.Fatalf("event: %d %v", code, err)
	}
	waitUntil(t, "request card in the thread", func() bool {
		for _, p := range f.Posts() {
			if p.ThreadTS == m.TS && strings.Contains(p.Text, "FB-1") {
				return true
			}
		}
		return false
	})
	if code, err := send.Command(ctx, f.SlashCommand("ULEAD", "CIDEAS", "ship FB-1 v3.0")); err != nil || code != 200 {
		t.Fatalf("ship: %d %v", code, err)
	}
	waitUntil(t, "ship reply in the thread", func() bool {
		for _, p := range f.Posts() {
			if p.ThreadTS == m.TS && strings.Contains(p.Text, "Shipped in v3.0") {
				return true
			}
		}
		return false
	})
	// A bad signature is refused.
	bad := &slacktest.HTTPSender{BaseURL: base, Secret: "wrong"}
	if code, _ := bad.Command(ctx, f.SlashCommand("ULEAD", "CIDEAS", "rollback FB-1")); code != http.StatusUnauthorized {
		t.Fatalf("bad signature: status %d, want 401", code)
	}
	if v := f.Violations(); len(v) > 0 {
		t.Fatalf("fake Slack saw protocol violations: %v", v)
	}
}
