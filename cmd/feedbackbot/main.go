// Command feedbackbot runs the feedback bot: the chat adapters whose tokens
// are configured (or the console when there are none), the HTTP listener
// with the board and the API, and the delivery worker. Subcommands: console,
// migrate up|down|status, dedup eval, version.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, errUsage) {
			if err != errUsage {
				fmt.Fprintln(os.Stderr, "feedbackbot:", err)
			}
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "feedbackbot:", err)
		os.Exit(1)
	}
}
