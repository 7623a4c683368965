package dedup

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/feedbackbot/feedbackbot/bot"
)

// TestAppendDedupBigrams checks appendDedupBigrams against dedupBigrams on
// random bigrams with many equal hashes and weights.
func TestAppendDedupBigrams(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var dst []bigram
	var buf []uint64
	for n := 0; n < 400; n++ {
		bs := make([]bigram, n%60)
		for i := range bs {
			bs[i] = bigram{h: uint32(rng.IntN(20)) * 0x9E3779B1, a: int32(i), b: int32(rng.IntN(9)), field: int32(rng.IntN(3)), w: float64(rng.IntN(4))}
		}
		orig := slices.Clone(bs)
		dst, buf = appendDedupBigrams(dst[:0], bs, buf)
		if !slices.Equal(bs, orig) {
			t.Fatal("appendDedupBigrams changed its input")
		}
		if want := dedupBigrams(slices.Clone(bs)); !slices.Equal(dst, want) {
			t.Fatalf("appendDedupBigrams(%v) =\n%v, want\n%v", bs, dst, want)
		}
	}
}

// TestGramVariantMatchesFullScan checks gramVariant, which passes over the
// terms that share too few n-grams to reach minGramDice without reading
// their length, against scoring every term that shares one.
func TestGramVariantMatchesFullScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	randWord := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + rng.IntN(5)) // few letters: many shared n-grams
		}
		return string(b)
	}
	ix := New(DefaultConfig())
	for i := 0; i < 2000; i++ {
		var words []string
		for range 3 {
			words = append(words, randWord(3+rng.IntN(9)))
		}
		ix.Upsert(bot.Doc{ID: int64(i + 1), Title: strings.Join(words, " "), Description: words[0], Active: true})
	}
	sc := ix.getScratch()
	defer ix.putScratch(sc)
	found := 0
	for i := 0; i < 1500; i++ {
		w := randWord(5 + rng.IntN(10))
		if i%3 == 0 {
			w = ix.terms[rng.IntN(len(ix.terms))].text
		}
		df := i % 2
		gotID, gotDice, gotOK := ix.gramVariant(sc, w, df)
		wantID, wantDice, wantOK := fullGramVariant(ix, w, df)
		if gotOK != wantOK || gotOK && (gotID != wantID || gotDice != wantDice) {
			t.Fatalf("gramVariant(%q, %d) = %d %v %v, full scan %d %v %v", w, df, gotID, gotDice, gotOK, wantID, wantDice, wantOK)
		}
		if gotOK {
			found++
		}
	}
	if found < 150 {
		t.Fatalf("only %d words had a variant", found)
	}
}

// fullGramVariant is gramVariant scoring every term that shares an n-gram.
func fullGramVariant(ix *Index, t string, df int) (uint32, float64, bool) {
	if utf8.RuneCountInString(t) < 5 {
		return 0, 0, false
	}
	grams := termGrams(t)
	counts := map[uint32]int{}
	for _, g := range grams {
		if ts := ix.gramTerms.get(g); len(ts) <= maxGramTerms {
			for _, id := range ts {
				counts[id]++
			}
		}
	}
	best, bestDice := uint32(0), 0.0
	for id, k := range counts {
		d := 2 * float64(k) / float64(len(grams)+len(ix.terms[id].grams))
		if int(ix.dfs[id]) <= df || ix.terms[id].text == t {
			continue
		}
		if d > bestDice || d == bestDice && id < best {
			best, bestDice = id, d
		}
	}
	return best, bestDice, bestDice >= minGramDice
}

// TestTermDict checks the term dictionary against a map as it grows: every
// term added is found (as a string and as bytes) with its id, and words
// never added are not.
func TestTermDict(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	d := newTermDict()
	var terms []termEntry
	want := map[string]uint32{}
	word := func() string {
		b := make([]byte, 1+rng.IntN(12))
		for i := range b {
			b[i] = byte('a' + rng.IntN(4))
		}
		return string(b)
	}
	for i := 0; i < 20000; i++ {
		w := word()
		id, h, ok := d.lookup(terms, w)
		wid, wok := want[w]
		if ok != wok || ok && id != wid {
			t.Fatalf("lookup(%q) = %d %v, want %d %v", w, id, ok, wid, wok)
		}
		if id2, ok2 := d.findBytes(terms, []byte(w)); ok2 != wok || ok2 && id2 != wid {
			t.Fatalf("findBytes(%q) = %d %v, want %d %v", w, id2, ok2, wid, wok)
		}
		if !ok {
			id = uint32(len(terms))
			terms = append(terms, termEntry{text: w})
			d.add(terms, id, h)
			want[w] = id
		}
	}
	if len(d.slots) <= termDictMin || d.n != len(want) {
		t.Fatalf("%d slots for %d terms (%d added)", len(d.slots), d.n, len(want))
	}
	for w, id := range want {
		if got, ok := d.find(terms, w); !ok || got != id {
			t.Fatalf("find(%q) = %d %v, want %d", w, got, ok, id)
		}
	}
}

// TestGramIndex checks the n-gram lists against a map as they grow.
func TestGramIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	x := newGramIndex()
	want := map[uint32][]uint32{}
	for i := 0; i < 50000; i++ {
		g := uint32(rng.IntN(8000)) * 0x10001 // some hashes share their low bits
		if i%7 == 0 {
			g = 0
		}
		id := uint32(rng.IntN(1 << 20))
		x.add(g, id)
		want[g] = append(want[g], id)
	}
	if len(x.slots) <= 1024 || len(x.lists) != len(want) {
		t.Fatalf("%d slots, %d lists for %d n-grams", len(x.slots), len(x.lists), len(want))
	}
	for g, ids := range want {
		if got := x.get(g); !slices.Equal(got, ids) {
			t.Fatalf("get(%d) = %v, want %v", g, got, ids)
		}
	}
	for i := 0; i < 1000; i++ {
		g := uint32(8000+rng.IntN(8000)) * 0x10001
		if got := x.get(g); got != nil {
			t.Fatalf("get(%d) = %v for an n-gram never added", g, got)
		}
	}
}
