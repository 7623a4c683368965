package dedup

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/textgen"
)

func scoreOf(t *testing.T, ix *Index, text string, id int64) (float64, string) {
	t.Helper()
	cs, err := ix.Similar(context.Background(), text, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.RequestID == id {
			return c.Score, c.Reason
		}
	}
	return 0, ""
}

// learnBoard is the fuzzy tests' board (ids 1-20) without the vocabulary,
// so that only learning can link words.
func learnBoard(t *testing.T) *Index {
	cfg := DefaultConfig()
	cfg.VocabWeight = 0
	ix := New(cfg)
	for i, d := range board {
		d.ID = int64(i + 1)
		d.Active = true
		ix.Upsert(d)
	}
	return ix
}

func TestLearnFromMerge(t *testing.T) {
	ix := learnBoard(t)
	const darkMode = 1 // "Dark mode for the dashboard, please"
	ix.Upsert(bot.Doc{ID: 100, Title: "Night theme", Description: "the white background hurts at night", Active: true})
	const q = "Night theme please"
	if s, _ := scoreOf(t, ix, q, darkMode); s >= DefaultSuggestThreshold {
		t.Fatalf("before learning: %.2f, the test tests nothing", s)
	}
	// The team merges 100 into 1: the merged request is inactive but stays
	// indexed, as the engine does.
	ix.Upsert(bot.Doc{ID: 100, Title: "Night theme", Description: "the white background hurts at night"})
	ix.Learn([]bot.Decision{{Key: "merge:100:1", A: 100, B: darkMode, Same: true}})
	s, reason := scoreOf(t, ix, q, darkMode)
	if s < DefaultSuggestThreshold {
		t.Fatalf("after the merge: %.2f < %.2f", s, DefaultSuggestThreshold)
	}
	if !strings.Contains(reason, "learned from a merge: ") {
		t.Errorf("reason %q", reason)
	}
	exact, _ := scoreOf(t, ix, "Dark mode for the dashboard, please", darkMode)
	if s >= exact {
		t.Errorf("learned %.2f not below exact %.2f", s, exact)
	}
	// The same key again teaches nothing more.
	n, assoc, _ := ix.LearnedDecisions()
	ix.Learn([]bot.Decision{{Key: "merge:100:1", A: 100, B: darkMode, Same: true}})
	if n2, assoc2, _ := ix.LearnedDecisions(); n2 != n || assoc2 != assoc {
		t.Errorf("relearning a key: %d/%d -> %d/%d", n, assoc, n2, assoc2)
	}
	if s2, _ := scoreOf(t, ix, q, darkMode); s2 != s {
		t.Errorf("relearning changed the score %.4f -> %.4f", s, s2)
	}
	// An unmerge takes it back.
	ix.Learn([]bot.Decision{{Key: "merge:100:1", Undo: true}})
	if s, _ := scoreOf(t, ix, q, darkMode); s >= DefaultSuggestThreshold {
		t.Errorf("after the unmerge: %.2f", s)
	}
	if n, assoc, _ := ix.LearnedDecisions(); n != 0 || assoc != 0 {
		t.Errorf("after the unmerge: %d decisions, %d associations", n, assoc)
	}
}

func TestLearnFromMention(t *testing.T) {
	ix := learnBoard(t)
	const keys = 9 // "Keyboard shortcuts"
	const q = "hotkey for voting"
	ix.Upsert(bot.Doc{ID: 200, Title: "Voting from the list", Active: true})
	before, _ := scoreOf(t, ix, q, keys)
	// Someone wrote "a hotkey for everything" about request 9: a further
	// mention. "hotkey" must be a word the index knows.
	ix.Upsert(bot.Doc{ID: 201, Title: "hotkey", Active: false})
	ix.Learn([]bot.Decision{{Key: "mention:1", Text: "a hotkey for everything", B: keys, Same: true}})
	after, _ := scoreOf(t, ix, q, keys)
	if after <= before || after < DefaultSuggestThreshold {
		t.Errorf("mention: %.2f -> %.2f", before, after)
	}
}

func TestLearnFromDismissal(t *testing.T) {
	ix := learnBoard(t)
	const csv = 6 // "CSV export of all requests"
	ix.Upsert(bot.Doc{ID: 300, Title: "CSV export of the board", Active: true})
	ix.Upsert(bot.Doc{ID: 301, Title: "Keyboard shortcuts for the board would be great", Active: true})
	const q = "Colours of the board would be great"
	s0, _ := scoreOf(t, ix, q, 300)
	if s0 < DefaultSuggestThreshold {
		t.Fatalf("before: %.2f, the test tests nothing", s0)
	}
	other0, _ := scoreOf(t, ix, "Larger board font", 10)
	// The team said 301 is not a duplicate of 300: "board" misled.
	ix.Learn([]bot.Decision{{Key: "dismiss:1:300", A: 301, B: 300}})
	s1, _ := scoreOf(t, ix, q, 300)
	if s1 >= s0 || s1 >= DefaultSuggestThreshold {
		t.Errorf("after the dismissal: %.2f -> %.2f", s0, s1)
	}
	// The word keeps its weight for other requests.
	if other1, _ := scoreOf(t, ix, "Larger board font", 10); other1 != other0 {
		t.Errorf("another request moved: %.4f -> %.4f", other0, other1)
	}
	// And the dismissed request still finds itself.
	if s, _ := scoreOf(t, ix, "CSV export of the board", 300); s < 0.8 {
		t.Errorf("self %.2f", s)
	}
	_ = csv
}

// TestLearnBounded: however many decisions arrive, the index keeps the last
// MaxDecisions, and what it learned is what those decisions teach.
func TestLearnBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxDecisions = 200
	ix := New(cfg)
	docs := synthDocs(textgen.New(7), 500)
	rng := rand.New(rand.NewPCG(7, 1))
	ix.Load(docs)
	var ds []bot.Decision
	for i := 0; i < 10_000; i++ {
		a, b := docs[rng.IntN(len(docs))].ID, docs[rng.IntN(len(docs))].ID
		ds = append(ds, bot.Decision{Key: fmt.Sprint("d", i), A: a, B: b, Same: i%3 != 0})
	}
	var m0 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	for i := 0; i < len(ds); i += 100 {
		ix.Learn(ds[i : i+100])
	}
	n, assoc, words := ix.LearnedDecisions()
	if n > cfg.MaxDecisions {
		t.Errorf("%d decisions held, max %d", n, cfg.MaxDecisions)
	}
	k := cfg.LearnTerms
	if assoc > 2*k*k*cfg.MaxDecisions || words > 2*k*cfg.MaxDecisions {
		t.Errorf("%d associations, %d misled words for %d decisions", assoc, words, n)
	}
	if l := ix.learned; len(l.queue)-l.head > 2*cfg.MaxDecisions+64 || len(l.decisions) != n {
		t.Errorf("queue %d (head %d), map %d", len(l.queue), l.head, len(l.decisions))
	}
	var m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m1)
	if grown := int64(m1.HeapAlloc) - int64(m0.HeapAlloc); grown > 4<<20 {
		t.Errorf("heap grew by %d bytes learning 10,000 decisions (200 kept)", grown)
	}
	// A query reads at most maxPartners associations per word, the
	// strongest ones.
	l := ix.learned
	for a, bs := range l.adj {
		ps := l.top[a]
		if len(ps) == 0 || len(ps) > maxPartners || len(ps) != min(len(bs), maxPartners) {
			t.Fatalf("word %d: %d partners read of %d", a, len(ps), len(bs))
		}
		best := int32(0)
		for _, b := range bs {
			best = max(best, l.assoc[uint64(a)<<32|uint64(b)])
		}
		if ps[0].count != best || ps[len(ps)-1].count > ps[0].count {
			t.Fatalf("word %d: partners %v, strongest count %d", a, ps, best)
		}
	}
	if len(l.top) != len(l.adj) || len(l.dirty) != 0 {
		t.Errorf("%d partner lists for %d words, %d stale", len(l.top), len(l.adj), len(l.dirty))
	}
	// The same state as learning only the last 200 decisions.
	fresh := New(cfg)
	fresh.Load(docs)
	fresh.Learn(ds[len(ds)-cfg.MaxDecisions:])
	if !sameLearned(ix, fresh) {
		t.Error("the bounded state differs from learning the last MaxDecisions decisions")
	}
}

// sameLearned compares what two indexes over the same docs learned.
func sameLearned(a, b *Index) bool {
	la, lb := a.learned, b.learned
	if len(la.assoc) != len(lb.assoc) || len(la.misled) != len(lb.misled) || la.live != lb.live {
		return false
	}
	for k, v := range la.assoc {
		if lb.assoc[k] != v {
			return false
		}
	}
	for k, v := range la.sides {
		if lb.sides[k] != v {
			return false
		}
	}
	if len(la.top) != len(lb.top) {
		return false
	}
	for k, ps := range la.top {
		qs := lb.top[k]
		if len(ps) != len(qs) {
			return false
		}
		for i := range ps {
			if ps[i].count != qs[i].count || a.terms[ps[i].id].text != b.terms[qs[i].id].text {
				return false
			}
		}
	}
	for id, ts := range la.misled {
		us := lb.misled[id]
		if len(ts) != len(us) {
			return false
		}
		for _, m := range ts {
			if !slices.Contains(us, m) {
				return false
			}
		}
	}
	return true
}

func TestLearnIgnoresUnknown(t *testing.T) {
	ix := learnBoard(t)
	ix.Learn([]bot.Decision{
		{Key: "a", A: 1, B: 999, Same: true}, // 999 unknown
		{Key: "b", A: 1, B: 1, Same: true},   // itself
		{Key: "", A: 1, B: 2, Same: true},    // no key
		{Key: "c", Undo: true},               // nothing to undo
	})
	if n, assoc, words := ix.LearnedDecisions(); n != 0 || assoc != 0 || words != 0 {
		t.Errorf("%d %d %d", n, assoc, words)
	}
	off := DefaultConfig()
	off.MaxDecisions = 0
	ix2 := New(off)
	ix2.Upsert(bot.Doc{ID: 1, Title: "a b", Active: true})
	ix2.Upsert(bot.Doc{ID: 2, Title: "c d", Active: true})
	ix2.Learn([]bot.Decision{{Key: "x", A: 1, B: 2, Same: true}})
	if n, _, _ := ix2.LearnedDecisions(); n != 0 {
		t.Error("learning off still learns")
	}
}
