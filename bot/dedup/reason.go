package dedup

import (
	"cmp"
	"slices"
	"strings"
)

// maxReasons is how many of Similar's best candidates get a reason (the
// suggestion card shows at most a few).
const maxReasons = 10

// reasonPart is a query term a request has, for reason: its kind, text
// (a learned word's is made from query term qi) and value.
type reasonPart struct {
	kind termKind
	qi   int32
	text string
	v    float64
}

// reason says in a few words why slot s matched the query: the learned
// association that contributed most, the vocabulary concepts the texts
// share, and the query words (as written) that contributed most.
func (z *scorer) reason(s uint32) string {
	ix, q := z.ix, z.q
	fwd := ix.slots[s].fwd
	// tfPartAvg's length normalisations, once per request.
	den := ix.lenDen(&ix.lens[s], &z.avg)
	parts := z.sc.parts[:0]
	// The query terms the request has, found as coverage finds them (one
	// pass over the request's terms instead of a binary search per query
	// term): hit[i] is the posting of query term i, or -1.
	hit, hits := z.sc.hit, z.sc.hits
	z.markHits(fwd)
	for i := range eachHit(hits) {
		qt := &q.terms[i]
		v := qt.weight * qt.idf * ix.tfPartDen(fwd[hit[i]], &den)
		switch qt.kind {
		case termConcept:
			// A concept whose words the request has anyway adds nothing.
			added := false
			for _, m := range q.members[qt.mlo:qt.mhi] {
				if m.qi < 0 || hit[m.qi] < 0 {
					added = true
				}
			}
			if c, ok := ix.vocabulary.conceptOf(ix.terms[qt.id].text); ok && added {
				parts = append(parts, reasonPart{kind: termConcept, text: c.Name, v: v})
			}
		case termLearned:
			// Its text (qt.src → the learned word) is spelt out below,
			// for the one shown.
			parts = append(parts, reasonPart{kind: termLearned, qi: int32(i), v: v})
		default:
			parts = append(parts, reasonPart{kind: termExact, text: qt.src, v: v})
		}
	}
	// Leave the scorer as newScorer made it (coverage expects it so).
	for i := range eachHit(hits) {
		hit[i] = -1
	}
	clear(hits)
	slices.SortStableFunc(parts, func(a, b reasonPart) int { return cmp.Compare(b.v, a.v) })
	z.sc.parts = parts
	var words, concepts []string
	learned := ""
	for _, p := range parts {
		switch p.kind {
		case termLearned:
			if learned == "" {
				qt := &q.terms[p.qi]
				learned = qt.src + " → " + ix.terms[qt.id].text
			}
		case termConcept:
			if len(concepts) < 2 && !slices.Contains(concepts, p.text) {
				concepts = append(concepts, p.text)
			}
		default:
			if len(words) < 3 && !slices.Contains(words, p.text) {
				words = append(words, p.text)
			}
		}
	}
	clear(parts) // no texts kept in the pool
	var out []string
	if learned != "" {
		out = append(out, "learned from a merge: "+learned)
	}
	if len(concepts) > 0 {
		out = append(out, "same topic: "+strings.Join(concepts, ", "))
	}
	if len(words) > 0 {
		out = append(out, "same words: "+strings.Join(words, ", "))
	}
	return strings.Join(out, "; ")
}
