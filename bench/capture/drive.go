package capture

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Load is how a load run is driven; bench capture and bench api share it.
type Load struct {
	// Concurrency is the number of operations in flight at once.
	Concurrency int
	// Rate, when positive, starts operations at that many per second (open
	// loop: latency counts from when each operation was due, so queueing
	// behind a slow system shows); 0 starts the next one as soon as a
	// worker is free (closed loop, the maximum throughput).
	Rate float64
	// Duration and Count end the run, whichever comes first (0: no limit
	// of that kind; at least one must be set).
	Duration time.Duration
	Count    int
	// Progress, when set, gets the progress of the run: a bar redrawn with
	// carriage returns, or, when ProgressEvery is positive (stdout or
	// stderr is not a terminal: a pipe, a log, CI), one plain line per
	// ProgressEvery.
	Progress      io.Writer
	ProgressEvery time.Duration
}

// stats is what drive measured.
type stats struct {
	sent, errs int
	first      string
	elapsed    time.Duration
	perSec     []int           // operations finished in each second of the run
	lat        []time.Duration // sorted
}

// drive runs op(k) for k = 0, 1, … with l.Concurrency workers until the
// duration or count is reached or ctx ends, and measures the latency of
// each call. op gets a context that a run which ends does not cancel, so
// operations in flight finish.
func drive(ctx context.Context, l Load, op func(ctx context.Context, k int) error) stats {
	if l.Concurrency <= 0 {
		l.Concurrency = 16
	}
	type job struct {
		k   int
		due time.Time
	}
	jobs := make(chan job, l.Concurrency*4)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if l.Duration > 0 {
		var c2 context.CancelFunc
		runCtx, c2 = context.WithTimeout(runCtx, l.Duration)
		defer c2()
	}
	var (
		mu      sync.Mutex
		st      = stats{lat: make([]time.Duration, 0, 1<<16)}
		window  []time.Duration // latencies of the current second, for the progress
		lastP99 time.Duration
		done    atomic.Int64
	)
	t0 := time.Now()
	go func() {
		defer close(jobs)
		for k := 0; l.Count <= 0 || k < l.Count; k++ {
			due := time.Now()
			if l.Rate > 0 {
				due = t0.Add(time.Duration(float64(k) / l.Rate * float64(time.Second)))
				if d := time.Until(due); d > 0 {
					select {
					case <-runCtx.Done():
						return
					case <-time.After(d):
					}
				}
			}
			select {
			case <-runCtx.Done():
				return
			case jobs <- job{k, due}:
			}
		}
	}()
	var wg sync.WaitGroup
	for range l.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if runCtx.Err() != nil {
					return
				}
				if l.Rate <= 0 {
					j.due = time.Now()
				}
				err := op(context.WithoutCancel(ctx), j.k)
				end := time.Now()
				d := end.Sub(j.due)
				sec := int(end.Sub(t0) / time.Second)
				mu.Lock()
				if err != nil {
					st.errs++
					if st.first == "" {
						st.first = err.Error()
					}
				}
				st.lat = append(st.lat, d)
				for len(st.perSec) <= sec {
					st.perSec = append(st.perSec, 0)
					if len(window) > 0 {
						lastP99 = percentile(window, 0.99)
						window = window[:0]
					}
				}
				st.perSec[sec]++
				window = append(window, d)
				mu.Unlock()
				done.Add(1)
			}
		}()
	}
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		if l.Progress == nil {
			<-stop
			return
		}
		every := 250 * time.Millisecond
		if l.ProgressEvery > 0 {
			every = l.ProgressEvery
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				if l.ProgressEvery <= 0 {
					fmt.Fprintln(l.Progress)
				}
				return
			case <-t.C:
			}
			mu.Lock()
			p99, nerr := lastP99, st.errs
			mu.Unlock()
			writeProgress(l, time.Since(t0), int(done.Load()), p99, nerr)
		}
	}()
	wg.Wait()
	st.elapsed = time.Since(t0)
	close(stop)
	<-stopped
	st.sent = len(st.lat)
	slices.Sort(st.lat)
	return st
}

// writeProgress writes one progress report: a bar after a carriage return,
// or a line.
func writeProgress(l Load, el time.Duration, n int, p99 time.Duration, nerr int) {
	frac := 0.0
	if l.Duration > 0 {
		frac = float64(el) / float64(l.Duration)
	}
	if l.Count > 0 {
		frac = max(frac, float64(n)/float64(l.Count))
	}
	frac = min(frac, 1)
	rate := float64(n) / el.Seconds()
	if l.ProgressEvery > 0 {
		fmt.Fprintf(l.Progress, "progress: %3.0f%% %.1fs %d done %.0f/s p99(1s) %.1f ms errors %d\n",
			frac*100, el.Seconds(), n, rate, ms(p99), nerr)
		return
	}
	const width = 30
	bar := strings.Repeat("=", int(frac*width)) + strings.Repeat(" ", width-int(frac*width))
	fmt.Fprintf(l.Progress, "\r[%s] %3.0f%% %6.1fs %8d done %7.0f/s p99(1s) %6.1fms errors %d ",
		bar, frac*100, el.Seconds(), n, rate, ms(p99), nerr)
}

// seconds returns the fewest and the median operations in one whole
// second of the run (the last, partial second left out).
func (st *stats) seconds() (minSec, median int) {
	if len(st.perSec) <= 1 {
		return 0, 0
	}
	full := slices.Clone(st.perSec[:len(st.perSec)-1])
	slices.Sort(full)
	return full[0], full[len(full)/2]
}

// percentiles returns p50, p95, p99 and the maximum of the sorted latencies.
func (st *stats) percentiles() (p50, p95, p99, mx time.Duration) {
	if len(st.lat) == 0 {
		return
	}
	return percentile(st.lat, 0.50), percentile(st.lat, 0.95), percentile(st.lat, 0.99), st.lat[len(st.lat)-1]
}
