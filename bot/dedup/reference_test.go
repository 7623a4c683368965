package dedup

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/textgen"
)

// TestSimilarMatchesReference grows a board as the capture path does (each
// new request is checked, then indexed; some are removed, deactivated or
// edited, and the team merges and dismisses pairs so that learned words
// and misled words take part) and checks that Similar returns what a
// straightforward implementation of the same scoring returns on the same
// first-pass candidates (refSimilar): the same ids with the same scores to
// 1e-9. The optimised scoring (pruned re-ranking, bit sets, memos,
// prefetching, the analysis shared with Upsert) must not change a ranking.
func TestSimilarMatchesReference(t *testing.T) {
	ix := New(DefaultConfig())
	gen := textgen.New(11)
	ctx := context.Background()
	// Texts that exercise concepts, joined words and typos.
	extra := []string{
		"Drop down menu\nThe drop down for the export is too small",
		"Dropdown menus on mobile\nThe dropdown closes when I scroll",
		"Log in with Okta\nSSO login through Okta SAML fails",
		"Dark mode\nPlease add a dark theme to the dashbaord",
		"Night theme\nA darker colour scheme for the night",
		"Export to CSV\nExport reports as CSV and PDF files",
		"Sign up page\nThe sign up form rejects our emails",
		"Signup is slow\nThe signup flow takes a minute",
	}
	var docs []bot.Doc
	checked := 0
	const n = 2500
	for i := 0; i < n; i++ {
		var text string
		switch {
		case i%97 == 5 && i/97 < len(extra):
			text = extra[i/97]
		case i%5 == 4 && i > 0:
			d := docs[(i*7919)%len(docs)]
			text = gen.Near(i, d.Title+"\n"+d.Description)
		default:
			text = gen.Text(i)
		}
		title, desc := textgen.Split(text)
		doc := bot.Doc{ID: int64(i + 1), Title: title, Description: desc, Active: i%29 != 3}
		if i%7 == 0 || i%97 == 5 && i/97 < len(extra) {
			limit := []int{1, 5, 10}[i%3]
			compareReference(t, ix, title+"\n"+desc, limit)
			checked++
		}
		if _, err := ix.Similar(ctx, title+"\n"+desc, 5); err != nil {
			t.Fatal(err)
		}
		ix.Upsert(doc)
		docs = append(docs, doc)
		switch {
		case i%41 == 40:
			ix.Remove(docs[i/2].ID)
		case i%53 == 52:
			d := docs[i/3]
			d.Description += " and the csv export"
			ix.Upsert(d)
		}
		if i%50 == 49 {
			var ds []bot.Decision
			for k := 0; k < 20; k++ {
				a := (i*31 + k*17) % len(docs)
				b := (a + 1 + k) % len(docs)
				ds = append(ds, bot.Decision{Key: fmt.Sprint(i, ":", k), A: docs[a].ID, B: docs[b].ID, Same: k%3 != 0})
			}
			ix.Learn(ds)
		}
	}
	for _, text := range extra {
		for _, limit := range []int{1, 5, 10} {
			compareReference(t, ix, text, limit)
			checked++
		}
	}
	if d, _, _ := ix.LearnedDecisions(); d == 0 {
		t.Fatal("nothing learned")
	}
	if checked < 300 {
		t.Fatalf("only %d queries checked", checked)
	}
}

// compareReference checks Similar against refSimilar for one query.
func compareReference(t *testing.T, ix *Index, text string, limit int) {
	t.Helper()
	got, err := ix.Similar(context.Background(), text, limit)
	if err != nil {
		t.Fatal(err)
	}
	want := refSimilar(ix, text, limit)
	if len(got) != len(want) {
		t.Fatalf("%q limit %d: %d results, reference %d\n got %v\nwant %v", text, limit, len(got), len(want), got, want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if math.Abs(g.Score-w.Score) > 1e-9 {
			t.Fatalf("%q limit %d: result %d scores %v, reference %v\n got %v\nwant %v", text, limit, i, g.Score, w.Score, got, want)
		}
		// Ids may differ only between scores the reference cannot tell
		// apart.
		if g.RequestID != w.RequestID && !nearTie(want, i) {
			t.Fatalf("%q limit %d: result %d is %d, reference %d\n got %v\nwant %v", text, limit, i, g.RequestID, w.RequestID, got, want)
		}
	}
}

func nearTie(cs []bot.Candidate, i int) bool {
	return i > 0 && cs[i-1].Score-cs[i].Score <= 1e-9 || i+1 < len(cs) && cs[i].Score-cs[i+1].Score <= 1e-9
}

// refSimilar scores every first-pass candidate of text with refScore and
// returns the best limit (no reasons).
func refSimilar(ix *Index, text string, limit int) []bot.Candidate {
	return scoreFirstPass(ix, text, limit, func(q *query, _ *scratch, s uint32) float64 { return refScore(ix, q, s) })
}

// refScore is the full score of slot s for q written plainly, term by
// term (as the package documentation describes it), with none of the
// scorer's bit sets, caches or pruning. Only for CharWeight 0.
func refScore(ix *Index, q *query, s uint32) float64 {
	cfg := &ix.cfg
	m := &ix.slots[s]
	lens := &ix.lens[s]
	avg := ix.avgLens()
	find := func(id uint32) (posting, bool) {
		for _, p := range m.fwd {
			if p.slot() == id {
				return p, true
			}
		}
		return 0, false
	}
	tfPart := func(p posting) float64 { return ix.tfPartAvg(p, lens, &avg) }
	idf := func(id uint32) float64 { return ix.idf(len(ix.terms[id].posts)) }
	qmax := q.self
	if cfg.BigramWeight > 0 {
		for _, qb := range q.bigrams {
			qmax += cfg.BigramWeight * qb.self
		}
	}
	if qmax <= 0 {
		return 0
	}
	misled := ix.learned.misled[m.id]
	matched := make([]bool, len(q.terms))
	unmatchedWeight := func(qt *queryTerm) float64 {
		wi := 0.0
		for _, mb := range q.members[qt.mlo:qt.mhi] {
			if mb.qi < 0 || !matched[mb.qi] {
				wi += mb.wi
			}
		}
		return wi
	}
	raw, inQuery := 0.0, 0.0
	// Words (exact and fuzzy).
	for i := range q.terms {
		qt := &q.terms[i]
		if qt.kind == termConcept || qt.kind == termLearned || qt.kind == termJoin {
			continue
		}
		p, ok := find(qt.id)
		if !ok {
			continue
		}
		matched[i] = true
		f := ix.misledFactor(misled, qt.id)
		raw += f * qt.weight * qt.idf * tfPart(p)
		inQuery += f * qt.idf * ix.docTermWeight(p) * qt.scale
	}
	// Joined words: the words of the pair the request lacks.
	for i := range q.terms {
		qt := &q.terms[i]
		if qt.kind != termJoin {
			continue
		}
		p, ok := find(qt.id)
		if !ok {
			continue
		}
		if wi := unmatchedWeight(qt); wi > 0 {
			raw += qt.scale * wi * tfPart(p)
			inQuery += qt.scale * qt.idf * ix.docTermWeight(p)
		}
	}
	// Learned words: per query word the best translation the request
	// has, per request word its strongest association.
	best := map[int32]float64{}
	docSide := map[uint32]float64{}
	for i := range q.terms {
		qt := &q.terms[i]
		if qt.kind != termLearned {
			continue
		}
		p, ok := find(qt.id)
		if !ok || matched[qt.srcI] {
			continue
		}
		best[qt.srcI] = max(best[qt.srcI], qt.weight*qt.idf*tfPart(p))
		docSide[qt.id] = max(docSide[qt.id], qt.idf*ix.docTermWeight(p)*qt.scale)
	}
	for _, v := range best {
		raw += v
	}
	for _, v := range docSide {
		inQuery += v
	}
	// Concepts: the query's words of the concept that the request lacks,
	// and the request's words of the concept that the query lacks.
	queryWord := func(id uint32) bool {
		for i := range q.terms {
			if q.terms[i].id == id && q.terms[i].kind != termLearned {
				return true
			}
		}
		return false
	}
	for i := range q.terms {
		qt := &q.terms[i]
		if qt.kind != termConcept {
			continue
		}
		p, ok := find(qt.id)
		if !ok {
			continue
		}
		raw += qt.scale * unmatchedWeight(qt) * tfPart(p)
		dw := 0.0
		for _, wid := range ix.conceptWords[qt.ci] {
			pw, ok := find(wid)
			if !ok || queryWord(wid) {
				continue
			}
			dw += idf(wid) * ix.docTermWeight(pw)
		}
		inQuery += qt.scale * dw
	}
	// Bigrams: each key of the request once, in its lowest field.
	if cfg.BigramWeight > 0 {
		seen := map[uint32]bool{}
		for _, b := range m.bigrams {
			key := b &^ bigramFieldMask
			if seen[key] {
				continue
			}
			seen[key] = true
			dw := ix.fieldWeight(int(b & bigramFieldMask))
			for _, qb := range q.bigrams {
				if qb.h&^bigramFieldMask == key {
					raw += cfg.BigramWeight * qb.v * dw / (cfg.K1 + dw)
				}
			}
		}
	}
	qcov := clamp01(raw / qmax)
	if cfg.DocCoverage <= 0 {
		return qcov
	}
	total := 0.0
	for _, p := range m.fwd {
		if !ix.concept[p.slot()] {
			total += idf(p.slot()) * ix.docTermWeight(p)
		}
	}
	if total <= 0 {
		return 0
	}
	a := cfg.DocCoverage
	return clamp01(math.Pow(qcov, 1-a) * math.Pow(min(1, inQuery/total), a))
}
