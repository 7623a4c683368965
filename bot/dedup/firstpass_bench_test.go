package dedup

import (
	"sync"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/textgen"
)

var (
	captureBoardOnce sync.Once
	captureBoard     *Index
	captureQueries   []string
)

// BenchmarkFirstPass is Similar's first pass alone (depth 50, as a lookup
// re-ranks on it) on a board of 25,000 requests made like BenchmarkCapture's
// (about where bench capture's board ends), cycling through 200 new texts.
func BenchmarkFirstPass(b *testing.B) {
	captureBoardOnce.Do(func() {
		gen := textgen.New(1)
		docs := make([]bot.Doc, 25_000)
		for i := range docs {
			title, desc := textgen.Split(gen.Text(i))
			docs[i] = bot.Doc{ID: int64(i + 1), Title: title, Description: desc, Active: true}
		}
		captureBoard = New(DefaultConfig())
		captureBoard.Load(docs)
		for i := 0; i < 200; i++ {
			captureQueries = append(captureQueries, gen.Text(len(docs)+i))
		}
	})
	ix := captureBoard
	qas := make([]*analyzed, len(captureQueries))
	for i, text := range captureQueries {
		qas[i] = ix.analyzeQuery(text)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sc := ix.getScratch()
		q := ix.buildQuery(qas[i%len(qas)], sc)
		if len(sc.acc) < len(ix.slots) {
			sc.acc = make([]float32, len(ix.slots)+len(ix.slots)/4)
		}
		b.StartTimer()
		ix.firstPass(q, sc, ix.rerankDepth())
		b.StopTimer()
		ix.putScratch(sc)
	}
}
