package fanout_test

import (
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bench/fanout"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// BenchmarkFanout ships one request subscribed from 10,000 threads over 500
// channels to a fake chat API that accepts one message per second per
// channel (429 with Retry-After past it) and answers in 20–80 ms. The
// rate-limit lower bound is (20 − 1) × 1 s = 19 s. Run it with
//
//	go test -run '^$' -bench BenchmarkFanout -benchtime 1x ./bench/fanout
//
// "killed" runs the worker as a child process, SIGKILLs it when half the
// threads have their reply and starts another (under another name): the
// killed worker's leases (5 s) are taken over once its heartbeat (every
// 500 ms, a tenth of the lease) is three beats old, and the new worker
// keeps each channel's pace from the last post the store recorded.
func BenchmarkFanout(b *testing.B) {
	shape := func(dsn string) fanout.Options {
		return fanout.Options{
			DSN: dsn, Channels: 500, PerChannel: 20,
			Interval: time.Second, MinLatency: 20 * time.Millisecond, MaxLatency: 80 * time.Millisecond,
			Lease: 5 * time.Second, Timeout: 3 * time.Minute,
		}
	}
	for _, v := range []struct {
		name   string
		dsn    func(testing.TB) string
		killed bool
	}{
		{"sqlite", storetest.SQLiteDSN, false},
		{"postgres", storetest.PostgresDSN, false},
		{"sqlite/killed", storetest.SQLiteDSN, true},
		{"postgres/killed", storetest.PostgresDSN, true},
	} {
		b.Run(v.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				o := shape(v.dsn(b))
				if v.killed {
					o.Spawn = spawn
					o.KillAt = 0.5
				}
				b.StartTimer()
				r, err := fanout.Run(b.Context(), o)
				if err != nil {
					b.Fatal(err)
				}
				b.Log(r)
				b.ReportMetric(r.Elapsed.Seconds(), "s_to_deliver")
				b.ReportMetric(r.Bound.Seconds(), "s_bound")
				b.ReportMetric(r.Ratio, "ratio")
				b.ReportMetric(float64(r.Duplicates), "duplicates")
				b.ReportMetric(float64(r.Lost), "lost")
				b.ReportMetric(float64(r.Replays), "replays")
				if r.Lost != 0 || r.Duplicates != 0 {
					b.Errorf("lost %d, duplicates %d", r.Lost, r.Duplicates)
				}
			}
		})
	}
}
