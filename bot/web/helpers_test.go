package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
	"github.com/feedbackbot/feedbackbot/store"
)

const testToken = "s3cret-token-for-tests"

// testEnv is a real engine over a real SQLite store, with the Server in
// front of it.
type testEnv struct {
	t    testing.TB
	db   *store.DB
	e    *bot.Engine
	m    *Metrics
	reg  *prometheus.Registry
	srv  *Server
	plat *fakePlatform
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// newEnv opens a fresh SQLite store in t.TempDir() (or the DSN given by
// withDSN) and builds an engine, metrics and server. The config defaults to
// a public board with testToken.
func newEnv(t testing.TB, opts ...func(*Config)) *testEnv {
	t.Helper()
	return newEnvDSN(t, "sqlite:"+filepath.Join(t.TempDir(), "feedbackbot.db"), opts...)
}

func newEnvDSN(t testing.TB, dsn string, opts ...func(*Config)) *testEnv {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ec := bot.DefaultConfig()
	// Status notices off: these tests count the deliveries of releases only
	// (notices have their own tests in bot).
	ec.NotifyStatuses = []bot.Status{}
	e := bot.NewEngine(db, dedup.New(dedup.DefaultConfig()), ec, logger)
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	e.SetMetrics(m)
	plat := &fakePlatform{name: bot.PlatformSlack}
	e.AddPlatform(plat)
	cfg := Config{APIToken: testToken, BoardPublic: true}
	for _, o := range opts {
		o(&cfg)
	}
	return &testEnv{t: t, db: db, e: e, m: m, reg: reg, srv: New(cfg, e, m, logger), plat: plat, logs: logs}
}

// fakePlatform records posts; posting in channel "C-archived" fails for good.
type fakePlatform struct {
	name  string
	mu    sync.Mutex
	posts []bot.OutMessage
}

func (p *fakePlatform) Name() string { return p.name }

func (p *fakePlatform) Post(ctx context.Context, msg bot.OutMessage) (bot.MessageRef, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if msg.Channel == "C-archived" {
		return bot.MessageRef{}, &bot.PermanentError{Err: errors.New("channel_not_found")}
	}
	p.posts = append(p.posts, msg)
	return bot.MessageRef{Platform: p.name, Workspace: msg.Workspace, Channel: msg.Channel, ID: fmt.Sprintf("bot-%d", len(p.posts)), ThreadID: msg.ThreadID}, nil
}

func (p *fakePlatform) Update(ctx context.Context, ref bot.MessageRef, msg bot.OutMessage) error {
	return nil
}

func (p *fakePlatform) threadReplies(text string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, m := range p.posts {
		if m.ThreadID != "" && strings.Contains(m.Text, text) {
			n++
		}
	}
	return n
}

// response is a recorded answer.
type response struct {
	Code   int
	Header http.Header
	Body   string
}

// JSON decodes the body into a generic map.
func (r response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.Body)
	}
	return v
}

// ErrorCode returns error.code of a JSON error body.
func (r response) ErrorCode(t testing.TB) string {
	t.Helper()
	v := r.JSON(t)
	e, ok := v["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %s", r.Body)
	}
	if msg, _ := e["message"].(string); msg == "" {
		t.Errorf("error without a message: %s", r.Body)
	}
	code, _ := e["code"].(string)
	return code
}

type reqOpt func(*http.Request)

func withToken(tok string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

// do serves one request through the Server.
func (env *testEnv) do(method, path, body string, opts ...reqOpt) response {
	env.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(r)
	}
	w := httptest.NewRecorder()
	env.srv.ServeHTTP(w, r)
	return response{Code: w.Code, Header: w.Result().Header, Body: w.Body.String()}
}

// write is an authorised API write.
func (env *testEnv) write(method, path, body string, opts ...reqOpt) response {
	env.t.Helper()
	return env.do(method, path, body, append([]reqOpt{withToken(testToken)}, opts...)...)
}

// mustWrite is write that expects status want and returns the JSON body.
func (env *testEnv) mustWrite(want int, method, path, body string) map[string]any {
	env.t.Helper()
	r := env.write(method, path, body)
	if r.Code != want {
		env.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Code, want, r.Body)
	}
	return r.JSON(env.t)
}

// getJSON is a GET that expects 200 and decodes the body.
func (env *testEnv) getJSON(path string, opts ...reqOpt) map[string]any {
	env.t.Helper()
	r := env.do("GET", path, "", opts...)
	if r.Code != http.StatusOK {
		env.t.Fatalf("GET %s: status %d: %s", path, r.Code, r.Body)
	}
	return r.JSON(env.t)
}

// capture captures a chat message as feedback through the engine.
func (env *testEnv) capture(platform, workspace, channel, id, author, org, text, permalink string) {
	env.t.Helper()
	m := &bot.Message{Platform: platform, Workspace: workspace, Channel: channel, ID: id,
		Author: bot.User{ID: "U-" + author, Name: author, Org: org}, Text: text, Permalink: permalink}
	if _, err := env.e.CaptureMessage(context.Background(), bot.PersonActor(platform, workspace, m.Author), bot.CaptureMessageInput{Message: m, Via: bot.ViaReaction}); err != nil {
		env.t.Fatalf("capture %q: %v", text, err)
	}
}

func (env *testEnv) vote(id int64, user, org string) {
	env.t.Helper()
	a := bot.PersonActor(bot.PlatformSlack, "T1", bot.User{ID: "U-" + user, Name: user, Org: org})
	if _, err := env.e.Vote(context.Background(), a, bot.VoteInput{Request: id}); err != nil {
		env.t.Fatalf("vote: %v", err)
	}
}

var teamLead = bot.PersonActor(bot.PlatformSlack, "T1", bot.User{ID: "U-lead", Name: "lead", Team: true, ReleaseLead: true})

// xssText is a mention that tries to inject markup.
const xssText = `<script>alert("xss")</script><img src=x onerror=alert(1)> Single sign-on with <b>SAML</b>`

// seed fills the board:
//
//	FB-1 Dark mode for the dashboard      open         4 people, 3 organisations (Slack)
//	FB-2 Export reports to CSV            planned      2 people + FB-3 merged in (Discord)
//	FB-3 CSV export for the reports page  merged into FB-2
//	FB-4 <script>… Single sign-on         open         1 person (API capture with a link)
//	FB-5 Keyboard shortcuts for triage    shipped v2.4 FB-6 merged in; one reply delivered, one failed
//	FB-6 Please add keyboard shortcuts    merged into FB-5 (its channel is archived)
//	FB-7 Make the logo bigger             declined
//	FB-8 Offline mode for the mobile app  in_progress
func seed(env *testEnv) {
	env.t.Helper()
	seedWith(env, bot.User{ID: "mallory@example.com", Name: "mallory@example.com", Org: "evil corp"}, xssText)
}

// seedWith is seed with FB-4 captured through the API from author with text.
func seedWith(env *testEnv, author bot.User, text string) {
	t := env.t
	t.Helper()
	ctx := context.Background()
	env.capture("slack", "T1", "C01", "1700000000.000100", "alice", "acme", "Dark mode for the dashboard\nOur support team works nights and the white dashboard is blinding.", "https://acme.slack.com/archives/C01/p1700000000000100")
	env.vote(1, "bob", "acme")
	env.vote(1, "carol", "globex")
	env.vote(1, "dave", "initech")
	env.capture("discord", "G1", "C2", "1100000000000000002", "erin", "guild-1", "Export reports to CSV\nWe paste the weekly report into spreadsheets by hand.", "https://discord.com/channels/G1/C2/1100000000000000002")
	env.vote(2, "frank", "acme")
	env.capture("slack", "T1", "C01", "1700000000.000300", "grace", "globex", "CSV export for the reports page", "https://acme.slack.com/archives/C01/p1700000000000300")
	if _, err := env.e.Merge(ctx, teamLead, bot.MergeInput{Request: 3, Into: 2}); err != nil {
		t.Fatalf("merge: %v", err)
	}
	if _, err := env.e.CaptureText(ctx, bot.PersonActor(bot.PlatformAPI, "email", author), bot.CaptureTextInput{
		Where: bot.Message{Platform: bot.PlatformAPI, Workspace: "email", Permalink: "https://support.example.com/tickets/42"}, Text: text}); err != nil {
		t.Fatalf("capture api: %v", err)
	}
	env.capture("slack", "T1", "C01", "1700000000.000500", "heidi", "acme", "Keyboard shortcuts for triage", "https://acme.slack.com/archives/C01/p1700000000000500")
	env.capture("slack", "T1", "C-archived", "1700000000.000501", "ivan", "umbrella", "Please add keyboard shortcuts, j/k to move", "https://acme.slack.com/archives/C-archived/p1700000000000501")
	// Attach ivan's message to FB-5 (it became FB-6: merge it in).
	if _, err := env.e.Merge(ctx, teamLead, bot.MergeInput{Request: 6, Into: 5}); err != nil {
		t.Fatalf("merge: %v", err)
	}
	if _, err := env.e.SetStatus(ctx, teamLead, bot.SetStatusInput{Request: 2, Status: bot.StatusPlanned, Note: "Next quarter"}); err != nil {
		t.Fatalf("status: %v", err)
	}
	if _, err := env.e.Release(ctx, teamLead, bot.ReleaseCommand{Action: bot.ActionShipped, Keys: []string{"FB-5"}, Version: "v2.4", Note: "Press ? for the list."}); err != nil {
		t.Fatalf("release: %v", err)
	}
	if err := env.e.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	env.capture("slack", "T1", "C01", "1700000000.000700", "judy", "acme", "Make the logo bigger", "")
	if _, err := env.e.SetStatus(ctx, teamLead, bot.SetStatusInput{Request: 7, Status: bot.StatusDeclined, Note: "We like it small."}); err != nil {
		t.Fatalf("status: %v", err)
	}
	env.capture("discord", "G1", "C2", "1100000000000000008", "ken", "guild-1", "Offline mode for the mobile app", "https://discord.com/channels/G1/C2/1100000000000000008")
	if _, err := env.e.SetStatus(ctx, teamLead, bot.SetStatusInput{Request: 8, Status: bot.StatusInProgress}); err != nil {
		t.Fatalf("status: %v", err)
	}
}

// tokenLogin logs in with the API token and returns the session cookie
// ("name=value").
func (env *testEnv) tokenLogin() string {
	env.t.Helper()
	r := env.do("POST", "/login", "token="+testToken+"&next=/", withHeader("Content-Type", "application/x-www-form-urlencoded"))
	if r.Code != http.StatusSeeOther {
		env.t.Fatalf("token login: %d %s", r.Code, r.Body)
	}
	c := strings.Split(r.Header.Get("Set-Cookie"), ";")[0]
	if !strings.HasPrefix(c, sessionCookie+"=") {
		env.t.Fatalf("token login set no session cookie: %q", r.Header.Get("Set-Cookie"))
	}
	return c
}

// csrfOf returns the CSRF token in a page's forms.
func csrfOf(t testing.TB, body string) string {
	t.Helper()
	const marker = `name="csrf" value="`
	i := strings.Index(body, marker)
	if i < 0 {
		t.Fatalf("page has no CSRF field:\n%s", body)
	}
	rest := body[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}
