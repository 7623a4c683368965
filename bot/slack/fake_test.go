package slack

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/slacktest"
)

// specMethods returns the method table from ../shared's OpenAPI spec, or nil
// (slacktest.DefaultMethods) when ../shared is absent outside CI.
func specMethods(t testing.TB) map[string]slacktest.MethodSpec {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "specs", "slack", "slack_web_openapi_v2.json")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", p, err)
		}
		t.Logf("%s absent: validating against the embedded method table", p)
		return nil
	}
	m, err := slacktest.LoadSpec(p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// newFake starts a fake Slack validated against the spec, with the usual
// people, and checks at the end that no call broke the spec.
func newFake(t *testing.T) *slacktest.Server {
	t.Helper()
	f := slacktest.New(slacktest.Options{Methods: specMethods(t), PingInterval: 500 * time.Millisecond})
	t.Cleanup(func() {
		f.Close()
		if v := f.Violations(); len(v) > 0 {
			t.Errorf("fake Slack violations:\n%s", strings.Join(v, "\n"))
		}
	})
	f.AddUser(slacktest.User{ID: "U1", Name: "alice", DisplayName: "Alice"})
	f.AddUser(slacktest.User{ID: "U2", Name: "gus", DisplayName: "Gus Guest", Restricted: true})
	f.AddUser(slacktest.User{ID: "U4", Name: "erin", DisplayName: "Erin", TeamID: "TOTHER"})
	f.AddUser(slacktest.User{ID: "U5", Name: "lena", DisplayName: "Lena Lead"})
	return f
}

// newFakeAdapter runs an adapter (Socket Mode when socket) against f.
func newFakeAdapter(t *testing.T, f *slacktest.Server, socket bool, h Handler) (*Adapter, context.CancelFunc) {
	t.Helper()
	o := f.Options()
	cfg := Config{BotToken: o.BotToken, APIURL: f.APIURL(), SigningSecret: "s3cret", ReleaseLeads: []string{"U5"}, Logger: discardLogger()}
	if socket {
		cfg.AppToken = o.AppToken
	}
	a, err := New(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return a, cancel
}

func TestSpecTable(t *testing.T) {
	spec, err := slacktest.LoadSpec(sharedFile(t, "specs/slack/slack_web_openapi_v2.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(spec) < 170 {
		t.Fatalf("%d methods", len(spec))
	}
	newer := []string{"include_all_metadata", "team_id"}
	for name, def := range slacktest.DefaultMethods {
		if name == "apps.connections.open" { // newer than the 2021 spec
			continue
		}
		// Compare with the raw spec, not the merged table.
		raw := rawSpec(t)[name]
		if raw == nil {
			t.Errorf("%s: not in the spec", name)
			continue
		}
		for _, r := range raw.required {
			if !slices.Contains(def.Required, r) {
				t.Errorf("%s: spec requires %q, embedded table does not", name, r)
			}
		}
		for _, k := range def.Known {
			if !slices.Contains(raw.known, k) && !slices.Contains(newer, k) {
				t.Errorf("%s: embedded table knows %q, the spec does not", name, k)
			}
		}
	}
}

type rawMethod struct{ required, known []string }

func rawSpec(t *testing.T) map[string]*rawMethod {
	t.Helper()
	b, err := os.ReadFile(sharedFile(t, "specs/slack/slack_web_openapi_v2.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name     string `json:"name"`
				Required bool   `json:"required"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]*rawMethod{}
	for p, ops := range doc.Paths {
		m := &rawMethod{}
		for _, op := range ops {
			for _, prm := range op.Parameters {
				if prm.Name == "token" {
					continue
				}
				m.known = append(m.known, prm.Name)
				if prm.Required {
					m.required = append(m.required, prm.Name)
				}
			}
		}
		out[strings.TrimPrefix(p, "/")] = m
	}
	return out
}

func TestFakeRejectsBadCalls(t *testing.T) {
	f := slacktest.New(slacktest.Options{Methods: specMethods(t)})
	defer f.Close()
	call := func(method string, form url.Values) map[string]any {
		t.Helper()
		form.Set("token", f.Options().BotToken)
		resp, err := http.PostForm(f.APIURL()+method, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return out
	}
	if r := call("chat.postMesage", url.Values{"channel": {"C1"}, "text": {"x"}}); r["ok"] != false || r["error"] != "unknown_method" {
		t.Fatalf("unknown method: %v", r)
	}
	if r := call("chat.postMessage", url.Values{"text": {"x"}}); r["error"] != "invalid_arguments" {
		t.Fatalf("missing channel: %v", r)
	}
	if r := call("chat.update", url.Values{"channel": {"C1"}, "text": {"x"}}); r["error"] != "invalid_arguments" {
		t.Fatalf("missing ts: %v", r)
	}
	if r := call("chat.postMessage", url.Values{"channel": {"C1"}, "text": {"x"}, "blocks": {`[{"type":"section","text":{"type":"mrkdwn","text":"` + strings.Repeat("a", 3001) + `"}}]`}}); r["error"] != "invalid_blocks" {
		t.Fatalf("long section: %v", r)
	}
	if r := call("chat.postMessage", url.Values{"channel": {"C1"}, "text": {"hello"}}); r["ok"] != true {
		t.Fatalf("valid post: %v", r)
	}
	resp, err := http.PostForm(f.APIURL()+"auth.test", url.Values{"token": {"xoxb-wrong"}})
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if out["error"] != "invalid_auth" {
		t.Fatalf("wrong token: %v", out)
	}
	if v := f.Violations(); len(v) != 4 {
		t.Fatalf("violations = %q", v)
	}
}

func TestRateLimited(t *testing.T) {
	f := newFake(t)
	a, _ := newFakeAdapter(t, f, false, newRecorder())
	f.RateLimit("chat.postMessage", 1, 2*time.Second)
	msg := bot.OutMessage{Workspace: "T0FAKE", Channel: "C1", Text: "🚀 Shipped in v1.2"}
	_, err := a.Post(context.Background(), msg)
	var ra *bot.RetryAfterError
	if !errors.As(err, &ra) || ra.After != 2*time.Second {
		t.Fatalf("err = %v", err)
	}
	if n := len(f.Posts()); n != 0 {
		t.Fatalf("%d posts after 429", n)
	}
	if _, err := a.Post(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if p := f.Posts(); len(p) != 1 || p[0].Text != "🚀 Shipped in v1.2" {
		t.Fatalf("posts = %+v", p)
	}
}

func TestPermanentFromFake(t *testing.T) {
	f := newFake(t)
	a, _ := newFakeAdapter(t, f, false, newRecorder())
	f.SetChannelError("CGONE", "is_archived")
	_, err := a.Post(context.Background(), bot.OutMessage{Channel: "CGONE", Text: "x"})
	var pe *bot.PermanentError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v", err)
	}
}

func TestSocketMode(t *testing.T) {
	f := newFake(t)
	rec := newRecorder()
	rec.resp = &bot.Response{Text: "Noted."}
	a, _ := newFakeAdapter(t, f, true, rec)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := f.WaitConnections(ctx, 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "adapter connected", a.Connected)

	m1 := f.NewMessage("C1", "U1", "Please add dark mode", "")
	env := f.Send(slacktest.EnvelopeEventsAPI, f.MessageEvent(m1))
	if err := f.WaitAck(ctx, env); err != nil {
		t.Fatal(err)
	}
	ev := rec.next(t)
	if ev.Kind != bot.EventMessage || ev.Message.ID != m1.TS || ev.Message.Permalink != f.Permalink("C1", m1.TS, "") ||
		ev.User.Name != "Alice" || !ev.User.Team || ev.Workspace != "T0FAKE" {
		t.Fatalf("event = %+v message %+v", ev, ev.Message)
	}

	t.Run("RedeliveryProcessedOnce", func(t *testing.T) {
		payload := f.MessageEvent(f.NewMessage("C1", "U2", "export to CSV", ""))
		e1 := f.Send(slacktest.EnvelopeEventsAPI, payload)
		e2 := f.Send(slacktest.EnvelopeEventsAPI, payload)
		_ = f.WaitAck(ctx, e1)
		_ = f.WaitAck(ctx, e2)
		if ev := rec.next(t); ev.User.ID != "U2" || ev.User.Team {
			t.Fatalf("event = %+v", ev)
		}
		rec.none(t, 200*time.Millisecond)
	})

	t.Run("ReconnectOnDisconnect", func(t *testing.T) {
		f.Disconnect("refresh_requested")
		// Sent while the client reconnects: delivered on the new connection.
		m := f.NewMessage("C2", "U4", "SAML please", "")
		env := f.Send(slacktest.EnvelopeEventsAPI, f.MessageEvent(m))
		if err := f.WaitConnections(ctx, 2); err != nil {
			t.Fatal(err)
		}
		if err := f.WaitAck(ctx, env); err != nil {
			t.Fatal(err)
		}
		ev := rec.next(t)
		if ev.Message.ID != m.TS || ev.User.Org != "TOTHER" || ev.User.Team {
			t.Fatalf("event = %+v", ev)
		}
	})

	t.Run("SlashCommand", func(t *testing.T) {
		cmd := f.SlashCommand("U5", "C1", "ship FB-1 v1.2")
		b, _ := json.Marshal(cmd)
		env := f.Send(slacktest.EnvelopeSlashCmd, b)
		if err := f.WaitAck(ctx, env); err != nil {
			t.Fatal(err)
		}
		ev := rec.next(t)
		if ev.Kind != bot.EventCommand || ev.Text != "ship FB-1 v1.2" || !ev.User.ReleaseLead {
			t.Fatalf("event = %+v", ev)
		}
		waitFor(t, "response_url reply", func() bool { return len(f.Responses()) == 1 })
		if r := f.Responses()[0]; r.Text != "Noted." || r.ResponseType != "ephemeral" || r.URL != cmd.ResponseURL {
			t.Fatalf("response = %+v", r)
		}
	})

	t.Run("Interactive", func(t *testing.T) {
		ref, err := postCard(t, f)
		if err != nil {
			t.Fatal(err)
		}
		env := f.Send(slacktest.EnvelopeInteractive, f.BlockAction("U1", "C1", ref, "vote:1"))
		if err := f.WaitAck(ctx, env); err != nil {
			t.Fatal(err)
		}
		ev := rec.next(t)
		if ev.Kind != bot.EventButton || ev.ActionID != "vote:1" || ev.Message.ID != ref || !ev.User.Team {
			t.Fatalf("event = %+v", ev)
		}
		env = f.Send(slacktest.EnvelopeInteractive, f.MessageShortcut(ShortcutCallbackID, "U1", "C1", m1.TS))
		if err := f.WaitAck(ctx, env); err != nil {
			t.Fatal(err)
		}
		ev = rec.next(t)
		if ev.Kind != bot.EventCapture || ev.Message.ID != m1.TS || ev.Message.Text != "Please add dark mode" || ev.Message.Author.ID != "U1" {
			t.Fatalf("event = %+v", ev)
		}
	})
}

// postCard posts a bot message with a button through a second adapter on f
// and returns its ts.
func postCard(t *testing.T, f *slacktest.Server) (string, error) {
	t.Helper()
	a, err := New(Config{BotToken: f.Options().BotToken, SigningSecret: "x", APIURL: f.APIURL(), Logger: discardLogger()}, newRecorder())
	if err != nil {
		return "", err
	}
	ref, err := a.Post(context.Background(), bot.OutMessage{Channel: "C1", Text: "FB-1 Dark mode", Buttons: []bot.Button{{ID: "vote:1", Label: "👍 Vote"}}})
	return ref.ID, err
}

func TestRunStopsOnInvalidToken(t *testing.T) {
	f := newFake(t)
	a, err := New(Config{BotToken: "xoxb-wrong", AppToken: "xapp-x", APIURL: f.APIURL(), Logger: discardLogger()}, newRecorder())
	if err != nil {
		t.Fatal(err)
	}
	err = a.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "invalid_auth") {
		t.Fatalf("Run = %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []Config{{}, {BotToken: "x"}} {
		if _, err := New(cfg, newRecorder()); bot.ErrorCode(err) != bot.EINVALID {
			t.Errorf("New(%+v) = %v", cfg, err)
		}
	}
	a, err := New(Config{BotToken: "x", AppToken: "y"}, newRecorder())
	if err != nil || !a.SocketMode() || a.apiURL != DefaultAPIURL {
		t.Fatalf("%v %v", a, err)
	}
}
