package dedup

import (
	"hash/fnv"
	"strings"
	"sync"

	"github.com/kljensen/snowball/english"
)

// Fields of an indexed request.
const (
	fieldTitle = iota
	fieldBody
	fieldExtra
	numFields
)

// analyzer turns texts into terms. It caches stems (stemming dominates the
// cost of analysis) and is safe for concurrent use.
type analyzer struct {
	stems sync.Map // surface word -> stem
}

func (a *analyzer) stem(w string) string {
	if v, ok := a.stems.Load(w); ok {
		return v.(string)
	}
	s := english.Stem(w, true)
	if s == w {
		s = w
	} else {
		s = strings.Clone(s)
	}
	a.stems.Store(strings.Clone(w), s)
	return s
}

// term returns the indexed form of a token, or false if it is dropped.
func (a *analyzer) term(t Token) (string, bool) {
	if t.Kind != KindWord {
		return t.Text, true
	}
	if len(t.Text) < 2 || isStopWord(t.Text) {
		return "", false
	}
	return a.stem(t.Text), true
}

// analyzed is one text (or several fields) turned into term frequencies and
// bigram hashes.
type analyzed struct {
	tf      map[string]*[numFields]uint16
	lens    [numFields]int
	bigrams map[uint32]bigram // by bigramHash
	order   []string          // terms in first-seen order (for deterministic IDs)
}

func newAnalyzed() *analyzed {
	return &analyzed{tf: make(map[string]*[numFields]uint16), bigrams: make(map[uint32]bigram)}
}

// bigram is a pair of adjacent terms, the largest weight of the fields it
// occurs in and that field.
type bigram struct {
	a, b  string
	w     float64
	field int
}

// add analyses text into field f; bigramWeight is recorded for the bigrams of
// the text (the largest weight wins when a bigram occurs in several fields).
func (a *analyzer) add(dst *analyzed, f int, text string, bigramWeight float64) {
	prev := ""
	forEachToken(text, func(t Token, seq bool) {
		s, ok := a.term(t)
		if !ok {
			// Stop words do not break a bigram: "open the door" -> open door.
			return
		}
		c := dst.tf[s]
		if c == nil {
			c = new([numFields]uint16)
			dst.tf[s] = c
			dst.order = append(dst.order, s)
		}
		if c[f] < 0xFFFF {
			c[f]++
		}
		dst.lens[f]++
		if !seq {
			return
		}
		if prev != "" && prev != s {
			h := bigramHash(prev, s)
			if bigramWeight > dst.bigrams[h].w {
				dst.bigrams[h] = bigram{a: prev, b: s, w: bigramWeight, field: f}
			}
		}
		prev = s
	})
}

// bigramHash hashes an unordered pair of terms: word order varies too much
// in short texts ("dark mode" / "mode: dark") to be worth keeping.
func bigramHash(a, b string) uint32 {
	if b < a {
		a, b = b, a
	}
	h := fnv.New32a()
	h.Write([]byte(a))
	h.Write([]byte{0})
	h.Write([]byte(b))
	return h.Sum32()
}
