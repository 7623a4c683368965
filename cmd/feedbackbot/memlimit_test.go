package main

import (
	"context"
	"runtime/debug"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int64
	}{
		{0, 250 << 20},
		{100 << 20, 250 << 20},       // a 100,000-request board: the floor
		{200 << 20, 320 << 20},       // 1.6 x live above the floor
		{1 << 30, (1 << 30) * 8 / 5}, // a big board is not squeezed
	} {
		if got := memoryLimit(c.live); got != c.want {
			t.Errorf("memoryLimit(%d MiB) = %d MiB, want %d MiB", c.live>>20, got>>20, c.want>>20)
		}
	}
}

func TestFitMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	t.Setenv("GOMEMLIMIT", "")
	debug.SetMemoryLimit(1 << 62)
	if !fitMemoryLimit(ctx) {
		t.Fatal("GOMEMLIMIT unset: the limit is not managed")
	}
	if got, want := debug.SetMemoryLimit(-1), memoryLimit(liveHeap()); got < memLimitFloor || got > want*2 {
		t.Fatalf("limit %d MiB, want about %d MiB", got>>20, want>>20)
	}

	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetMemoryLimit(1 << 62)
	if fitMemoryLimit(ctx) {
		t.Fatal("GOMEMLIMIT set: the bot overrode it")
	}
	if got := debug.SetMemoryLimit(-1); got != 1<<62 {
		t.Fatalf("limit changed to %d with GOMEMLIMIT set", got)
	}
}
