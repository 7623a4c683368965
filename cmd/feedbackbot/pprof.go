//go:build pprof

package main

// Built with -tags pprof, feedbackbot serves Go's profiles
// (net/http/pprof) on FEEDBACKBOT_PPROF_ADDR, such as 127.0.0.1:6060, for
// profiling a running bot under load (docs/performance.md). Normal builds
// do not contain it.

import (
	"log/slog"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"
)

func init() {
	addr := os.Getenv("FEEDBACKBOT_PPROF_ADDR")
	if addr == "" {
		return
	}
	go func() {
		if err := http.ListenAndServe(addr, nil); err != nil {
			slog.Error("pprof listener", "err", err)
		}
	}()
}
