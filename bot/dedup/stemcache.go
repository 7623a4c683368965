package dedup

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
)

// stemCache maps the words an analyzer has seen to their terms (stem, or
// stopMark). It only grows, and a lookup takes no lock and writes no
// memory: an open-addressing table of immutable entries that writers
// (under mu) fill and, when it is three quarters full, replace by one
// twice its size. A reader still on a replaced table may miss a word
// added since; a miss looks again under mu. With the sharded maps behind
// read-write locks it replaced, each lookup wrote a lock word that the
// other CPU had most likely written last.
type stemCache struct {
	tab  atomic.Pointer[stemTable]
	seed maphash.Seed
	once sync.Once
	mu   sync.Mutex // writers
	n    int        // entries, under mu
}

type stemTable struct {
	slots []stemSlot // a power of two
}

// stemSlot holds an entry and its tag (high bits of the hash, never 0),
// stored after the entry: a reader that sees a tag sees its entry, and a
// reader that sees no tag treats the slot as empty.
type stemSlot struct {
	tag atomic.Uint32
	e   atomic.Pointer[stemEntry]
}

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
	return t.find(w, h, tag)
}

func (t *stemTable) find(w string, h uint64, tag uint32) (string, bool) {
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		switch st := s.tag.Load(); st {
		case 0:
			return "", false
		case tag:
			if e := s.e.Load(); e.word == w {
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
		if v, ok := t.find(w, h, tag); ok {
			return v
		}
	}
	if t == nil || (c.n+1)*4 > len(t.slots)*3 {
		t = c.grow(t)
	}
	k := strings.Clone(w)
	switch {
	case s == stopMark:
	case strings.HasPrefix(w, s):
		s = k[:len(s)]
	default:
		s = strings.Clone(s)
	}
	t.insert(&stemEntry{word: k, term: s}, h, tag)
	c.n++
	return s
}

func (t *stemTable) insert(e *stemEntry, h uint64, tag uint32) {
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for t.slots[i].tag.Load() != 0 {
		i = (i + 1) & mask
	}
	t.slots[i].e.Store(e)
	t.slots[i].tag.Store(tag)
}

// grow returns a table twice the size of t (or the first one) with t's
// entries and makes it the cache's; the caller holds mu.
func (c *stemCache) grow(t *stemTable) *stemTable {
	size := stemCacheMin
	if t != nil {
		size = 2 * len(t.slots)
	}
	nt := &stemTable{slots: make([]stemSlot, size)}
	if t != nil {
		for i := range t.slots {
			if e := t.slots[i].e.Load(); e != nil {
				h, tag := c.hash(e.word)
				nt.insert(e, h, tag)
			}
		}
	}
	c.tab.Store(nt)
	return nt
}
