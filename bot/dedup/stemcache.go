package dedup

import (
	"hash/maphash"
	"math"
	"strings"
	"sync"
	"sync/atomic"
)

// stemCache maps the words an analyzer has seen to their terms (stem, or
// stopMark). It only grows, and a lookup takes no lock and writes no
// memory: an open-addressing table of entry indexes that writers (under
// mu) fill and, when it is three quarters full, replace by one twice its
// size. A reader still on a replaced table may miss a word
// added since; a miss looks again under mu. With the sharded maps behind
// read-write locks it replaced, each lookup wrote a lock word that the
// other CPU had most likely written last.
type stemCache struct {
	tab  atomic.Pointer[stemTable]
	seed maphash.Seed
	once sync.Once
	mu   sync.Mutex // writers
	// chunks holds the entries, stemChunk at a time: an entry never
	// moves, and readers find it by its index in a slot. Writers append
	// to the last chunk and publish a new directory when it is full.
	chunks atomic.Pointer[[]*stemChunk]
	n      int // entries, under mu
}

// stemTable is the open-addressing table: each slot holds the tag of its
// word's hash (high 32 bits, never 0) and its entry's index (low 32
// bits), stored at once after the entry was written: a reader that sees
// a slot sees its entry. The slots hold no pointers, so the collector
// does not scan them.
type stemTable struct {
	slots []atomic.Uint64 // a power of two
}

const stemChunkLen = 4096

type stemChunk [stemChunkLen]stemEntry

type stemEntry struct {
	word, term string
}

const stemCacheMin = 64

func (c *stemCache) hash(w string) (uint64, uint32) {
	h := maphash.String(c.seed, w)
	return h, uint32(h>>32) | 1
}

// get returns w's term if the cache holds it.
func (c *stemCache) get(w string) (string, bool) {
	t := c.tab.Load()
	if t == nil {
		return "", false
	}
	h, tag := c.hash(w)
	return c.find(t, w, h, tag)
}

func (c *stemCache) entry(i uint32) *stemEntry {
	return &(*c.chunks.Load())[i/stemChunkLen][i%stemChunkLen]
}

func (c *stemCache) find(t *stemTable, w string, h uint64, tag uint32) (string, bool) {
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		v := t.slots[i].Load()
		if v == 0 {
			return "", false
		}
		if uint32(v>>32) == tag {
			if e := c.entry(uint32(v)); e.word == w {
				return e.term, true
			}
		}
	}
}

// put adds w's term s unless the cache has one already, and returns the
// cached term. The cache owns its strings: w and s may point into a
// request's text.
func (c *stemCache) put(w, s string) string {
	c.once.Do(func() { c.seed = maphash.MakeSeed() })
	c.mu.Lock()
	defer c.mu.Unlock()
	h, tag := c.hash(w)
	t := c.tab.Load()
	if t != nil {
		if v, ok := c.find(t, w, h, tag); ok {
			return v
		}
	}
	if c.n == math.MaxUint32 {
		return s // not cached
	}
	k := strings.Clone(w)
	switch {
	case s == stopMark:
	case strings.HasPrefix(w, s):
		s = k[:len(s)]
	default:
		s = strings.Clone(s)
	}
	idx := uint32(c.n)
	if idx%stemChunkLen == 0 {
		var dir []*stemChunk
		if d := c.chunks.Load(); d != nil {
			dir = append(dir, *d...)
		}
		dir = append(dir, new(stemChunk))
		c.chunks.Store(&dir)
	}
	*c.entry(idx) = stemEntry{word: k, term: s}
	if t == nil || (c.n+1)*4 > len(t.slots)*3 {
		t = c.grow(t)
	}
	t.insert(h, uint64(tag)<<32|uint64(idx))
	c.n++
	return s
}

func (t *stemTable) insert(h, v uint64) {
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for t.slots[i].Load() != 0 {
		i = (i + 1) & mask
	}
	t.slots[i].Store(v)
}

// grow returns a table twice the size of t (or the first one) with t's
// entries and makes it the cache's; the caller holds mu.
func (c *stemCache) grow(t *stemTable) *stemTable {
	size := stemCacheMin
	if t != nil {
		size = 2 * len(t.slots)
	}
	nt := &stemTable{slots: make([]atomic.Uint64, size)}
	if t != nil {
		for i := range t.slots {
			if v := t.slots[i].Load(); v != 0 {
				h, _ := c.hash(c.entry(uint32(v)).word)
				nt.insert(h, v)
			}
		}
	}
	c.tab.Store(nt)
	return nt
}
