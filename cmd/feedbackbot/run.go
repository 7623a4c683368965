package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/console"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
	"github.com/feedbackbot/feedbackbot/bot/dedup/eval"
	"github.com/feedbackbot/feedbackbot/bot/embeddings"
	"github.com/feedbackbot/feedbackbot/commands"
	"github.com/feedbackbot/feedbackbot/store"
)

var errUsage = errors.New("usage")

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = ""

const usageText = `feedbackbot turns chat messages into one feedback board.

Usage:
  feedbackbot [flags]                  run every adapter whose token is set (the console when none is), plus the HTTP listener
  feedbackbot console [flags]          the terminal chat (also serves the board and API over HTTP)
  feedbackbot migrate up|down|status   apply, roll back one, or list database migrations
  feedbackbot dedup eval --corpus FILE --queries FILE [--baseline bm25|order] [--json]
  feedbackbot bench capture|seed|startup   load harness (docs/performance.md)
  feedbackbot version

Run "feedbackbot -h" for the flags; each flag has an environment variable.
`

// Main is the program, separate from main so tests can run it.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string

	// Listening, when set, is called with the HTTP listener's address once
	// it accepts connections (tests use it).
	Listening func(addr string)
}

// NewMain returns a Main on the process's standard streams and environment.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// Run runs the command line args (without the program name).
func (m *Main) Run(ctx context.Context, args []string) error {
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "", "serve":
		return m.serve(ctx, args, false)
	case "console":
		return m.serve(ctx, args, true)
	case "migrate":
		return m.migrate(ctx, args)
	case "bench":
		return m.bench(ctx, args)
	case "dedup":
		if len(args) == 0 || args[0] != "eval" {
			fmt.Fprint(m.Stderr, "usage: feedbackbot dedup eval --corpus FILE --queries FILE [--baseline bm25|order] [--json]\n")
			return errUsage
		}
		return eval.Main(args[1:], m.Stdout, m.Stderr)
	case "version":
		fmt.Fprintln(m.Stdout, "feedbackbot", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usageText)
		return nil
	}
	fmt.Fprintf(m.Stderr, "unknown command %q\n\n%s", sub, usageText)
	return errUsage
}

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func (m *Main) config(name string, args []string) (Config, error) {
	cfg := DefaultConfig()
	fs, err := cfg.load(name, args, m.Getenv, m.Stderr)
	if err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return cfg, nil
}

func (m *Main) migrate(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, "usage: feedbackbot migrate up|down|status [flags]\n")
		return errUsage
	}
	cmd := args[0]
	cfg, err := m.config("migrate", args[1:])
	if err != nil {
		return err
	}
	switch cmd {
	case "up", "down", "status":
	default:
		fmt.Fprintf(m.Stderr, "unknown migrate command %q: use up, down or status\n", cmd)
		return errUsage
	}
	return store.Migrate(ctx, cfg.DatabaseURL, cmd, m.Stdout)
}

func (m *Main) logger(cfg Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(cfg.LogFormat, "json") {
		return slog.New(slog.NewJSONHandler(m.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(m.Stderr, opts))
}

func (m *Main) engineConfig(cfg Config) bot.Config {
	ec := bot.DefaultConfig()
	ec.KeyPrefix = cfg.KeyPrefix
	ec.CaptureEmoji = cfg.CaptureEmoji
	ec.VoteEmoji = cfg.VoteEmoji
	ec.SuggestThreshold = dedup.DefaultSuggestThreshold
	if cfg.SuggestThreshold > 0 {
		ec.SuggestThreshold = cfg.SuggestThreshold
	}
	ec.AutoMergeThreshold = cfg.AutoMergeThreshold
	ec.Worker = cfg.WorkerName
	if ec.Worker == "" {
		host, _ := os.Hostname()
		ec.Worker = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	return ec
}

// serve runs the bot until ctx ends (or, for the console, until its input ends).
func (m *Main) serve(ctx context.Context, args []string, forceConsole bool) error {
	name := "feedbackbot"
	if forceConsole {
		name = "console"
	}
	cfg, err := m.config(name, args)
	if err != nil {
		return err
	}
	useConsole := forceConsole || (cfg.SlackBotToken == "" && cfg.DiscordToken == "")
	if useConsole && cfg.APIToken == "" && !cfg.BoardPublic && m.Getenv("FEEDBACKBOT_BOARD_PUBLIC") == "" && !hasFlag(args, "board-public") {
		// Trying the console: show the board at http://localhost:8080
		// without a token (there is none to log in with).
		cfg.BoardPublic = true
	}
	if useConsole && cfg.LogLevel == DefaultConfig().LogLevel && m.Getenv("FEEDBACKBOT_LOG_LEVEL") == "" {
		// Keep the chat transcript readable: only warnings and errors.
		cfg.LogLevel = "warn"
	}
	log := m.logger(cfg)
	if err := validPrefix(cfg.KeyPrefix); err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	db.SetLogger(log)
	if err := db.SetHomeOrgs(ctx, homeOrgs(cfg)); err != nil {
		return fmt.Errorf("home organisations: %w", err)
	}

	eng := bot.NewEngine(db, m.scorer(cfg, db, log), m.engineConfig(cfg), log)
	eng.SetCommands(commands.New(eng))

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	var wg sync.WaitGroup
	var srv *http.Server
	var mux *http.ServeMux
	ready := &readiness{}
	if !(useConsole && cfg.ConsoleNoHTTP) {
		srv, mux, err = m.startHTTP(runCtx, cfg, eng, db, ready, log, &wg)
		if err != nil {
			return err
		}
	}

	if useConsole {
		con := console.New(console.Config{
			In: m.Stdin, Out: m.Stdout,
			Team: splitList(cfg.ConsoleTeam), ReleaseLeads: splitList(cfg.ConsoleReleaseLeads),
			Channel: cfg.ConsoleChannel, Prompt: isTerminal(m.Stdin), FlushEvery: time.Second,
		}, eng)
		eng.AddPlatform(con)
		if err := eng.LoadIndex(runCtx); err != nil {
			return stopErr(ctx, err)
		}
		ready.start()
		if isTerminal(m.Stdin) {
			fmt.Fprintf(m.Stdout, "feedbackbot console on %s. Type \"alice: I wish …\" to post, \"alice: /feedback help\" for commands, Ctrl-D to quit.\n", db.Dialect())
		}
		err = con.Run(runCtx)
		cancel()
		m.shutdown(cfg, srv, log)
		wg.Wait()
		return err
	}

	errc := make(chan error, 4)
	if err := eng.LoadIndex(runCtx); err != nil {
		cancel()
		m.shutdown(cfg, srv, log)
		wg.Wait()
		return stopErr(ctx, err)
	}
	if err := m.startAdapters(runCtx, cfg, eng, db, mux, ready, log, &wg, errc); err != nil {
		cancel()
		m.shutdown(cfg, srv, log)
		wg.Wait()
		return err
	}
	ready.start()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := eng.Run(runCtx); err != nil {
			errc <- fmt.Errorf("engine: %w", err)
		}
	}()
	select {
	case <-ctx.Done():
	case err = <-errc:
		log.Error("stopping", "err", err)
	}
	cancel()
	m.shutdown(cfg, srv, log)
	wg.Wait()
	return err
}

func (m *Main) shutdown(cfg Config, srv *http.Server, log *slog.Logger) {
	if srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownIn)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
}

func validPrefix(p string) error {
	if p == "" || len(p) > 10 {
		return fmt.Errorf("%w: FEEDBACKBOT_KEY_PREFIX must be 1 to 10 letters", errUsage)
	}
	for _, c := range p {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return fmt.Errorf("%w: FEEDBACKBOT_KEY_PREFIX must be letters only", errUsage)
		}
	}
	return nil
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// listen opens the HTTP listener and reports its address.
func (m *Main) listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	if m.Listening != nil {
		m.Listening(ln.Addr().String())
	}
	return ln, nil
}

// scorer is the duplicate index, hybrid with embeddings when configured.
func (m *Main) scorer(cfg Config, db *store.DB, log *slog.Logger) bot.Scorer {
	lex := dedup.New(dedup.DefaultConfig())
	if cfg.EmbeddingsURL == "" {
		return lex
	}
	elog := log.With("component", "embeddings")
	client := embeddings.NewClient(embeddings.Config{BaseURL: cfg.EmbeddingsURL, Model: cfg.EmbeddingsModel, APIKey: cfg.EmbeddingsKey, Timeout: 5 * time.Second})
	return embeddings.NewHybrid(lex, client, embeddings.NewStoreCache(db.VectorCache(), cfg.EmbeddingsModel, elog), cfg.EmbeddingsWeight, elog)
}

// stopErr hides errors caused by a shutdown that was asked for.
func stopErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// hasFlag reports whether args set the flag name (-name or --name, with or
// without =value).
func hasFlag(args []string, name string) bool {
	for _, a := range args {
		a = strings.TrimLeft(a, "-")
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

// homeOrgs is FEEDBACKBOT_HOME_ORGS plus the console's organisation for
// people typed without @org; the Slack adapter adds the installing
// workspace when it connects.
func homeOrgs(cfg Config) []string {
	return append([]string{console.DefaultWorkspace}, splitList(cfg.HomeOrgs)...)
}
