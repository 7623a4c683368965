package fanout_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bench/fanout"
	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// envWorker makes the test binary a delivery worker (see spawn).
const envWorker = "FANOUT_WORKER"

func TestMain(m *testing.M) {
	if s := os.Getenv(envWorker); s != "" {
		os.Exit(runWorker(s))
	}
	os.Exit(m.Run())
}

func runWorker(s string) int {
	c, err := fanout.DecodeWorker(s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker config:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if err := fanout.Worker(ctx, c, log.With("worker", c.Name)); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	return 0
}

// spawn re-executes the test binary as a worker process.
func spawn(c fanout.WorkerConfig) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envWorker+"="+fanout.EncodeWorker(c))
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	return cmd
}

// testOptions is the benchmark's shape scaled down for CI: 2,000 threads
// over 100 channels with a 20 ms per-channel limit (bound 380 ms).
func testOptions(dsn string) fanout.Options {
	return fanout.Options{
		DSN: dsn, Channels: 100, PerChannel: 20,
		Interval: 20 * time.Millisecond, MinLatency: time.Millisecond, MaxLatency: 5 * time.Millisecond,
		Lease: 8 * time.Second, Poll: 50 * time.Millisecond, Timeout: 3 * time.Minute, // generous: a safety net, not a timing assertion
	}
}

func checkExactlyOnce(t *testing.T, r *fanout.Result) {
	t.Helper()
	t.Log(r)
	if r.Lost != 0 || r.Delivered != r.Threads {
		t.Errorf("lost %d of %d threads", r.Lost, r.Threads)
	}
	if r.Duplicates != 0 {
		t.Errorf("%d duplicate replies", r.Duplicates)
	}
	if r.Failed != 0 {
		t.Errorf("%d deliveries failed", r.Failed)
	}
}

func TestFanout(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		r, err := fanout.Run(t.Context(), testOptions(dsn))
		if err != nil {
			t.Fatal(err)
		}
		checkExactlyOnce(t, r)
		// A re-post with the delivery's idempotency key is absorbed by the
		// platform (no duplicate shows, which checkExactlyOnce asserts). On
		// a loaded machine a retry after a post whose answer came too late
		// can cause one even without a crash; many would mean leases are
		// lost while the worker is healthy.
		if r.Replays > r.Threads/100 {
			t.Errorf("%d re-posts without a crash (at most %d expected)", r.Replays, r.Threads/100)
		} else if r.Replays != 0 {
			t.Logf("%d re-posts without a crash, absorbed by their idempotency key", r.Replays)
		}
	})
}

// TestFanoutKilledWorker SIGKILLs the worker process a third of the way
// through a 2,000-thread fan-out and starts another: every remaining reply
// is delivered exactly once, as counted at the fake API. A kill between the
// API's answer and the commit of FinishDelivery makes the new worker post
// that delivery again with the same idempotency key; the fake shows it once
// and counts it as a replay, bounded by what was in flight.
func TestFanoutKilledWorker(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		o := testOptions(dsn)
		o.Spawn = spawn
		o.KillAt = 0.3
		r, err := fanout.Run(t.Context(), o)
		if err != nil {
			t.Fatal(err)
		}
		checkExactlyOnce(t, r)
		if r.Killed == 0 || r.Killed >= r.Threads {
			t.Errorf("the worker was killed after %d of %d replies, want mid-way", r.Killed, r.Threads)
		}
		if r.Replays > o.Channels {
			t.Errorf("%d replays: more than one in flight per channel", r.Replays)
		}
		if r.PerWorker["w0-restarted"] == 0 {
			t.Errorf("the restarted worker delivered nothing: %v", r.PerWorker)
		}
	})
}

// TestFanoutReplicas: two workers on one PostgreSQL database, each with its
// own connection pool, share a 2,000-thread fan-out with no duplicate.
func TestFanoutReplicas(t *testing.T) {
	o := testOptions(storetest.PostgresDSN(t))
	o.Replicas = 2
	r, err := fanout.Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, r)
	if r.Replays != 0 {
		t.Errorf("%d re-posts between replicas", r.Replays)
	}
	if r.PerWorker["w0"] == 0 || r.PerWorker["w1"] == 0 {
		t.Errorf("one replica did all the work: %v", r.PerWorker)
	}
}

// TestFanout429Storm: the fake rate-limits 40% of calls at random and fails
// 5% with 503 on top of its per-channel limit; delivery slows down but
// nothing is lost or doubled.
func TestFanout429Storm(t *testing.T) {
	o := testOptions(storetest.SQLiteDSN(t))
	o.StormRate = 0.4
	o.StormRetryAfter = 30 * time.Millisecond
	o.ErrorRate = 0.05
	r, err := fanout.Run(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, r)
	if r.Stormed == 0 {
		t.Errorf("no 429 storm happened")
	}
}

// TestClientReplay: a post repeating an idempotency key is answered with the
// first message, Replayed, with the time it was posted (so the delivery
// worker does not spend a slot of the channel on it) and is not counted
// against the channel's limit; a post with a new key is not a replay.
func TestClientReplay(t *testing.T) {
	f := fanout.NewFake(fanout.FakeConfig{Interval: time.Hour})
	defer f.Close()
	c := fanout.NewClient(f.URL(), "w", time.Hour)
	msg := bot.OutMessage{Workspace: "W", Channel: "C0", ThreadID: "T0-0", Text: "Shipped", IdempotencyKey: bot.IdempotencyKey(1)}
	before := time.Now()
	first, err := c.Post(t.Context(), msg)
	if err != nil || first.Replayed {
		t.Fatalf("first post: %+v, %v", first, err)
	}
	again, err := c.Post(t.Context(), msg)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Replayed || again.ID != first.ID || again.PostedAt.Before(before.Add(-time.Second)) || again.PostedAt.After(time.Now()) {
		t.Fatalf("re-post: %+v, want the first message (%s) replayed with its time", again, first.ID)
	}
	msg.IdempotencyKey = bot.IdempotencyKey(2)
	var ra *bot.RetryAfterError
	if _, err := c.Post(t.Context(), msg); !errors.As(err, &ra) {
		t.Fatalf("a new post within the interval: %v, want 429", err)
	}
	if st := f.Stats(); st.Replays != 1 || st.Accepted != 1 || st.RateLimited != 1 {
		t.Fatalf("stats %+v", st)
	}
}
