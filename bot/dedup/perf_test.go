package dedup

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/textgen"
)

// TestAccumulate checks the branch-free first-pass loop against the plain
// one: the same sums, and a slot appended to touched exactly when its sum
// was 0 before the posting (also for products that are 0).
func TestAccumulate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const slots = 300
	want, got := make([]float32, slots), make([]float32, slots)
	var wantT, gotT []uint32
	for term := 0; term < 50; term++ {
		var posts []post
		for i := 0; i < rng.IntN(200); i++ {
			impact := float32(rng.Float64())
			if rng.IntN(10) == 0 {
				impact = 0
			}
			posts = append(posts, post{slot: uint32(rng.IntN(slots)), impact: impact})
		}
		wf := float32(rng.Float64())
		if term%7 == 0 {
			wf = 0
		}
		for _, p := range posts {
			if want[p.slot] == 0 {
				wantT = append(wantT, p.slot)
			}
			want[p.slot] += wf * p.impact
		}
		gotT = accumulate(got, gotT, posts, wf)
		if !slices.Equal(want, got) || !slices.Equal(wantT, gotT) {
			t.Fatalf("term %d: accumulate differs from the plain loop", term)
		}
	}
	if len(gotT) <= slots/2 {
		t.Fatalf("only %d slots touched", len(gotT))
	}
}

// TestFindTerm checks findTerm against slices.BinarySearchFunc.
func TestFindTerm(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 40; n++ {
		var fwd []posting
		id := uint32(0)
		for range n {
			id += uint32(1 + rng.IntN(3))
			fwd = append(fwd, makePosting(id, [numFields]uint16{1}))
		}
		for q := uint32(0); q <= id+2; q++ {
			wi, wok := slices.BinarySearchFunc(fwd, q, func(p posting, id uint32) int { return cmp.Compare(p.slot(), id) })
			if gi, gok := findTerm(fwd, q); gi != wi || gok != wok {
				t.Fatalf("n %d id %d: findTerm %d %v, BinarySearchFunc %d %v", n, q, gi, gok, wi, wok)
			}
		}
	}
}

// TestBoundKey checks that the rerank's integer keys sort like the bounds
// and never give a bound below the one packed (rounding a bound down could
// prune a candidate that belongs among the best).
func TestBoundKey(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var bs []float64
	for i := 0; i < 20000; i++ {
		b := rng.Float64() * 1.1
		if i%5 == 0 {
			b = float64(float32(b)) // exactly a float32
		}
		if i%7 == 0 {
			b = 0
		}
		bs = append(bs, b)
	}
	keys := make([]uint64, len(bs))
	for i, b := range bs {
		keys[i] = boundKey(b, i)
		if got := keyBound(keys[i]); got < b || got > b*(1+1e-6) {
			t.Fatalf("bound %v packed as %v", b, got)
		}
		if int(uint32(keys[i])) != i {
			t.Fatalf("index %d packed as %d", i, uint32(keys[i]))
		}
	}
	slices.Sort(keys)
	for k := 1; k < len(keys); k++ {
		if a, b := bs[uint32(keys[k-1])], bs[uint32(keys[k])]; float32(a) > float32(b)*(1+1e-6) {
			t.Fatalf("keys out of order: %v before %v", a, b)
		}
	}
}

// TestFindBigram checks findBigram against slices.BinarySearchFunc on
// sorted query bigrams whose keys repeat (hashes that differ in the field
// bits only).
func TestFindBigram(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for n := 0; n < 40; n++ {
		var qbs []qbigram
		h := uint32(0)
		for range n {
			if rng.IntN(3) > 0 {
				h += uint32(1+rng.IntN(3)) << 2
			}
			qbs = append(qbs, qbigram{h: h | uint32(rng.IntN(4))})
		}
		slices.SortFunc(qbs, func(a, b qbigram) int { return cmp.Compare(a.h, b.h) })
		for key := uint32(0); key <= h+8; key += 4 {
			want, _ := slices.BinarySearchFunc(qbs, key, func(qb qbigram, key uint32) int {
				return cmp.Compare(qb.h&^bigramFieldMask, key)
			})
			if got := findBigram(qbs, key); got != want {
				t.Fatalf("n %d key %d: findBigram %d, BinarySearchFunc %d", n, key, got, want)
			}
		}
	}
}

// TestPrefetchRange runs prefetchSlot over every slot of a board, empty
// and freed slots included (a prefetch is a hint: this only checks that
// it reads nothing it should not).
func TestPrefetchRange(t *testing.T) {
	ix := newBoard(len(board))
	ix.Upsert(bot.Doc{ID: 100, Active: true}) // no terms, no bigrams
	ix.Remove(3)
	for s := range ix.slots {
		ix.prefetchSlot(uint32(s), true, uint32(len(ix.slots)-1))
	}
	buf := make([]byte, 1000)
	for n := 0; n <= len(buf); n += 37 {
		prefetchRange(uintptr(unsafe.Pointer(unsafe.SliceData(buf))), uintptr(n))
	}
}

// TestNewScorerDoesNotAllocate: the scorer (a kilobyte of Bloom filters)
// lives in the query's scratch; it was allocated twice per Similar.
func TestNewScorerDoesNotAllocate(t *testing.T) {
	ix := newBoard(len(board))
	qa := ix.analyzeQuery("Dark mode\nfor the dashboard export")
	defer qa.release()
	sc := ix.getScratch()
	defer ix.putScratch(sc)
	q := ix.buildQuery(qa, sc)
	ix.newScorer(q, sc) // grows sc's buffers
	if n := testing.AllocsPerRun(100, func() { ix.newScorer(q, sc) }); n != 0 {
		t.Fatalf("newScorer: %v allocations", n)
	}
}

// TestRerankReturnsContendersOnly: the rerank hands Similar only the
// scores that can be among the best limit (from the limit-th best on,
// ties included), so that Similar sorts a few instead of every candidate
// scored.
func TestRerankReturnsContendersOnly(t *testing.T) {
	docs := synthDocs(textgen.New(3), 1000)
	ix := New(DefaultConfig())
	ix.Load(docs)
	gen := textgen.New(4)
	const limit = 3
	for i := 0; i < 30; i++ {
		d := docs[(i*7919)%len(docs)]
		qa := ix.analyzeQuery(gen.Near(i, d.Title+"\n"+d.Description))
		sc := ix.getScratch()
		q := ix.buildQuery(qa, sc)
		if len(sc.acc) < len(ix.slots) {
			sc.acc = make([]float32, len(ix.slots))
		}
		cands := ix.firstPass(q, sc, ix.rerankDepth())
		n := len(cands)
		res := ix.rerank(q, sc, cands, limit)
		scores := make([]float64, len(res))
		for j, r := range res {
			scores[j] = r.score
		}
		slices.Sort(scores)
		slices.Reverse(scores)
		if n > 2*limit && len(res) > 2*limit || len(res) >= limit && scores[len(res)-1] < scores[limit-1] {
			t.Fatalf("query %d: %d candidates, rerank returned %d scores %v", i, n, len(res), scores)
		}
		ix.putScratch(sc)
		qa.release()
	}
}

// TestSortRarestFirst checks that sorting the query terms through their
// indexes gives what slices.SortStableFunc by idf (highest first) gives,
// ties (frequent: words of the same df) in their order.
func TestSortRarestFirst(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var sc scratch
	for round := 0; round < 200; round++ {
		n := rng.IntN(60)
		q := &sc.q
		q.terms = q.terms[:0]
		for i := 0; i < n; i++ {
			idf := float64(1+rng.IntN(8)) / 3
			if round%2 == 1 {
				idf = rng.Float64() * 10
			}
			q.terms = append(q.terms, queryTerm{id: uint32(i), idf: idf, src: fmt.Sprint(i)})
		}
		want := slices.Clone(q.terms)
		slices.SortStableFunc(want, func(a, b queryTerm) int { return cmp.Compare(b.idf, a.idf) })
		sortRarestFirst(q, &sc)
		if !slices.Equal(q.terms, want) {
			t.Fatalf("round %d: sortRarestFirst differs from the stable sort", round)
		}
	}
}

// TestFirstPassDenseMatchesListed checks that the first pass selects the
// same candidates whether it adds the postings without listing the slots
// (accumulateDense, selecting in slot order) or the listed way (selecting
// in the order the postings first touched the slots), on a board grown as
// capture grows it (removals, inactive requests) and on one of identical
// requests, whose sums tie (the dense way falls back).
func TestFirstPassDenseMatchesListed(t *testing.T) {
	defer func(d int) { denseRatio = d }(denseRatio)
	firstPassSlots := func(ix *Index, text string, depth, ratio int) ([]uint32, bool, bool) {
		denseRatio = ratio
		qa := ix.analyzeQuery(text)
		defer qa.release()
		sc := ix.getScratch()
		defer ix.putScratch(sc)
		q := ix.buildQuery(qa, sc)
		if len(q.terms) == 0 {
			return nil, false, false
		}
		if len(sc.acc) < len(ix.slots) {
			sc.acc = make([]float32, len(ix.slots))
		}
		cands := slices.Clone(ix.firstPass(q, sc, depth))
		slices.Sort(cands)
		if slices.ContainsFunc(sc.acc, func(v float32) bool { return v != 0 }) {
			t.Fatal("first pass left sums in its scratch")
		}
		return cands, sc.dense, sc.tied
	}
	check := func(t *testing.T, ix *Index, texts []string) (dense, tied int) {
		t.Helper()
		for i, text := range texts {
			depth := []int{1, 5, 50, 200}[i%4]
			want, d, _ := firstPassSlots(ix, text, depth, 1<<40)
			if d {
				t.Fatal("dense first pass with denseRatio 2^40")
			}
			got, d, tie := firstPassSlots(ix, text, depth, 0)
			if !slices.Equal(got, want) {
				t.Fatalf("%q depth %d: dense first pass %v, listed %v", text, depth, got, want)
			}
			if d {
				dense++
			}
			if tie {
				tied++
			}
		}
		return dense, tied
	}
	t.Run("capture", func(t *testing.T) {
		ix := New(DefaultConfig())
		gen := textgen.New(5)
		var texts []string
		for i := 0; i < 3000; i++ {
			text := gen.Text(i)
			if i%5 == 4 {
				text = gen.Near(i, texts[(i*7919)%len(texts)])
			}
			texts = append(texts, text)
			title, desc := textgen.Split(text)
			ix.Upsert(bot.Doc{ID: int64(i + 1), Title: title, Description: desc, Active: i%23 != 7})
			if i%37 == 36 {
				ix.Remove(int64(i / 2))
			}
		}
		var queries []string
		for i := 0; i < 400; i++ {
			queries = append(queries, gen.Near(10_000+i, texts[(i*131)%len(texts)]))
		}
		dense, _ := check(t, ix, queries)
		if dense < len(queries)/2 {
			t.Fatalf("only %d of %d first passes dense", dense, len(queries))
		}
	})
	t.Run("ties", func(t *testing.T) {
		ix := New(DefaultConfig())
		// The same text: the average lengths stay those of the text, so
		// every request has the same impacts.
		for i := 0; i < 300; i++ {
			title, desc := "Export to CSV fails", "The export button does nothing on the reports page"
			ix.Upsert(bot.Doc{ID: int64(i + 1), Title: title, Description: desc, Active: true})
		}
		// Removals swap-delete: the postings lists no longer follow the
		// slots, so the order of the tied sums decides.
		for id := int64(1); id <= 10; id++ {
			ix.Remove(id)
		}
		_, tied := check(t, ix, []string{
			"Export to CSV fails\nThe export button does nothing on the reports page",
			"CSV export\nnothing happens on the reports page",
			"Export to CSV fails\nThe export button does nothing on the reports page",
			"reports page",
		})
		if tied == 0 {
			t.Fatal("no tie at the boundary: the fallback was not tried")
		}
	})
}

// TestRerankLeavesScorerFresh: Similar writes its reasons with the
// rerank's scorer, which coverage must leave as newScorer made it (no
// query term marked in hit or hits), on a board with concepts, joined
// words and learned words.
func TestRerankLeavesScorerFresh(t *testing.T) {
	ix, docs := learnedBoard(12)
	gen := textgen.New(13)
	texts := []string{"Drop down menu\nThe drop down for the export is too small", "Sign in with Okta\nthe SSO log in fails", "Dark mode\nPlease add a dark theme to the dashbaord"}
	for i := 0; i < 60; i++ {
		d := docs[(i*7919)%len(docs)]
		texts = append(texts, gen.Near(i, d.Title+"\n"+d.Description))
	}
	for i, text := range texts {
		qa := ix.analyzeQuery(text)
		sc := ix.getScratch()
		q := ix.buildQuery(qa, sc)
		if len(q.terms) == 0 {
			t.Fatalf("%q: no query terms", text)
		}
		if len(sc.acc) < len(ix.slots) {
			sc.acc = make([]float32, len(ix.slots))
		}
		res := ix.rerank(q, sc, ix.firstPass(q, sc, ix.rerankDepth()), 1+i%5)
		var got []string
		for _, r := range res {
			got = append(got, sc.z.reason(r.slot))
		}
		for j, h := range sc.hit {
			if h != -1 {
				t.Fatalf("%q: rerank left query term %d hit at %d", text, j, h)
			}
		}
		if slices.ContainsFunc(sc.hits, func(b uint64) bool { return b != 0 }) {
			t.Fatalf("%q: rerank left hits %x", text, sc.hits)
		}
		z := ix.newScorer(q, sc)
		for j, r := range res {
			if want := z.reason(r.slot); got[j] != want {
				t.Fatalf("%q: reason %q with the rerank's scorer, %q with a new one", text, got[j], want)
			}
		}
		ix.putScratch(sc)
		qa.release()
	}
}

// TestDocTotal checks docTotal against the plain sum (ix.idfOf x
// docTermWeight over the request's words, in its order): the same bits,
// on a board with concepts and mentions (extra texts).
func TestDocTotal(t *testing.T) {
	docs := synthDocs(textgen.New(14), 2000)
	for i := range docs {
		if i%7 == 0 {
			docs[i].Extra = []string{"the drop down export to csv is broken for me too"}
		}
	}
	ix := New(DefaultConfig())
	ix.Load(docs)
	qa := ix.analyzeQuery("Dark mode\nfor the dashboard export")
	defer qa.release()
	sc := ix.getScratch()
	defer ix.putScratch(sc)
	z := ix.newScorer(ix.buildQuery(qa, sc), sc)
	concepts := 0
	for s := range ix.slots {
		fwd := ix.slots[s].fwd
		want := 0.0
		for _, p := range fwd {
			if ix.concept[p.slot()] {
				concepts++
				continue
			}
			want += ix.idfOf(sc, int(ix.dfs[p.slot()])) * ix.docTermWeight(p)
		}
		if got := z.docTotal(fwd); got != want {
			t.Fatalf("slot %d: docTotal %v, plain sum %v", s, got, want)
		}
	}
	if concepts == 0 {
		t.Fatal("no concept on the board")
	}
}

// TestReplaceTop checks the heap's sift-down against swapping the new root
// down level by level: the same array after every replacement (which
// entry is evicted among equal sums decides the first pass's candidates).
func TestReplaceTop(t *testing.T) {
	swapDown := func(h minHeap, s uint32, v float32) {
		h[0] = heapEntry{s, v}
		for i := 0; ; {
			l, r, m := 2*i+1, 2*i+2, i
			if l < len(h) && h[l].v < h[m].v {
				m = l
			}
			if r < len(h) && h[r].v < h[m].v {
				m = r
			}
			if m == i {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, depth := range []int{1, 2, 3, 7, 50, 200} {
		var got minHeap
		for i := 0; i < 5000; i++ {
			// Few distinct values: many ties.
			v := float32(rng.IntN(40))
			if got.wants(v, depth) {
				want := slices.Clone(got)
				if len(got) == depth {
					swapDown(want, uint32(i), v)
				} else {
					want.push(uint32(i), v)
				}
				got.take(uint32(i), v, depth)
				if !slices.Equal(got, want) {
					t.Fatalf("depth %d, entry %d: heap %v, swapping down %v", depth, i, got, want)
				}
			}
		}
	}
}
