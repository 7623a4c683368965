package dedup

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/textgen"
)

// synthDocs returns n synthetic requests from internal/textgen (the same
// generator as the load harness, bench/capture): about one in five is a
// near-duplicate of an earlier one, one in twenty is inactive.
func synthDocs(gen *textgen.Gen, n int) []bot.Doc {
	docs := make([]bot.Doc, n)
	for i := range docs {
		title, desc := textgen.Split(gen.Text(i))
		docs[i] = bot.Doc{ID: int64(i + 1), Title: title, Description: desc, Active: i%20 != 19}
	}
	return docs
}

var (
	benchMu    sync.Mutex
	benchIndex = map[int]*Index{}
	benchDocs  = map[int][]bot.Doc{}
)

func buildBench(b *testing.B, n int) (*Index, []bot.Doc) {
	b.Helper()
	benchMu.Lock()
	defer benchMu.Unlock()
	if ix, ok := benchIndex[n]; ok {
		return ix, benchDocs[n]
	}
	docs := synthDocs(textgen.New(42), n)
	ix := New(DefaultConfig())
	ix.Load(docs)
	benchIndex[n], benchDocs[n] = ix, docs
	return ix, docs
}

var benchSizes = []int{100_000, 1_000_000}

// BenchmarkSimilar measures the latency of one duplicate check (limit 3)
// with a near-duplicate of an indexed request as the query, and reports p50
// and p99 in milliseconds.
func BenchmarkSimilar(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("requests=%d", n), func(b *testing.B) {
			ix, docs := buildBench(b, n)
			gen := textgen.New(7)
			rng := rand.New(rand.NewPCG(7, 1))
			queries := make([]string, 1000)
			for i := range queries {
				d := docs[rng.IntN(len(docs))]
				queries[i] = gen.Near(i, d.Title+"\n"+d.Description)
			}
			benchQueries(b, ix, queries)
		})
	}
}

// BenchmarkBuild measures building the index from scratch with Load
// (start-up) and the heap it keeps per indexed request.
func BenchmarkBuild(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("requests=%d", n), func(b *testing.B) {
			docs := synthDocs(textgen.New(42), n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				b.StartTimer()
				ix := New(DefaultConfig())
				ix.Load(docs)
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "bytes/request")
				runtime.KeepAlive(ix)
				b.StartTimer()
			}
		})
	}
}

// BenchmarkSimilarLearned is BenchmarkSimilar at 100,000 requests on an
// index that holds Config.MaxDecisions learned decisions (merges of
// near-duplicates and dismissals of random pairs, 1 in 4). The index is
// built once per process (as BenchmarkSimilar's), not again for each
// b.N.
func BenchmarkSimilarLearned(b *testing.B) {
	ix, queries := buildLearnedBench(b)
	benchQueries(b, ix, queries)
}

var (
	learnedOnce    sync.Once
	learnedIndex   *Index
	learnedQueries []string
)

func buildLearnedBench(b *testing.B) (*Index, []string) {
	b.Helper()
	learnedOnce.Do(func() {
		const n = 100_000
		docs := synthDocs(textgen.New(42), n)
		ix := New(DefaultConfig())
		ix.Load(docs)
		gen := textgen.New(9)
		rng := rand.New(rand.NewPCG(9, 1))
		var ds []bot.Decision
		for i := 0; i < ix.cfg.MaxDecisions; i++ {
			a := rng.IntN(n)
			bb := a + 1
			if bb == n || i%4 == 0 {
				bb = rng.IntN(n)
			}
			ds = append(ds, bot.Decision{Key: fmt.Sprint(i), A: docs[a].ID, B: docs[bb].ID, Same: i%4 != 0})
		}
		ix.Learn(ds)
		queries := make([]string, 1000)
		for i := range queries {
			d := docs[rng.IntN(len(docs))]
			queries[i] = gen.Near(i, d.Title+"\n"+d.Description)
		}
		learnedIndex, learnedQueries = ix, queries
	})
	return learnedIndex, learnedQueries
}

// benchQueries runs b.N duplicate checks (limit 3), cycling through
// queries, and reports p50 and p99 latency in milliseconds and the CPU
// time of the process per check in microseconds (cpu-us/op: user and
// system time of all threads, the garbage collector's included; less
// sensitive than latency to other processes on a busy machine).
func benchQueries(b *testing.B, ix *Index, queries []string) {
	lat := make([]time.Duration, 0, b.N)
	ctx := context.Background()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := ix.Similar(ctx, queries[i%len(queries)], 3); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	cpu := processCPU() - cpu0
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	if cpu0 >= 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/op")
	}
}

// BenchmarkCapture is the duplicate index's share of the capture path
// (bench capture on a fresh board): each op checks a new request
// (Similar, limit MaxSuggestions+2 = 5) and then indexes it (Upsert), so
// the board grows from 0 to b.N requests. Run it with -benchtime Nx (the
// capture bench reaches about 22,000 requests).
func BenchmarkCapture(b *testing.B) {
	gen := textgen.New(1)
	docs := make([]bot.Doc, b.N)
	for i := range docs {
		title, desc := textgen.Split(gen.Text(i))
		docs[i] = bot.Doc{ID: int64(i + 1), Title: title, Description: desc, Active: true}
	}
	ix := New(DefaultConfig())
	ctx := context.Background()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		d := docs[i]
		if _, err := ix.Similar(ctx, d.Title+"\n"+d.Description, 5); err != nil {
			b.Fatal(err)
		}
		ix.Upsert(d)
	}
	cpu := processCPU() - cpu0
	b.StopTimer()
	if cpu0 >= 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/op")
	}
}
