package slack_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
	fbslack "github.com/feedbackbot/feedbackbot/bot/slack"
	"github.com/feedbackbot/feedbackbot/commands"
	"github.com/feedbackbot/feedbackbot/internal/slacktest"
	"github.com/feedbackbot/feedbackbot/store"
	"github.com/slack-go/slack"
)

// End-to-end: the real engine, commands and SQLite store behind the adapter,
// the real slack-go client against the fake Slack, in both modes.

// transport delivers payloads to the bot the way Slack does in one mode.
type transport interface {
	event(t *testing.T, payload []byte)
	retry(t *testing.T, payload []byte) // the same delivery again
	command(t *testing.T, cmd slack.SlashCommand)
	interaction(t *testing.T, payload []byte)
	// submit delivers a view_submission and returns the bot's answer.
	submit(t *testing.T, payload []byte) []byte
}

type socketTransport struct{ f *slacktest.Server }

func (s socketTransport) send(t *testing.T, typ string, payload []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := s.f.WaitAck(ctx, s.f.Send(typ, payload)); err != nil {
		t.Fatalf("envelope not acked: %v", err)
	}
}
func (s socketTransport) event(t *testing.T, p []byte) { s.send(t, slacktest.EnvelopeEventsAPI, p) }
func (s socketTransport) retry(t *testing.T, p []byte) { s.send(t, slacktest.EnvelopeEventsAPI, p) }
func (s socketTransport) command(t *testing.T, c slack.SlashCommand) {
	b, _ := json.Marshal(c)
	s.send(t, slacktest.EnvelopeSlashCmd, b)
}
func (s socketTransport) interaction(t *testing.T, p []byte) {
	s.send(t, slacktest.EnvelopeInteractive, p)
}
func (s socketTransport) submit(t *testing.T, p []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	id := s.f.Send(slacktest.EnvelopeInteractive, p)
	if err := s.f.WaitAck(ctx, id); err != nil {
		t.Fatalf("envelope not acked: %v", err)
	}
	b, _ := s.f.AckPayload(id)
	return b
}

type httpTransport struct{ s *slacktest.HTTPSender }

func check(t *testing.T, code int, err error) {
	t.Helper()
	if err != nil || code != http.StatusOK {
		t.Fatalf("delivery: status %d, err %v", code, err)
	}
}
func (h httpTransport) event(t *testing.T, p []byte) {
	code, err := h.s.Event(context.Background(), p)
	check(t, code, err)
}
func (h httpTransport) retry(t *testing.T, p []byte) {
	code, err := h.s.EventRetry(context.Background(), p, 1)
	check(t, code, err)
}
func (h httpTransport) command(t *testing.T, c slack.SlashCommand) {
	code, err := h.s.Command(context.Background(), c)
	check(t, code, err)
}
func (h httpTransport) submit(t *testing.T, p []byte) []byte {
	t.Helper()
	code, body, err := h.s.InteractionResponse(context.Background(), p)
	check(t, code, err)
	return body
}
func (h httpTransport) interaction(t *testing.T, p []byte) {
	code, err := h.s.Interaction(context.Background(), p)
	check(t, code, err)
}

// counter wraps the engine and counts the events it receives.
type counter struct {
	h  fbslack.Handler
	mu sync.Mutex
	n  map[string]int // kind + " " + message id
}

func (c *counter) Handle(ctx context.Context, ev *bot.Event) (*bot.Response, error) {
	c.mu.Lock()
	id := ""
	if ev.Message != nil {
		id = ev.Message.ID
	}
	c.n[string(ev.Kind)+" "+id]++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.n["done "+string(ev.Kind)+" "+id]++
		c.mu.Unlock()
	}()
	return c.h.Handle(ctx, ev)
}

// handled counts the events of kind on message id the engine finished.
func (c *counter) handled(kind bot.EventKind, id string) int {
	return c.count("done "+kind, id)
}

func (c *counter) count(kind bot.EventKind, id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[string(kind)+" "+id]
}

type harness struct {
	f   *slacktest.Server
	eng *bot.Engine
	db  *store.DB
	cnt *counter
	tr  transport
}

func newHarness(t *testing.T, socket bool) *harness {
	t.Helper()
	return newHarnessWith(t, socket, nil, io.Discard)
}

// newHarnessWith is newHarness with another duplicate scorer (nil: the
// real index), the engine's and adapter's logs written to logw, and opts
// applied to the adapter's configuration.
func newHarnessWith(t *testing.T, socket bool, scorer bot.Scorer, logw io.Writer, opts ...func(*fbslack.Config)) *harness {
	t.Helper()
	return newHarnessOn(t, socket, scorer, logw, "sqlite:"+filepath.Join(t.TempDir(), "fb.db"), nil, opts...)
}

// newHarnessOn is newHarnessWith on the database dsn, with the engine's
// configuration changed by mod (when not nil).
func newHarnessOn(t *testing.T, socket bool, scorer bot.Scorer, logw io.Writer, dsn string, mod func(*bot.Config), opts ...func(*fbslack.Config)) *harness {
	t.Helper()
	// Slack expires a trigger_id after 3 s (the fake's default); the bot
	// opens views at once, but a loaded CI machine must not fail the test.
	f := slacktest.New(slacktest.Options{Methods: e2eMethods(t), PingInterval: 500 * time.Millisecond, TriggerTTL: 30 * time.Second})
	f.AddUser(slacktest.User{ID: "U1", Name: "alice", DisplayName: "Alice"})
	f.AddUser(slacktest.User{ID: "U2", Name: "gus", DisplayName: "Gus Guest", Restricted: true})
	f.AddUser(slacktest.User{ID: "U4", Name: "erin", DisplayName: "Erin", TeamID: "TOTHER"})
	f.AddUser(slacktest.User{ID: "U5", Name: "lena", DisplayName: "Lena Lead"})

	ctx, cancel := context.WithCancel(context.Background())
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(logw, nil))
	cfg := bot.DefaultConfig()
	cfg.SuggestThreshold = dedup.DefaultSuggestThreshold
	cfg.DeliveryPoll = 50 * time.Millisecond
	cfg.IndexPoll = 0
	if scorer == nil {
		scorer = dedup.New(dedup.DefaultConfig())
	}
	if mod != nil {
		mod(&cfg)
	}
	eng := bot.NewEngine(db, scorer, cfg, log)
	eng.SetCommands(commands.New(eng))
	cnt := &counter{h: eng, n: map[string]int{}}

	o := f.Options()
	// FormTimeout: a loaded test machine must not turn a slow save into a
	// refusal (the product answers within Slack's 3 s by default).
	acfg := fbslack.Config{BotToken: o.BotToken, APIURL: f.APIURL(), SigningSecret: "s3cret", ReleaseLeads: []string{"U5"}, Logger: log, FormTimeout: 30 * time.Second, BoardURL: "https://feedback.example.com"}
	if socket {
		acfg.AppToken = o.AppToken
	}
	for _, opt := range opts {
		opt(&acfg)
	}
	a, err := fbslack.New(acfg, cnt)
	if err != nil {
		t.Fatal(err)
	}
	eng.AddPlatform(a)
	if err := eng.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = eng.Run(ctx) })
	wg.Go(func() {
		if err := a.Run(ctx); err != nil {
			t.Errorf("adapter Run: %v", err)
		}
	})
	h := &harness{f: f, eng: eng, db: db, cnt: cnt}
	var srv *httptest.Server
	if socket {
		h.tr = socketTransport{f}
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		defer wcancel()
		if err := f.WaitConnections(wctx, 1); err != nil {
			t.Fatal(err)
		}
	} else {
		mux := http.NewServeMux()
		a.Routes(mux)
		srv = httptest.NewServer(mux)
		h.tr = httpTransport{&slacktest.HTTPSender{BaseURL: srv.URL, Secret: "s3cret"}}
	}
	t.Cleanup(func() {
		cancel()
		stopped := make(chan struct{})
		go func() { wg.Wait(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(20 * time.Second):
			t.Error("engine or adapter Run did not return 20s after cancel")
		}
		if srv != nil {
			srv.Close()
		}
		db.Close()
		f.Close()
		if v := f.Violations(); len(v) > 0 {
			t.Errorf("fake Slack violations:\n%s", strings.Join(v, "\n"))
		}
	})
	return h
}

// e2eMethods validates against ../shared's spec: outside CI the embedded
// table is used when ../shared is absent; in CI (CI=true) that fails.
func e2eMethods(t *testing.T) map[string]slacktest.MethodSpec {
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

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// threadPosts are the bot's posts in a thread.
func (h *harness) threadPosts(channel, thread string) []slacktest.Message {
	var out []slacktest.Message
	for _, p := range h.f.Posts() {
		if p.Channel == channel && p.ThreadTS == thread {
			out = append(out, p)
		}
	}
	return out
}

func (h *harness) postsContaining(channel, thread, text string) []slacktest.Message {
	var out []slacktest.Message
	for _, p := range h.threadPosts(channel, thread) {
		if strings.Contains(p.Text, text) {
			out = append(out, p)
		}
	}
	return out
}

// respond runs a slash command and returns the reply sent to its
// response_url.
func (h *harness) respond(t *testing.T, user, channel, text string) string {
	t.Helper()
	cmd := h.f.SlashCommand(user, channel, text)
	h.tr.command(t, cmd)
	return h.responseTo(t, cmd.ResponseURL)
}

func (h *harness) responseTo(t *testing.T, url string) string {
	t.Helper()
	var got string
	eventually(t, "reply on "+url, func() bool {
		for _, r := range h.f.Responses() {
			if r.URL == url {
				got = r.Text
				return true
			}
		}
		return false
	})
	return got
}

func (h *harness) demand(t *testing.T, id int64) int {
	t.Helper()
	d, err := h.eng.Detail(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d.Request.Demand
}

func TestEndToEnd(t *testing.T) {
	for _, mode := range []struct {
		name   string
		socket bool
	}{{"SocketMode", true}, {"HTTPMode", false}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			runFlows(t, newHarness(t, mode.socket))
		})
	}
}

func runFlows(t *testing.T, h *harness) {
	f := h.f
	for _, ch := range []string{"C1", "C2"} {
		if got := h.respond(t, "U1", ch, "watch"); !strings.Contains(strings.ToLower(got), "watch") {
			t.Fatalf("watch %s: %q", ch, got)
		}
	}
	if got := h.respond(t, "U2", "C1", "unwatch"); !strings.Contains(got, "Only team members") {
		t.Fatalf("guest unwatch: %q", got)
	}

	// A message in a watched channel becomes FB-1, with its permalink.
	m1 := f.NewMessage("C1", "U1", "Please add a dark mode to the dashboard", "")
	h.tr.event(t, f.MessageEvent(m1))
	eventually(t, "card for FB-1", func() bool { return len(h.postsContaining("C1", m1.TS, "FB-1")) == 1 })
	d, err := h.eng.Detail(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Mentions) != 1 {
		t.Fatalf("mentions = %d", len(d.Mentions))
	}
	if mn := d.Mentions[0]; mn.Permalink != f.Permalink("C1", m1.TS, "") || mn.AuthorName != "Alice" || mn.Platform != "slack" || mn.Workspace != "T0FAKE" || mn.MessageID != m1.TS {
		t.Fatalf("mention = %+v", mn)
	}

	// A duplicate from an external user gets a suggestion with buttons.
	m2 := f.NewMessage("C2", "U4", "Dark mode for the dashboard, please", "")
	h.tr.event(t, f.MessageEvent(m2))
	var sugg slacktest.Message
	eventually(t, "suggestion", func() bool {
		ps := h.postsContaining("C2", m2.TS, "FB-2")
		if len(ps) == 1 {
			sugg = ps[0]
		}
		return len(ps) == 1
	})
	// (A person cannot click before the bot has recorded the message.)
	eventually(t, "m2 handled", func() bool { return h.cnt.handled(bot.EventMessage, m2.TS) == 1 })
	var mergeID string
	for _, b := range sugg.Buttons {
		if strings.HasPrefix(b.ActionID, "merge:") && strings.HasSuffix(b.ActionID, ":1") {
			mergeID = b.ActionID
		}
	}
	if mergeID == "" {
		t.Fatalf("no merge button in %+v", sugg)
	}

	// A guest's click is refused and changes nothing.
	click := f.BlockAction("U2", "C2", sugg.TS, mergeID)
	h.tr.interaction(t, click)
	if got := h.responseTo(t, responseURLOf(t, click)); !strings.Contains(got, "Only team members") {
		t.Fatalf("guest click: %q", got)
	}
	if n := len(f.Updates()); n != 0 {
		t.Fatalf("%d updates after a guest click", n)
	}

	// A team member's click merges and edits the suggestion message.
	h.tr.interaction(t, f.BlockAction("U1", "C2", sugg.TS, mergeID))
	eventually(t, "chat.update of the suggestion", func() bool {
		for _, u := range f.Updates() {
			if u.TS == sugg.TS && strings.Contains(u.Text, "Alice") {
				return true
			}
		}
		return false
	})
	if got := h.demand(t, 1); got != 2 {
		t.Fatalf("demand after merge = %d", got)
	}

	// 👍 votes, removing it unvotes.
	h.tr.event(t, f.ReactionEvent(true, "U5", "+1::skin-tone-2", "C1", m1.TS))
	eventually(t, "vote", func() bool { return h.demand(t, 1) == 3 })
	h.tr.event(t, f.ReactionEvent(false, "U5", "+1", "C1", m1.TS))
	eventually(t, "unvote", func() bool { return h.demand(t, 1) == 2 })

	// An event delivered twice is processed once.
	m3 := f.NewMessage("C1", "U1", "Export reports as CSV files", "")
	p3 := f.MessageEvent(m3)
	h.tr.event(t, p3)
	h.tr.retry(t, p3)
	eventually(t, "card for m3", func() bool { return len(h.threadPosts("C1", m3.TS)) == 1 })
	time.Sleep(200 * time.Millisecond)
	if n := h.cnt.count(bot.EventMessage, m3.TS); n != 1 {
		t.Fatalf("m3 handled %d times", n)
	}

	// Only a release lead ships.
	if got := h.respond(t, "U1", "C1", "ship FB-1 v1.2"); !strings.Contains(got, "Only release leads") {
		t.Fatalf("ship by non-lead: %q", got)
	}
	// Ship: one reply per subscribed thread; the first attempt in m1's
	// thread is rate limited and retried after Retry-After.
	f.RateLimitMatching("chat.postMessage", 1, time.Second, func(p url.Values) bool { return p.Get("thread_ts") == m1.TS })
	h.respond(t, "U5", "C1", "ship FB-1 v1.2")
	shipped := "Shipped in v1.2"
	eventually(t, "ship replies", func() bool {
		return len(h.postsContaining("C1", m1.TS, shipped)) == 1 && len(h.postsContaining("C2", m2.TS, shipped)) == 1
	})
	var limitedAt, deliveredAt time.Time
	for _, c := range f.Calls() {
		if c.Method != "chat.postMessage" || c.Params.Get("thread_ts") != m1.TS || !strings.Contains(c.Params.Get("text"), shipped) {
			continue
		}
		if c.Status == http.StatusTooManyRequests {
			limitedAt = c.At
		} else if c.Error == "" {
			deliveredAt = c.At
		}
	}
	if limitedAt.IsZero() || deliveredAt.Sub(limitedAt) < 900*time.Millisecond {
		t.Fatalf("429 at %v, delivered at %v: Retry-After not honoured", limitedAt, deliveredAt)
	}

	// Rollback replies in the same threads.
	h.respond(t, "U5", "C1", "rollback FB-1 v1.2")
	eventually(t, "rollback replies", func() bool {
		return len(h.postsContaining("C1", m1.TS, "rolled back")) == 1 && len(h.postsContaining("C2", m2.TS, "rolled back")) == 1
	})
	time.Sleep(1500 * time.Millisecond) // nothing more arrives
	for _, th := range []struct{ ch, ts string }{{"C1", m1.TS}, {"C2", m2.TS}} {
		if n := len(h.postsContaining(th.ch, th.ts, shipped)); n != 1 {
			t.Fatalf("%d ship replies in %s/%s", n, th.ch, th.ts)
		}
		if n := len(h.postsContaining(th.ch, th.ts, "rolled back")); n != 1 {
			t.Fatalf("%d rollback replies in %s/%s", n, th.ch, th.ts)
		}
	}
}

func responseURLOf(t *testing.T, payload []byte) string {
	t.Helper()
	var v struct {
		ResponseURL string `json:"response_url"`
	}
	if err := json.Unmarshal(payload, &v); err != nil {
		t.Fatal(err)
	}
	return v.ResponseURL
}
