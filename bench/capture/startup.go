package capture

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
	"github.com/feedbackbot/feedbackbot/internal/textgen"
	"github.com/feedbackbot/feedbackbot/store"
)

// Seed adds requests with mentionsPerRequest mentions each to the board at
// dsn in bulk, with texts from textgen.New(seed) (Text and Reply), and reports
// progress to w (nil: none): one line redrawn with carriage returns, or, with
// lines set (w is not a terminal), one line per report.
func Seed(ctx context.Context, dsn string, requests, mentionsPerRequest int, seed uint64, w io.Writer, lines bool) (time.Duration, error) {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var base int
	if err := db.DB().GetContext(ctx, &base, `SELECT COALESCE(MAX(id), 0) FROM requests`); err != nil {
		return 0, err
	}
	gen := textgen.New(seed)
	start := time.Now()
	err = db.SeedBulk(ctx, store.SeedSpec{
		Requests:           requests,
		MentionsPerRequest: mentionsPerRequest,
		Text:               func(i int) string { return gen.Text(base + i) },
		Reply:              func(i, j int) string { return gen.Reply(base+i, j) },
		Progress: func(done int) {
			if w != nil {
				el := time.Since(start)
				cr, end := "\r", " "
				if lines {
					cr, end = "", "\n"
				}
				fmt.Fprintf(w, "%sseeded %d/%d requests (%d mentions) in %v%s", cr, done, requests, done*mentionsPerRequest, el.Round(time.Second), end)
			}
		},
	})
	if w != nil && !lines {
		fmt.Fprintln(w)
	}
	return time.Since(start), err
}

// StartupResult is what Startup measured.
type StartupResult struct {
	Dialect string
	Docs    int
	// SinceProcess is from the process start (kernel clock) to ready;
	// Open covers connecting and migrations, Index loading the duplicate
	// index (reading every request with its mention texts and indexing).
	SinceProcess, Open, Index, Total time.Duration
	// Ready is the memory when ready; AfterGC after a garbage collection.
	Ready, AfterGC Memory
	HeapInUse      uint64
}

// Startup does what `feedbackbot` does before it serves (open the store
// with its migrations, build the engine, load the duplicate index) and
// measures the time and the memory. Run it in a fresh process.
func Startup(ctx context.Context, dsn string) (*StartupResult, error) {
	t0 := time.Now()
	res := &StartupResult{}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	res.Dialect = db.Dialect()
	res.Open = time.Since(t0)
	ix := dedup.New(dedup.DefaultConfig())
	eng := bot.NewEngine(db, ix, EngineConfig(), nil)
	t1 := time.Now()
	if err := eng.LoadIndex(ctx); err != nil {
		return nil, err
	}
	now := time.Now()
	res.Index = now.Sub(t1)
	res.Total = now.Sub(t0)
	if ps, ok := ProcessStart(); ok {
		res.SinceProcess = now.Sub(ps)
	}
	res.Ready = ReadMemory()
	res.Docs = ix.Len()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.HeapInUse = ms.HeapInuse
	res.AfterGC = ReadMemory()
	runtime.KeepAlive(eng)
	return res, nil
}

// Print writes the result as a small report.
func (r *StartupResult) Print(w io.Writer) {
	fmt.Fprintf(w, "start-up: %s, %d requests indexed, %d CPUs\n", r.Dialect, r.Docs, runtime.NumCPU())
	fmt.Fprintf(w, "ready:    %v after process start (open+migrate %v, duplicate index %v)\n",
		r.SinceProcess.Round(time.Millisecond), r.Open.Round(time.Millisecond), r.Index.Round(time.Millisecond))
	fmt.Fprintf(w, "memory:   VmRSS %s when ready (peak VmHWM %s); after GC VmRSS %s, Go heap in use %s\n",
		MiB(r.Ready.RSS), MiB(r.Ready.Peak), MiB(r.AfterGC.RSS), MiB(int64(r.HeapInUse)))
}
