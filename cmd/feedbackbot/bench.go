package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/feedbackbot/feedbackbot/bench/capture"
)

const benchUsage = `usage:
  feedbackbot bench capture [--database-url URL] [--concurrency N] [--rate R] [--duration D] [--count N] [--seed S] [--cpuprofile FILE]
  feedbackbot bench seed    [--database-url URL] [--requests N] [--mentions-per-request M] [--seed S]
  feedbackbot bench startup [--database-url URL]
`

// bench runs the load harness (package bench/capture): capture throughput
// and latency, bulk seeding, and the start-up time and memory.
func (m *Main) bench(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, benchUsage)
		return errUsage
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("bench "+sub, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	dsn := fs.String("database-url", m.Getenv("DATABASE_URL"), "database (env DATABASE_URL); empty: a new SQLite file in a temporary directory")
	seed := fs.Uint64("seed", 1, "seed of the text generator")
	var o capture.Options
	var requests, perRequest int
	var cpuprofile string
	switch sub {
	case "capture":
		fs.IntVar(&o.Concurrency, "concurrency", 16, "events handled at once")
		fs.Float64Var(&o.Rate, "rate", 0, "events per second (0: as fast as the workers go)")
		fs.DurationVar(&o.Duration, "duration", 30*time.Second, "how long to run (0: until --count)")
		fs.IntVar(&o.Count, "count", 0, "how many events to send (0: until --duration)")
		fs.IntVar(&o.Channels, "channels", 50, "watched channels the messages go to")
		fs.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the load phase to this file")
	case "seed":
		fs.IntVar(&requests, "requests", 100_000, "requests to add")
		fs.IntVar(&perRequest, "mentions-per-request", 10, "mentions of each request")
	case "startup":
	default:
		fmt.Fprint(m.Stderr, benchUsage)
		return errUsage
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
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
		o.DSN, o.Seed, o.Progress = *dsn, *seed, m.Stderr
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
		took, err := capture.Seed(ctx, *dsn, requests, perRequest, *seed, m.Stderr)
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
