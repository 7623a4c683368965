package dedup

import (
	"sync/atomic"
	"testing"

	"github.com/feedbackbot/feedbackbot/internal/textgen"
)

// BenchmarkAnalyzeQuery is the analysis of a query (Similar's
// analyzeQuery) on all CPUs, each op a text not seen before, as in bench
// capture (internal/textgen seed 1, one in five a near-duplicate of an
// earlier text), after 2,000 texts that fill the caches.
func BenchmarkAnalyzeQuery(b *testing.B) {
	const warm = 2000
	gen := textgen.New(1)
	texts := make([]string, warm+b.N)
	for i := range texts {
		texts[i] = gen.Text(i)
	}
	ix := New(DefaultConfig())
	for _, t := range texts[:warm] {
		ix.analyzeQuery(t).release()
	}
	var next atomic.Int64
	next.Store(warm - 1)
	b.ResetTimer()
	cpu0 := processCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ix.analyzeQuery(texts[next.Add(1)]).release()
		}
	})
	b.StopTimer()
	if cpu0 >= 0 {
		b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
	}
}
