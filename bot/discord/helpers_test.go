package discord

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/discordtest"
)

// sharedDir returns ../shared next to the module root. Tests that need it
// skip when it is absent, except in CI (CI=true) where they fail.
func sharedDir(tb testing.TB) string {
	tb.Helper()
	if d := findShared(); d != "" {
		return d
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal("../shared is missing (CI=true)")
	}
	tb.Skip("../shared is missing")
	return ""
}

func findShared() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "..", "shared")
			if st, err := os.Stat(d); err == nil && st.IsDir() {
				return d
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// specPath returns Discord's OpenAPI spec when ../shared has it, else ""
// (the fake then validates with its embedded route table).
func specPath() string {
	d := findShared()
	if d == "" {
		return ""
	}
	p := filepath.Join(d, "specs", "discord", "openapi.json")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// testLogger writes to t.Log while the test runs.
func testLogger(tb testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	w := &tbWriter{tb: tb}
	tb.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tbWriter struct {
	mu   sync.Mutex
	tb   testing.TB
	done bool
}

func (w *tbWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.tb.Log(string(p))
	}
	return len(p), nil
}

// recorder is a Handler that records events and answers with fn.
type recorder struct {
	mu     sync.Mutex
	events []*bot.Event
	fn     func(ctx context.Context, ev *bot.Event) (*bot.Response, error)
	signal chan struct{}
}

func newRecorder() *recorder { return &recorder{signal: make(chan struct{}, 1)} }

func (r *recorder) Handle(ctx context.Context, ev *bot.Event) (*bot.Response, error) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	fn := r.fn
	r.mu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default:
	}
	if fn != nil {
		return fn(ctx, ev)
	}
	return nil, nil
}

func (r *recorder) setFn(fn func(ctx context.Context, ev *bot.Event) (*bot.Response, error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fn = fn
}

func (r *recorder) all() []*bot.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*bot.Event(nil), r.events...)
}

// kinds returns the recorded events of these kinds.
func (r *recorder) kinds(kinds ...bot.EventKind) []*bot.Event {
	var out []*bot.Event
	for _, ev := range r.all() {
		for _, k := range kinds {
			if ev.Kind == k {
				out = append(out, ev)
			}
		}
	}
	return out
}

// waitKinds waits until n events of these kinds were recorded.
func (r *recorder) waitKinds(tb testing.TB, n int, kinds ...bot.EventKind) []*bot.Event {
	tb.Helper()
	var got []*bot.Event
	eventually(tb, 60*time.Second, func() bool {
		got = r.kinds(kinds...)
		return len(got) >= n
	}, "waiting for %d events of kinds %v", n, kinds)
	return got
}

// eventually waits for cond. timeout is what the wait normally needs; a
// loaded CI machine gets at least a minute, since the bound only guards
// against a hang and a longer one costs nothing when cond comes true.
func eventually(tb testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	tb.Helper()
	deadline := time.Now().Add(max(timeout, time.Minute))
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out: "+format, args...)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The test guild.
const (
	guildID    = "900000000000000001"
	teamRoleID = "900000000000000011"
	leadRoleID = "900000000000000012"
	modRoleID  = "900000000000000013"
	generalID  = "900000000000000101"
	forumID    = "900000000000000102"
	releasesID = "900000000000000103"
	tagUI      = "900000000000000201"
	tagAPI     = "900000000000000202"
)

var (
	alice = discordtest.Member{User: &discordtest.User{ID: "800000000000000001", Username: "alice", GlobalName: "Alice A."}}
	bob   = discordtest.Member{User: &discordtest.User{ID: "800000000000000002", Username: "bob"}, Nick: "Bobby"}
	tina  = discordtest.Member{User: &discordtest.User{ID: "800000000000000003", Username: "tina"}, Roles: []string{teamRoleID}}
	rex   = discordtest.Member{User: &discordtest.User{ID: "800000000000000004", Username: "rex"}, Roles: []string{teamRoleID, leadRoleID}}
	mod   = discordtest.Member{User: &discordtest.User{ID: "800000000000000005", Username: "mod"}, Roles: []string{modRoleID}}
)

type env struct {
	t    testing.TB
	fake *discordtest.Server
	a    *Adapter
	rec  *recorder
	stop func() error
}

type envOption func(*Config, *discordtest.Options)

// newEnv starts a fake Discord and the adapter (real discordgo) against it,
// and waits until the commands are registered.
func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	fopts := discordtest.Options{Token: "test-token", SpecPath: specPath()}
	cfg := Config{
		Token:       "test-token",
		GuildID:     guildID,
		TeamRole:    "Team", // by name: resolved through the guild's roles
		ReleaseRole: leadRoleID,
		Logger:      testLogger(t),
		AckAfter:    500 * time.Millisecond,
	}
	for _, o := range opts {
		o(&cfg, &fopts)
	}
	if testing.Verbose() && fopts.Logf == nil {
		w := &tbWriter{tb: t}
		t.Cleanup(func() { w.mu.Lock(); w.done = true; w.mu.Unlock() })
		fopts.Logf = func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	}
	fake, err := discordtest.New(fopts)
	if err != nil {
		t.Fatal(err)
	}
	fake.AddGuild(guildID, "Test guild",
		discordtest.Role{ID: teamRoleID, Name: "Team", Permissions: "0"},
		discordtest.Role{ID: leadRoleID, Name: "Release", Permissions: "0"},
		discordtest.Role{ID: modRoleID, Name: "Moderator", Permissions: "32"}, // Manage Server
	)
	fake.AddChannel(discordtest.Channel{ID: generalID, Type: discordtest.ChannelText, GuildID: guildID, Name: "general"})
	fake.AddChannel(discordtest.Channel{ID: releasesID, Type: discordtest.ChannelText, GuildID: guildID, Name: "releases"})
	fake.AddChannel(discordtest.Channel{ID: forumID, Type: discordtest.ChannelForum, GuildID: guildID, Name: "ideas",
		AvailableTags: []discordtest.Tag{{ID: tagUI, Name: "UI"}, {ID: tagAPI, Name: "API"}}})
	cfg.APIURL = fake.URL()
	rec := newRecorder()
	a, err := New(cfg, rec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(15 * time.Second):
				runErr = errors.New("Run did not return")
			}
		})
		return runErr
	}
	e := &env{t: t, fake: fake, a: a, rec: rec, stop: stop}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
		fake.Close()
		for _, p := range fake.Problems() {
			t.Errorf("fake Discord: %s", p)
		}
	})
	eventually(t, 60*time.Second, func() bool {
		select {
		case err := <-done:
			t.Fatalf("Run returned early: %v", err)
		default:
		}
		return len(fake.Commands(guildID)) > 0
	}, "commands registered")
	return e
}
