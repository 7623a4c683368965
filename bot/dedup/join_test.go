package dedup

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// plainAddJoin is addJoin without its shortcuts: the stop words looked up
// for every pair no longer than the longest, every join so far compared.
func (dst *analyzed) plainAddJoin(a, b string, w float64, ia, ib int32) {
	n := len(a) + len(b)
	if n < 4 {
		return
	}
	jb := []byte(a + b)
	if n <= maxStopWordLen && isStopWord(string(jb)) {
		return
	}
	s := porter2Bytes(jb)
	h := joinHash(s)
	for i := range dst.joins {
		if j := &dst.joins[i]; j.h == h && string(dst.joinTerm(j)) == string(s) {
			j.w = max(j.w, w)
			return
		}
	}
	at := len(dst.joinText)
	dst.joinText = append(append(append(append(dst.joinText, a...), ' '), b...), s...)
	dst.joins = append(dst.joins, join{w: w, a: ia, b: ib, h: h, at: int32(at), n: int32(n + 1), tn: int32(len(s))})
}

// TestAddJoinMatchesPlain checks addJoin (its stop-word prefilter and the
// bits of the joins' hashes) against plainAddJoin on random word pairs,
// stop words and repeated pairs among them, in reused analyses.
func TestAddJoinMatchesPlain(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var stops []string
	for w := range stopWords {
		stops = append(stops, w)
	}
	slices.Sort(stops)
	word := func() string {
		switch rng.IntN(4) {
		case 0:
			return stops[rng.IntN(len(stops))]
		case 1:
			// A stop word cut in two (the pair joins into it).
			return []string{"the", "in", "th", "ey", "your", "sel", "f", "a", "bout"}[rng.IntN(9)]
		}
		b := make([]byte, 1+rng.IntN(9))
		for i := range b {
			b[i] = "aeioustdrnly0"[rng.IntN(13)]
		}
		return string(b)
	}
	got, want := newAnalyzed(), newAnalyzed()
	for i := 0; i < 3000; i++ {
		for k := rng.IntN(60); k > 0; k-- {
			a, b := word(), word()
			w := float64(rng.IntN(3))
			ia, ib := int32(rng.IntN(9)-1), int32(rng.IntN(9)-1)
			got.addJoin(a, b, w, ia, ib, "")
			want.plainAddJoin(a, b, w, ia, ib)
		}
		if !slices.Equal(got.joins, want.joins) || string(got.joinText) != string(want.joinText) {
			t.Fatalf("round %d: joins %v %q, want %v %q", i, got.joins, got.joinText, want.joins, want.joinText)
		}
		got.reset()
		want.reset()
	}
}

// TestMayBeStopWord checks that every stop word may be one.
func TestMayBeStopWord(t *testing.T) {
	for w := range stopWords {
		if !mayBeStopWord([]byte(w)) {
			t.Errorf("mayBeStopWord(%q) = false", w)
		}
	}
}
