package dedup

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
)

// baseWords are real feedback words; synthetic words extend the vocabulary
// to benchVocab entries. Words are drawn with a Zipf distribution, so a few
// are very common and most are rare, as in real text.
var baseWords = strings.Fields(`export import csv pdf report dashboard dark mode theme login sso okta
saml password reset email notification slack discord webhook api token rate limit search filter sort
page pagination mobile ios android app crash freeze slow performance timeout error upload download
file image video audio calendar sync integration github jira zapier billing invoice subscription plan
team member role permission admin settings profile avatar language translation timezone date format
chart graph analytics metric alert schedule reminder comment reply thread mention tag label board
column card drag drop keyboard shortcut accessibility contrast font size print share link embed widget
offline cache backup restore delete archive history audit log version release update upgrade install
browser firefox chrome safari windows linux macos desktop tray menu button dialog popup modal tooltip`)

const benchVocab = 50_000

type corpusGen struct {
	words []string
	zipf  *rand.Zipf
	rng   *rand.Rand
}

func newCorpusGen(seed uint64) *corpusGen {
	rng := rand.New(rand.NewPCG(seed, 1))
	words := slices.Clone(baseWords)
	const letters = "abcdefghijklmnoprstuvwy"
	for len(words) < benchVocab {
		n := 3 + rng.IntN(7)
		var sb strings.Builder
		for i := 0; i < n; i++ {
			sb.WriteByte(letters[rng.IntN(len(letters))])
		}
		words = append(words, sb.String())
	}
	return &corpusGen{words: words, rng: rng, zipf: rand.NewZipf(rng, 1.1, 2, uint64(len(words)-1))}
}

func (g *corpusGen) text(n int) string {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(' ')
			if g.rng.IntN(4) == 0 {
				sb.WriteString("the ")
			}
		}
		sb.WriteString(g.words[g.zipf.Uint64()])
	}
	return sb.String()
}

// mutate returns a near-duplicate: some words dropped, replaced or
// misspelt.
func (g *corpusGen) mutate(s string) string {
	ws := strings.Fields(s)
	out := ws[:0]
	for _, w := range ws {
		switch g.rng.IntN(10) {
		case 0: // drop
		case 1:
			out = append(out, g.words[g.zipf.Uint64()])
		case 2:
			if len(w) > 3 {
				i := 1 + g.rng.IntN(len(w)-2)
				w = w[:i] + w[i+1:]
			}
			out = append(out, w)
		default:
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}

// docs returns n synthetic requests; one in five is a near-duplicate of an
// earlier one.
func (g *corpusGen) docs(n int) []bot.Doc {
	docs := make([]bot.Doc, n)
	for i := range docs {
		if i > 10 && g.rng.IntN(5) == 0 {
			src := docs[g.rng.IntN(i)]
			docs[i] = bot.Doc{ID: int64(i + 1), Title: g.mutate(src.Title), Description: g.mutate(src.Description), Active: true}
			continue
		}
		docs[i] = bot.Doc{ID: int64(i + 1), Title: g.text(4 + g.rng.IntN(7)), Description: g.text(15 + g.rng.IntN(45)), Active: g.rng.IntN(20) != 0}
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
	docs := newCorpusGen(42).docs(n)
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
			g := newCorpusGen(7)
			queries := make([]string, 1000)
			for i := range queries {
				d := docs[g.rng.IntN(len(docs))]
				queries[i] = g.mutate(d.Title) + "\n" + g.mutate(d.Description)
			}
			lat := make([]time.Duration, 0, b.N)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if _, err := ix.Similar(ctx, queries[i%len(queries)], 3); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
		})
	}
}

// BenchmarkBuild measures building the index from scratch with Load
// (start-up) and the heap it keeps per indexed request.
func BenchmarkBuild(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("requests=%d", n), func(b *testing.B) {
			docs := newCorpusGen(42).docs(n)
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
// near-duplicates and dismissals of random pairs, 1 in 4).
func BenchmarkSimilarLearned(b *testing.B) {
	const n = 100_000
	docs := newCorpusGen(42).docs(n)
	ix := New(DefaultConfig())
	ix.Load(docs)
	g := newCorpusGen(9)
	var ds []bot.Decision
	for i := 0; i < ix.cfg.MaxDecisions; i++ {
		a := g.rng.IntN(n)
		bb := a + 1
		if bb == n || i%4 == 0 {
			bb = g.rng.IntN(n)
		}
		ds = append(ds, bot.Decision{Key: fmt.Sprint(i), A: docs[a].ID, B: docs[bb].ID, Same: i%4 != 0})
	}
	ix.Learn(ds)
	queries := make([]string, 1000)
	for i := range queries {
		d := docs[g.rng.IntN(len(docs))]
		queries[i] = g.mutate(d.Title) + "\n" + g.mutate(d.Description)
	}
	lat := make([]time.Duration, 0, b.N)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, err := ix.Similar(ctx, queries[i%len(queries)], 3); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
