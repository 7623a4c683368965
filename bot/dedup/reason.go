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
	// Highest value first, those of the same value in query order: the
	// order of slices.SortStableFunc by value (an insertion sort: a
	// reason has a few parts).
	for i := 1; i < len(parts); i++ {
		for j := i; j > 0 && cmp.Compare(parts[j-1].v, parts[j].v) < 0; j-- {
			parts[j], parts[j-1] = parts[j-1], parts[j]
		}
	}
	z.sc.parts = parts
	// At most 3 words and 2 concepts, on the stack.
	var wordBuf [3]string
	var conceptBuf [2]string
	words, concepts := wordBuf[:0], conceptBuf[:0]
	learned := int32(-1) // the query term of the first learned part
	for _, p := range parts {
		switch p.kind {
		case termLearned:
			if learned < 0 {
				learned = p.qi
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
	// "learned from a merge: src → word; same topic: a, b; same words:
	// x, y, z", written once into a string of its length.
	const (
		learnedPrefix = "learned from a merge: "
		arrow         = " → "
		topicPrefix   = "same topic: "
		wordsPrefix   = "same words: "
	)
	var src, word string
	n := 0
	if learned >= 0 {
		qt := &q.terms[learned]
		src, word = qt.src, ix.terms[qt.id].text
		n += len(learnedPrefix) + len(src) + len(arrow) + len(word)
	}
	listLen := func(prefix string, l []string) int {
		if len(l) == 0 {
			return 0
		}
		m := len(prefix) + 2*(len(l)-1)
		for _, w := range l {
			m += len(w)
		}
		if n > 0 {
			m += 2 // "; "
		}
		return m
	}
	n += listLen(topicPrefix, concepts)
	n += listLen(wordsPrefix, words)
	if n == 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(n)
	if learned >= 0 {
		b.WriteString(learnedPrefix)
		b.WriteString(src)
		b.WriteString(arrow)
		b.WriteString(word)
	}
	list := func(prefix string, l []string) {
		if len(l) == 0 {
			return
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(prefix)
		for i, w := range l {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(w)
		}
	}
	list(topicPrefix, concepts)
	list(wordsPrefix, words)
	return b.String()
}
