package dedup

import (
	"cmp"
	"slices"
	"sync"
)

// Fields of an indexed request.
const (
	fieldTitle = iota
	fieldBody
	fieldExtra
	numFields
)

// analyzer turns texts into terms. It caches the term of each word it has
// seen (stemming dominates the cost of analysis) and is safe for concurrent
// use: the cache (stemcache.go) is read without locks.
type analyzer struct {
	words stemCache
	// vocab, when set, adds the terms of the vocabulary concepts a text
	// mentions (vocabulary.go).
	vocab *vocabulary
}

// stopMark is what the stem cache holds for a stop word: no stem contains
// a NUL byte.
const stopMark = "\x00"

// stem returns the stem of a lower-case word, or stopMark for a stop word.
func (a *analyzer) stem(w string) string {
	if s, ok := a.words.get(w); ok {
		return s
	}
	return a.words.put(w, stemOf(w))
}

// stemOf is the stem of a lower-case word, or stopMark for a stop word.
func stemOf(w string) string {
	if isStopWord(w) {
		return stopMark
	}
	return snowballStem(w)
}

// term returns the indexed form of a token, or false if it is dropped.
func (a *analyzer) term(t Token) (string, bool) {
	if t.Kind == KindIdent && isPlainLower(t.Text) {
		// A camelCase identifier without separators is a word written
		// with capitals: "ZooKeeper" is the same term as "Zookeeper"
		// (stemmed), and also yields its parts.
		if s := a.stem(t.Text); s != stopMark {
			return s, true
		}
		return t.Text, true
	}
	if t.Kind != KindWord {
		return t.Text, true
	}
	if len(t.Text) < 2 {
		return "", false
	}
	s := a.stem(t.Text)
	if s == stopMark {
		return "", false
	}
	return s, true
}

// analyzed is one text (or several fields) turned into term frequencies and
// bigram hashes. Get one with newAnalyzed and hand it back with release.
type analyzed struct {
	terms []string // distinct terms in first-seen order (for deterministic IDs)
	surf  []string // per term: the first word it was seen as (for reasons)
	// members maps a vocabulary concept's term index to the indexes of the
	// words its phrases were made of (nil until a concept is found).
	members map[int32][]int32
	tfs     [][numFields]uint16 // per term
	pos     map[string]int32    // term -> index in terms
	lens    [numFields]int
	// bigrams lists each pair of adjacent terms as it occurs; dedupBigrams
	// keeps one per hash.
	bigrams []bigram
	// joins, when wantJoins is set (queries), lists adjacent words written
	// together (add): "LU LU" -> lulu, "drop down" -> dropdown.
	wantJoins bool
	joins     []join
	joinText  []byte // the joins' words and terms (join.at)
	// joinBits has bit h%256 set for the hash h of each join (addJoin).
	joinBits [4]uint64
	// prepared is set when keys and sum hold the request's bigram keys
	// (appendBigramKeys) and docSum: Load computes them while analysing,
	// on all CPUs, so that insert need not. fwd, when not nil, is where
	// insert writes the request's terms (empty, with room for them): Load
	// hands out pieces of one slice per batch, keys likewise.
	prepared bool
	keys     []uint32
	sum      uint64
	fwd      []posting
	// ids, when not empty, holds per term its id in the index whose
	// Similar analysed the text, plus 1 (0: the index had no such term
	// then): buildQuery records them, and the Upsert of the same text
	// (sharedAnalyses) reads them instead of looking the terms up again.
	// An index never drops a term nor changes its id.
	ids []uint32
	// order, when it has an entry per bigram, is sortedBigrams of them:
	// buildQuery sorts them, and the Upsert of the same text
	// (appendBigramKeys) keeps its own best of each hash (by its field
	// weights) from the same order instead of sorting them again.
	order []uint64
}

// join is two adjacent words of a query written as one word, stemmed,
// with the weight of the field it occurs in and the words as written.
type join struct {
	w    float64
	a, b int32  // the words' indexes in terms (-1: a stop word)
	h    uint32 // joinHash(term), to tell joins apart cheaply
	// ident: the two words are the parts of an identifier the text also
	// has whole (ZooKeeper: zoo, keeper), so the join is that word.
	ident bool
	// analyzed.joinText[at:at+n] is the words as written ("drop down"),
	// the tn bytes after them the term (joinSrc, joinTerm).
	at, n, tn int32
}

// joinSrc returns the words of join j as written, separated by a space.
func (dst *analyzed) joinSrc(j *join) []byte { return dst.joinText[j.at : j.at+j.n] }

// joinTerm returns the term of join j.
func (dst *analyzed) joinTerm(j *join) []byte { return dst.joinText[j.at+j.n : j.at+j.n+j.tn] }

// maxJoins bounds the joined pairs of one query (each is stemmed).
const maxJoins = 32

// bigram is a pair of adjacent terms (indexes into analyzed.terms), the
// weight of the field it occurs in and that field.
type bigram struct {
	h     uint32 // bigramHash
	a, b  int32
	field int32
	w     float64
}

var analyzedPool = sync.Pool{New: func() any {
	return &analyzed{pos: make(map[string]int32, 64)}
}}

func newAnalyzed() *analyzed {
	return analyzedPool.Get().(*analyzed)
}

// release hands a back for reuse; it must not be used afterwards.
func (a *analyzed) release() {
	if a.reset() {
		analyzedPool.Put(a)
	}
}

// reset empties a for reuse, unless it held an unusually long text (then
// its buffers had better go).
func (a *analyzed) reset() bool {
	if len(a.terms) > 4096 {
		return false
	}
	clear(a.terms)
	a.terms = a.terms[:0]
	clear(a.surf)
	a.surf = a.surf[:0]
	clear(a.members)
	a.tfs = a.tfs[:0]
	clear(a.pos)
	a.lens = [numFields]int{}
	a.bigrams = a.bigrams[:0]
	a.joins, a.wantJoins = a.joins[:0], false
	a.joinText = a.joinText[:0]
	a.joinBits = [4]uint64{}
	a.prepared, a.keys, a.sum, a.fwd = false, nil, 0, nil
	a.ids = a.ids[:0]
	a.order = a.order[:0]
	return true
}

// add analyses text into field f; bigramWeight is recorded for the bigrams of
// the text (the largest weight wins when a bigram occurs in several fields).
func (a *analyzer) add(dst *analyzed, f int, text string, bigramWeight float64) {
	prev := int32(-1)
	var m *matcher
	var mbuf matcher
	if a.vocab != nil {
		mbuf.v = a.vocab
		m = &mbuf
	}
	prevWord, prevIdx := "", int32(-1)
	// identTerm is the term of the last identifier (emitted whole before
	// its parts): a join of two of its parts that is the same term marks
	// the identifier's parts (addJoin).
	identTerm := ""
	forEachToken(text, func(t Token, seq bool) {
		s, ok := a.term(t)
		if dst.wantJoins && !seq && t.Kind == KindIdent && ok {
			identTerm = s
		}
		if dst.wantJoins && seq {
			if t.Kind == KindWord && isPlainLower(t.Text) {
				cur := int32(-1)
				if ok {
					cur = dst.index(s, t.Text) // counted below
				}
				if prevWord != "" && len(dst.joins) < maxJoins {
					dst.addJoin(prevWord, t.Text, bigramWeight, prevIdx, cur, identTerm)
				}
				prevWord, prevIdx = t.Text, cur
			} else {
				prevWord, prevIdx = "", -1
			}
		}
		if !ok {
			if m != nil && seq && t.Kind == KindWord && len(t.Text) >= 2 {
				// Phrases keep their stop words: "log in".
				m.next(t.Text, true, dst.concept(f))
			}
			// Stop words do not break a bigram: "open the door" -> open door.
			return
		}
		i := dst.count(s, t.Text, f)
		dst.lens[f]++
		if m != nil {
			// Concept terms count as occurrences but not in the field's
			// length, and are not part of bigrams.
			m.next(s, seq, dst.concept(f))
		}
		if !seq {
			return
		}
		if prev >= 0 && prev != i {
			dst.bigrams = append(dst.bigrams, bigram{
				h: bigramHash(dst.terms[prev], s), a: prev, b: i, field: int32(f), w: bigramWeight,
			})
		}
		prev = i
	})
}

// addJoin records the words a and b written together, if that is a word
// (not a stop word); each distinct join once, at its largest weight, and
// as an identifier's parts (join.ident) when its term is identTerm. The
// pair is stemmed in place on the stack (porter2Bytes, a and b are ASCII
// lower-case letters and digits: add); its words and term are appended to
// dst.joinText, which a reused analysis keeps: a join costs no allocation
// (each was one string before). Most pairs are never a word, and a cache
// of them (there was one) missed more than it hit.
func (dst *analyzed) addJoin(a, b string, w float64, ia, ib int32, identTerm string) {
	n := len(a) + len(b)
	if n < 4 {
		return
	}
	var buf [maxPorter2]byte
	var jb []byte
	if n <= len(buf) {
		jb = buf[:n]
	} else {
		jb = make([]byte, n)
	}
	copy(jb[copy(jb, a):], b)
	if mayBeStopWord(jb) {
		if _, stop := stopWords[string(jb)]; stop {
			return
		}
	}
	s := porter2Bytes(jb)
	h := joinHash(s)
	ident := identTerm != "" && string(s) == identTerm
	// The joins are looked through only when one may have the same hash
	// (joinBits has a bit per hash of a join so far).
	bit := &dst.joinBits[h>>6%uint32(len(dst.joinBits))]
	if *bit&(1<<(h&63)) != 0 {
		for i := range dst.joins {
			if j := &dst.joins[i]; j.h == h && string(dst.joinTerm(j)) == string(s) {
				j.w = max(j.w, w)
				j.ident = j.ident || ident
				return
			}
		}
	}
	*bit |= 1 << (h & 63)
	at := len(dst.joinText)
	dst.joinText = append(append(append(append(dst.joinText, a...), ' '), b...), s...)
	dst.joins = append(dst.joins, join{w: w, a: ia, b: ib, h: h, ident: ident, at: int32(at), n: int32(n + 1), tn: int32(len(s))})
}

// joinHash is FNV-1a of a joined word's stem.
func joinHash(s []byte) uint32 {
	h := uint32(2166136261)
	for _, c := range s {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}

// concept returns the callback that records a vocabulary concept found
// in field f with the words of its phrase.
func (dst *analyzed) concept(f int) func(ct string, words []string) {
	return func(ct string, words []string) {
		ci := dst.count(ct, ct, f)
		if dst.members == nil {
			dst.members = make(map[int32][]int32)
		}
		ms := dst.members[ci]
		for _, w := range words {
			if i, ok := dst.pos[w]; ok && !slices.Contains(ms, i) {
				ms = append(ms, i)
			}
		}
		dst.members[ci] = ms
	}
}

// index returns the index of term s (seen as the word surf), adding it
// with no occurrence if it is new.
func (dst *analyzed) index(s, surf string) int32 {
	i, ok := dst.pos[s]
	if !ok {
		i = int32(len(dst.terms))
		dst.pos[s] = i
		dst.terms = append(dst.terms, s)
		dst.surf = append(dst.surf, surf)
		dst.tfs = append(dst.tfs, [numFields]uint16{})
	}
	return i
}

// count records one occurrence of term s (seen as the word surf) in field
// f and returns the term's index.
func (dst *analyzed) count(s, surf string, f int) int32 {
	i := dst.index(s, surf)
	c := &dst.tfs[i]
	if c[f] < 0xFFFF {
		c[f]++
	}
	return i
}

// dedupBigrams keeps, for each bigram hash, the first occurrence with the
// largest weight (if that weight is positive), sorted by hash.
func (a *analyzed) dedupBigrams() []bigram {
	a.bigrams = dedupBigrams(a.bigrams)
	return a.bigrams
}

// dedupBigrams is analyzed.dedupBigrams on bs, in place.
func dedupBigrams(bs []bigram) []bigram {
	slices.SortStableFunc(bs, func(x, y bigram) int { return cmp.Compare(x.h, y.h) })
	out := bs[:0]
	for i := 0; i < len(bs); {
		j, best := i+1, i
		for ; j < len(bs) && bs[j].h == bs[i].h; j++ {
			if bs[j].w > bs[best].w {
				best = j
			}
		}
		if bs[best].w > 0 {
			out = append(out, bs[best])
		}
		i = j
	}
	return out
}

// bestBigrams keeps, for each hash of bs, the bigram dedupBigrams keeps
// (the first of the highest weight, if that weight is above 0) and returns
// them as hash<<32|position in bs, sorted by hash, in buf: an unstable
// sort of plain integers (hash, then position) orders them as the stable
// sort of the bigrams does, at a fraction of its cost. bs is left as it
// is.
func bestBigrams(bs []bigram, buf []uint64) []uint64 {
	order := sortedBigrams(bs, buf)
	return keepBestBigrams(bs, order, order[:0])
}

// sortedBigrams returns hash<<32|position in bs of each bigram of bs,
// sorted, in buf.
func sortedBigrams(bs []bigram, buf []uint64) []uint64 {
	order := buf[:0]
	for i := range bs {
		order = append(order, uint64(bs[i].h)<<32|uint64(i))
	}
	slices.Sort(order)
	return order
}

// keepBestBigrams appends to dst, from order (sortedBigrams of bs), the
// entries bestBigrams keeps. dst may be order[:0].
func keepBestBigrams(bs []bigram, order, dst []uint64) []uint64 {
	kept := dst
	for i := 0; i < len(order); {
		h := uint32(order[i] >> 32)
		best := order[i]
		j := i + 1
		for ; j < len(order) && uint32(order[j]>>32) == h; j++ {
			if bs[uint32(order[j])].w > bs[uint32(best)].w {
				best = order[j]
			}
		}
		if bs[uint32(best)].w > 0 {
			kept = append(kept, best) // in place, len(kept) <= i: order[i:] is unread
		}
		i = j
	}
	return kept
}

// appendDedupBigrams appends to dst what dedupBigrams(bs) returns,
// leaving bs as it is (buildQuery; bestBigrams).
func appendDedupBigrams(dst, bs []bigram, buf []uint64) ([]bigram, []uint64) {
	kept := bestBigrams(bs, buf)
	for _, o := range kept {
		dst = append(dst, bs[uint32(o)])
	}
	return dst, kept
}

// appendBigramKeys appends to dst what an indexed request keeps of its
// bigrams (slotMeta.bigrams): for each hash what dedupBigrams keeps, as
// the hash with its field in the low bits, sorted. It gives the same
// result as dedupBigrams (bestBigrams), without the stable sort of the
// bigrams, which was a third of a request's indexing (start-up).
// a.bigrams is left as it is.
func (a *analyzed) appendBigramKeys(dst []uint32, buf []uint64) ([]uint32, []uint64) {
	var kept []uint64
	if len(a.order) > 0 && len(a.order) == len(a.bigrams) {
		// buildQuery sorted them (a.order is used up).
		kept = keepBestBigrams(a.bigrams, a.order, a.order[:0])
		a.order = a.order[:0]
	} else {
		kept = bestBigrams(a.bigrams, buf)
	}
	dst = slices.Grow(dst, len(kept))
	start := len(dst)
	for _, o := range kept {
		dst = append(dst, uint32(o>>32)&^bigramFieldMask|uint32(a.bigrams[uint32(o)].field))
	}
	slices.Sort(dst[start:])
	return dst, kept
}

// bigramHash hashes an unordered pair of terms (FNV-1a of a, NUL, b): word
// order varies too much in short texts ("dark mode" / "mode: dark") to be
// worth keeping.
func bigramHash(a, b string) uint32 {
	if b < a {
		a, b = b, a
	}
	h := uint32(2166136261)
	for i := 0; i < len(a); i++ {
		h ^= uint32(a[i])
		h *= 16777619
	}
	h *= 16777619 // the NUL separator
	for i := 0; i < len(b); i++ {
		h ^= uint32(b[i])
		h *= 16777619
	}
	return h
}
