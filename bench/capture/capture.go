package capture

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
	"github.com/feedbackbot/feedbackbot/internal/textgen"
	"github.com/feedbackbot/feedbackbot/store"
)

// Options configure a capture load run.
type Options struct {
	// DSN names the database (store.ParseDSN).
	DSN string
	// Load is the concurrency or rate, the length of the run and the
	// progress output.
	Load
	// Seed seeds the text generator (the same as the one given to Seed
	// makes near-duplicates of seeded requests).
	Seed uint64
	// Channels is the number of watched channels the messages go to.
	Channels int
	// CPUProfile, when set, gets a CPU profile of the load phase.
	CPUProfile io.Writer
	// Logger gets the engine's log (nil: discarded).
	Logger *slog.Logger
}

// Result is what a capture run measured.
type Result struct {
	Dialect  string
	Board    int           // requests on the board before the run
	LoadTime time.Duration // loading the duplicate index
	Sent     int           // events handled
	Captured int           // requests created
	Suggest  int           // captures that got duplicate suggestions
	Errors   int           // events answered with an error
	Elapsed  time.Duration
	// Throughput is captures per second over the run; MinSecond and
	// MedianSecond are the fewest and the median captures in one whole
	// second of it.
	Throughput              float64
	MinSecond, MedianSecond int
	P50, P95, P99, Max      time.Duration
	Memory                  Memory
	FirstError              string
}

// fakePlatform answers every post at once, as if the chat API took no time.
type fakePlatform struct{ n atomic.Int64 }

func (p *fakePlatform) Name() string { return "slack" }
func (p *fakePlatform) Post(_ context.Context, msg bot.OutMessage) (bot.MessageRef, error) {
	id := "card-" + strconv.FormatInt(p.n.Add(1), 10)
	return bot.MessageRef{Platform: "slack", Workspace: msg.Workspace, Channel: msg.Channel, ID: id, ThreadID: msg.ThreadID}, nil
}
func (p *fakePlatform) Update(context.Context, bot.MessageRef, bot.OutMessage) error { return nil }

// counter counts captures and suggestions through bot.Metrics.
type counter struct{ captured, suggested atomic.Int64 }

func (c *counter) Captured(string, string)  { c.captured.Add(1) }
func (c *counter) Suggested()               { c.suggested.Add(1) }
func (c *counter) Merged()                  {}
func (c *counter) Delivered(string, string) {}

// EngineConfig is the engine configuration `feedbackbot` runs with by
// default: bot.DefaultConfig (whose suggestion threshold is the dedup
// package's).
func EngineConfig() bot.Config {
	cfg := bot.DefaultConfig()
	cfg.Worker = "bench"
	return cfg
}

// Run opens the store, loads the duplicate index, watches the channels
// and sends message events through engine.Handle until the duration or
// count is reached or ctx ends.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Channels <= 0 {
		o.Channels = 50
	}
	if o.Duration <= 0 && o.Count <= 0 {
		return nil, bot.Errorf(bot.EINVALID, "Set a duration or a count.")
	}
	db, err := store.Open(ctx, o.DSN)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	res := &Result{Dialect: db.Dialect()}
	var maxID int64
	if err := db.DB().GetContext(ctx, &maxID, `SELECT COALESCE(MAX(id), 0) FROM requests`); err != nil {
		return nil, err
	}
	if err := db.DB().GetContext(ctx, &res.Board, `SELECT COUNT(*) FROM requests`); err != nil {
		return nil, err
	}

	eng := bot.NewEngine(db, dedup.New(dedup.DefaultConfig()), EngineConfig(), o.Logger)
	eng.AddPlatform(&fakePlatform{})
	cnt := &counter{}
	eng.SetMetrics(cnt)
	start := time.Now()
	if err := eng.LoadIndex(ctx); err != nil {
		return nil, err
	}
	res.LoadTime = time.Since(start)
	for c := range o.Channels {
		set := bot.ChannelSetting{Platform: "slack", Workspace: "T1", Channel: channelName(c), Kind: bot.ChannelWatch, SetBy: "bench"}
		if _, err := db.SetChannel(ctx, set, true); err != nil {
			return nil, err
		}
	}

	gen := textgen.New(o.Seed)
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	if o.CPUProfile != nil {
		if err := pprof.StartCPUProfile(o.CPUProfile); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	st := drive(ctx, o.Load, func(ctx context.Context, k int) error {
		text := gen.Text(int(maxID) + k)
		u := fmt.Sprintf("L%05d", (k*7919)%50_000)
		msg := &bot.Message{
			Platform: "slack", Workspace: "T1", Channel: channelName(k % o.Channels),
			ID:     run + "-" + strconv.Itoa(k),
			Author: bot.User{ID: u, Name: u, Org: "T" + strconv.Itoa(k%30)},
			Text:   text,
		}
		ev := &bot.Event{Kind: bot.EventMessage, Platform: msg.Platform, Workspace: msg.Workspace, Channel: msg.Channel, User: msg.Author, Message: msg}
		_, err := eng.Handle(ctx, ev)
		return err
	})
	if o.CPUProfile != nil {
		pprof.StopCPUProfile()
	}
	res.Elapsed = st.elapsed
	res.Sent = st.sent
	res.Errors = st.errs
	res.FirstError = st.first
	res.Captured = int(cnt.captured.Load())
	res.Suggest = int(cnt.suggested.Load())
	if res.Elapsed > 0 {
		res.Throughput = float64(res.Captured) / res.Elapsed.Seconds()
	}
	res.MinSecond, res.MedianSecond = st.seconds()
	res.P50, res.P95, res.P99, res.Max = st.percentiles()
	runtime.GC()
	res.Memory = ReadMemory()
	return res, nil
}

func channelName(c int) string { return "load-C" + strconv.Itoa(c) }

// percentile returns the p-quantile (nearest rank) of lat; it sorts lat.
func percentile(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	if !slices.IsSorted(lat) {
		slices.Sort(lat)
	}
	i := int(p*float64(len(lat))+0.5) - 1
	return lat[min(max(i, 0), len(lat)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Print writes the result as a small report.
func (r *Result) Print(w io.Writer, o Options) {
	mode := "closed loop"
	if o.Rate > 0 {
		mode = fmt.Sprintf("open loop at %.0f/s", o.Rate)
	}
	fmt.Fprintf(w, "capture load: %s, %d requests on the board (index loaded in %v), concurrency %d, %s, %d CPUs\n",
		r.Dialect, r.Board, r.LoadTime.Round(time.Millisecond), o.Concurrency, mode, runtime.NumCPU())
	fmt.Fprintf(w, "events:      %d in %v (%d captured, %d with duplicate suggestions, %d errors)\n",
		r.Sent, r.Elapsed.Round(time.Millisecond), r.Captured, r.Suggest, r.Errors)
	fmt.Fprintf(w, "throughput:  %.0f captures/s (per whole second: min %d, median %d)\n", r.Throughput, r.MinSecond, r.MedianSecond)
	fmt.Fprintf(w, "latency:     p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms\n", ms(r.P50), ms(r.P95), ms(r.P99), ms(r.Max))
	fmt.Fprintf(w, "memory:      VmRSS %s, VmHWM %s\n", MiB(r.Memory.RSS), MiB(r.Memory.Peak))
	if r.FirstError != "" {
		fmt.Fprintf(w, "first error: %s\n", r.FirstError)
	}
}
