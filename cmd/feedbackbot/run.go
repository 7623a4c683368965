package main

import (
	"context"
	"errors"
	"flag"
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
	"github.com/feedbackbot/feedbackbot/bot/tracker"
	"github.com/feedbackbot/feedbackbot/bot/web"
	"github.com/feedbackbot/feedbackbot/commands"
	"github.com/feedbackbot/feedbackbot/store"
	"golang.org/x/term"
)

var errUsage = errors.New("usage")

// Version is set at build time with -ldflags "-X main.Version=…" (the
// Docker image does); otherwise it is the module version Go records in
// the binary (go install …@v1.2.3), or "(devel)".
var Version = ""

const usageText = `feedbackbot turns chat messages into one feedback board.

Usage:
  feedbackbot [flags]                  run every chat adapter whose token is set, plus the HTTP listener (board, API);
                                       with no chat token: the console in a terminal, else the HTTP listener alone
  feedbackbot serve [flags]            the same, but never the console (with no chat token: board, API and worker only)
  feedbackbot console [flags]          the terminal chat (also serves the board and API over HTTP)
  feedbackbot migrate up|down|status   apply, roll back one, or list database migrations
  feedbackbot dedup eval --corpus FILE --queries FILE [--train FILE] [--folds N] [--baseline bm25|order] [--bootstrap N] [--rerank-all] [--json]
  feedbackbot bench capture|api|seed|startup   load harness (docs/performance.md)
  feedbackbot import companies FILE.csv  create or update companies (header name,domains,plan,mrr; domains space-separated)
  feedbackbot healthcheck [--live]     exit 0 if the bot on FEEDBACKBOT_HTTP_ADDR is ready (/readyz; --live: /healthz)
  feedbackbot version                  print the version (also: feedbackbot --version)

Every subcommand takes -h. Each flag below has an environment variable (in parentheses) that sets its default.
`

// Main is the program, separate from main so tests can run it: ParseFlags
// reads the command line and the environment, Run does the work, Close
// releases whatever Run started (the one teardown path, also after a
// failed start). Execute does the three.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// LookupEnv, when set, tells a variable set to "" from an unset one
	// (FEEDBACKBOT_NOTIFY_STATUSES= turns status notices off).
	LookupEnv func(string) (string, bool)

	// Listening, when set, is called with the HTTP listener's address once
	// it accepts connections (tests use it).
	Listening func(addr string)

	// Config is what ParseFlags read: the defaults, then the environment,
	// then the flags.
	Config Config

	cmd   string          // the subcommand ("" runs the bot)
	args  []string        // what is left for it: migrate's verb, dedup eval's and bench's flags
	flags map[string]bool // flags set on the command line

	healthLive    bool          // healthcheck: /healthz instead of /readyz
	healthTimeout time.Duration // healthcheck: how long to wait

	// What Run started; Close releases it.
	log      *slog.Logger
	db       *store.DB
	srv      *http.Server
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	closing  sync.Once
	closeErr error
}

// NewMain returns a Main on the process's standard streams and environment.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, LookupEnv: os.LookupEnv}
}

// Execute runs the command line args (without the program name):
// ParseFlags, Run, then Close whatever happened.
func (m *Main) Execute(ctx context.Context, args []string) error {
	err := m.ParseFlags(args)
	if err == nil {
		err = m.Run(ctx)
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	return err
}

// ParseFlags chooses the subcommand and reads its configuration. It
// returns flag.ErrHelp after printing the usage for -h, and an error
// wrapping errUsage (the reason printed or in the error) for a bad command
// line or environment.
func (m *Main) ParseFlags(args []string) error {
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	m.cmd = sub
	switch sub {
	case "":
		var showVersion bool
		err := m.parseConfig("feedbackbot", args, func(fs *flag.FlagSet) {
			fs.BoolVar(&showVersion, "version", false, "print the version and exit")
			fs.Usage = func() {
				fmt.Fprint(fs.Output(), usageText)
				fs.PrintDefaults()
			}
		})
		if err == nil && showVersion {
			m.cmd = "version"
		}
		return err
	case "serve", "console":
		return m.parseConfig(sub, args, nil)
	case "migrate":
		return m.parseMigrate(args)
	case "dedup":
		if len(args) == 0 || args[0] != "eval" {
			fmt.Fprint(m.Stderr, "usage: feedbackbot dedup eval --corpus FILE --queries FILE [--train FILE] [--folds N] [--baseline bm25|order] [--bootstrap N] [--rerank-all] [--json]\n")
			return errUsage
		}
		// eval.Main reads its own flags when it runs.
		m.cmd, m.args = "dedup eval", args[1:]
		return nil
	case "bench":
		m.args = args // bench reads its own flags when it runs
		return nil
	case "healthcheck":
		return m.parseHealthcheck(args)
	case "import":
		return m.parseImport(args)
	case "version", "help":
		if len(args) > 0 {
			return fmt.Errorf("%w: unexpected argument %q", errUsage, args[0])
		}
		return nil
	}
	fmt.Fprintf(m.Stderr, "unknown command %q\n\n%s", sub, usageText)
	return errUsage
}

// parseConfig reads the configuration (environment, then flags) into
// m.Config; extra adds flags of the subcommand.
func (m *Main) parseConfig(name string, args []string, extra func(*flag.FlagSet)) error {
	m.Config = DefaultConfig()
	m.Config.lookupEnv = m.LookupEnv
	fs, err := m.Config.load(name, args, m.Getenv, m.Stderr, func(fs *flag.FlagSet) {
		fs.Usage = func() {
			fmt.Fprintf(fs.Output(), "usage: feedbackbot %s [flags]\n\n", name)
			fs.PrintDefaults()
		}
		if extra != nil {
			extra(fs)
		}
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if _, err := bot.ParseStatuses(m.Config.NotifyStatuses); err != nil {
		return fmt.Errorf("%w: FEEDBACKBOT_NOTIFY_STATUSES: %s", errUsage, bot.ErrorMessage(err))
	}
	m.flags = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { m.flags[f.Name] = true })
	return nil
}

// given reports whether a setting was chosen (its flag or its environment
// variable set) rather than left at its default.
func (m *Main) given(flagName, env string) bool {
	return m.flags[flagName] || m.Getenv(env) != ""
}

func (m *Main) parseMigrate(args []string) error {
	const usage = "usage: feedbackbot migrate up|down|status [flags]"
	if len(args) == 0 {
		fmt.Fprintln(m.Stderr, usage)
		return errUsage
	}
	verb := args[0]
	switch verb {
	case "up", "down", "status":
	case "-h", "-help", "--help":
		return m.parseConfig("migrate up|down|status", []string{"-h"}, nil)
	default:
		fmt.Fprintf(m.Stderr, "unknown migrate command %q: use up, down or status\n%s\n", verb, usage)
		return errUsage
	}
	if err := m.parseConfig("migrate "+verb, args[1:], nil); err != nil {
		return err
	}
	m.args = []string{verb}
	return nil
}

// Run runs the subcommand ParseFlags chose. The bot itself runs until ctx
// ends, the console's input ends, or an adapter fails.
func (m *Main) Run(ctx context.Context) error {
	switch m.cmd {
	case "help":
		fmt.Fprint(m.Stdout, usageText)
		c := DefaultConfig()
		c.flagSet("feedbackbot", m.Stdout).PrintDefaults()
		return nil
	case "version":
		fmt.Fprintln(m.Stdout, "feedbackbot", version())
		return nil
	case "migrate":
		return store.Migrate(ctx, m.Config.DatabaseURL, m.args[0], m.Stdout)
	case "dedup eval":
		return eval.Main(m.args, m.Stdout, m.Stderr)
	case "bench":
		return m.bench(ctx, m.args)
	case "healthcheck":
		return m.healthcheck(ctx)
	case "import companies":
		return m.importCompanies(ctx, m.args[0])
	}
	return m.serve(ctx)
}

// Close releases what Run started, in order: stop the adapters, the worker
// and the HTTP listener (waiting up to the shutdown timeout for requests in
// flight), wait for every goroutine, close the database. It is safe to call
// more than once and after a Run that failed half-way.
func (m *Main) Close() error {
	m.closing.Do(func() {
		if m.cancel != nil {
			m.cancel()
		}
		if m.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownIn)
			if err := m.srv.Shutdown(ctx); err != nil {
				m.log.Warn("http shutdown", "err", err)
			}
			cancel()
		}
		m.wg.Wait()
		if m.db != nil {
			if err := m.db.Close(); err != nil {
				m.closeErr = fmt.Errorf("close database: %w", err)
			}
		}
	})
	return m.closeErr
}

// version is Version when the build set it, else the module version Go
// recorded (v1.2.3 for `go install …@v1.2.3`; a pseudo-version or
// "(devel)" from a checkout), with the commit when Go recorded one.
func version() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(devel)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	if v == "(devel)" {
		var rev, dirty string
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && len(s.Value) >= 12:
				rev = s.Value[:12]
			case s.Key == "vcs.modified" && s.Value == "true":
				dirty = "+dirty"
			}
		}
		if rev != "" {
			v += " " + rev + dirty
		}
	}
	return v
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
	ec.SuggestThreshold = cfg.SuggestThreshold // 0 or less: the engine's default
	ec.RegressionReports = cfg.RegressionReports
	ec.AutoMergeThreshold = cfg.AutoMergeThreshold
	if st, err := bot.ParseStatuses(cfg.NotifyStatuses); err == nil {
		ec.NotifyStatuses = st
	}
	ec.CaptureRetryWindow = cfg.CaptureRetryWindow
	if ec.CaptureRetryWindow <= 0 {
		ec.CaptureRetryWindow = -1 // off
	}
	ec.Worker = cfg.WorkerName
	if ec.Worker == "" {
		host, _ := os.Hostname()
		ec.Worker = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	return ec
}

// serve runs the bot until ctx ends (or, for the console, until its input
// ends). What it starts is recorded on m for Close.
func (m *Main) serve(ctx context.Context) error {
	cfg := m.Config
	noChat := cfg.SlackBotToken == "" && cfg.DiscordToken == ""
	// With no chat token, plain `feedbackbot` opens the console when it runs
	// in a terminal; otherwise (a container, a service, stdin closed) it
	// serves the board and API alone, as `feedbackbot serve` does.
	useConsole := m.cmd == "console" || (m.cmd == "" && noChat && isTerminal(m.Stdin))
	if useConsole && cfg.APIToken == "" && !cfg.BoardPublic && !m.given("board-public", "FEEDBACKBOT_BOARD_PUBLIC") {
		// Trying the console: show the board at http://localhost:8080
		// without a token (there is none to log in with).
		cfg.BoardPublic = true
	}
	if useConsole && !m.given("log-level", "FEEDBACKBOT_LOG_LEVEL") {
		// Keep the chat transcript readable: only warnings and errors.
		cfg.LogLevel = "warn"
	}
	log := m.logger(cfg)
	m.log = log
	if err := validPrefix(cfg.KeyPrefix); err != nil {
		return err
	}
	if !tracker.ValidShipOn(cfg.GitHubShipOn) {
		return fmt.Errorf("%w: FEEDBACKBOT_GITHUB_SHIP_ON must be merge or release, not %q", errUsage, cfg.GitHubShipOn)
	}
	if err := web.ValidateOIDC(web.OIDCConfig{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret, PublicURL: cfg.PublicURL}); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if cfg.SessionTTL <= 0 {
		return fmt.Errorf("%w: FEEDBACKBOT_SESSION_TTL must be positive", errUsage)
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	m.db = db
	db.SetLogger(log)
	if err := db.SetHomeOrgs(ctx, homeOrgs(cfg)); err != nil {
		return fmt.Errorf("home organisations: %w", err)
	}

	eng := bot.NewEngine(db, m.scorer(cfg, db, log), m.engineConfig(cfg), log)
	eng.SetCommands(commands.New(eng))

	runCtx, cancel := context.WithCancel(ctx)
	m.cancel = cancel

	var mux *http.ServeMux
	ready := &readiness{}
	if !(useConsole && cfg.ConsoleNoHTTP) {
		m.srv, mux, err = m.startHTTP(runCtx, cfg, eng, db, ready, log, &m.wg)
		if err != nil {
			return err
		}
	}

	if useConsole {
		last, err := db.LastMessageNumber(runCtx, bot.PlatformConsole, console.DefaultWorkspace)
		if err != nil {
			return stopErr(ctx, err)
		}
		con := console.New(console.Config{
			LastNumber: last,
			In:         m.Stdin, Out: m.Stdout,
			Team: splitList(cfg.ConsoleTeam), ReleaseLeads: splitList(cfg.ConsoleReleaseLeads),
			Channel: cfg.ConsoleChannel, Prompt: isTerminal(m.Stdin), FlushEvery: time.Second,
		}, eng)
		eng.AddPlatform(con)
		if err := m.openSpool(eng, cfg); err != nil {
			return err
		}
		if err := eng.LoadIndex(runCtx); err != nil {
			return stopErr(ctx, err)
		}
		ready.start()
		if isTerminal(m.Stdin) {
			fmt.Fprintf(m.Stdout, "feedbackbot console on %s. Type \"alice: I wish …\" to post, \"alice: /feedback help\" for commands, Ctrl-D to quit.\n", db.Dialect())
		}
		return con.Run(runCtx)
	}

	errc := make(chan error, 4)
	if err := eng.LoadIndex(runCtx); err != nil {
		return stopErr(ctx, err)
	}
	if err := m.startAdapters(runCtx, cfg, eng, db, mux, ready, log, &m.wg, errc); err != nil {
		return err
	}
	if err := m.openSpool(eng, cfg); err != nil {
		return err
	}
	if noChat {
		log.Info("no chat token set: serving the board and API only (run `feedbackbot console` in a terminal for the console)")
		if cfg.APIToken == "" && !cfg.BoardPublic {
			log.Warn("FEEDBACKBOT_API_TOKEN is not set: the board cannot be opened and API writes answer 503; set it, or FEEDBACKBOT_BOARD_PUBLIC=true for a read-only public board")
		}
	}
	ready.start()
	m.wg.Go(func() {
		if err := eng.Run(runCtx); err != nil {
			errc <- fmt.Errorf("engine: %w", err)
		}
	})
	select {
	case <-ctx.Done():
	case err = <-errc:
		log.Error("stopping", "err", err)
	}
	return err
}

// openSpool opens FEEDBACKBOT_CAPTURE_SPOOL, when set, once the platforms
// are added (README "Database outages").
func (m *Main) openSpool(eng *bot.Engine, cfg Config) error {
	if cfg.CaptureSpool == "" {
		return nil
	}
	// The engine logs what it restores.
	if _, err := eng.OpenCaptureSpool(cfg.CaptureSpool); err != nil {
		return fmt.Errorf("%w: FEEDBACKBOT_CAPTURE_SPOOL: %v", errUsage, err)
	}
	return nil
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

// isTerminal reports whether r is a terminal (not a pipe, a file or
// /dev/null, which is what a container without -it gets).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
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

// homeOrgs is FEEDBACKBOT_HOME_ORGS plus the console's organisation for
// people typed without @org; the Slack adapter adds the installing
// workspace when it connects.
func homeOrgs(cfg Config) []string {
	return append([]string{console.DefaultWorkspace}, splitList(cfg.HomeOrgs)...)
}
