package dedup

import (
	"math/rand/v2"
	"slices"
	"testing"
	"unicode/utf8"
)

// plainTermGrams is termGrams as it was written first: over the runes of
// '#' + t + '#'.
func plainTermGrams(t string) []uint32 {
	n := utf8.RuneCountInString(t)
	if n < 3 || len(t) > maxGramTerm {
		h := uint32(2166136261)
		for i := 0; i < len(t); i++ {
			h ^= uint32(t[i])
			h *= 16777619
		}
		return []uint32{h}
	}
	rs := []rune{'#'}
	for _, r := range t {
		rs = append(rs, r)
	}
	rs = append(rs, '#')
	var out []uint32
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

// TestTermGramsASCII checks termGrams (its ASCII fast path included)
// against the computation over runes, on ASCII and other words of every
// length around the bounds, invalid UTF-8 among them.
func TestTermGramsASCII(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"a", "z", "0", "_", ".", "#", "é", "ß", "\xff", "日"}
	for i := 0; i < 20000; i++ {
		n := rng.IntN(maxGramTerm + 4)
		var b []byte
		for len(b) < n {
			if i%2 == 0 {
				b = append(b, byte(' '+rng.IntN(95)))
			} else {
				b = append(b, alphabet[rng.IntN(len(alphabet))]...)
			}
		}
		w := string(b)
		if got, want := termGrams(w), plainTermGrams(w); !slices.Equal(got, want) {
			t.Fatalf("termGrams(%q) = %v, want %v", w, got, want)
		}
	}
}
