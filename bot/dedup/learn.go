package dedup

import (
	"cmp"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/feedbackbot/feedbackbot/bot"
)

// What the index learns from the team's decisions (bot.Decision):
//
//   - A confirmed pair (a merge, an auto-merge, a further mention of a
//     request) associates the words of one side that the other lacks with
//     the other side's (the LearnTerms rarest of each side, title words
//     weighted as in scoring; see slotTerms): after "Night theme" is merged into "Dark
//     mode", a query saying "night" also looks for "dark" and "mode": a
//     request that lacks "night" but has "dark" covers the query's "night"
//     at Config.LearnWeight x strength of its weight (a translation of the
//     word), where the strength of night -> dark is (pairs that associated
//     them) / (confirmed pairs "night" was on one side of +
//     Config.LearnPrior): with the prior 1, 1/2 after one merge, 2/3 after
//     two consistent ones.
//   - A dismissed pair lowers, in each of the two requests, the words they
//     shared (the ones that misled): when a later query is scored against
//     one of them, such a word counts Config.MisledWeight of its weight
//     (1/4; after n dismissals 1 / (1 + 3n)). The
//     words keep their weight everywhere else: a word that misled once
//     ("board" in "keyboard shortcuts for the board" / "CSV export of the
//     board") is still a good word for other requests. (Lowering the words
//     everywhere lowered SemEval's cross-validated MAP by 1.2 points.)
//
// A query reads, per query word, only its maxPartners strongest
// associations (kept sorted as decisions arrive, refreshPartners), and the
// learned words read at most a tenth of Config.MaxPostings in the first
// pass: a common word can be on one side of thousands of merges, and
// reading all its partners made a lookup on a board with 10,000 decisions
// several times slower.
//
// Everything learned is a function of the last Config.MaxDecisions
// decisions (older ones are forgotten, their counts subtracted), so memory
// is bounded (at most 2 x LearnTerms^2 associations per decision) and
// replicas that learn the same decisions know the same.

// decision is one learned decision and what it added.
type decision struct {
	key    string
	a, b   int64
	same   bool
	onlyA  []uint32 // terms of A's side not in B's (confirmed pairs)
	onlyB  []uint32
	shared []uint32
}

type learnedState struct {
	decisions map[string]*decision
	queue     []*decision // oldest first; nil entries were undone
	head      int
	live      int
	byPair    map[[2]int64]*decision
	// assoc counts the confirmed pairs that associated term a with b
	// (key a<<32 | b); adj lists b per a.
	assoc map[uint64]int32
	adj   map[uint32][]uint32
	// top lists per word its strongest associations (at most
	// maxPartners, by count, ties by the word), which is what queries
	// read; dirty holds the words whose list is stale until the end of
	// the Learn call that changed them.
	top   map[uint32][]partner
	dirty map[uint32]struct{}
	buf   []partner
	// sides counts the confirmed pairs a term was on one side of (as an
	// onlyA/onlyB term).
	sides map[uint32]int32
	// misled lists per request the words dismissed pairs shared, with how
	// many dismissals named each.
	misled map[int64][]misledTerm
}

type misledTerm struct {
	id uint32
	n  int32
}

func newLearnedState() *learnedState {
	return &learnedState{
		decisions: map[string]*decision{},
		byPair:    map[[2]int64]*decision{},
		assoc:     map[uint64]int32{},
		adj:       map[uint32][]uint32{},
		top:       map[uint32][]partner{},
		dirty:     map[uint32]struct{}{},
		sides:     map[uint32]int32{},
		misled:    map[int64][]misledTerm{},
	}
}

func pairKey(a, b int64) [2]int64 {
	if b < a {
		a, b = b, a
	}
	return [2]int64{a, b}
}

var _ bot.Learner = (*Index)(nil)

// Learn applies the team's decisions, in order (bot.Learner). Decisions
// about requests the index does not hold, or with a key already learned,
// change nothing.
func (ix *Index) Learn(ds []bot.Decision) {
	if ix.cfg.MaxDecisions <= 0 || len(ds) == 0 {
		return
	}
	texts := ix.analyzeTexts(ds)
	ix.mu.Lock()
	for i, d := range ds {
		ix.learnOne(d, texts[i])
	}
	ix.refreshPartners()
	ix.mu.Unlock()
	if len(ds) > maxPooledTexts {
		// Start-up's thousands would stay in analyzedPool until two
		// collections had passed (about 45 MiB for 10,000 mentions).
		return
	}
	for _, a := range texts {
		if a != nil {
			a.release()
		}
	}
}

// maxPooledTexts is the most decisions whose analysed texts Learn hands
// back to analyzedPool; the texts of more are left to the collector.
const maxPooledTexts = 256

// analyzeTexts analyses the texts (mentions) of decisions, outside the
// lock; many of them (start-up reads up to bot.MaxLearnedDecisions) on all
// CPUs. The analysis of a text does not depend on the index.
func (ix *Index) analyzeTexts(ds []bot.Decision) []*analyzed {
	texts := make([]*analyzed, len(ds))
	const piece = 256
	analyze := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if d := &ds[i]; d.A == 0 && d.Text != "" && !d.Undo {
				texts[i] = ix.analyzeDoc(bot.Doc{Description: d.Text}, newAnalyzed())
			}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), (len(ds)+piece-1)/piece)
	if workers <= 1 {
		analyze(0, len(ds))
		return texts
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(piece)) - piece
				if lo >= len(ds) {
					return
				}
				analyze(lo, min(len(ds), lo+piece))
			}
		}()
	}
	wg.Wait()
	return texts
}

// LearnedDecisions returns how many decisions the index currently holds,
// and how many term associations and misleading-word counts they made.
func (ix *Index) LearnedDecisions() (decisions, associations, words int) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	l := ix.learned
	for _, ts := range l.misled {
		words += len(ts)
	}
	return l.live, len(l.assoc), words
}

func (ix *Index) learnOne(d bot.Decision, text *analyzed) {
	l := ix.learned
	if d.Key == "" {
		return
	}
	if d.Undo {
		if old := l.decisions[d.Key]; old != nil {
			ix.unlearn(old)
		}
		return
	}
	if _, ok := l.decisions[d.Key]; ok {
		return
	}
	sb, ok := ix.byID[d.B]
	if !ok {
		return
	}
	var aTerms []weighted
	if d.A != 0 {
		sa, ok := ix.byID[d.A]
		if !ok || d.A == d.B {
			return
		}
		aTerms = ix.slotTerms(sa)
	} else {
		if text == nil {
			return
		}
		aTerms = ix.textTerms(text)
	}
	bTerms := ix.slotTerms(sb)
	k := ix.cfg.LearnTerms
	nd := &decision{key: d.Key, a: d.A, b: d.B, same: d.Same}
	inB := make(map[uint32]bool, len(bTerms))
	for _, t := range bTerms {
		inB[t.id] = true
	}
	inA := make(map[uint32]bool, len(aTerms))
	for _, t := range aTerms {
		inA[t.id] = true
	}
	for _, t := range aTerms {
		if inB[t.id] {
			nd.shared = append(nd.shared, t.id)
		} else if d.Same {
			nd.onlyA = append(nd.onlyA, t.id)
		}
	}
	if d.Same {
		for _, t := range bTerms {
			if !inA[t.id] {
				nd.onlyB = append(nd.onlyB, t.id)
			}
		}
	}
	nd.onlyA = topTerms(nd.onlyA, k)
	nd.onlyB = topTerms(nd.onlyB, k)
	nd.shared = topTerms(nd.shared, k)
	if d.Same && d.A != 0 {
		if old := l.byPair[pairKey(d.A, d.B)]; old != nil && old.same {
			// The same pair merged again (merge, unmerge, merge): one
			// lesson.
			ix.unlearn(old)
		}
		l.byPair[pairKey(d.A, d.B)] = nd
	}
	ix.apply(nd, 1)
	l.decisions[d.Key] = nd
	l.queue = append(l.queue, nd)
	l.live++
	for l.live > ix.cfg.MaxDecisions {
		old := l.queue[l.head]
		l.queue[l.head] = nil
		l.head++
		if old != nil {
			ix.unlearn(old)
		}
	}
	// Compact the queue once its dead head is as long as the rest.
	if l.head > 64 && l.head*2 > len(l.queue) {
		n := copy(l.queue, l.queue[l.head:])
		clear(l.queue[n:])
		l.queue = l.queue[:n]
		l.head = 0
	}
}

// unlearn subtracts what d added and forgets it.
func (ix *Index) unlearn(d *decision) {
	l := ix.learned
	ix.apply(d, -1)
	delete(l.decisions, d.key)
	if p := pairKey(d.a, d.b); l.byPair[p] == d {
		delete(l.byPair, p)
	}
	for i := l.head; i < len(l.queue); i++ {
		if l.queue[i] == d {
			l.queue[i] = nil
			break
		}
	}
	l.live--
}

// apply adds (sign 1) or subtracts (-1) what d teaches.
func (ix *Index) apply(d *decision, sign int32) {
	l := ix.learned
	bump := func(m map[uint32]int32, t uint32) {
		if v := m[t] + sign; v > 0 {
			m[t] = v
		} else {
			delete(m, t)
		}
	}
	if !d.same {
		for _, id := range []int64{d.a, d.b} {
			if id != 0 {
				ix.mislead(id, d.shared, sign)
			}
		}
		return
	}
	for _, a := range d.onlyA {
		bump(l.sides, a)
	}
	for _, b := range d.onlyB {
		bump(l.sides, b)
	}
	for _, a := range d.onlyA {
		for _, b := range d.onlyB {
			ix.associate(a, b, sign)
			ix.associate(b, a, sign)
		}
	}
}

func (ix *Index) associate(a, b uint32, sign int32) {
	l := ix.learned
	l.dirty[a] = struct{}{}
	k := uint64(a)<<32 | uint64(b)
	v := l.assoc[k] + sign
	switch {
	case v > 0:
		if l.assoc[k] == 0 {
			l.adj[a] = append(l.adj[a], b)
		}
		l.assoc[k] = v
	default:
		delete(l.assoc, k)
		bs := l.adj[a]
		if i := slices.Index(bs, b); i >= 0 {
			bs[i] = bs[len(bs)-1]
			bs = bs[:len(bs)-1]
		}
		if len(bs) == 0 {
			delete(l.adj, a)
		} else {
			l.adj[a] = bs
		}
	}
}

// partner is one association of a word as queries read it.
type partner struct {
	id    uint32
	count int32
}

// maxPartners bounds the associations of one word that a query reads
// (query cost: a common word can be on one side of thousands of merges).
const maxPartners = 8

// refreshPartners recomputes the partner lists of the words whose
// associations changed; the caller holds the write lock.
func (ix *Index) refreshPartners() {
	l := ix.learned
	for a := range l.dirty {
		bs := l.adj[a]
		if len(bs) == 0 {
			delete(l.top, a)
			continue
		}
		ps := l.buf[:0]
		for _, b := range bs {
			ps = append(ps, partner{id: b, count: l.assoc[uint64(a)<<32|uint64(b)]})
		}
		slices.SortFunc(ps, func(x, y partner) int {
			if c := cmp.Compare(y.count, x.count); c != 0 {
				return c
			}
			return cmp.Compare(ix.terms[x.id].text, ix.terms[y.id].text)
		})
		l.buf = ps
		l.top[a] = append(l.top[a][:0], ps[:min(len(ps), maxPartners)]...)
	}
	clear(l.dirty)
}

// weighted is a term of a request with its learning weight (idf x the
// field weight it occurs in).
type weighted struct {
	id uint32
	w  float64
}

// slotTerms returns the word terms of slot s (no vocabulary concepts),
// heaviest first. The caller holds the write lock.
//
// A word's learning weight is its idf times the field weight it occurs in,
// ties broken by the word, so replicas that learn a decision with the same
// board pick the same words. A replica started later learns the decision
// with the board as it is then, and may pick other words of equal weight
// when word rarities moved. (Weighting by word length instead, which
// depends on the texts only, lowered the cross-validated dev figures:
// SemEval MAP 71.95 -> 71.01, Hadoop MRR 68.08 -> 67.10.)
func (ix *Index) slotTerms(s uint32) []weighted {
	fwd := ix.slots[s].fwd
	out := make([]weighted, 0, len(fwd))
	for _, p := range fwd {
		id := p.slot()
		if ix.concept[id] || p.tf(fieldTitle)+p.tf(fieldBody) == 0 {
			continue
		}
		out = append(out, weighted{id: id, w: ix.learnWeight(id, p)})
	}
	ix.sortWeighted(out)
	return out
}

func (ix *Index) learnWeight(id uint32, p posting) float64 {
	return ix.idf(ix.df(id)) * ix.docTermWeight(p)
}

// textTerms is slotTerms for an analysed text, with the index's terms it
// contains (words the index never saw cannot be associated).
func (ix *Index) textTerms(a *analyzed) []weighted {
	out := make([]weighted, 0, len(a.terms))
	for i, t := range a.terms {
		id, ok := ix.vocab.find(ix.terms, t)
		if !ok || ix.concept[id] {
			continue
		}
		out = append(out, weighted{id: id, w: ix.learnWeight(id, makePosting(id, a.tfs[i]))})
	}
	ix.sortWeighted(out)
	return out
}

// sortWeighted sorts heaviest first, ties by the word.
func (ix *Index) sortWeighted(ts []weighted) {
	slices.SortFunc(ts, func(a, b weighted) int {
		if c := cmp.Compare(b.w, a.w); c != 0 {
			return c
		}
		return cmp.Compare(ix.terms[a.id].text, ix.terms[b.id].text)
	})
}

// topTerms keeps the first k (the lists are heaviest first).
func topTerms(ids []uint32, k int) []uint32 {
	if len(ids) > k {
		ids = ids[:k]
	}
	return slices.Clip(ids)
}

// mislead counts (sign 1) or uncounts (-1) the words of a dismissal in
// request id.
func (ix *Index) mislead(id int64, terms []uint32, sign int32) {
	l := ix.learned
	ts := l.misled[id]
	for _, t := range terms {
		i := slices.IndexFunc(ts, func(m misledTerm) bool { return m.id == t })
		switch {
		case i < 0 && sign > 0:
			ts = append(ts, misledTerm{id: t, n: 1})
		case i >= 0:
			ts[i].n += sign
			if ts[i].n <= 0 {
				ts = slices.Delete(ts, i, i+1)
			}
		}
	}
	if len(ts) == 0 {
		delete(l.misled, id)
	} else {
		l.misled[id] = ts
	}
}

// misledFactor is what word t counts for in request id after the team
// dismissed pairs with id that shared it. The caller holds a lock.
func (ix *Index) misledFactor(ts []misledTerm, t uint32) float64 {
	for _, m := range ts {
		if m.id == t {
			w := ix.cfg.MisledWeight
			if w <= 0 || w >= 1 {
				return 1
			}
			return 1 / (1 + float64(m.n)*(1/w-1))
		}
	}
	return 1
}

// maxLearnedTerms bounds the learned words added to one query (cost).
const maxLearnedTerms = 32

// addLearned adds to q the request words learned as associated with its
// words: a query word w with association strength st to word b adds b,
// standing for w at Config.LearnWeight x st of w's weight (see
// learnedCoverage). They are not part of the query's score against
// itself. The caller holds the read lock.
func (ix *Index) addLearned(q *query, sc *scratch) {
	l := ix.learned
	if ix.cfg.LearnWeight <= 0 || len(l.top) == 0 {
		return
	}
	cands := sc.learned[:0]
	n0 := len(q.terms)
	for i := 0; i < n0; i++ {
		qt := &q.terms[i]
		if qt.kind != termExact {
			continue
		}
		ps := l.top[qt.id]
		if len(ps) == 0 {
			continue
		}
		sides := float64(l.sides[qt.id])
		for _, p := range ps {
			b := p.id
			df := ix.df(b)
			if df == 0 {
				continue
			}
			st := ix.cfg.LearnWeight * float64(p.count) / (sides + ix.cfg.LearnPrior)
			idf := ix.idfOf(sc, df)
			// weight x idf is the credit of w (first pass and coverage).
			cands = append(cands, queryTerm{id: b, weight: qt.weight * qt.idf * st / idf, idf: idf, df: df,
				scale: st, kind: termLearned, src: qt.src, srcI: int32(i)})
		}
	}
	if len(cands) == 0 {
		sc.learned = cands
		return
	}
	// The strongest associations (query word -> request word), at most
	// maxLearnedTerms, to words the query does not have itself; then by
	// request word, so that learnedCoverage counts each request word once.
	slices.SortFunc(cands, func(a, b queryTerm) int {
		if c := cmp.Compare(b.weight*b.idf, a.weight*a.idf); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.id, b.id), cmp.Compare(a.srcI, b.srcI))
	})
	start := len(q.terms)
	for _, c := range cands {
		if len(q.terms)-start == maxLearnedTerms {
			break
		}
		dup := false
		for j := 0; j < n0; j++ {
			if q.terms[j].id == c.id {
				dup = true
				break
			}
		}
		if !dup {
			q.terms = append(q.terms, c)
		}
	}
	slices.SortStableFunc(q.terms[start:], func(a, b queryTerm) int { return cmp.Compare(a.id, b.id) })
	q.learned = len(q.terms) > start
	q.learnedAt, q.srcLo, q.srcHi = int32(start), int32(n0), 0
	for _, t := range q.terms[start:] {
		q.srcLo, q.srcHi = min(q.srcLo, t.srcI), max(q.srcHi, t.srcI+1)
	}
	clear(cands)
	sc.learned = cands[:0]
}

// Learned is a snapshot of what the index learned (diagnostics, tests).
type Learned struct {
	Decisions    int
	Associations []Association // sorted
	Misled       []MisledWord  // sorted
}

// Association says that confirmed pairs associated word From with To
// Count times (words as indexed: folded and stemmed).
type Association struct {
	From, To string
	Count    int
}

// MisledWord is a word that dismissals lowered in a request.
type MisledWord struct {
	Request int64
	Word    string
	Count   int
}

// Learned returns what the index learned.
func (ix *Index) Learned() Learned {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	l := ix.learned
	out := Learned{Decisions: l.live}
	for k, c := range l.assoc {
		out.Associations = append(out.Associations, Association{From: ix.terms[k>>32].text, To: ix.terms[uint32(k)].text, Count: int(c)})
	}
	slices.SortFunc(out.Associations, func(a, b Association) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	for id, ts := range l.misled {
		for _, m := range ts {
			out.Misled = append(out.Misled, MisledWord{Request: id, Word: ix.terms[m.id].text, Count: int(m.n)})
		}
	}
	slices.SortFunc(out.Misled, func(a, b MisledWord) int {
		return cmp.Or(cmp.Compare(a.Request, b.Request), cmp.Compare(a.Word, b.Word))
	})
	return out
}
