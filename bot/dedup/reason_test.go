package dedup

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/textgen"
)

// TestReasonMatchesPlain checks reason against plainReason (a binary
// search for each query term among the request's terms) on a board with
// concepts, joined words, typos and learned words, for every re-ranked
// candidate, and that it leaves the scorer as newScorer made it.
func TestReasonMatchesPlain(t *testing.T) {
	ix, docs := learnedBoard(21,
		bot.Doc{ID: 9004, Title: "Dark mode for the dashboard", Description: "Please add a dark theme, the export page too", Active: true})
	gen := textgen.New(22)
	texts := []string{
		"Drop down menu\nThe drop down for the export is too small",
		"Sign in with Okta\nthe SSO log in fails",
		"Dark mode\nPlease add a dark theme to the dashbaord",
		"Night theme\ndark mode dark theme night",
	}
	for i := 0; i < 80; i++ {
		d := docs[(i*7919)%len(docs)]
		texts = append(texts, gen.Near(i, d.Title+"\n"+d.Description))
	}
	kinds := map[termKind]int{}
	reasons := map[string]int{}
	for _, text := range texts {
		qa := ix.analyzeQuery(text)
		sc := ix.getScratch()
		q := ix.buildQuery(qa, sc)
		for i := range q.terms {
			kinds[q.terms[i].kind]++
		}
		if len(sc.acc) < len(ix.slots) {
			sc.acc = make([]float32, len(ix.slots))
		}
		cands := ix.firstPass(q, sc, ix.rerankDepth())
		z := ix.newScorer(q, sc)
		for _, s := range cands {
			got, want := z.reason(s), plainReason(z, s)
			if got != want {
				t.Fatalf("%q, slot %d: reason %q, plain %q", text, s, got, want)
			}
			for _, part := range []string{"learned from a merge: ", "same topic: ", "same words: "} {
				if strings.Contains(got, part) {
					reasons[part]++
				}
			}
			for j, h := range sc.hit {
				if h != -1 {
					t.Fatalf("%q: reason left query term %d hit at %d", text, j, h)
				}
			}
			if slices.ContainsFunc(sc.hits, func(b uint64) bool { return b != 0 }) {
				t.Fatalf("%q: reason left hits %x", text, sc.hits)
			}
		}
		ix.putScratch(sc)
		qa.release()
	}
	for _, k := range []termKind{termExact, termConcept, termFuzzy, termLearned, termJoin} {
		if kinds[k] == 0 {
			t.Errorf("no query term of kind %d", k)
		}
	}
	for _, part := range []string{"learned from a merge: ", "same topic: ", "same words: "} {
		if reasons[part] == 0 {
			t.Errorf("no reason has %q", part)
		}
	}
}

// plainReason is reason as it was written first: each query term looked
// up among the request's terms by binary search.
func plainReason(z *scorer, s uint32) string {
	ix, q := z.ix, z.q
	fwd := ix.slots[s].fwd
	den := ix.lenDen(&ix.lens[s], &z.avg)
	var parts []reasonPart
	for i := range q.terms {
		qt := &q.terms[i]
		k, ok := findTerm(fwd, qt.id)
		if !ok {
			continue
		}
		v := qt.weight * qt.idf * ix.tfPartDen(fwd[k], &den)
		switch qt.kind {
		case termConcept:
			added := false
			for _, m := range q.members[qt.mlo:qt.mhi] {
				if m.qi < 0 {
					added = true
				} else if _, ok := findTerm(fwd, q.terms[m.qi].id); !ok {
					added = true
				}
			}
			if c, ok := ix.vocabulary.conceptOf(ix.terms[qt.id].text); ok && added {
				parts = append(parts, reasonPart{kind: termConcept, text: c.Name, v: v})
			}
		case termLearned:
			parts = append(parts, reasonPart{kind: termLearned, qi: int32(i), v: v})
		default:
			parts = append(parts, reasonPart{kind: termExact, text: qt.src, v: v})
		}
	}
	slices.SortStableFunc(parts, func(a, b reasonPart) int { return cmp.Compare(b.v, a.v) })
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

// learnedBoard is a 1,500-request synthetic board (seed) with requests
// that exercise joined words, concepts and typos, and extra, after 300
// learned decisions between its requests (2 in 3 merges).
func learnedBoard(seed uint64, extra ...bot.Doc) (*Index, []bot.Doc) {
	docs := synthDocs(textgen.New(seed), 1500)
	docs = append(docs,
		bot.Doc{ID: 9001, Title: "Dropdown menus on mobile", Description: "The dropdown closes when I scroll", Active: true},
		bot.Doc{ID: 9002, Title: "Log in with Okta", Description: "SSO login through Okta SAML fails", Active: true},
		bot.Doc{ID: 9003, Title: "Night theme", Description: "A darker colour scheme for the night", Active: true})
	docs = append(docs, extra...)
	ix := New(DefaultConfig())
	ix.Load(docs)
	var ds []bot.Decision
	for k := 0; k < 300; k++ {
		a, b := (k*31)%len(docs), (k*17+5)%len(docs)
		ds = append(ds, bot.Decision{Key: fmt.Sprint(k), A: docs[a].ID, B: docs[b].ID, Same: k%3 != 0})
	}
	ix.Learn(ds)
	return ix, docs
}
