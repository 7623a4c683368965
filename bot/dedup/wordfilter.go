package dedup

import (
	"hash/maphash"
	"math/bits"
)

// wordHash64 hashes a word for the filter. It is a polynomial hash
// (Horner's rule in base polyBase, mod 2^64) so that editVariant computes
// the hash of each of a word's edits in a few operations from the hashes
// of the word's prefixes and suffixes (concatenation: h(a+b) = h(a) x
// polyBase^len(b) + h(b)) instead of hashing every edit from scratch;
// probes mixes it, with the filter's seed, before use.
const polyBase = 0x9E3779B97F4A7C15 | 1

// polyPow holds polyBase^i for the lengths the filter holds (and one
// more).
var polyPow = func() (pw [23]uint64) {
	pw[0] = 1
	for i := 1; i < len(pw); i++ {
		pw[i] = pw[i-1] * polyBase
	}
	return pw
}()

func polyHash[S ~string | ~[]byte](w S) uint64 {
	h := uint64(0)
	for i := 0; i < len(w); i++ {
		h = h*polyBase + uint64(w[i])
	}
	return h
}

// wordFilter is a Bloom filter over the indexed terms that editVariant can
// look for (3 to 21 letters a-z). Most of the edit variants of a word are
// not words; the filter answers "not indexed" for nearly all of them from
// a few hundred kilobytes, where the vocabulary map would miss the CPU
// caches on every lookup. It has no false negatives, so typo matching
// finds exactly what it found without it.
type wordFilter struct {
	seed uint64
	bits []uint64
	mask uint64 // number of bits - 1
	n    int    // words added
	// letters answers, for a word with one letter left out (a 0 byte in
	// its place: a wildcard), which letters a-z may fill the gap to make
	// an added word: a cell per wildcard word's hash, with bit c-'a' set
	// for each added word that has c there. editVariant reads one cell for
	// the 26 substitutions (or insertions) at a position instead of
	// probing the filter for each. Like the filter, it has no false
	// negatives.
	letters []uint32
	lmask   uint64 // number of cells - 1
	keys    int    // wildcard words added (each added word's length)
}

// Words per filter bit before the filter doubles: 12 bits per word and two
// probes give about 3% false positives.
const wordFilterBitsPerWord = 12

// letterKeysPerCell is the wildcard words per cell of wordFilter.letters
// before it doubles (1 to 2 after): a cell read for a position has a
// letter or two of other words, each then checked in the filter.
const letterKeysPerCell = 2

func newWordFilter() *wordFilter {
	f := &wordFilter{seed: maphash.Comparable(maphash.MakeSeed(), 0)}
	f.reset(1 << 16)
	f.resetLetters(1 << 14)
	return f
}

func (f *wordFilter) resetLetters(ncells int) {
	f.letters = make([]uint32, ncells)
	f.lmask = uint64(ncells - 1)
	f.keys = 0
}

func (f *wordFilter) reset(nbits int) {
	f.bits = make([]uint64, nbits/64)
	f.mask = uint64(nbits - 1)
	f.n = 0
}

// filterable reports whether editVariant can look t up.
func filterable(t string) bool {
	if len(t) < 3 || len(t) > 21 {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < 'a' || t[i] > 'z' {
			return false
		}
	}
	return true
}

// probes returns the two filter bits of the word of polyHash h and
// length n.
func (f *wordFilter) probes(h uint64, n int) (uint64, uint64) {
	// The finaliser of MurmurHash3, on the hash, the length and the seed.
	h ^= f.seed + uint64(n)*0xC2B2AE3D27D4EB4F
	h ^= h >> 33
	h *= 0xFF51AFD7ED558CCD
	h ^= h >> 33
	h *= 0xC4CEB9FE1A85EC53
	h ^= h >> 33
	h2 := bits.RotateLeft64(h, 32) * 0x9E3779B97F4A7C15
	return h & f.mask, (h2 >> 7) & f.mask
}

// add adds a filterable word; terms are all the index's terms, which add
// re-adds when the filter (or its letter cells) grows.
func (f *wordFilter) add(t string, terms []termEntry) {
	if f.n*wordFilterBitsPerWord >= len(f.bits)*64 {
		f.reset(len(f.bits) * 64 * 2)
		for i := range terms {
			if w := terms[i].text; w != t && filterable(w) {
				f.set(w)
			}
		}
	}
	f.set(t)
	if f.keys+len(t) > letterKeysPerCell*len(f.letters) {
		f.resetLetters(2 * len(f.letters))
		for i := range terms {
			if w := terms[i].text; w != t && filterable(w) {
				f.setLetters(w)
			}
		}
	}
	f.setLetters(t)
}

// setLetters records, for each position i of the filterable word t, that
// t with a wildcard at i has t[i] there.
func (f *wordFilter) setLetters(t string) {
	n, pw := len(t), &polyPow
	pre, suf := uint64(0), polyHash(t) // of t[:i], of t[i:]
	for i := 0; i < n; i++ {
		c := uint64(t[i])
		suf -= c * pw[n-1-i]
		// t[:i] + 0 + t[i+1:]
		f.letters[f.cell(pre*pw[n-i]+suf, n)] |= 1 << (t[i] - 'a')
		pre = pre*polyBase + c
	}
	f.keys += n
}

// cell returns the letter cell of the wildcard word of polyHash h and
// length n.
func (f *wordFilter) cell(h uint64, n int) uint64 {
	h ^= f.seed + uint64(n)*0xC2B2AE3D27D4EB4F
	h ^= h >> 33
	h *= 0xFF51AFD7ED558CCD
	h ^= h >> 33
	return h & f.lmask
}

// mayFill returns the letters (bit c-'a' for letter c) that may fill the
// wildcard of the word of polyHash h and length n (its wildcard a 0 byte)
// to make an added word: every letter that does is set.
func (f *wordFilter) mayFill(h uint64, n int) uint32 {
	return f.letters[f.cell(h, n)]
}

func (f *wordFilter) set(t string) {
	a, b := f.probes(polyHash(t), len(t))
	f.bits[a/64] |= 1 << (a % 64)
	f.bits[b/64] |= 1 << (b % 64)
	f.n++
}

// mayHave reports false if w is certainly not an added word.
func (f *wordFilter) mayHave(w []byte) bool {
	return f.mayHaveHash(polyHash(w), len(w))
}

// mayHaveHash is mayHave for the word of polyHash h and length n.
func (f *wordFilter) mayHaveHash(h uint64, n int) bool {
	a, b := f.probes(h, n)
	return f.bits[a/64]&(1<<(a%64)) != 0 && f.bits[b/64]&(1<<(b%64)) != 0
}

// countTable counts term ids (gramVariant): a small open-addressing table
// reused across queries.
type countTable struct {
	keys []uint32 // id+1, 0 for an empty cell
	vals []uint32
	used []uint32 // cells in use
	mask uint32
}

// reset empties the table and makes room for n distinct keys.
func (c *countTable) reset(n int) {
	for _, i := range c.used {
		c.keys[i] = 0
	}
	c.used = c.used[:0]
	size := 1 << bits.Len(uint(2*n))
	if size > len(c.keys) {
		c.keys = make([]uint32, size)
		c.vals = make([]uint32, size)
		c.mask = uint32(size - 1)
	}
}

func (c *countTable) inc(id uint32) {
	k := id + 1
	for i := (k * 0x9E3779B1) & c.mask; ; i = (i + 1) & c.mask {
		switch c.keys[i] {
		case k:
			c.vals[i]++
			return
		case 0:
			c.keys[i], c.vals[i] = k, 1
			c.used = append(c.used, i)
			return
		}
	}
}
