package dedup

import "hash/maphash"

// termDict maps the index's terms to their ids (Index.vocab). It is an
// open-addressing table of words, each the tag of a term's hash (its high
// 32 bits, never 0) and the term's id: the texts are those of
// Index.terms, which a lookup compares on a tag match. A Go map of the
// terms held a second string header per term and, having pointers, was
// scanned by the garbage collector on every cycle; its slots were three
// times as large. Terms are never removed (a term no request has any
// more keeps its id). The caller locks as for Index.terms.
type termDict struct {
	seed  maphash.Seed
	slots []uint64 // a power of two, at most half full
	n     int
}

const termDictMin = 1024

func newTermDict() termDict {
	return termDict{seed: maphash.MakeSeed(), slots: make([]uint64, termDictMin)}
}

func (d *termDict) hash(t string) (uint64, uint64) {
	h := maphash.String(d.seed, t)
	return h, h>>32 | 1
}

// find returns the id of term t.
func (d *termDict) find(terms []termEntry, t string) (uint32, bool) {
	id, _, ok := d.lookup(terms, t)
	return id, ok
}

// lookup is find that also returns t's hash (for add).
func (d *termDict) lookup(terms []termEntry, t string) (uint32, uint64, bool) {
	h, tag := d.hash(t)
	mask := uint64(len(d.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		v := d.slots[i]
		if v == 0 {
			return 0, h, false
		}
		if v>>32 == tag && terms[uint32(v)].text == t {
			return uint32(v), h, true
		}
	}
}

// findBytes is find for a term spelt out in b.
func (d *termDict) findBytes(terms []termEntry, b []byte) (uint32, bool) {
	h := maphash.Bytes(d.seed, b)
	tag := h>>32 | 1
	mask := uint64(len(d.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		v := d.slots[i]
		if v == 0 {
			return 0, false
		}
		if v>>32 == tag && terms[uint32(v)].text == string(b) {
			return uint32(v), true
		}
	}
}

// add records that terms[id] (not yet in d), of hash h (lookup), has id
// id.
func (d *termDict) add(terms []termEntry, id uint32, h uint64) {
	if 2*(d.n+1) > len(d.slots) {
		old := d.slots
		d.slots = make([]uint64, 2*len(old))
		for _, v := range old {
			if v != 0 {
				h, _ := d.hash(terms[uint32(v)].text)
				d.put(h, v)
			}
		}
	}
	d.put(h, (h>>32|1)<<32|uint64(id))
	d.n++
}

func (d *termDict) put(h, v uint64) {
	mask := uint64(len(d.slots) - 1)
	i := h & mask
	for d.slots[i] != 0 {
		i = (i + 1) & mask
	}
	d.slots[i] = v
}
