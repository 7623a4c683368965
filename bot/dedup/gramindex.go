package dedup

// gramIndex lists the terms that contain each character n-gram
// (Index.gramTerms): an open-addressing table of words, each an n-gram
// hash (high 32 bits) and the index of its list plus 1, and the lists.
// It replaced a map[uint32][]uint32, whose look-up, append and store
// per n-gram of every new term were a sixth of indexing one.
type gramIndex struct {
	slots []uint64 // a power of two, at most half full
	lists [][]uint32
}

func newGramIndex() *gramIndex {
	return &gramIndex{slots: make([]uint64, 1024)}
}

// at returns the first slot to probe for n-gram hash g.
func (x *gramIndex) at(g uint32) uint64 {
	return (uint64(g) * 0x9E3779B97F4A7C15 >> 32) & uint64(len(x.slots)-1)
}

// get returns the terms that contain n-gram g, in the order added.
func (x *gramIndex) get(g uint32) []uint32 {
	mask := uint64(len(x.slots) - 1)
	for i := x.at(g); ; i = (i + 1) & mask {
		v := x.slots[i]
		if v == 0 {
			return nil
		}
		if uint32(v>>32) == g {
			return x.lists[uint32(v)-1]
		}
	}
}

// add appends term id to n-gram g's list.
func (x *gramIndex) add(g, id uint32) {
	mask := uint64(len(x.slots) - 1)
	for i := x.at(g); ; i = (i + 1) & mask {
		v := x.slots[i]
		if v == 0 {
			break
		}
		if uint32(v>>32) == g {
			l := &x.lists[uint32(v)-1]
			*l = append(*l, id)
			return
		}
	}
	if 2*(len(x.lists)+1) > len(x.slots) {
		old := x.slots
		x.slots = make([]uint64, 2*len(old))
		for _, v := range old {
			if v != 0 {
				x.put(v)
			}
		}
	}
	x.lists = append(x.lists, []uint32{id})
	x.put(uint64(g)<<32 | uint64(len(x.lists)))
}

func (x *gramIndex) put(v uint64) {
	mask := uint64(len(x.slots) - 1)
	i := x.at(uint32(v >> 32))
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = v
}
