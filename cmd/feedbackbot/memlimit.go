package main

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The bot keeps itself within DESIGN §6's 300 MiB resident with 100,000
// requests on the board, also under sustained capture load, without the
// operator setting GOMEMLIMIT: left alone, Go lets the heap grow to twice
// what is live before collecting (337–365 MiB at the end of 15 s of
// `bench capture` on that board), while a soft limit near 250 MiB keeps it
// at about 250 MiB for ≈ 1% of CPU in the collector. The limit follows the
// board: it is never below memLimitFactor times the live heap, so a bigger
// board is not collected over and over. GOMEMLIMIT, when set, wins.
const (
	memLimitFloor    = 250 << 20
	memLimitFactor   = 1.6
	memLimitInterval = 5 * time.Second
)

// memoryLimit is the soft limit for a live heap of live bytes.
func memoryLimit(live uint64) int64 {
	return max(int64(memLimitFloor), int64(float64(live)*memLimitFactor))
}

// fitMemoryLimit sets the soft memory limit from the live heap now and
// then every memLimitInterval until ctx ends, unless GOMEMLIMIT is set.
// It reports whether it manages the limit.
func fitMemoryLimit(ctx context.Context) bool {
	if os.Getenv("GOMEMLIMIT") != "" {
		return false
	}
	debug.SetMemoryLimit(memoryLimit(liveHeap()))
	go func() {
		t := time.NewTicker(memLimitInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				debug.SetMemoryLimit(memoryLimit(liveHeap()))
			}
		}
	}()
	return true
}

// liveHeap is the heap marked live by the last collection (0 before one).
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
