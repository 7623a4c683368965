package bot_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/console"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
	"github.com/feedbackbot/feedbackbot/commands"
	"github.com/feedbackbot/feedbackbot/store"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// transcript is the console's output, safe to read while the bot writes.
type transcript struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *transcript) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *transcript) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// answers are the lines meant for one person ("→ name: …").
func (w *transcript) answers(name string) []string {
	var out []string
	for _, l := range strings.Split(w.String(), "\n") {
		if strings.HasPrefix(l, "→ "+name+": ") {
			out = append(out, l)
		}
	}
	return out
}

var cardLine = regexp.MustCompile(`(?m)^\[\d+\] #\S+ ↳(\d+) feedbackbot: 📌 `)

// cards counts the request cards posted in each thread, by root number.
func (w *transcript) cards() map[string]int {
	out := map[string]int{}
	for _, m := range cardLine.FindAllStringSubmatch(w.String(), -1) {
		out[m[1]]++
	}
	return out
}

// consoleBot is the engine with commands behind a console, on db.
type consoleBot struct {
	e    *bot.Engine
	con  *console.Adapter
	out  *transcript
	db   *store.DB
	wait time.Duration
}

func newConsoleBot(t *testing.T, db *store.DB, cfg bot.Config) *consoleBot {
	t.Helper()
	e := bot.NewEngine(db, dedup.New(dedup.DefaultConfig()), cfg, nil)
	e.SetCommands(commands.New(e))
	out := &transcript{}
	con := console.New(console.Config{Out: out, In: strings.NewReader("")}, e)
	e.AddPlatform(con)
	if _, err := db.SetChannel(context.Background(), bot.ChannelSetting{Platform: bot.PlatformConsole, Workspace: console.DefaultWorkspace, Channel: "ideas", Kind: bot.ChannelWatch}, true); err != nil {
		t.Fatal(err)
	}
	return &consoleBot{e: e, con: con, out: out, db: db}
}

// line types one console line; a line never waits for long on a database
// that does not answer (the flush after it waits at most wait).
func (b *consoleBot) line(s string) {
	wait := b.wait
	if wait == 0 {
		wait = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	b.con.Line(ctx, s)
}

func (b *consoleBot) mentionIn(channel string, n int) (*bot.Mention, error) {
	return b.db.FindMentionByMessage(context.Background(), bot.PlatformConsole, console.DefaultWorkspace, channel, fmt.Sprint(n))
}

func (b *consoleBot) total(t *testing.T) int {
	t.Helper()
	_, n, err := b.db.FindRequests(context.Background(), bot.RequestFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// outageLines are captures of every kind typed while the database is away:
// 1 a watched-channel message, 2 a /feedback command, 3 a mention, 4 a
// message in an unwatched channel that erin captures with a reaction, 5 one
// she captures with the shortcut, 6 a reply in the thread of 1. Eight
// events are kept: the messages in the unwatched channel too, since whether
// it is watched cannot be read.
var outageLines = []string{
	"#ideas",
	"alice: Please add a dark mode to the dashboard",
	"bob: /feedback Export every report as a CSV file",
	"carol: @feedbackbot offline mode for the mobile app would be great",
	"#general",
	"dave: single sign-on with Okta is what we need",
	"erin: react 4 :bulb:",
	"frank: keyboard shortcuts for the board view",
	"erin: capture 5",
	"#ideas",
	"gina: reply 1 yes, a dark mode please, my eyes hurt",
}

// checkOutageCaptured checks that every capture of outageLines is stored
// once, with one card each, and that nobody was told anything.
func checkOutageCaptured(t *testing.T, b *consoleBot) {
	t.Helper()
	want := map[int]string{1: "ideas", 2: "ideas", 3: "ideas", 4: "general", 5: "general", 6: "ideas"}
	for n, ch := range want {
		if _, err := b.mentionIn(ch, n); err != nil {
			t.Errorf("message %d in #%s not stored: %v", n, ch, err)
		}
	}
	if got := b.total(t); got != 5 {
		t.Errorf("%d requests, want 5 (the reply joins message 1's)", got)
	}
	m1, err1 := b.mentionIn("ideas", 1)
	m6, err6 := b.mentionIn("ideas", 6)
	if err1 == nil && err6 == nil && m1.RequestID != m6.RequestID {
		t.Errorf("reply 6 joined request %d, want %d (its thread's)", m6.RequestID, m1.RequestID)
	}
	cards := b.out.cards()
	for _, root := range []string{"1", "2", "3", "4", "5"} {
		if cards[root] != 1 {
			t.Errorf("%d cards in the thread of %s, want 1\n%s", cards[root], root, b.out)
		}
	}
	for _, who := range []string{"alice", "bob", "carol", "dave", "erin", "frank", "gina"} {
		if a := b.out.answers(who); len(a) > 0 {
			t.Errorf("%s was told %q, want nothing", who, a)
		}
	}
}

// A database cut for a while (every connection closed, new ones refused):
// everything typed in the console meanwhile is stored once when it is back,
// with one card each, and nobody is told anything. Before the pending
// queue each capture was answered "try again in a moment" and lost.
func TestPending_PostgresCut(t *testing.T) {
	dsn, proxy := viaProxy(t, storetest.PostgresDSN(t))
	cfg := bot.DefaultConfig()
	cfg.CaptureRetryBackoff = 20 * time.Millisecond
	cfg.CommandTimeout = 10 * time.Second
	b := newConsoleBot(t, openDB(t, dsn), cfg)

	proxy.cut()
	for _, l := range outageLines {
		b.line(l)
	}
	if n := b.e.PendingCaptures(); n != 8 {
		t.Fatalf("%d captures kept, want 8\n%s", n, b.out)
	}
	proxy.restore()
	waitFor(t, "the kept captures stored", time.Minute, func() bool { return b.e.PendingCaptures() == 0 })
	checkOutageCaptured(t, b)
}

// A database that stops answering (connections accepted, nothing said) for
// a while: the same, and what the frozen database received is still
// executed when it thaws, so some captures are committed though the bot
// gave up waiting for them. Their retry finds them captured and stores
// nothing twice, and each card shows once.
func TestPending_PostgresFrozen(t *testing.T) {
	dsn, proxy := storetest.ViaFreezeProxy(t, storetest.PostgresDSN(t))
	cfg := bot.DefaultConfig()
	cfg.CaptureRetryBackoff = 20 * time.Millisecond
	// Each event waits this long on the frozen database.
	cfg.CommandTimeout = 2 * time.Second
	b := newConsoleBot(t, openDB(t, dsn), cfg)
	b.wait = 3 * time.Second

	proxy.Freeze()
	for _, l := range outageLines {
		b.line(l)
	}
	proxy.Thaw()
	waitFor(t, "the kept captures stored", time.Minute, func() bool { return b.e.PendingCaptures() == 0 })
	checkOutageCaptured(t, b)
}

// An outage longer than the retry window: each person is told once that
// their capture was not saved, and nothing is stored for it, also after
// the database is back.
func TestPending_OutageOutlastsWindow(t *testing.T) {
	dsn, proxy := viaProxy(t, storetest.PostgresDSN(t))
	cfg := bot.DefaultConfig()
	cfg.CaptureRetryBackoff = 20 * time.Millisecond
	cfg.CaptureRetryWindow = time.Second
	b := newConsoleBot(t, openDB(t, dsn), cfg)

	// The bot has read #ideas's settings before the outage (it reads them
	// for every message): it knows the channel is watched.
	b.line("#ideas")
	b.line("zoe: a calendar view of the roadmap") // 1, and its card 2
	proxy.cut()
	for _, l := range []string{
		"alice: Please add a dark mode to the dashboard",
		"bob: /feedback Export every report as a CSV file",
		"#general",
		"dave: single sign-on with Okta is what we need",
		"erin: react 5 :bulb:",
	} {
		b.line(l)
	}
	waitFor(t, "the captures given up", time.Minute, func() bool { return b.e.PendingCaptures() == 0 })
	proxy.restore()
	// (With a window this short, a capture that met a connection the pool
	// has not yet found broken could be given up too.)
	waitFor(t, "the database back", time.Minute, func() bool { return b.db.Ping(context.Background()) == nil })
	// A capture after the outage is stored; by then the given-up ones
	// would have been too.
	b.line("#ideas")
	b.line("frank: keyboard shortcuts for the board view")
	defer func() {
		if t.Failed() {
			t.Log(b.out)
		}
	}()
	waitFor(t, "the capture after the outage", time.Minute, func() bool {
		_, err := b.mentionIn("ideas", 6)
		return err == nil
	})
	for _, who := range []string{"alice", "bob", "erin"} {
		a := b.out.answers(who)
		if len(a) == 0 {
			t.Errorf("%s was not told\n%s", who, b.out)
			continue
		}
		if len(a) != 1 || !strings.Contains(a[0], "Not saved") || !strings.Contains(a[0], "try again") {
			t.Errorf("%s was told %q, want one \"Not saved … try again\"", who, a)
		}
	}
	if a := b.out.answers("dave"); len(a) > 0 {
		t.Errorf("dave (whose message was not captured) was told %q", a)
	}
	if got := b.total(t); got != 2 {
		t.Errorf("%d requests, want only the ones before and after the outage", got)
	}
	for n, ch := range map[int]string{3: "ideas", 4: "ideas", 5: "general"} {
		if _, err := b.mentionIn(ch, n); bot.ErrorCode(err) != bot.ENOTFOUND {
			t.Errorf("message %d: %v, want not stored", n, err)
		}
	}
}

// With the queue full, one more capture is refused at once and its person
// told, as before there was a queue; the kept ones are stored.
func TestPending_QueueFull(t *testing.T) {
	dsn, proxy := viaProxy(t, storetest.PostgresDSN(t))
	cfg := bot.DefaultConfig()
	cfg.CaptureRetryBackoff = 20 * time.Millisecond
	cfg.CaptureRetryLimit = 2
	b := newConsoleBot(t, openDB(t, dsn), cfg)

	proxy.cut()
	for _, l := range []string{
		"#ideas",
		"alice: Please add a dark mode to the dashboard",
		"bob: Export every report as a CSV file",
		"carol: offline mode for the mobile app would be great",
	} {
		b.line(l)
	}
	if a := b.out.answers("carol"); len(a) != 1 || !strings.Contains(a[0], "try again") {
		t.Fatalf("carol, over the limit, was told %q, want the database's error", a)
	}
	proxy.restore()
	waitFor(t, "the kept captures stored", time.Minute, func() bool { return b.e.PendingCaptures() == 0 })
	for _, n := range []int{1, 2} {
		if _, err := b.mentionIn("ideas", n); err != nil {
			t.Errorf("kept message %d: %v", n, err)
		}
	}
	if len(b.out.answers("alice"))+len(b.out.answers("bob")) > 0 {
		t.Errorf("a kept capture's person was told something:\n%s", b.out)
	}
}

// flakyStore is SQLite that can be made unavailable (every capture write
// and channel read answers EUNAVAILABLE, writing nothing) or made to lose
// the answer of its next capture (committed, then EUNAVAILABLE).
type flakyStore struct {
	*store.DB
	down     atomic.Bool
	loseNext atomic.Int32
}

var errDown = bot.Errorf(bot.EUNAVAILABLE, "The database is unavailable; try again in a moment.")

func (s *flakyStore) ChannelKinds(ctx context.Context, platform, workspace, channel string) ([]string, error) {
	if s.down.Load() {
		return nil, errDown
	}
	return s.DB.ChannelKinds(ctx, platform, workspace, channel)
}

func (s *flakyStore) CreateRequest(ctx context.Context, r *bot.Request, m *bot.Mention) error {
	if s.down.Load() {
		return errDown
	}
	if err := s.DB.CreateRequest(ctx, r, m); err != nil {
		return err
	}
	if s.loseNext.Add(-1) >= 0 {
		return fmt.Errorf("commit: %w", errDown)
	}
	return nil
}

func (s *flakyStore) AddMention(ctx context.Context, m *bot.Mention) error {
	if s.down.Load() {
		return errDown
	}
	return s.DB.AddMention(ctx, m)
}

// The same on SQLite, made unavailable for a while.
func TestPending_SQLiteUnavailable(t *testing.T) {
	fs := &flakyStore{DB: openDB(t, storetest.SQLiteDSN(t))}
	cfg := bot.DefaultConfig()
	cfg.CaptureRetryBackoff = 20 * time.Millisecond
	e := bot.NewEngine(fs, dedup.New(dedup.DefaultConfig()), cfg, nil)
	e.SetCommands(commands.New(e))
	out := &transcript{}
	con := console.New(console.Config{Out: out, In: strings.NewReader("")}, e)
	e.AddPlatform(con)
	if _, err := fs.SetChannel(context.Background(), bot.ChannelSetting{Platform: bot.PlatformConsole, Workspace: console.DefaultWorkspace, Channel: "ideas", Kind: bot.ChannelWatch}, true); err != nil {
		t.Fatal(err)
	}
	b := &consoleBot{e: e, con: con, out: out, db: fs.DB}
	fs.down.Store(true)
	for _, l := range outageLines {
		b.line(l)
	}
	if n := e.PendingCaptures(); n != 8 {
		t.Fatalf("%d captures kept, want 8\n%s", n, out)
	}
	fs.down.Store(false)
	waitFor(t, "the kept captures stored", time.Minute, func() bool { return e.PendingCaptures() == 0 })
	checkOutageCaptured(t, b)
}

// A capture whose commit succeeded but whose answer was lost is kept like
// any other; its retry finds the message captured by itself and finishes
// it: one request, one card, nobody told anything.
func TestPending_LostCommitAnswer(t *testing.T) {
	for _, kind := range []string{"message", "command", "reaction"} {
		t.Run(kind, func(t *testing.T) {
			fs := &flakyStore{DB: openDB(t, storetest.SQLiteDSN(t))}
			cfg := bot.DefaultConfig()
			cfg.CaptureRetryBackoff = 20 * time.Millisecond
			e := bot.NewEngine(fs, dedup.New(dedup.DefaultConfig()), cfg, nil)
			e.SetCommands(commands.New(e))
			out := &transcript{}
			con := console.New(console.Config{Out: out, In: strings.NewReader("")}, e)
			e.AddPlatform(con)
			if _, err := fs.SetChannel(context.Background(), bot.ChannelSetting{Platform: bot.PlatformConsole, Workspace: console.DefaultWorkspace, Channel: "ideas", Kind: bot.ChannelWatch}, true); err != nil {
				t.Fatal(err)
			}
			b := &consoleBot{e: e, con: con, out: out, db: fs.DB}
			channel, root := "ideas", "1"
			switch kind {
			case "message":
				fs.loseNext.Store(1)
				b.line("#ideas")
				b.line("alice: Please add a dark mode to the dashboard")
			case "command":
				fs.loseNext.Store(1)
				b.line("#ideas")
				b.line("alice: /feedback Please add a dark mode to the dashboard")
			case "reaction":
				channel = "general"
				b.line("alice: Please add a dark mode to the dashboard")
				fs.loseNext.Store(1)
				b.line("erin: react 1 :bulb:")
			}
			waitFor(t, "the kept capture stored", time.Minute, func() bool { return e.PendingCaptures() == 0 })
			if _, err := b.mentionIn(channel, 1); err != nil {
				t.Fatalf("not stored: %v\n%s", err, out)
			}
			if got := b.total(t); got != 1 {
				t.Errorf("%d requests, want 1", got)
			}
			if n := out.cards()[root]; n != 1 {
				t.Errorf("%d cards, want 1\n%s", n, out)
			}
			if a := append(out.answers("alice"), out.answers("erin")...); len(a) > 0 {
				t.Errorf("told %q, want nothing", a)
			}
		})
	}
}

// With keeping turned off (a negative window) a capture that meets the
// database away is refused at once, as before.
func TestPending_Off(t *testing.T) {
	fs := &flakyStore{DB: openDB(t, storetest.SQLiteDSN(t))}
	cfg := bot.DefaultConfig()
	cfg.CaptureRetryWindow = -1
	e := bot.NewEngine(fs, dedup.New(dedup.DefaultConfig()), cfg, nil)
	fs.down.Store(true)
	_, err := e.Handle(context.Background(), &bot.Event{Kind: bot.EventMessage, Platform: "test", Workspace: "w", Channel: "ideas",
		Message: &bot.Message{Platform: "test", Workspace: "w", Channel: "ideas", ID: "m1", Text: "dark mode"}})
	if !errors.Is(err, errDown) {
		t.Fatalf("Handle = %v, want the database's error", err)
	}
	if n := e.PendingCaptures(); n != 0 {
		t.Fatalf("%d kept", n)
	}
}

// With a spool file, what the pending queue holds survives a restart: the
// process that kept the captures stops (here: it would not retry for an
// hour), a new one opens the same file and stores them once the database
// is back, once each with one card, and nobody is told anything; the file
// is then empty. A line cut short by a crash is skipped.
func TestPending_SpoolSurvivesRestart(t *testing.T) {
	fs := &flakyStore{DB: openDB(t, storetest.SQLiteDSN(t))}
	if _, err := fs.SetChannel(context.Background(), bot.ChannelSetting{Platform: bot.PlatformConsole, Workspace: console.DefaultWorkspace, Channel: "ideas", Kind: bot.ChannelWatch}, true); err != nil {
		t.Fatal(err)
	}
	spool := filepath.Join(t.TempDir(), "pending.jsonl")
	start := func(backoff time.Duration, last int64) *consoleBot {
		cfg := bot.DefaultConfig()
		cfg.CaptureRetryBackoff = backoff
		e := bot.NewEngine(fs, dedup.New(dedup.DefaultConfig()), cfg, nil)
		e.SetCommands(commands.New(e))
		out := &transcript{}
		con := console.New(console.Config{Out: out, In: strings.NewReader(""), LastNumber: last}, e)
		e.AddPlatform(con)
		return &consoleBot{e: e, con: con, out: out, db: fs.DB}
	}

	first := start(time.Hour, 0)
	if n, err := first.e.OpenCaptureSpool(spool); err != nil || n != 0 {
		t.Fatalf("open an absent spool: %d, %v", n, err)
	}
	fs.down.Store(true)
	for _, l := range []string{"#ideas", "alice: Please add a dark mode to the dashboard", "bob: /feedback Export every report as a CSV file"} {
		first.line(l)
	}
	if n := first.e.PendingCaptures(); n != 2 {
		t.Fatalf("%d kept, want 2\n%s", n, first.out)
	}
	f, err := os.OpenFile(spool, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"op":"keep","id":99,"event":{"Kind":"mess`)
	f.Close()

	// The restart: a new process on the same database and spool, its
	// console numbering after the earlier session's messages.
	fs.down.Store(false)
	second := start(20*time.Millisecond, 2)
	n, err := second.e.OpenCaptureSpool(spool)
	if err != nil || n != 2 {
		t.Fatalf("restored %d (%v), want 2", n, err)
	}
	waitFor(t, "the restored captures stored", time.Minute, func() bool { return second.e.PendingCaptures() == 0 })
	for _, n := range []int{1, 2} {
		if _, err := second.mentionIn("ideas", n); err != nil {
			t.Errorf("message %d not stored: %v", n, err)
		}
		if c := second.out.cards()[fmt.Sprint(n)]; c != 1 {
			t.Errorf("%d cards for message %d, want 1\n%s", c, n, second.out)
		}
	}
	if got := second.total(t); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
	for _, who := range []string{"alice", "bob"} {
		if a := append(first.out.answers(who), second.out.answers(who)...); len(a) > 0 {
			t.Errorf("%s was told %q", who, a)
		}
	}
	if b, err := os.ReadFile(spool); err != nil || len(b) != 0 {
		t.Errorf("spool after the queue emptied: %q, %v", b, err)
	}
	third := start(20*time.Millisecond, 10)
	if n, err := third.e.OpenCaptureSpool(spool); err != nil || n != 0 {
		t.Errorf("a third start restored %d (%v), want 0", n, err)
	}
}
