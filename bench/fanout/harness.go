package fanout

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
)

// Seed captures one request whose mentions are the roots of channels ×
// perChannel threads on Platform (channel "C<i>", thread "T<i>-<j>") and
// returns its id. The mentions are written in bulk: the benchmark measures
// delivery, not capture.
func Seed(ctx context.Context, db *store.DB, channels, perChannel int) (int64, error) {
	r := &bot.Request{Title: "Export the board to CSV"}
	first := &bot.Mention{Platform: Platform, Workspace: "W", Channel: "C0", MessageID: "T0-0", ThreadID: "T0-0", AuthorID: "u0", AuthorName: "u0", Text: r.Title, Via: bot.ViaChannel}
	if err := db.CreateRequest(ctx, r, first); err != nil {
		return 0, err
	}
	type row struct{ ch, th string }
	var rows []row
	for i := range channels {
		for j := range perChannel {
			if i == 0 && j == 0 {
				continue
			}
			rows = append(rows, row{fmt.Sprintf("C%d", i), fmt.Sprintf("T%d-%d", i, j)})
		}
	}
	x := db.DB()
	tx, err := x.BeginTxx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	now := time.Now().UTC()
	const batch = 500
	for start := 0; start < len(rows); start += batch {
		part := rows[start:min(start+batch, len(rows))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO mentions (request_id, platform, workspace, channel, message_id, thread_id, author_id, author_name, text, via, created_at) VALUES `)
		args := make([]any, 0, len(part)*11)
		for i, r0 := range part {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			author := "u-" + r0.th
			args = append(args, r.ID, Platform, "W", r0.ch, r0.th, r0.th, author, author, "Export to CSV please", bot.ViaChannel, now)
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(sb.String()), args...); err != nil {
			return 0, fmt.Errorf("seed mentions: %w", err)
		}
	}
	return r.ID, tx.Commit()
}

// nopScorer is a duplicate index that finds nothing.
type nopScorer struct{}

func (nopScorer) Upsert(bot.Doc)                                                {}
func (nopScorer) Remove(int64)                                                  {}
func (nopScorer) Similar(context.Context, string, int) ([]bot.Candidate, error) { return nil, nil }

// WorkerConfig configures one delivery worker (in this process or a child).
type WorkerConfig struct {
	DSN      string        `json:"dsn"`
	API      string        `json:"api"`
	Name     string        `json:"name"`
	Interval time.Duration `json:"interval"`
	Lease    time.Duration `json:"lease"`
	Poll     time.Duration `json:"poll"`
}

func (c WorkerConfig) engine(db bot.Store, log *slog.Logger) *bot.Engine {
	cfg := bot.DefaultConfig()
	cfg.Worker = c.Name
	if c.Lease > 0 {
		cfg.DeliveryLease = c.Lease
	}
	if c.Poll > 0 {
		cfg.DeliveryPoll = c.Poll
	}
	cfg.IndexPoll = 0
	e := bot.NewEngine(db, nopScorer{}, cfg, log)
	e.AddPlatform(NewClient(c.API, c.Name, c.Interval))
	return e
}

// Worker runs one delivery worker until ctx ends. Child processes run it.
func Worker(ctx context.Context, c WorkerConfig, log *slog.Logger) error {
	db, err := store.Open(ctx, c.DSN)
	if err != nil {
		return err
	}
	defer db.Close()
	return c.engine(db, log).Run(ctx)
}

// EncodeWorker and DecodeWorker pass a WorkerConfig to a child process.
func EncodeWorker(c WorkerConfig) string { b, _ := json.Marshal(c); return string(b) }

// DecodeWorker is the inverse of EncodeWorker.
func DecodeWorker(s string) (WorkerConfig, error) {
	var c WorkerConfig
	err := json.Unmarshal([]byte(s), &c)
	return c, err
}

// Options describe one fan-out run.
type Options struct {
	DSN                    string
	Channels, PerChannel   int
	Interval               time.Duration // per-channel limit of the fake and the bot's pace
	MinLatency, MaxLatency time.Duration
	StormRate              float64
	StormRetryAfter        time.Duration
	ErrorRate              float64
	Replicas               int           // workers (default 1)
	Lease                  time.Duration // delivery lease (default the engine's)
	Poll                   time.Duration // delivery poll (default the engine's)
	Timeout                time.Duration // give up waiting (default 5 minutes)
	// Spawn, when set, runs each worker as a child process: it returns the
	// command for a worker (not started). Without it the workers run in
	// this process, each with its own store handle.
	Spawn func(WorkerConfig) *exec.Cmd
	// KillAt, with Spawn, SIGKILLs the first worker once this fraction of
	// the threads has its reply, then starts a replacement.
	KillAt float64
	Log    *slog.Logger
}

// Result is what a run measured.
type Result struct {
	Threads, Channels int
	Elapsed           time.Duration // ship command to the last reply accepted
	Bound             time.Duration // (threads per channel − 1) × interval
	Ratio             float64       // Elapsed / Bound
	Delivered         int           // threads with a reply
	Duplicates        int           // replies shown beyond the first in a thread
	Lost              int           // threads without a reply at the end
	Replays           int           // re-posts absorbed by the idempotency key
	RateLimited       int           // 429s for pace
	Stormed           int           // 429s of the storm
	Failed            int           // deliveries the bot marked failed
	Killed            int           // replies shown when the worker was killed (0: no kill)
	PerWorker         map[string]int
}

func (r *Result) String() string {
	s := fmt.Sprintf("%d threads over %d channels: %.2fs, bound %.2fs, ratio %.3f, delivered %d, duplicates %d, lost %d, replays absorbed %d, 429s %d (+%d storm), failed %d",
		r.Threads, r.Channels, r.Elapsed.Seconds(), r.Bound.Seconds(), r.Ratio, r.Delivered, r.Duplicates, r.Lost, r.Replays, r.RateLimited, r.Stormed, r.Failed)
	if r.Killed > 0 {
		s += fmt.Sprintf(", killed after %d", r.Killed)
	}
	return s
}

// Run seeds the database at o.DSN, starts the fake API and the workers,
// ships the request and waits until every thread has its reply (or
// o.Timeout), then reports.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := store.Open(ctx, o.DSN)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	reqID, err := Seed(ctx, db, o.Channels, o.PerChannel)
	if err != nil {
		return nil, err
	}
	fake := NewFake(FakeConfig{Interval: o.Interval, MinLatency: o.MinLatency, MaxLatency: o.MaxLatency,
		StormRate: o.StormRate, StormRetryAfter: o.StormRetryAfter, ErrorRate: o.ErrorRate})
	defer fake.Close()
	wc := func(name string) WorkerConfig {
		return WorkerConfig{DSN: o.DSN, API: fake.URL(), Name: name, Interval: o.Interval, Lease: o.Lease, Poll: o.Poll}
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	var children []*exec.Cmd
	defer func() {
		for _, c := range children {
			if c.ProcessState == nil {
				_ = c.Process.Kill()
				_ = c.Wait()
			}
		}
	}()
	start := func(name string) (*exec.Cmd, error) {
		if o.Spawn == nil {
			wdb, err := store.Open(ctx, o.DSN)
			if err != nil {
				return nil, err
			}
			e := wc(name).engine(wdb, log.With("worker", name))
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer wdb.Close()
				if err := e.Run(runCtx); err != nil {
					log.Error("worker", "name", name, "err", err)
				}
			}()
			return nil, nil
		}
		c := o.Spawn(wc(name))
		if err := c.Start(); err != nil {
			return nil, err
		}
		children = append(children, c)
		return c, nil
	}
	for i := range o.Replicas {
		if _, err := start(fmt.Sprintf("w%d", i)); err != nil {
			return nil, err
		}
	}

	// The shipping engine only enqueues: its platform gives Release the
	// channel interval for spacing.
	shipper := wc("shipper").engine(db, log)
	t0 := time.Now()
	lead := bot.PersonActor(bot.PlatformConsole, "", bot.User{ID: "lead", Name: "lead", Team: true, ReleaseLead: true})
	out, err := shipper.Release(ctx, lead, bot.ReleaseCommand{Action: bot.ActionShipped, Keys: []string{bot.FormatKey("FB", reqID)}, Version: "v1"})
	if err != nil {
		return nil, err
	}
	total := o.Channels * o.PerChannel
	if out.Threads != total {
		return nil, fmt.Errorf("enqueued %d deliveries, want %d", out.Threads, total)
	}
	res := &Result{Threads: total, Channels: o.Channels, Bound: time.Duration(o.PerChannel-1) * o.Interval}

	deadline := time.Now().Add(o.Timeout)
	killed := o.Spawn == nil || o.KillAt <= 0
	for {
		st := fake.Stats()
		if !killed && float64(st.Threads) >= o.KillAt*float64(total) {
			victim := children[0]
			if err := victim.Process.Kill(); err != nil { // SIGKILL
				return nil, err
			}
			_ = victim.Wait()
			res.Killed = fake.Stats().Threads
			killed = true
			if _, err := start(fmt.Sprintf("w%d-restarted", 0)); err != nil {
				return nil, err
			}
		}
		if st.Threads >= total {
			// Every thread has its reply; wait for the bookkeeping.
			if n, err := db.DeliveryQueueDepth(ctx); err == nil && n == 0 {
				break
			}
		} else if n, err := db.DeliveryQueueDepth(ctx); err == nil && n == 0 {
			break // the queue is empty but replies are missing: failed deliveries
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Let a late duplicate show if there is one.
	time.Sleep(100 * time.Millisecond)
	cancel()
	wg.Wait()
	for _, c := range children {
		if c.ProcessState == nil {
			_ = c.Process.Signal(interruptSignal)
			done := make(chan struct{})
			go func() { _ = c.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = c.Process.Kill()
				<-done
			}
		}
	}
	st := fake.Stats()
	if !st.Last.IsZero() {
		res.Elapsed = st.Last.Sub(t0)
	}
	if res.Bound > 0 {
		res.Ratio = res.Elapsed.Seconds() / res.Bound.Seconds()
	}
	res.Delivered = st.Threads
	res.Duplicates = st.Duplicates
	res.Lost = total - st.Threads
	res.Replays = st.Replays
	res.RateLimited = st.RateLimited
	res.Stormed = st.Stormed
	res.PerWorker = fake.Workers()
	ds, err := db.EventDeliveryStats(ctx, out.EventID)
	if err != nil {
		return res, err
	}
	res.Failed = ds.Failed
	if ds.Done+ds.Failed != total {
		return res, fmt.Errorf("store: %+v, want %d settled", ds, total)
	}
	return res, nil
}
