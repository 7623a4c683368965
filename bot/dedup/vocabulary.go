package dedup

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// The product vocabulary (vocabulary.tsv, embedded) lists words and phrases
// that feedback uses for the same thing. A text that contains a phrase of a
// concept also gets the concept's term (conceptMark + the concept's name),
// weighted by the concept's weight on both the query and the request side,
// so that two texts that use different phrases of one concept match on the
// concept, below what an exact word would give.

//go:embed vocabulary.tsv
var vocabularyTSV string

// conceptMark starts the term of a vocabulary concept; no word term
// contains it.
const conceptMark = '\x01'

// Concept is one entry of the product vocabulary.
type Concept struct {
	Name     string   // what the suggestion card shows, e.g. "single sign-on"
	Weight   float64  // share of an exact word's weight
	Phrases  []string // as written in the table
	Evidence string
}

// vocabulary is the parsed table with its phrases analysed.
type vocabulary struct {
	concepts []Concept
	terms    []string // per concept: its term
	// single maps the term of a one-word phrase to its concepts.
	single map[string][]int32
	// phrases maps the last stem of a phrase of several words to the
	// phrases that end with it.
	phrases map[string][]vocabPhrase
	// byTerm maps a concept term to its concept.
	byTerm map[string]int32
	// words maps each word (term) of a phrase to the concepts it is part
	// of (stop words left out).
	words map[string][]int32
	// keys is a Bloom filter (one probe, keyBit) of the keys of single
	// and phrases: most of a text's terms are in neither, and the matcher
	// answers them from the filter instead of two map lookups (a tenth of
	// the CPU of start-up's text analysis). No false negatives.
	keys [64]uint64
}

// keyBit is term's bit in vocabulary.keys: a mix of its length and three
// of its bytes, cheap next to hashing the whole term for a map.
func keyBit(term string) uint32 {
	n := len(term)
	h := uint32(n)<<24 ^ uint32(term[0])<<16 ^ uint32(term[n/2])<<8 ^ uint32(term[n-1])
	return (h * 0x9E3779B1) >> 20 // 12 bits
}

// mayKey reports whether term may be a key of single or phrases (false:
// it is in neither).
func (v *vocabulary) mayKey(term string) bool {
	if term == "" {
		return true
	}
	b := keyBit(term)
	return v.keys[b>>6]&(1<<(b&63)) != 0
}

type vocabPhrase struct {
	stems   []string
	concept int32
}

// maxPhraseWords bounds the words of a vocabulary phrase (after stop
// words), which bounds the words add looks back over.
const maxPhraseWords = 4

var (
	defaultVocabOnce sync.Once
	defaultVocab     *vocabulary
	defaultVocabErr  error
)

// productVocabulary returns the embedded vocabulary, parsed once.
func productVocabulary() *vocabulary {
	defaultVocabOnce.Do(func() {
		defaultVocab, defaultVocabErr = parseVocabulary(vocabularyTSV)
	})
	if defaultVocabErr != nil {
		// The table is part of the binary and tested.
		panic("dedup: vocabulary.tsv: " + defaultVocabErr.Error())
	}
	return defaultVocab
}

// Vocabulary returns the product vocabulary's concepts in table order.
func Vocabulary() []Concept {
	return append([]Concept(nil), productVocabulary().concepts...)
}

// parseVocabulary reads a vocabulary table (see vocabulary.tsv).
func parseVocabulary(src string) (*vocabulary, error) {
	v := &vocabulary{single: map[string][]int32{}, phrases: map[string][]vocabPhrase{}, byTerm: map[string]int32{}, words: map[string][]int32{}}
	var an analyzer // plain: no vocabulary of its own
	names := map[string]bool{}
	for n, line := range strings.Split(src, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 4 {
			return nil, fmt.Errorf("line %d: want 4 tab-separated columns, got %d", n+1, len(cols))
		}
		name := strings.TrimSpace(cols[0])
		if name == "" || names[name] {
			return nil, fmt.Errorf("line %d: empty or repeated concept %q", n+1, name)
		}
		names[name] = true
		w, err := strconv.ParseFloat(strings.TrimSpace(cols[1]), 64)
		if err != nil || w <= 0 || w > 1 {
			return nil, fmt.Errorf("line %d: weight %q is not in (0,1]", n+1, cols[1])
		}
		ev := strings.TrimSpace(cols[3])
		if ev == "" {
			return nil, fmt.Errorf("line %d: %s has no evidence", n+1, name)
		}
		ci := int32(len(v.concepts))
		c := Concept{Name: name, Weight: w, Evidence: ev}
		term := string(conceptMark) + name
		for _, p := range strings.Split(cols[2], ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			stems := phraseStems(&an, p)
			for _, w := range stems {
				if !isStopWord(w) && !hasConcept(v.words[w], ci) {
					v.words[w] = append(v.words[w], ci)
				}
			}
			switch {
			case len(stems) == 0:
				return nil, fmt.Errorf("line %d: phrase %q is only stop words", n+1, p)
			case len(stems) > maxPhraseWords:
				return nil, fmt.Errorf("line %d: phrase %q has more than %d words", n+1, p, maxPhraseWords)
			case len(stems) == 1:
				if !hasConcept(v.single[stems[0]], ci) {
					v.single[stems[0]] = append(v.single[stems[0]], ci)
				}
			default:
				last := stems[len(stems)-1]
				v.phrases[last] = append(v.phrases[last], vocabPhrase{stems: stems, concept: ci})
			}
			c.Phrases = append(c.Phrases, p)
		}
		if len(c.Phrases) < 1 {
			return nil, fmt.Errorf("line %d: %s has no phrases", n+1, name)
		}
		v.concepts = append(v.concepts, c)
		v.terms = append(v.terms, term)
		v.byTerm[term] = ci
	}
	for k := range v.single {
		v.addKey(k)
	}
	for k := range v.phrases {
		v.addKey(k)
	}
	return v, nil
}

func (v *vocabulary) addKey(k string) {
	if k != "" { // mayKey("") is always true
		b := keyBit(k)
		v.keys[b>>6] |= 1 << (b & 63)
	}
}

func hasConcept(cs []int32, c int32) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// phraseStems returns the terms of a phrase's word sequence (the tokens
// bigrams use, stemmed, with stop words kept as written: "sign in" and
// "sign up" differ); a one-word phrase is its word's term. It returns nil
// for a phrase of stop words only.
func phraseStems(an *analyzer, p string) []string {
	var seq, all []string
	content := false
	forEachToken(p, func(t Token, isSeq bool) {
		s, ok := an.matchTerm(t)
		if !ok {
			return
		}
		content = content || s != t.Text || !isStopWord(t.Text)
		all = append(all, s)
		if isSeq {
			seq = append(seq, s)
		}
	})
	if !content {
		return nil
	}
	if len(all) == 1 || len(seq) == 0 && len(all) > 0 {
		return all[:1]
	}
	return seq
}

// matchTerm is the form of a token phrases are matched on: its term, or a
// stop word as written.
func (a *analyzer) matchTerm(t Token) (string, bool) {
	if s, ok := a.term(t); ok {
		return s, true
	}
	if t.Kind == KindWord && len(t.Text) >= 2 {
		return t.Text, true
	}
	return "", false
}

// conceptOf returns the concept of a concept term.
func (v *vocabulary) conceptOf(term string) (Concept, bool) {
	i, ok := v.byTerm[term]
	if !ok {
		return Concept{}, false
	}
	return v.concepts[i], true
}

// matcher finds vocabulary phrases in one text's term sequence.
type matcher struct {
	v    *vocabulary
	win  [maxPhraseWords]string // last seq terms, win[n%len] is the newest
	n    int                    // seq terms seen
	last []conceptHit           // concepts emitted, for overlap checks
}

type conceptHit struct {
	concept int32
	at      int // seq position of the phrase's last word
}

// next reports the concepts a term completes: seq says whether it is part
// of the word sequence (else a whole identifier, joined form or URL).
func (m *matcher) next(term string, seq bool, emit func(conceptTerm string, words []string)) {
	if seq {
		m.win[m.n%maxPhraseWords] = term
		m.n++
	}
	if !m.v.mayKey(term) {
		return
	}
	for _, c := range m.v.single[term] {
		m.hit(c, 1, []string{term}, emit)
	}
	if !seq {
		return
	}
	for _, p := range m.v.phrases[term] {
		if len(p.stems) > m.n {
			continue
		}
		ok := true
		for i := range p.stems {
			if m.win[(m.n-len(p.stems)+i)%maxPhraseWords] != p.stems[i] {
				ok = false
				break
			}
		}
		if ok {
			m.hit(p.concept, len(p.stems), p.stems, emit)
		}
	}
}

// hit emits concept c for a phrase of l words ending at the current
// position, unless the same concept was emitted for an overlapping phrase
// ("single sign-on" yields the joined "signon" and the words "single
// sign": one occurrence of the concept).
func (m *matcher) hit(c int32, l int, words []string, emit func(string, []string)) {
	start := m.n - l
	for i := len(m.last) - 1; i >= 0 && m.last[i].at >= start-1; i-- {
		if m.last[i].concept == c {
			return
		}
	}
	m.last = append(m.last, conceptHit{concept: c, at: m.n})
	emit(m.v.terms[c], words)
}

// conceptWeight is the weight of a concept term (the table's weight times
// Config.VocabWeight).
func (ix *Index) conceptWeight(term string) float64 {
	if ix.vocabulary == nil {
		return 0
	}
	c, ok := ix.vocabulary.conceptOf(term)
	if !ok {
		return 0
	}
	return c.Weight * ix.cfg.VocabWeight
}
