// Command feedbackbot runs the feedback bot: the chat adapters whose tokens
// are configured (or the console when there are none and it runs in a
// terminal), the HTTP listener with the board and the API, and the delivery
// worker. Subcommands: serve, console, migrate up|down|status, dedup eval,
// bench, healthcheck, version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fitMemoryLimit(ctx)
	err := NewMain().Execute(ctx, os.Args[1:])
	stop()
	os.Exit(exitCode(err))
}

// exitCode is 0 on success and after -h, 2 for usage and configuration
// errors (their reason printed), 1 for any other failure.
func exitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		if err != errUsage {
			fmt.Fprintln(os.Stderr, "feedbackbot:", err)
		}
		return 2
	default:
		fmt.Fprintln(os.Stderr, "feedbackbot:", err)
		return 1
	}
}
