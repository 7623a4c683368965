package dedup

import (
	"hash/maphash"
	"math/bits"
)

// wordFilter is a Bloom filter over the indexed terms that editVariant can
// look for (3 to 21 letters a-z). Most of the edit variants of a word are
// not words; the filter answers "not indexed" for nearly all of them from
// a few hundred kilobytes, where the vocabulary map would miss the CPU
// caches on every lookup. It has no false negatives, so typo matching
// finds exactly what it found without it.
type wordFilter struct {
	seed maphash.Seed
	bits []uint64
	mask uint64 // number of bits - 1
	n    int    // words added
}

// Words per filter bit before the filter doubles: 12 bits per word and two
// probes give about 3% false positives.
const wordFilterBitsPerWord = 12

func newWordFilter() *wordFilter {
	f := &wordFilter{seed: maphash.MakeSeed()}
	f.reset(1 << 16)
	return f
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

func (f *wordFilter) probes(h uint64) (uint64, uint64) {
	h2 := bits.RotateLeft64(h, 32) * 0x9E3779B97F4A7C15
	return h & f.mask, (h2 >> 7) & f.mask
}

// add adds a filterable word; terms are all the index's terms, which add
// re-adds when the filter grows.
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
}

func (f *wordFilter) set(t string) {
	a, b := f.probes(maphash.String(f.seed, t))
	f.bits[a/64] |= 1 << (a % 64)
	f.bits[b/64] |= 1 << (b % 64)
	f.n++
}

// mayHave reports false if w is certainly not an added word.
func (f *wordFilter) mayHave(w []byte) bool {
	a, b := f.probes(maphash.Bytes(f.seed, w))
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
