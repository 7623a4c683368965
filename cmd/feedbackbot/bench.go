package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/feedbackbot/feedbackbot/bench/capture"
)

const benchUsage = `usage:
  feedbackbot bench capture [--database-url URL] [--concurrency N] [--rate R] [--duration D] [--count N] [--seed S] [--cpuprofile FILE]
  feedbackbot bench seed    [--database-url URL] [--requests N] [--mentions-per-request M] [--seed S]
  feedbackbot bench startup [--database-url URL]
  feedbackbot bench api     [--url URL] [--token T] [--concurrency N] [--rate R] [--duration D] [--count N] [--near-duplicates F] [--email-authors F] [--seed S]
`

// progressEvery is how often a bench writes a progress line when its
// progress goes to something that is not a terminal (a pipe, a log, CI);
// on a terminal it redraws one line.
const progressEvery = 2 * time.Second

// bench runs the load harness (package bench/capture): capture throughput
// and latency, bulk seeding, and the start-up time and memory.
func (m *Main) bench(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, benchUsage)
		return errUsage
	}
	sub, args := args[0], args[1:]
	if sub == "-h" || sub == "-help" || sub == "--help" {
		fmt.Fprint(m.Stderr, benchUsage)
		return flag.ErrHelp
	}
	fs := flag.NewFlagSet("bench "+sub, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	dsn := fs.String("database-url", m.Getenv("DATABASE_URL"), "database (env DATABASE_URL); empty: a new SQLite file in a temporary directory")
	seed := fs.Uint64("seed", 1, "seed of the text generator")
	var o capture.Options
	var ao capture.APIOptions
	var requests, perRequest int
	var cpuprofile string
	loadFlags := func(l *capture.Load, what string) {
		fs.IntVar(&l.Concurrency, "concurrency", 16, what+" at once")
		fs.Float64Var(&l.Rate, "rate", 0, what+" per second (0: as fast as the workers go)")
		fs.DurationVar(&l.Duration, "duration", 30*time.Second, "how long to run (0: until --count)")
		fs.IntVar(&l.Count, "count", 0, "how many to send (0: until --duration)")
		l.Progress = m.Stderr
		if !isTerminalWriter(m.Stderr) {
			l.ProgressEvery = progressEvery
		}
	}
	switch sub {
	case "capture":
		loadFlags(&o.Load, "events handled")
		fs.IntVar(&o.Channels, "channels", 50, "watched channels the messages go to")
		fs.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the load phase to this file")
	case "api":
		loadFlags(&ao.Load, "posts")
		fs.StringVar(&ao.URL, "url", "http://127.0.0.1:8080", "base URL of the running bot")
		fs.StringVar(&ao.Token, "token", m.Getenv("FEEDBACKBOT_API_TOKEN"), "API token (env FEEDBACKBOT_API_TOKEN)")
		fs.Float64Var(&ao.NearDuplicates, "near-duplicates", 0.2, "share of posts that are near-duplicates of earlier ones (0..1)")
		fs.Float64Var(&ao.EmailAuthors, "email-authors", 0, "share of posts whose author is an email address, l123@example.com instead of L123 (0..1)")
		fs.IntVar(&ao.Sources, "sources", 10, "distinct source values")
	case "seed":
		fs.IntVar(&requests, "requests", 100_000, "requests to add")
		fs.IntVar(&perRequest, "mentions-per-request", 10, "mentions of each request")
	case "startup":
	default:
		fmt.Fprint(m.Stderr, benchUsage)
		return errUsage
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if sub == "api" {
		ao.Seed = *seed
		if !seedSet(fs) {
			ao.Seed = 0 // new texts each run
		}
		res, err := capture.RunAPI(ctx, ao)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		res.Print(m.Stdout, ao)
		if res.Created == 0 {
			return fmt.Errorf("no post was created")
		}
		return nil
	}
	if *dsn == "" {
		dir, err := os.MkdirTemp("", "feedbackbot-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*dsn = "sqlite:" + dir + "/bench.db"
	}
	switch sub {
	case "capture":
		o.DSN, o.Seed = *dsn, *seed
		if cpuprofile != "" {
			f, err := os.Create(cpuprofile)
			if err != nil {
				return err
			}
			defer f.Close()
			o.CPUProfile = f
		}
		res, err := capture.Run(ctx, o)
		if err != nil {
			return err
		}
		res.Print(m.Stdout, o)
	case "seed":
		took, err := capture.Seed(ctx, *dsn, requests, perRequest, *seed, m.Stderr, !isTerminalWriter(m.Stderr))
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "seeded %d requests and %d mentions in %v\n", requests, requests*perRequest, took.Round(time.Millisecond))
	case "startup":
		res, err := capture.Startup(ctx, *dsn)
		if err != nil {
			return err
		}
		res.Print(m.Stdout)
	}
	return nil
}

// seedSet reports whether --seed was given.
func seedSet(fs *flag.FlagSet) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "seed" })
	return set
}

// isTerminalWriter reports whether w is a terminal.
func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
