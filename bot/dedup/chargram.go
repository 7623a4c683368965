package dedup

import (
	"math"
	"unicode/utf8"
)

// Character n-gram evidence.
//
// Each indexed term (a stem, identifier, version or URL) has the hashes of
// its character 3- and 4-grams, with '#' marking the word's start and end:
// "export" -> #ex, exp, xpo, por, ort, rt#, #exp, ..., ort#. A text's
// n-gram vector is the sum over its distinct terms t of idf(t) x u(t),
// where u(t) is t's n-gram vector scaled to unit length, so a word keeps the
// weight its rarity gives it and spreads it over its n-grams. The cosine of
// two such vectors is a soft cosine (Sidorov et al. 2014) whose word
// similarity is the n-gram cosine of the two words: identical words count
// fully, word forms and misspellings ("dashbaord", "dashboard") partly,
// unrelated words not at all. The norms keep only the diagonal (each word
// with itself), so computing them needs no n-gram aggregation per request
// and a text scores 1 against itself.

// maxGramTerm is the longest term (in bytes) given n-grams; longer terms
// (URLs, long identifiers) match exactly or not at all.
const maxGramTerm = 40

// minGramDice is the least n-gram overlap (Dice coefficient) for a rare word
// to be read as a form or misspelling of another word.
const minGramDice = 0.5

// maxGramTerms: n-grams shared by more indexed terms than this (such as
// "ing#") are too common to find a word's neighbours and are skipped.
const maxGramTerms = 256

// termGrams returns the hashes of the character 3- and 4-grams of t. A term
// shorter than 3 runes or longer than maxGramTerm bytes has one "n-gram":
// itself.
func termGrams(t string) []uint32 {
	n := utf8.RuneCountInString(t)
	if n < 3 || len(t) > maxGramTerm {
		h := uint32(2166136261)
		for i := 0; i < len(t); i++ {
			h ^= uint32(t[i])
			h *= 16777619
		}
		return []uint32{h}
	}
	if isASCII(t) {
		return asciiTermGrams(t)
	}
	rs := make([]rune, 0, n+2)
	rs = append(rs, '#')
	for _, r := range t {
		rs = append(rs, r)
	}
	rs = append(rs, '#')
	out := make([]uint32, 0, 2*len(rs))
	for k := 3; k <= 4; k++ {
		for i := 0; i+k <= len(rs); i++ {
			h := uint32(2166136261) ^ uint32(k)
			for _, r := range rs[i : i+k] {
				h ^= uint32(r)
				h *= 16777619
			}
			out = append(out, h)
		}
	}
	return out
}

// asciiTermGrams is termGrams of an ASCII term of 3 to maxGramTerm bytes:
// the same hashes (a byte is its rune) from a stack buffer instead of a
// slice of runes (TestTermGramsASCII).
func asciiTermGrams(t string) []uint32 {
	var buf [maxGramTerm + 2]byte
	buf[0] = '#'
	copy(buf[1:], t)
	buf[len(t)+1] = '#'
	bs := buf[:len(t)+2]
	out := make([]uint32, 0, 2*len(bs))
	for i := 0; i+3 <= len(bs); i++ {
		h := uint32(2166136261) ^ 3
		h = (h ^ uint32(bs[i])) * 16777619
		h = (h ^ uint32(bs[i+1])) * 16777619
		h = (h ^ uint32(bs[i+2])) * 16777619
		out = append(out, h)
	}
	for i := 0; i+4 <= len(bs); i++ {
		h := uint32(2166136261) ^ 4
		h = (h ^ uint32(bs[i])) * 16777619
		h = (h ^ uint32(bs[i+1])) * 16777619
		h = (h ^ uint32(bs[i+2])) * 16777619
		h = (h ^ uint32(bs[i+3])) * 16777619
		out = append(out, h)
	}
	return out
}

// gramTable is a small open-addressing map from n-gram hash to weight: the
// query's n-gram vector.
type gramTable struct {
	keys []uint32
	vals []float64
	used []bool
	mask uint32
	// norm2 is the squared diagonal norm of the query (sum of idf^2).
	norm2 float64
}

func newGramTable(n int) *gramTable {
	size := 16
	for size < 2*n {
		size *= 2
	}
	return &gramTable{
		keys: make([]uint32, size),
		vals: make([]float64, size),
		used: make([]bool, size),
		mask: uint32(size - 1),
	}
}

func (g *gramTable) add(h uint32, v float64) {
	for i := h & g.mask; ; i = (i + 1) & g.mask {
		if !g.used[i] {
			g.used[i], g.keys[i], g.vals[i] = true, h, v
			return
		}
		if g.keys[i] == h {
			g.vals[i] += v
			return
		}
	}
}

func (g *gramTable) get(h uint32) float64 {
	for i := h & g.mask; ; i = (i + 1) & g.mask {
		if !g.used[i] {
			return 0
		}
		if g.keys[i] == h {
			return g.vals[i]
		}
	}
}

// addTerm adds a term with weight w (its idf) to the vector.
func (g *gramTable) addTerm(grams []uint32, w float64) {
	g.norm2 += w * w
	u := w / math.Sqrt(float64(len(grams)))
	for _, h := range grams {
		g.add(h, u)
	}
}

// dotTerm is the contribution of one request term with weight w to the dot
// product with the query vector.
func (g *gramTable) dotTerm(grams []uint32, w float64) float64 {
	s := 0.0
	for _, h := range grams {
		s += g.get(h)
	}
	return s * w / math.Sqrt(float64(len(grams)))
}
