package dedup

import (
	"cmp"
	"context"
	"encoding/binary"
	"hash/maphash"
	"iter"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/feedbackbot/feedbackbot/bot"
)

// Config holds the few parameters of the index. DefaultConfig is what the
// bot and `feedbackbot dedup eval` use; change it only with the eval
// figures in hand.
type Config struct {
	// K1 is the BM25 term-frequency saturation.
	K1 float64
	// FieldWeights weigh a term occurrence in the title, description and
	// extra texts (mentions) of a request (BM25F).
	TitleWeight, BodyWeight, ExtraWeight float64
	// B is the BM25 length normalisation, per field.
	TitleB, BodyB, ExtraB float64
	// QueryTitleWeight weighs the first line of a query text (the title
	// of the new request) against the rest.
	QueryTitleWeight float64
	// BigramWeight weighs the evidence of two query words that occur next
	// to each other (in either order) in a request, relative to a single
	// word of the same rarity. 0 turns it off.
	BigramWeight float64
	// DocCoverage (0..1) is the exponent of the document-side coverage in
	// the score: 0 ranks by query coverage only (plain BM25F order), 0.5 is
	// the geometric mean of both coverages.
	DocCoverage float64
	// RerankDepth is how many lexical candidates the full score re-ranks
	// on a board of 100,000 active requests or more; a smaller board
	// re-ranks proportionally fewer, at least a quarter (Index.rerankDepth).
	RerankDepth int
	// MaxPostings caps the postings read in the first, lexical pass of a
	// query; the rarest query terms are read first, the rest are scored
	// only on the re-ranked candidates.
	MaxPostings int
	// CharWeight (0..1) is the share of the character n-gram soft cosine
	// (see chargram.go) in the score; the lexical score has the rest. 0
	// turns it off.
	CharWeight float64
	// FuzzyWeight weighs a query word that no request contains by the
	// indexed word one edit away (insertion, deletion, substitution or
	// transposition of two adjacent letters) with the most requests, as a
	// share of a word that matches exactly. 0 turns it off.
	FuzzyWeight float64
	// PriorDocs is added to the number of requests in word rarity (idf):
	// before a board has many requests, every word counts as rare in a
	// board of PriorDocs requests, so that the score of a pair does not
	// depend much on the board's size.
	PriorDocs float64
	// JoinWeight weighs two adjacent query words that a request writes as
	// one word ("LU LU" / Lulu, "drop down" / dropdown), as a share of a
	// word that matches exactly; 0 turns it off.
	JoinWeight float64
	// VocabWeight scales the weights of the product vocabulary's concepts
	// (vocabulary.tsv); 0 turns the vocabulary off.
	VocabWeight float64
	// LearnWeight weighs a word learned from the team's decisions (an
	// association of full strength) as a share of a query word; 0 turns
	// associations off (learn.go).
	LearnWeight float64
	// LearnTerms is how many of the rarest words of each side of a decision
	// are learned.
	LearnTerms int
	// LearnPrior is the pseudo-count of decisions that did not associate
	// two words (the strength of an association is count / (decisions the
	// word took part in + LearnPrior)).
	LearnPrior float64
	// MaxDecisions bounds the decisions the index remembers (the oldest are
	// forgotten); 0 turns learning off.
	MaxDecisions int
	// MisledWeight is what a word a dismissed pair shared still weighs in
	// those two requests (after n dismissals 1 / (1 + n (1/MisledWeight -
	// 1))); 1 turns it off.
	MisledWeight float64
}

// DefaultConfig returns the configuration tuned on the development data
// (see the package documentation).
func DefaultConfig() Config {
	return Config{
		K1:               1.2,
		TitleWeight:      8,
		BodyWeight:       1,
		ExtraWeight:      0.5,
		TitleB:           0.5,
		BodyB:            0.75,
		ExtraB:           0.75,
		QueryTitleWeight: 2,
		BigramWeight:     0.5,
		DocCoverage:      0.3,
		RerankDepth:      200,
		MaxPostings:      100_000,
		CharWeight:       0,
		FuzzyWeight:      0.5,
		JoinWeight:       1,
		PriorDocs:        30,
		VocabWeight:      1,
		LearnWeight:      1,
		LearnTerms:       4,
		LearnPrior:       1,
		MaxDecisions:     10_000,
		MisledWeight:     0.25,
	}
}

// Thresholds chosen from the precision/recall table that
// `feedbackbot dedup eval` prints (dev data, DefaultConfig; precision over
// the top 10 pairs per query, recall over all labelled duplicates):
//
//	score >= | SemEval P / R | SeaMonkey P / R | Hadoop P / R
//	0.15     | 79.1 / 58.4   | 12.8 / 83.7     | 10.5 / 86.0
//	0.20     | 82.1 / 40.7   | 17.6 / 72.8     | 16.2 / 83.0
//	0.25     | 84.3 / 27.6   | 25.1 / 59.8     | 21.9 / 72.0
//	0.45     | 100  /  4.2   | 24.4 / 12.0     | 42.0 / 42.0
//	0.70     | 100  /  1.4   | 100  /  2.2     | 60.0 / 12.0
//	0.85     | 100  /  0.5   |  -   /  0       | 62.5 / 10.0
//
// On the bug data a query has about one labelled duplicate, so precision
// over ten pairs cannot exceed about 12% at full recall; what matters there
// is recall. A person confirms every suggestion, so the suggestion
// threshold favours recall (0.20 keeps 73-83% of the duplicates on the bug
// data with at most 3 shown). Auto-merge needs precision; no threshold gives
// it reliably on the bug data (many unlabelled pairs such as "Upgrade X to
// 1.2" / "Upgrade X to 1.3" score high), which is why it is off by default.
// The score's scale did not change with fuzzy matching and the idf prior
// (Config.PriorDocs), so the table, and the thresholds, stayed where they
// were.
const (
	// DefaultSuggestThreshold is the score from which a candidate is
	// suggested as a possible duplicate.
	DefaultSuggestThreshold = 0.20
	// DefaultAutoMergeThreshold is the score from which a team that turns
	// auto-merge on could merge without asking (dev precision 100% on
	// SemEval, 62.5% on Hadoop). The bot's default is off (0).
	DefaultAutoMergeThreshold = 0.85
)

// posting packs a slot (upper 40 bits) and the term's frequency in the
// title, body and extra fields (8 bits each, capped at 255).
type posting uint64

func makePosting(slot uint32, tf [numFields]uint16) posting {
	p := posting(slot) << 24
	for f := 0; f < numFields; f++ {
		v := tf[f]
		if v > 255 {
			v = 255
		}
		p |= posting(v) << (8 * (2 - f))
	}
	return p
}

func (p posting) slot() uint32 { return uint32(p >> 24) }
func (p posting) tf(f int) float64 {
	return float64((p >> (8 * (2 - f))) & 0xFF)
}

// post is one entry of a postings list: a slot and the term's BM25F
// impact (tfPart) in it, computed with the average field lengths at the
// time the request was indexed. Impacts only pick the first-pass
// candidates; the final score recomputes them exactly.
type post struct {
	slot   uint32
	impact float32
}

type termEntry struct {
	text  string
	posts []post
	// minImpact is at most the impact of every posting (the least since
	// the term last had none): firstPass tells from it that no product of
	// its postings is 0.
	minImpact float32
	grams     []uint32 // character n-gram hashes (termGrams)
}

// slotMeta is one indexed request. fwd lists its terms (term id << 24 | tf
// of the three fields, as in a posting), sorted by term id.
type slotMeta struct {
	id      int64
	fwd     []posting // term id instead of slot
	bigrams []uint32  // sorted bigram hashes; the low 2 bits hold the field
	sum     uint64    // docSum of what was indexed
}

// Bigram hashes keep their field in the low two bits.
const bigramFieldMask = 3

// Index is an in-memory duplicate index over requests. It is safe for
// concurrent use: queries share a read lock, changes take the write lock.
type Index struct {
	cfg Config
	an  analyzer

	mu    sync.RWMutex
	vocab termDict // term -> id
	terms []termEntry
	// dfs is per term len(terms[id].posts), densely packed, plus
	// dfConcept for a concept (docTotal reads both in one array); Index.df
	// is the count.
	dfs []uint32
	// concept is per term whether it is a vocabulary concept;
	// conceptWords lists per concept the indexed terms that are words of
	// its phrases.
	concept      []bool
	conceptWords map[int32][]uint32
	// vocabulary is the product vocabulary (nil when Config.VocabWeight is
	// 0); learned is what the team's decisions taught.
	vocabulary *vocabulary
	learned    *learnedState
	// gramTerms lists the terms that contain each character n-gram (for
	// fuzzy matching; nil when Config.FuzzyWeight is 0).
	gramTerms *gramIndex
	// gramLens is per term len(terms[id].grams), densely packed (the
	// terms gramVariant counts are read here, not in terms).
	gramLens []int32
	// words filters the vocabulary lookups of typo matching (nil when
	// Config.FuzzyWeight is 0).
	words  *wordFilter
	byID   map[int64]uint32
	slots  []slotMeta
	lens   [][numFields]uint16 // per slot
	active []bool              // per slot
	live   []bool              // per slot: false for free slots
	free   []uint32
	nLive  int
	sumLen [numFields]float64

	// shared holds the analyses of the last query texts (sharedAnalyses).
	shared sharedAnalyses

	pool sync.Pool // *scratch
	// seed hashes docs (docSum).
	seed maphash.Seed
}

var _ bot.Scorer = (*Index)(nil)

// New returns an empty index.
func New(cfg Config) *Index {
	if cfg.RerankDepth <= 0 {
		cfg.RerankDepth = 200
	}
	if cfg.MaxPostings <= 0 {
		cfg.MaxPostings = math.MaxInt
	}
	if cfg.LearnTerms <= 0 {
		cfg.LearnTerms = 4
	}
	if cfg.LearnPrior <= 0 {
		cfg.LearnPrior = 1
	}
	ix := &Index{
		cfg:     cfg,
		vocab:   newTermDict(),
		byID:    make(map[int64]uint32),
		learned: newLearnedState(),
		seed:    maphash.MakeSeed(),
	}
	if cfg.VocabWeight > 0 {
		ix.vocabulary = productVocabulary()
		ix.an.vocab = ix.vocabulary
		ix.conceptWords = make(map[int32][]uint32)
	}
	if cfg.FuzzyWeight > 0 {
		ix.gramTerms = newGramIndex()
		ix.words = newWordFilter()
	}
	return ix
}

// Len returns the number of indexed requests, active or not.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.nLive
}

func (ix *Index) analyzeDoc(doc bot.Doc, a *analyzed) *analyzed {
	ix.an.add(a, fieldTitle, doc.Title, ix.cfg.TitleWeight)
	ix.an.add(a, fieldBody, doc.Description, ix.cfg.BodyWeight)
	for _, e := range doc.Extra {
		ix.an.add(a, fieldExtra, e, ix.cfg.ExtraWeight)
	}
	return a
}

// Upsert adds a request or replaces what the index knows about it. Requests
// with Active false stay indexed (their words still count in word rarity)
// but are never returned. A doc the index already holds as it is (same
// texts and Active: the engine re-reads every request changed in the last
// seconds, its own captures included) is left as it is, without analysing
// it again or taking the write lock.
func (ix *Index) Upsert(doc bot.Doc) {
	sum := ix.docSum(doc)
	ix.mu.RLock()
	s, ok := ix.byID[doc.ID]
	same := ok && ix.slots[s].sum == sum && ix.active[s] == doc.Active
	ix.mu.RUnlock()
	if same {
		return
	}
	a := ix.sharedAnalysis(doc)
	if a == nil {
		a = ix.analyzeDoc(doc, newAnalyzed())
	}
	ix.mu.Lock()
	ix.insert(doc, a)
	ix.mu.Unlock()
	a.release()
}

// docSum hashes the texts of a doc (Upsert's test for a doc already
// indexed as it is).
func (ix *Index) docSum(doc bot.Doc) uint64 {
	var h maphash.Hash
	h.SetSeed(ix.seed)
	write := func(t string) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(t)))
		h.Write(n[:])
		h.WriteString(t)
	}
	write(doc.Title)
	write(doc.Description)
	for _, e := range doc.Extra {
		write(e)
	}
	return h.Sum64()
}

// Load upserts many requests at once (start-up). It is equivalent to calling
// Upsert for each in order (TestLoadBuildsWhatUpsertBuilds); see LoadSeq.
func (ix *Index) Load(docs []bot.Doc) {
	ix.mu.Lock()
	ix.grow(len(docs))
	ix.mu.Unlock()
	ix.LoadSeq(slices.Values(docs))
}

// loadBatch is the number of docs LoadSeq analyses in one piece.
const loadBatch = 128

// loadJob is one batch of a LoadSeq: its docs and, once done is closed,
// their analyses.
type loadJob struct {
	docs []bot.Doc
	as   []*analyzed
	done chan struct{}
}

// LoadSeq upserts every doc docs yields (bot.SeqLoader), equivalent to
// calling Upsert for each in order. The calling goroutine reads docs and
// hands them out a batch at a time; the texts are analysed on all CPUs,
// with what insert needs besides the terms (bigram keys, docSum); one
// goroutine indexes the batches already analysed, in order. There is no
// pause between the batches of a stream, and only a few batches are held
// at a time. The requests loaded keep their terms and bigram keys in
// pieces of larger slices (slab; a request upserted later gets its own).
func (ix *Index) LoadSeq(docs iter.Seq[bot.Doc]) {
	workers := max(1, runtime.GOMAXPROCS(0))
	ahead := 4 * workers // batches read ahead of indexing (memory)
	jobs := make(chan *loadJob, ahead)
	order := make(chan *loadJob, ahead)
	// free recycles analysed requests and batches within this load (not
	// through analyzedPool, which would keep them after it).
	free := make(chan *analyzed, (ahead+workers+1)*loadBatch)
	freeJobs := make(chan *loadJob, ahead+workers+1)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var (
				order []uint64 // appendBigramKeys' buffer
				keys  []uint32 // one request's bigram keys
				kept  slab[uint32]
			)
			for j := range jobs {
				for i := range j.docs {
					var a *analyzed
					select {
					case a = <-free:
					default:
						a = &analyzed{pos: make(map[string]int32, 64)}
					}
					ix.analyzeDoc(j.docs[i], a)
					keys, order = a.appendBigramKeys(keys[:0], order)
					a.keys = kept.take(len(keys))
					copy(a.keys, keys)
					a.sum, a.prepared = ix.docSum(j.docs[i]), true
					j.as = append(j.as, a)
				}
				close(j.done)
			}
		}()
	}
	indexed := make(chan struct{})
	go func() {
		defer close(indexed)
		var fwds slab[posting]
		for j := range order {
			<-j.done
			ix.mu.Lock()
			ix.grow(len(j.docs))
			for i, a := range j.as {
				d := &j.docs[i]
				if s, ok := ix.byID[d.ID]; ok && ix.slots[s].sum == a.sum && ix.active[s] == d.Active {
					continue // held as it is (as Upsert does)
				}
				a.fwd = fwds.take(len(a.terms))[:0]
				ix.insert(*d, a)
			}
			ix.mu.Unlock()
			for _, a := range j.as {
				if a.reset() {
					select {
					case free <- a:
					default:
					}
				}
			}
			clear(j.docs)
			j.docs, j.as = j.docs[:0], j.as[:0]
			select {
			case freeJobs <- j:
			default:
			}
		}
	}()
	newJob := func() *loadJob {
		select {
		case j := <-freeJobs:
			j.done = make(chan struct{})
			return j
		default:
			return &loadJob{docs: make([]bot.Doc, 0, loadBatch), as: make([]*analyzed, 0, loadBatch), done: make(chan struct{})}
		}
	}
	send := func(j *loadJob) {
		order <- j // blocks while ahead batches wait to be indexed
		jobs <- j
	}
	j := newJob()
	for d := range docs {
		j.docs = append(j.docs, d)
		if len(j.docs) == loadBatch {
			send(j)
			j = newJob()
		}
	}
	if len(j.docs) > 0 {
		send(j)
	}
	close(jobs)
	close(order)
	<-indexed
	wg.Wait()
}

// slabBytes is the size of the slices a slab hands out pieces of: the
// largest small allocation (larger ones are rounded up to whole pages).
const slabBytes = 32 << 10

// slab hands out pieces of larger slices, for what a bulk load keeps per
// request (its terms and bigram keys): fewer allocations, and none rounded
// up to its size class. A piece keeps its slice alive (at most what the
// load allocated, while any request of it is indexed).
type slab[T any] struct{ buf []T }

// take returns a piece of n elements (len and cap n).
func (b *slab[T]) take(n int) []T {
	if b.buf == nil || n > cap(b.buf)-len(b.buf) {
		var zero T
		per := slabBytes / max(1, int(unsafe.Sizeof(zero)))
		if n > per/4 {
			return make([]T, n) // a long text's: a slice of its own
		}
		b.buf = make([]T, 0, per)
	}
	lo := len(b.buf)
	b.buf = b.buf[:lo+n]
	return b.buf[lo : lo+n : lo+n]
}

// grow makes room for n more requests; the caller holds the write lock.
func (ix *Index) grow(n int) {
	n -= len(ix.free)
	if n <= 0 {
		return
	}
	ix.slots = slices.Grow(ix.slots, n)
	ix.lens = slices.Grow(ix.lens, n)
	ix.active = slices.Grow(ix.active, n)
	ix.live = slices.Grow(ix.live, n)
	if len(ix.byID) == 0 && n > 1024 {
		ix.byID = make(map[int64]uint32, n)
	}
}

// insert indexes an analysed request; the caller holds the write lock.
func (ix *Index) insert(doc bot.Doc, a *analyzed) {
	if s, ok := ix.byID[doc.ID]; ok {
		ix.removeSlot(s)
	}
	var s uint32
	if n := len(ix.free); n > 0 {
		s = ix.free[n-1]
		ix.free = ix.free[:n-1]
	} else {
		s = uint32(len(ix.slots))
		ix.slots = append(ix.slots, slotMeta{})
		ix.lens = append(ix.lens, [numFields]uint16{})
		ix.active = append(ix.active, false)
		ix.live = append(ix.live, false)
	}
	var lens [numFields]uint16
	for f := range lens {
		lens[f] = uint16(min(a.lens[f], 0xFFFF))
		ix.sumLen[f] += float64(lens[f])
	}
	ix.nLive++
	avg := ix.avgLens()
	fwd := a.fwd
	if fwd == nil {
		fwd = make([]posting, 0, len(a.terms))
	}
	for i, t := range a.terms {
		var id uint32
		var h uint64
		ok := i < len(a.ids) && a.ids[i] != 0 // Similar found it
		if ok {
			id = a.ids[i] - 1
		} else {
			id, h, ok = ix.vocab.lookup(ix.terms, t)
		}
		if !ok {
			// The term may point into the request's text: keep a copy.
			t = strings.Clone(t)
			id = uint32(len(ix.terms))
			concept := t[0] == conceptMark
			ix.concept = append(ix.concept, concept)
			if ix.vocabulary != nil && !concept {
				for _, c := range ix.vocabulary.words[t] {
					ix.conceptWords[c] = append(ix.conceptWords[c], id)
				}
			}
			var grams []uint32
			if ix.cfg.CharWeight > 0 && !concept {
				grams = termGrams(t)
			}
			if ix.gramTerms != nil && !concept {
				if grams == nil {
					grams = termGrams(t)
				}
				if len(grams) > 1 {
					for _, g := range grams {
						ix.gramTerms.add(g, id)
					}
				}
			}
			ix.terms = append(ix.terms, termEntry{text: t, grams: grams})
			ix.vocab.add(ix.terms, id, h)
			if concept {
				ix.dfs = append(ix.dfs, dfConcept)
			} else {
				ix.dfs = append(ix.dfs, 0)
			}
			ix.gramLens = append(ix.gramLens, int32(len(grams)))
			if ix.words != nil && !concept && filterable(t) {
				ix.words.add(t, ix.terms)
			}
		}
		te := &ix.terms[id]
		p := makePosting(id, a.tfs[i])
		impact := float32(ix.tfPartAvg(p, &lens, &avg))
		if len(te.posts) == 0 || impact < te.minImpact {
			te.minImpact = impact
		}
		te.posts = append(te.posts, post{slot: s, impact: impact})
		ix.dfs[id]++
		fwd = append(fwd, p)
	}
	slices.Sort(fwd)
	bg, sum := a.keys, a.sum
	if !a.prepared {
		// Allocated to their number (appendBigramKeys); not nil when
		// there is none, as Load's.
		if bg, _ = a.appendBigramKeys(nil, nil); bg == nil {
			bg = []uint32{}
		}
		sum = ix.docSum(doc)
	}
	ix.slots[s] = slotMeta{id: doc.ID, fwd: fwd, bigrams: bg, sum: sum}
	ix.lens[s] = lens
	ix.active[s] = doc.Active
	ix.live[s] = true
	ix.byID[doc.ID] = s
}

// Remove forgets a request. Removing an unknown id does nothing.
func (ix *Index) Remove(id int64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if s, ok := ix.byID[id]; ok {
		ix.removeSlot(s)
	}
}

func (ix *Index) removeSlot(s uint32) {
	m := ix.slots[s]
	for _, p := range m.fwd {
		te := &ix.terms[p.slot()]
		ix.dfs[p.slot()]--
		for i, q := range te.posts {
			if q.slot == s {
				last := len(te.posts) - 1
				te.posts[i] = te.posts[last]
				te.posts = te.posts[:last]
				break
			}
		}
		if len(te.posts) == 0 {
			te.posts = nil
		}
	}
	for f := range ix.sumLen {
		ix.sumLen[f] -= float64(ix.lens[s][f])
	}
	delete(ix.byID, m.id)
	ix.slots[s] = slotMeta{}
	ix.lens[s] = [numFields]uint16{}
	ix.active[s] = false
	ix.live[s] = false
	ix.free = append(ix.free, s)
	ix.nLive--
}

// queryTerm is one distinct term of a query.
type queryTerm struct {
	id     uint32
	weight float64 // query-side weight (saturated tf, title weight, fuzzy discount)
	idf    float64
	df     int
	// scale weighs the term in the document-side coverage: 1 for a word,
	// the concept's weight, the learned strength, the misled factor.
	scale float64
	kind  termKind
	src   string // the query word (exact, fuzzy, learned) for reasons
	// members is the range of query.members of a concept; ai the term's
	// index in the analysed query.
	mlo, mhi int32
	ai       int32
	ci       int32 // concept index (vocabulary.concepts)
	srcI     int32 // learned: the index of the query word it stands for
}

// member is a word of a query concept's phrase: its weight x idf, and its
// index in query.terms (-1 when no request contains it).
type member struct {
	wi, idf float64
	qi      int32
}

// termKind says how a query term came about.
type termKind uint8

const (
	termExact termKind = iota
	termConcept
	termFuzzy
	termLearned
	termJoin // two adjacent query words written as one word
)

// query is an analysed query text.
type query struct {
	terms []queryTerm
	// members lists, per vocabulary concept of the query
	// (queryTerm.members), the query words its phrases were made of.
	members []member
	learned bool       // the query has learned words (addLearned)
	grams   *gramTable // character n-gram vector (nil when CharWeight is 0)
	bigrams []qbigram  // sorted by hash
	self    float64    // the query's score against itself (unigrams)
	// learnedAt is the index of the first learned word in terms, and
	// srcLo, srcHi the range of the indexes of the query words they stand
	// for (queryTerm.srcI).
	learnedAt, srcLo, srcHi int32
}

// qbigram is a query bigram: v is its weight (mean idf of the pair times the
// saturated query field weight), self its evidence against the query itself.
type qbigram struct {
	h       uint32
	v, self float64
}

// scratch holds the buffers of one query, reused through Index.pool.
type scratch struct {
	q       query
	z       scorer     // newScorer
	acc     []float32  // first-pass score per slot
	touched []uint32   // slots with acc > 0
	reads   []termRead // firstPass
	// dense and tied say how the last first pass selected (tests): by
	// reading every slot, or the listed way after a tie.
	dense, tied bool
	heap        minHeap
	cands       []uint32
	res         []scored
	bounds      []bounded
	order       []uint64 // rerank: bounds by bound
	top         []float64
	idfs        []float64   // idf per term of the analysed query
	fuzzy       []fuzzyCand // rare query words
	learned     []queryTerm // candidate learned words (addLearned)
	bigrams     []bigram    // the query's bigrams (buildQuery)
	at          []int32     // conceptMembers
	matched     []bool      // coverage: query terms the request contains
	best        []float64   // learnedCoverage
	counts      countTable  // gramVariant
	// termOrder and termsTmp are sortRarestFirst's.
	termOrder []termKey
	termsTmp  []queryTerm
	parts     []reasonPart
	// gramLists holds gramVariant's lists of terms.
	gramLists [][]uint32
	// Full score: query terms in term id order (and their ids), and per
	// query term the request's posting (or -1).
	byID   []int32
	idKeys []uint64 // newScorer
	ids    []uint32
	words  []uint32
	hit    []int32
	// hits has bit i set when hit[i] >= 0 (coverage reads the query terms
	// a request has in query order without reading the others).
	hits []uint64
	// lacks holds, per concept of the query, the indexed words of its
	// phrases that the query lacks; lackAt is per query term the range of
	// its own (newScorer).
	lacks  []uint32
	lackAt [][2]int32
	// wordW and wordD are per query term its weight x idf and its idf x
	// the field weight (extra, body, title, title: docWeightIndex) x its
	// scale; masks are the query terms' kinds by bit of hits (newScorer).
	wordW []float64
	wordD [][4]float64
	masks []kindMasks
	// idfMemo caches idf by df (0: not computed) for a board of idfN
	// requests.
	idfMemo []float64
	idfBig  [1024]idfEntry // larger df, direct-mapped
	idfN    int

	// bigramOrder is keepBestBigrams' buffer (buildQuery).
	bigramOrder []uint64
}

type idfEntry struct {
	df  int // 0: empty (df >= idfMemoSize here)
	idf float64
}

type fuzzyCand struct {
	text   string
	weight float64
	df     int
	src    string
}

// boundKey packs bound b >= 0 of the i-th candidate into an integer that
// sorts like b: b rounded up to a float32 (still a bound) in the upper
// half, whose bits order like the float, and i in the lower.
func boundKey(b float64, i int) uint64 {
	b32 := float32(b)
	if float64(b32) < b {
		b32 = math.Nextafter32(b32, float32(math.Inf(1)))
	}
	return uint64(math.Float32bits(b32))<<32 | uint64(uint32(i))
}

// keyBound is the bound of a boundKey, at least the bound packed.
func keyBound(k uint64) float64 { return float64(math.Float32frombits(uint32(k >> 32))) }

type bounded struct {
	slot uint32
	cov  covered
}

// idfMemoSize bounds the document frequencies whose idf is cached per
// query (rarer terms are the most common).
const idfMemoSize = 4096

func (ix *Index) getScratch() *scratch {
	sc, _ := ix.pool.Get().(*scratch)
	if sc == nil {
		sc = &scratch{idfMemo: make([]float64, idfMemoSize), idfN: -1}
	}
	if sc.idfN != ix.nLive {
		clear(sc.idfMemo)
		clear(sc.idfBig[:])
		sc.idfN = ix.nLive
	}
	return sc
}

func (ix *Index) putScratch(sc *scratch) {
	q := &sc.q
	clear(q.terms)
	q.terms, q.bigrams, q.grams, q.self, q.members, q.learned = q.terms[:0], q.bigrams[:0], nil, 0, q.members[:0], false
	q.learnedAt, q.srcLo, q.srcHi = 0, 0, 0
	clear(sc.fuzzy)
	sc.fuzzy = sc.fuzzy[:0]
	ix.pool.Put(sc)
}

// idfOf is ix.idf(df), cached in sc; the caller holds the read lock.
func (ix *Index) idfOf(sc *scratch, df int) float64 {
	if df >= idfMemoSize {
		e := &sc.idfBig[df%len(sc.idfBig)]
		if e.df != df {
			*e = idfEntry{df: df, idf: ix.idf(df)}
		}
		return e.idf
	}
	v := sc.idfMemo[df]
	if v == 0 {
		v = ix.idf(df)
		sc.idfMemo[df] = v
	}
	return v
}

func (ix *Index) analyzeQuery(text string) *analyzed {
	title, body := splitTitle(text)
	qa := newAnalyzed()
	qa.wantJoins = ix.cfg.JoinWeight > 0
	ix.an.add(qa, fieldTitle, title, ix.cfg.QueryTitleWeight)
	ix.an.add(qa, fieldBody, body, 1)
	return qa
}

// Similar returns at most limit active requests that may be duplicates of
// text, best first, with scores in [0,1]. The first line of text is read as
// a title (weighted by Config.QueryTitleWeight). It returns an error only
// when ctx is done.
func (ix *Index) Similar(ctx context.Context, text string, limit int) ([]bot.Candidate, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	qa := ix.analyzeQuery(text)
	// Kept for the Upsert of the same text that may follow.
	defer ix.shared.put(text, qa)

	ix.mu.RLock()
	defer ix.mu.RUnlock()
	sc := ix.getScratch()
	defer ix.putScratch(sc)
	q := ix.buildQuery(qa, sc)
	if len(q.terms) == 0 {
		return nil, nil
	}
	if len(sc.acc) < len(ix.slots) {
		sc.acc = make([]float32, len(ix.slots)+len(ix.slots)/4)
	}
	cands := ix.firstPass(q, sc, max(limit, ix.rerankDepth()))
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := ix.rerank(q, sc, cands, limit)
	slices.SortFunc(res, func(a, b scored) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		return cmp.Compare(ix.slots[a.slot].id, ix.slots[b.slot].id)
	})
	if len(res) > limit {
		res = res[:limit]
	}
	out := make([]bot.Candidate, len(res))
	// rerank's scorer: coverage leaves it as newScorer made it.
	z := &sc.z
	for i, r := range res {
		out[i] = bot.Candidate{RequestID: ix.slots[r.slot].id, Score: r.score}
		if i < maxReasons {
			out[i].Reason = z.reason(r.slot)
		}
	}
	return out, nil
}

// LookupDepth is how many first-pass candidates a lookup re-ranks on the
// board as it is now: Similar with a limit up to LookupDepth ranks exactly
// as the bot's own lookups do (dedup eval uses it).
func (ix *Index) LookupDepth() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.rerankDepth()
}

// rerankFullAt is the board size (active requests) from which Similar
// re-ranks Config.RerankDepth candidates.
const rerankFullAt = 100_000

// rerankDepth is how many first-pass candidates Similar re-ranks:
// Config.RerankDepth on a board of rerankFullAt active requests or more,
// proportionally fewer on a smaller one, never under a quarter. The more
// requests, the more of them the first pass's BM25F order places near a
// duplicate's; on a small board the full score rarely lifts one from far
// down (TestRerankDepthFollowsTheBoard). On generated boards, against
// re-ranking 200, the suggestions above 0.20 were the same for 1,997 of
// 2,000 queries on 20,000 requests re-ranking 50, and for 1,995 on 50,000
// re-ranking 100; GitBugs R@5 and R@10 of a top-11 lookup were unchanged
// or higher down to 50. Re-ranking was half of a lookup's CPU (bench
// capture).
func (ix *Index) rerankDepth() int {
	d := ix.cfg.RerankDepth
	return max(d/4, min(d, int(int64(d)*int64(ix.nLive)/rerankFullAt)))
}

// rerank computes the full score of the candidates that can be among the
// best limit: every candidate's query coverage bounds its full score, so
// candidates are scored in order of that bound until the bound falls below
// the limit-th best score found. The best limit of the result are those of
// scoring every candidate.
func (ix *Index) rerank(q *query, sc *scratch, cands []uint32, limit int) []scored {
	z := ix.newScorer(q, sc)
	res := sc.res[:0]
	alpha, cw := ix.cfg.DocCoverage, ix.cfg.CharWeight
	if len(cands) <= limit || z.qmax <= 0 || alpha <= 0 || alpha >= 1 {
		for _, s := range cands {
			res = append(res, scored{slot: s, score: z.score(s)})
		}
		sc.res = res
		return res
	}
	bs, order := sc.bounds[:0], sc.order[:0]
	for i, s := range cands {
		if i+2 < len(cands) {
			ix.prefetchSlot(cands[i+2], i+4 < len(cands), cands[min(i+4, len(cands)-1)])
		}
		c := z.coverage(s)
		// The document-side coverage is at most 1 (up to rounding).
		c.qpow = math.Pow(c.qcov, 1-alpha)
		b := c.qpow * (1 + 1e-9)
		if cw > 0 && q.grams != nil {
			b = (1-cw)*b + cw + 1e-9
		}
		bs = append(bs, bounded{slot: s, cov: c})
		order = append(order, boundKey(b, i))
	}
	slices.Sort(order)
	// top holds the best scores so far, best first, at most limit.
	top := sc.top[:0]
	for k := len(order) - 1; k >= 0; k-- {
		c := &bs[uint32(order[k])]
		if b := keyBound(order[k]); len(top) == limit && b < top[limit-1] {
			break // neither this candidate nor the rest can be in the best limit
		}
		v := z.finish(c.slot, &c.cov)
		res = append(res, scored{slot: c.slot, score: v})
		switch {
		case len(top) < limit:
			top = append(top, v)
		case v > top[limit-1]:
			top[limit-1] = v
		default:
			continue
		}
		for i := len(top) - 1; i > 0 && top[i] > top[i-1]; i-- {
			top[i], top[i-1] = top[i-1], top[i]
		}
	}
	if len(top) == limit {
		// Only scores from the limit-th best found can be among the best
		// limit (ties included): Similar sorts those, not every score.
		th, kept := top[limit-1], res[:0]
		for _, r := range res {
			if r.score >= th {
				kept = append(kept, r)
			}
		}
		res = kept
	}
	sc.top = top
	sc.bounds, sc.order = bs, order
	sc.res = res
	return res
}

// prefetchSlot asks for the terms and bigrams of slot s (coverage reads
// them), whose slotMeta was asked for before, and, when next is set, for
// the slotMeta of slot n. coverage is bound by these cache misses: the
// rerank asks for a candidate's data two candidates ahead.
func (ix *Index) prefetchSlot(s uint32, next bool, n uint32) {
	m := &ix.slots[s]
	if len(m.fwd) > 0 {
		prefetchRange(uintptr(unsafe.Pointer(unsafe.SliceData(m.fwd))), uintptr(len(m.fwd))*unsafe.Sizeof(posting(0)))
	}
	if len(m.bigrams) > 0 {
		prefetchRange(uintptr(unsafe.Pointer(unsafe.SliceData(m.bigrams))), uintptr(len(m.bigrams))*4)
	}
	if next {
		prefetch(uintptr(unsafe.Pointer(&ix.slots[n])))
	}
}

// ScoreIDs scores the given requests against text with the same scoring as
// Similar, whether or not they would be among its first-pass candidates,
// and returns them in the given order. Unknown or inactive ids get score 0.
// It is meant for re-ranking a fixed candidate list (evaluation).
func (ix *Index) ScoreIDs(ctx context.Context, text string, ids []int64) ([]bot.Candidate, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	qa := ix.analyzeQuery(text)
	defer qa.release()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	sc := ix.getScratch()
	defer ix.putScratch(sc)
	q := ix.buildQuery(qa, sc)
	z := ix.newScorer(q, sc)
	out := make([]bot.Candidate, len(ids))
	for i, id := range ids {
		out[i] = bot.Candidate{RequestID: id}
		if s, ok := ix.byID[id]; ok && ix.active[s] && len(q.terms) > 0 {
			out[i].Score = z.score(s)
		}
	}
	return out, nil
}

type scored struct {
	slot  uint32
	score float64
}

// splitTitle reads the first non-empty line of text as a title when more
// lines follow.
func splitTitle(text string) (title, body string) {
	text = strings.TrimSpace(text)
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		return text[:i], text[i+1:]
	}
	if utf8.RuneCountInString(text) <= maxTitleRunes {
		return text, ""
	}
	return "", text
}

func (ix *Index) idf(df int) float64 {
	n := float64(ix.nLive) + ix.cfg.PriorDocs
	return math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5))
}

// satq saturates a query-side term frequency like BM25 does, so that 1 -> 1.
func (ix *Index) satq(x float64) float64 {
	k := ix.cfg.K1
	return x * (k + 1) / (k + x)
}

// buildQuery turns an analysed text into a query (held by sc); the caller
// holds the read lock.
func (ix *Index) buildQuery(qa *analyzed, sc *scratch) *query {
	q := &sc.q
	if ix.cfg.CharWeight > 0 {
		q.grams = newGramTable(8 * len(qa.terms))
	}
	fuzzy := sc.fuzzy[:0]
	idfs := slices.Grow(sc.idfs[:0], len(qa.terms))[:len(qa.terms)]
	var qlens [numFields]uint16
	for f := range qlens {
		qlens[f] = uint16(min(qa.lens[f], 0xFFFF))
	}
	avg := ix.avgLens()
	qa.ids = slices.Grow(qa.ids[:0], len(qa.terms))[:len(qa.terms)]
	for i, t := range qa.terms {
		tf := qa.tfs[i]
		w := ix.satq(ix.cfg.QueryTitleWeight*float64(tf[fieldTitle]) + float64(tf[fieldBody]))
		id, ok := ix.vocab.find(ix.terms, t)
		df := 0
		qa.ids[i] = 0
		if ok {
			df = len(ix.terms[id].posts)
			qa.ids[i] = id + 1
		}
		idf := ix.idfOf(sc, df)
		idfs[i] = idf
		concept := t[0] == conceptMark
		kind, scale := termExact, 1.0
		ci := int32(-1)
		if concept {
			kind, scale = termConcept, ix.conceptWeight(t)
			ci = ix.vocabulary.byTerm[t]
		} else {
			q.self += w * idf * ix.tfPartAvg(makePosting(0, tf), &qlens, &avg)
		}
		if q.grams != nil && !concept && tf[fieldTitle]+tf[fieldBody] > 0 {
			grams := []uint32(nil)
			if ok {
				grams = ix.terms[id].grams
			}
			if grams == nil {
				grams = termGrams(t)
			}
			q.grams.addTerm(grams, idf)
		}
		if df > 0 {
			q.terms = append(q.terms, queryTerm{id: id, weight: w, idf: idf, df: df, scale: scale, kind: kind, src: qa.surf[i], ai: int32(i), ci: ci})
		}
		if df <= fuzzyMaxDF && ix.cfg.FuzzyWeight > 0 && !concept {
			fuzzy = append(fuzzy, fuzzyCand{text: t, weight: w, df: df, src: qa.surf[i]})
		}
	}
	for i, fc := range fuzzy {
		if i == maxFuzzyTerms {
			break
		}
		vid, sim, ok := ix.fuzzyVariant(sc, fc.text, fc.df)
		if !ok {
			continue
		}
		dup := false
		for _, qt := range q.terms {
			dup = dup || qt.id == vid
		}
		if dup {
			continue
		}
		df := len(ix.terms[vid].posts)
		q.terms = append(q.terms, queryTerm{id: vid, weight: fc.weight * sim * ix.cfg.FuzzyWeight, idf: ix.idfOf(sc, df), df: df, scale: 1, kind: termFuzzy, src: fc.src})
	}
	sc.fuzzy = fuzzy
	// Two adjacent query words that a request writes as one word (its
	// members are filled in below, once the terms are sorted).
	for ji := range qa.joins {
		j := &qa.joins[ji]
		id, ok := ix.vocab.findBytes(ix.terms, qa.joinTerm(j))
		if !ok || ix.df(id) == 0 || ix.concept[id] {
			continue
		}
		src, dup := "", false
		for _, qt := range q.terms {
			if qt.id == id {
				src, dup = qt.src, true
				break
			}
		}
		if dup && !j.ident {
			continue
		}
		if !dup {
			src = string(qa.joinSrc(j))
		}
		// The query has the word itself when it wrote it as an identifier
		// (ZooKeeper: zookeeper, zoo, keeper): the join is kept, so that a
		// request that writes it joined (Zookeeper) covers the parts too,
		// as fully as one that writes it in capitals. Its reason is the
		// word's (src).
		df := ix.df(id)
		q.terms = append(q.terms, queryTerm{id: id, idf: ix.idfOf(sc, df), df: df, scale: ix.cfg.JoinWeight, kind: termJoin, src: src, ai: int32(ji)})
	}
	if ix.cfg.BigramWeight > 0 {
		// On a copy: qa stays as analysed, for the Upsert that may
		// follow (sharedAnalyses), which reuses the sorted order
		// (qa.order) too.
		qa.order = sortedBigrams(qa.bigrams, qa.order)
		kept := keepBestBigrams(qa.bigrams, qa.order, sc.bigramOrder[:0])
		bgs := sc.bigrams[:0]
		for _, o := range kept {
			bgs = append(bgs, qa.bigrams[uint32(o)])
		}
		sc.bigrams, sc.bigramOrder = bgs, kept
		for _, bg := range bgs {
			v := ix.satq(bg.w) * (idfs[bg.a] + idfs[bg.b]) / 2
			dw := ix.cfg.BodyWeight
			if bg.w == ix.cfg.QueryTitleWeight && qa.lens[fieldTitle] > 0 {
				dw = ix.cfg.TitleWeight
			}
			q.bigrams = append(q.bigrams, qbigram{h: bg.h, v: v, self: v * dw / (ix.cfg.K1 + dw)})
		}
		// keepBestBigrams returns them sorted by hash.
	}
	sc.idfs = idfs
	// Rarest first.
	sortRarestFirst(q, sc)
	if len(qa.members) > 0 || len(qa.joins) > 0 {
		ix.conceptMembers(q, qa, sc)
	}
	// Learned words come last (they refer to their query words by index).
	ix.addLearned(q, sc)
	return q
}

// sortRarestFirst sorts the query's terms by idf, highest first, those of
// the same idf in the order they are (slices.SortStableFunc): it sorts
// their indexes and moves each term once (a term is large).
func sortRarestFirst(q *query, sc *scratch) {
	keys := sc.termOrder[:0]
	for i := range q.terms {
		idf := q.terms[i].idf
		if !(idf > 0) {
			// Bits that order like the float need idf > 0 (always).
			slices.SortStableFunc(q.terms, func(a, b queryTerm) int { return cmp.Compare(b.idf, a.idf) })
			return
		}
		keys = append(keys, termKey{^math.Float64bits(idf), int32(i)})
	}
	slices.SortFunc(keys, func(a, b termKey) int {
		if a.k != b.k {
			return cmp.Compare(a.k, b.k)
		}
		return cmp.Compare(a.i, b.i)
	})
	tmp := append(sc.termsTmp[:0], q.terms...)
	for j, k := range keys {
		q.terms[j] = tmp[k.i]
	}
	clear(tmp)
	sc.termOrder, sc.termsTmp = keys, tmp[:0]
}

// termKey orders query term i by idf (the complement of its bits: highest
// first), then by i.
type termKey struct {
	k uint64
	i int32
}

// conceptMembers records the words of each concept of the query and gives
// the concept the first-pass weight of those words x its weight: a request
// that has the concept (in any of its phrases) covers the query's words
// that it does not contain itself at the concept's weight.
func (ix *Index) conceptMembers(q *query, qa *analyzed, sc *scratch) {
	at := slices.Grow(sc.at[:0], len(qa.terms))[:len(qa.terms)]
	for i := range at {
		at[i] = -1
	}
	for i := range q.terms {
		if q.terms[i].kind == termExact {
			at[q.terms[i].ai] = int32(i)
		}
	}
	ms := q.members[:0]
	wiOf := func(ai int32) float64 {
		tfm := qa.tfs[ai]
		return ix.satq(ix.cfg.QueryTitleWeight*float64(tfm[fieldTitle])+float64(tfm[fieldBody])) * sc.idfs[ai]
	}
	for i := range q.terms {
		qt := &q.terms[i]
		if qt.kind == termJoin {
			// A joined word covers its two words (not stop words).
			qt.mlo = int32(len(ms))
			sum := 0.0
			j := qa.joins[qt.ai]
			for _, ai := range [2]int32{j.a, j.b} {
				if ai < 0 || ai == j.a && ai == j.b && int32(len(ms)) > qt.mlo {
					continue
				}
				wi := wiOf(ai)
				ms = append(ms, member{wi: wi, idf: sc.idfs[ai], qi: at[ai]})
				sum += wi
			}
			qt.mhi = int32(len(ms))
			qt.weight = qt.scale * sum / qt.idf
			continue
		}
		if qt.kind != termConcept {
			continue
		}
		qt.mlo = int32(len(ms))
		sum := 0.0
		for _, ai := range qa.members[qt.ai] {
			tfm := qa.tfs[ai]
			wm := ix.satq(ix.cfg.QueryTitleWeight*float64(tfm[fieldTitle]) + float64(tfm[fieldBody]))
			wi := wm * sc.idfs[ai]
			ms = append(ms, member{wi: wi, idf: sc.idfs[ai], qi: at[ai]})
			sum += wi
		}
		qt.mhi = int32(len(ms))
		// First pass: weight x idf = the concept's share of its words.
		qt.weight = qt.scale * sum / qt.idf
	}
	q.members = ms
	sc.at = at
}

// avgLens returns the average field lengths tfPartAvg needs; the caller
// holds a lock.
func (ix *Index) avgLens() [numFields]float64 {
	n := float64(ix.nLive)
	var avg [numFields]float64
	for f := range avg {
		avg[f] = max(ix.sumLen[f]/n, 1)
	}
	return avg
}

// tfPart is the saturated BM25F term frequency of a posting in a slot, in
// [0,1).
func (ix *Index) tfPart(p posting, lens *[numFields]uint16) float64 {
	avg := ix.avgLens()
	return ix.tfPartAvg(p, lens, &avg)
}

// tfPartAvg is tfPart with the average field lengths given (avgLens).
func (ix *Index) tfPartAvg(p posting, lens *[numFields]uint16, avg *[numFields]float64) float64 {
	den := ix.lenDen(lens, avg)
	return ix.tfPartDen(p, &den)
}

// lenDen returns the BM25F length normalisation of each field of a
// request of field lengths lens (the denominators of tfPartDen).
func (ix *Index) lenDen(lens *[numFields]uint16, avg *[numFields]float64) [numFields]float64 {
	cfg := &ix.cfg
	return [numFields]float64{
		1 - cfg.TitleB + cfg.TitleB*float64(lens[fieldTitle])/avg[fieldTitle],
		1 - cfg.BodyB + cfg.BodyB*float64(lens[fieldBody])/avg[fieldBody],
		1 - cfg.ExtraB + cfg.ExtraB*float64(lens[fieldExtra])/avg[fieldExtra],
	}
}

// tfPartDen is tfPartAvg with the request's length normalisations given
// (lenDen): a request's are computed once per query, not per term.
func (ix *Index) tfPartDen(p posting, den *[numFields]float64) float64 {
	cfg := &ix.cfg
	x := 0.0
	if tf := p.tf(fieldTitle); tf > 0 {
		x += cfg.TitleWeight * tf / den[fieldTitle]
	}
	if tf := p.tf(fieldBody); tf > 0 {
		x += cfg.BodyWeight * tf / den[fieldBody]
	}
	if tf := p.tf(fieldExtra); tf > 0 {
		x += cfg.ExtraWeight * tf / den[fieldExtra]
	}
	return x / (cfg.K1 + x)
}

// firstPass accumulates BM25F over the postings of the rarest query terms
// (within Config.MaxPostings) and returns the best depth active slots.
//
// When the postings read are many for the board (a common word's), it
// adds them without listing the slots they touch (accumulateDense) and
// selects by reading every slot's sum in slot order. The slots selected
// are the same as selecting in the order the postings first touched them
// (the touched list), unless a sum left out equals the least taken (a tie
// at the boundary, which the order decides): then it adds the postings
// again the listed way.
func (ix *Index) firstPass(q *query, sc *scratch, depth int) []uint32 {
	budget := ix.cfg.MaxPostings
	// Learned words (the last terms) read at most a tenth of the
	// postings: they are translations of query words, often common words
	// (cost).
	lbudget := budget / learnedPostingsShare
	acc := sc.acc
	if len(acc) < len(ix.slots) {
		panic("dedup: first-pass scratch smaller than the index") // accumulate reads acc unchecked
	}
	// once: no product of a posting read is 0, so that touched lists each
	// slot once.
	once := true
	reads, posts := sc.reads[:0], 0
	for i := range q.terms {
		qt := &q.terms[i]
		if qt.kind == termLearned {
			if qt.df > lbudget || qt.df > budget {
				continue
			}
			lbudget -= qt.df
		} else if i > 0 && qt.df > budget {
			continue
		}
		budget -= qt.df
		w := qt.weight * qt.idf
		if float32(w) == 0 {
			// Adds nothing, and would list every request it reads in
			// touched with a sum still 0, so that a later term lists it
			// again: the same request twice among the candidates.
			continue
		}
		te := &ix.terms[qt.id]
		once = once && float32(w)*te.minImpact > 0
		reads = append(reads, termRead{posts: te.posts, w: float32(w)})
		posts += len(te.posts)
	}
	h := sc.heap[:0]
	active := ix.active
	n := len(ix.slots)
	sc.dense, sc.tied = false, false
	dense := once && posts >= denseRatio*n
	if dense {
		for _, r := range reads {
			accumulateDense(acc, r.posts, r.w)
		}
		// Every slot read has a sum > 0 (once), every other 0. The slots
		// of the first (rarest) terms read are offered first, and their
		// sums cleared: they are likely among the best, so that few of
		// the others enter h. least is at least every sum left out or
		// pushed out of h (an inactive slot's may count: a needless
		// fallback at worst); lo is what a sum must exceed to enter h.
		//
		// The sums left out are >= 0 and not NaN, whose bits order like
		// them: their greatest is kept as bits (left), an integer max
		// without a branch, instead of a float max (most of the loop's
		// instructions).
		least, lo := float32(0), float32(0)
		left := uint32(0)
		seeded := 0
		for _, r := range reads {
			if seeded >= seedDepths*depth || seeded+len(r.posts) > n/seedShare {
				break
			}
			seeded += len(r.posts)
			for _, p := range r.posts {
				s := p.slot
				v := acc[s]
				acc[s] = 0
				if v <= lo {
					left = max(left, math.Float32bits(v))
					continue
				}
				lo = h.offerDense(s, v, lo, &least, depth, active)
			}
		}
		// Eight sums at a time: their greatest (as bits, which order like
		// the sums) is compared with lo, one branch for the eight (few
		// sums exceed lo once h is full); the eight that have one above
		// lo are read one by one as before.
		bacc := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(acc))), n)
		s := 0
		for ; s+8 <= n; s += 8 {
			b := (*[8]uint32)(bacc[s : s+8])
			m := max(max(max(b[0], b[1]), max(b[2], b[3])), max(max(b[4], b[5]), max(b[6], b[7])))
			if m <= math.Float32bits(lo) {
				left = max(left, m)
				continue
			}
			for k := s; k < s+8; k++ {
				v := acc[k]
				if v <= lo {
					left = max(left, math.Float32bits(v))
					continue
				}
				lo = h.offerDense(uint32(k), v, lo, &least, depth, active)
			}
		}
		for ; s < n; s++ {
			v := acc[s]
			if v <= lo {
				left = max(left, math.Float32bits(v))
				continue
			}
			lo = h.offerDense(uint32(s), v, lo, &least, depth, active)
		}
		least = max(least, math.Float32frombits(left))
		if len(h) == depth && least == h[0].v {
			// A tie at the boundary: the listed way decides it.
			dense, sc.tied = false, true
			h = h[:0]
			clear(acc[:n])
		}
	}
	if dense {
		clear(acc[:n])
		sc.dense = true
	} else {
		h = ix.firstPassListed(sc, reads, once, h, depth)
	}
	clear(reads)
	sc.reads = reads[:0]
	out := sc.cands[:0]
	for _, e := range h {
		out = append(out, e.s)
	}
	sc.heap = h[:0]
	sc.cands = out
	return out
}

// firstPassListed adds the postings of reads listing the slots they touch
// (accumulate) and selects the best depth active slots into h, in the
// order the postings first touched them (a function of its own: in
// firstPass the selection loop's registers spilled).
func (ix *Index) firstPassListed(sc *scratch, reads []termRead, once bool, h minHeap, depth int) minHeap {
	acc, active := sc.acc, ix.active
	touched := sc.touched[:0]
	for _, r := range reads {
		touched = accumulate(acc, touched, r.posts, r.w)
	}
	if once {
		// Each slot's sum is cleared once read.
		for _, s := range touched {
			v := acc[s]
			acc[s] = 0
			if active[s] && h.wants(v, depth) {
				h.take(s, v, depth)
			}
		}
	} else {
		for _, s := range touched {
			if v := acc[s]; active[s] && h.wants(v, depth) {
				h.take(s, v, depth)
			}
		}
		for _, s := range touched {
			acc[s] = 0
		}
	}
	sc.touched = touched[:0]
	return h
}

// denseRatio: firstPass adds the postings without listing the slots they
// touch when it reads at least denseRatio times as many postings as the
// index has slots (a variable for tests). Reading every slot's sum then
// costs less than listing the slots: on a board of 12,000 requests a
// capture's lookup reads about 70,000 postings (touching 10,000 slots);
// one of 100,000 reads at most Config.MaxPostings.
var denseRatio = 2

// The dense selection offers first the slots of the rarest terms read,
// until it offered seedDepths x depth, within 1/seedShare of the slots.
const seedDepths, seedShare = 4, 4

// termRead is a postings list that firstPass reads, and its weight.
type termRead struct {
	posts []post
	w     float32
}

// accumulateDense adds wf x impact of each posting to acc (as accumulate
// does, without listing the slots). acc must have room for every slot of
// the index (accumulate).
func accumulateDense(acc []float32, posts []post, wf float32) {
	accp := unsafe.Pointer(unsafe.SliceData(acc))
	pp := unsafe.Pointer(unsafe.SliceData(posts))
	i, n := 0, len(posts)
	// Four at a time (the slots of a list are distinct), written out and
	// without bounds checks: an inlined call leaves a mark instruction
	// each, and the four postings were sliced with checks.
	for ; i+4 <= n; i += 4 {
		q := (*[4]post)(unsafe.Add(pp, uintptr(i)*unsafe.Sizeof(post{})))
		a0 := (*float32)(unsafe.Add(accp, uintptr(q[0].slot)*4))
		*a0 = *a0 + wf*q[0].impact
		a1 := (*float32)(unsafe.Add(accp, uintptr(q[1].slot)*4))
		*a1 = *a1 + wf*q[1].impact
		a2 := (*float32)(unsafe.Add(accp, uintptr(q[2].slot)*4))
		*a2 = *a2 + wf*q[2].impact
		a3 := (*float32)(unsafe.Add(accp, uintptr(q[3].slot)*4))
		*a3 = *a3 + wf*q[3].impact
	}
	for ; i < n; i++ {
		a := (*float32)(unsafe.Add(accp, uintptr(posts[i].slot)*4))
		*a = *a + wf*posts[i].impact
	}
}

// accumulate adds wf x impact of each posting to acc and appends to touched
// the slots whose acc was 0 before (a slot once per term whose product is
// not 0). It writes each slot into touched and advances the length only
// for a slot seen for the first time, without a branch: half of the
// postings of a common word are slots seen before, and the branch on it
// mispredicted. acc must have room for every slot of the index (every
// posting's slot is below len(ix.slots)): the loop reads and writes acc
// and touched without bounds checks (a third of its instructions).
func accumulate(acc []float32, touched []uint32, posts []post, wf float32) []uint32 {
	touched = slices.Grow(touched, len(posts))
	n := len(touched)
	buf := touched[:n+len(posts)]
	accp := unsafe.Pointer(unsafe.SliceData(acc))
	// n < len(buf) in the loop: it starts below len(buf)-len(posts) and
	// advances at most once per posting.
	bufp := unsafe.Pointer(unsafe.SliceData(buf))
	for _, p := range posts {
		ap := (*float32)(unsafe.Add(accp, uintptr(p.slot)*4))
		a := *ap
		*(*uint32)(unsafe.Add(bufp, uintptr(n)*4)) = p.slot
		// n advances when a == 0 (+0 or -0): the bits without the sign
		// are 0, so bits - 1 wraps to the top bit.
		n += int((uint64(math.Float32bits(a)<<1) - 1) >> 63)
		*ap = a + wf*p.impact
	}
	return buf[:n]
}

// learnedPostingsShare: learned words read at most 1/learnedPostingsShare
// of Config.MaxPostings in the first pass.
const learnedPostingsShare = 10

// scorer computes full scores for one query.
type scorer struct {
	ix   *Index
	q    *query
	sc   *scratch
	avg  [numFields]float64
	qmax float64
	// ids are the ids of the query terms in sc.byID order; terms and
	// bigrams are Bloom filters of the query's term ids and bigram keys
	// (bloomBit), so that coverage reads a request's terms and bigrams
	// once and looks up only the few the query may have.
	ids            []uint32
	terms, bigrams bloom
	// words are the ids of the query's words (not learned), sorted.
	words []uint32
	// wantTotal: finish needs the document side's total.
	wantTotal bool
}

// bloom is a 4,096-bit set of term ids or bigram keys.
type bloom [64]uint64

func (b *bloom) add(bit uint32)      { b[bit>>6&63] |= 1 << (bit & 63) }
func (b *bloom) has(bit uint32) bool { return b[bit>>6&63]&(1<<(bit&63)) != 0 }

// bigramBit is the Bloom filter bit of a bigram key (its low bits hold the
// field).
func bigramBit(key uint32) uint32 { return key >> 2 }

func (ix *Index) newScorer(q *query, sc *scratch) *scorer {
	// In sc, not on the heap (its Bloom filters are a kilobyte): one
	// scorer at a time per query.
	z := &sc.z
	*z = scorer{ix: ix, q: q, sc: sc, avg: ix.avgLens(), qmax: q.self}
	if ix.cfg.BigramWeight > 0 && len(q.bigrams) > 0 {
		bw := ix.cfg.BigramWeight
		for _, qb := range q.bigrams {
			z.qmax += bw * qb.self
		}
	}
	// byID: the query terms' indexes by term id, sorted as integers (id
	// and index in one word; the order of equal ids does not matter).
	keys := sc.idKeys[:0]
	hit := sc.hit[:0]
	for i := range q.terms {
		keys = append(keys, uint64(q.terms[i].id)<<32|uint64(i))
		hit = append(hit, -1)
	}
	slices.Sort(keys)
	byID := sc.byID[:0]
	for _, k := range keys {
		byID = append(byID, int32(uint32(k)))
	}
	sc.idKeys = keys
	ids, words := sc.ids[:0], sc.words[:0]
	for _, qi := range byID {
		id := q.terms[qi].id
		ids = append(ids, id)
		z.terms.add(id)
		if q.terms[qi].kind != termLearned {
			words = append(words, id)
		}
	}
	sc.words, z.words = words, words
	z.wantTotal = ix.cfg.DocCoverage > 0 || ix.cfg.CharWeight > 0 && q.grams != nil
	for _, qb := range q.bigrams {
		z.bigrams.add(bigramBit(qb.h &^ bigramFieldMask))
	}
	hits := slices.Grow(sc.hits[:0], (len(q.terms)+63)/64)[:(len(q.terms)+63)/64]
	clear(hits)
	sc.byID, sc.hit, sc.ids, sc.hits = byID, hit, ids, hits
	z.ids = ids
	// Per concept of the query, the indexed words of its phrases that the
	// query lacks (coverage counts those a request has), in
	// conceptWords' order: found once per query, not per candidate.
	lacks, lackAt := sc.lacks[:0], slices.Grow(sc.lackAt[:0], len(q.terms))[:len(q.terms)]
	for i := range q.terms {
		lo := int32(len(lacks))
		if qt := &q.terms[i]; qt.kind == termConcept {
			for _, wid := range ix.conceptWords[qt.ci] {
				if !z.hasTerm(wid) {
					lacks = append(lacks, wid)
				}
			}
		}
		lackAt[i] = [2]int32{lo, int32(len(lacks))}
	}
	sc.lacks, sc.lackAt = lacks, lackAt
	// Per query term, the products of coverage's sums that do not depend
	// on the request (wordCoverage), and the terms' kinds by hits' bits.
	cfg := &ix.cfg
	wordW := slices.Grow(sc.wordW[:0], len(q.terms))[:len(q.terms)]
	wordD := slices.Grow(sc.wordD[:0], len(q.terms))[:len(q.terms)]
	masks := slices.Grow(sc.masks[:0], len(hits))[:len(hits)]
	clear(masks)
	for i := range q.terms {
		qt := &q.terms[i]
		wordW[i] = qt.weight * qt.idf
		title := qt.idf * cfg.TitleWeight * qt.scale
		wordD[i] = [4]float64{qt.idf * cfg.ExtraWeight * qt.scale, qt.idf * cfg.BodyWeight * qt.scale, title, title}
		m, bit := &masks[i>>6], uint64(1)<<(i&63)
		switch qt.kind {
		case termConcept:
			m.concepts |= bit
		case termLearned:
			m.learned |= bit
		case termJoin:
			m.joins |= bit
		default:
			m.words |= bit
		}
	}
	sc.wordW, sc.wordD, sc.masks = wordW, wordD, masks
	return z
}

// score is the full score of slot s: the BM25F score of every query term
// (current average lengths) with the bigram evidence, turned into a score
// in [0,1]: the geometric mix (Config.DocCoverage) of how much of the
// query's weight the request matches and how much of the request's weight
// the query matches.
func (z *scorer) score(s uint32) float64 {
	if z.qmax <= 0 {
		return 0
	}
	c := z.coverage(s)
	return z.finish(s, &c)
}

// covered is what coverage finds in a request: the query-side coverage,
// the idf-weighted total of the query terms it contains (the numerator of
// the document-side coverage) and of all its words (the denominator), and
// qpow, qcov^(1-Config.DocCoverage) when the rerank computed it (else 0).
type covered struct {
	qcov, inQuery, total float64
	qpow                 float64
}

// coverage returns the query-side coverage of slot s, the idf-weighted
// total of the query terms it contains (the numerator of the document-side
// coverage) and, when finish needs it, the idf-weighted total of all its
// words (the denominator). z.qmax must be positive.
func (z *scorer) coverage(s uint32) covered {
	ix, q := z.ix, z.q
	m := &ix.slots[s]
	// den holds the request's BM25F length normalisations (tfPartDen).
	den := ix.lenDen(&ix.lens[s], &z.avg)
	fwd := m.fwd
	hit, hits := z.sc.hit, z.sc.hits
	total := 0.0
	if z.wantTotal {
		total = z.docTotal(fwd)
	}
	// The query terms the request has (hit, hits).
	z.markHits(fwd)
	var misled []misledTerm
	if len(ix.learned.misled) > 0 {
		misled = ix.learned.misled[m.id]
	}
	var matched []bool
	if len(q.members) > 0 || q.learned {
		matched = slices.Grow(z.sc.matched[:0], len(q.terms))[:len(q.terms)]
		clear(matched)
		z.sc.matched = matched
	}
	raw, inQuery, concepts, learned, joins := z.wordCoverage(fwd, &den, matched, misled)
	if joins {
		// A joined word covers those of its two words that the request
		// does not contain itself.
		for i := range eachHit(hits) {
			qt := &q.terms[i]
			k := hit[i]
			if k < 0 || qt.kind != termJoin {
				continue
			}
			hit[i] = -1
			wi := 0.0
			for _, m := range q.members[qt.mlo:qt.mhi] {
				if m.qi < 0 || !matched[m.qi] {
					wi += m.wi
				}
			}
			if wi > 0 {
				raw += qt.scale * wi * ix.tfPartDen(fwd[k], &den)
				inQuery += qt.scale * qt.idf * ix.docTermWeight(fwd[k])
			}
		}
	}
	if learned {
		r, in := z.learnedCoverage(fwd, &den, matched)
		raw += r
		inQuery += in
	}
	if concepts {
		// A concept covers the words of its phrases that the request does
		// not contain itself, at the concept's weight.
		for i := range eachHit(hits) {
			k := hit[i]
			if k < 0 {
				continue
			}
			hit[i] = -1
			qt := &q.terms[i]
			wi := 0.0
			for _, m := range q.members[qt.mlo:qt.mhi] {
				if m.qi < 0 || !matched[m.qi] {
					wi += m.wi
				}
			}
			raw += qt.scale * wi * ix.tfPartDen(fwd[k], &den)
			// The request's words of the concept that the query lacks.
			dw := 0.0
			at := z.sc.lackAt[i]
			for _, wid := range z.sc.lacks[at[0]:at[1]] {
				j, ok := findTerm(fwd, wid)
				if !ok {
					continue
				}
				dw += ix.idfOf(z.sc, ix.df(wid)) * ix.docTermWeight(fwd[j])
			}
			inQuery += qt.scale * dw
		}
	}
	if ix.cfg.BigramWeight > 0 && len(q.bigrams) > 0 {
		raw = z.bigramCoverage(m.bigrams, raw)
	}
	clear(hits)
	return covered{qcov: clamp01(raw / z.qmax), inQuery: inQuery, total: total}
}

// wordCoverage sums in query order (rarest first), as always, what the
// query's words (exact and fuzzy) that the request (fwd, den) has add to
// its query-side coverage (raw) and to the document side's numerator
// (inQuery), marks them in matched (if not nil) and takes them out of hit.
// It reports whether the request has concepts, learned words or joined
// words of the query, which it leaves in hit. Without misled words (the
// factor is 1), each word's products that do not depend on the request
// are newScorer's (wordW, wordD: the same products, so the same sums),
// and tfPartDen is written out (a call had the loop's values on the
// stack).
func (z *scorer) wordCoverage(fwd []posting, den *[numFields]float64, matched []bool, misled []misledTerm) (raw, inQuery float64, concepts, learned, joins bool) {
	hit, hits, masks := z.sc.hit, z.sc.hits, z.sc.masks
	for w, b := range hits {
		m := &masks[w]
		concepts = concepts || b&m.concepts != 0
		learned = learned || b&m.learned != 0
		joins = joins || b&m.joins != 0
	}
	if misled != nil {
		raw, inQuery = z.misledWordCoverage(fwd, den, matched, misled)
		return raw, inQuery, concepts, learned, joins
	}
	wordW, wordD := z.sc.wordW, z.sc.wordD
	cfg := &z.ix.cfg
	tw, bw, ew, k1 := cfg.TitleWeight, cfg.BodyWeight, cfg.ExtraWeight, cfg.K1
	for w, b := range hits {
		for b &= masks[w].words; b != 0; b &= b - 1 {
			i := w<<6 | bits.TrailingZeros64(b)
			p := fwd[hit[i]]
			hit[i] = -1
			if matched != nil {
				matched[i] = true
			}
			// tfPartDen(p, den).
			x := 0.0
			if tf := (p >> (8 * (2 - fieldTitle))) & 0xFF; tf != 0 {
				x += tw * float64(tf) / den[fieldTitle]
			}
			if tf := (p >> (8 * (2 - fieldBody))) & 0xFF; tf != 0 {
				x += bw * float64(tf) / den[fieldBody]
			}
			if tf := (p >> (8 * (2 - fieldExtra))) & 0xFF; tf != 0 {
				x += ew * float64(tf) / den[fieldExtra]
			}
			raw += wordW[i] * (x / (k1 + x))
			inQuery += wordD[i][docWeightIndex(p)]
		}
	}
	return raw, inQuery, concepts, learned, joins
}

// misledWordCoverage is wordCoverage's sums for a request with misled
// words (misledFactor).
func (z *scorer) misledWordCoverage(fwd []posting, den *[numFields]float64, matched []bool, misled []misledTerm) (raw, inQuery float64) {
	ix, terms, hit, masks := z.ix, z.q.terms, z.sc.hit, z.sc.masks
	for w, b := range z.sc.hits {
		for b &= masks[w].words; b != 0; b &= b - 1 {
			i := w<<6 | bits.TrailingZeros64(b)
			qt := &terms[i]
			p := fwd[hit[i]]
			hit[i] = -1
			if matched != nil {
				matched[i] = true
			}
			f := ix.misledFactor(misled, qt.id)
			raw += f * qt.weight * qt.idf * ix.tfPartDen(p, den)
			inQuery += f * qt.idf * ix.docTermWeight(p) * qt.scale
		}
	}
	return raw, inQuery
}

// docWeightIndex is the index of a posting's docTermWeight in weights of
// extra, body, title, title (docTotal, scratch.wordD): whether the term is
// in the body (bit 0) and in the title (bit 1).
func docWeightIndex(p posting) int {
	f := 0
	if p&(0xFF<<(8*(2-fieldBody))) != 0 {
		f = 1
	}
	if p&(0xFF<<(8*(2-fieldTitle))) != 0 {
		f = 2
	}
	return f
}

// kindMasks has, for 64 query terms (scratch.hits' words), the bits of
// the words (exact and fuzzy), concepts, learned words and joined words.
type kindMasks struct {
	words, concepts, learned, joins uint64
}

// bigramCoverage adds to raw what the query's bigrams that the request's
// bigrams bgs have add to its query-side coverage. Each query bigram
// counts with the request's first bigram of the same key (the lowest
// field), in query order: both are sorted by key, so the request's bigrams
// are read in order and each key the query may have (Bloom filter) is
// looked up among the query's. The bigrams the filter rules out (most)
// are skipped in a loop of their own.
func (z *scorer) bigramCoverage(bgs []uint32, raw float64) float64 {
	ix, qbs, filter := z.ix, z.q.bigrams, &z.bigrams
	bw := ix.cfg.BigramWeight
	last := uint32(0)
	for j := 0; ; j++ {
		// bigramBit shifts the field's bits out: b's bit is its key's.
		for j < len(bgs) && !filter.has(bigramBit(bgs[j])) {
			j++
		}
		if j >= len(bgs) {
			return raw
		}
		b := bgs[j]
		key := b &^ bigramFieldMask
		if j > 0 && key == last {
			continue
		}
		last = key
		k := findBigram(qbs, key)
		dw := ix.fieldWeight(int(b & bigramFieldMask))
		for ; k < len(qbs) && qbs[k].h&^bigramFieldMask == key; k++ {
			raw += bw * qbs[k].v * dw / (ix.cfg.K1 + dw)
		}
	}
}

// markHits finds the query terms in the request's terms fwd: hit[qi] is
// set to the index in fwd of query term qi and bit qi of hits, for each
// query term the request has. Each request term the query may have (Bloom
// filter) is looked up among the query's ids (sorted, a term id may occur
// more than once). Both are sorted by id, so the lookup moves forward
// through ids. It is a function of its own so that its loop keeps its
// values in registers.
func (z *scorer) markHits(fwd []posting) {
	ids, byID, hit, hits := z.ids, z.sc.byID, z.sc.hit, z.sc.hits
	terms := &z.terms
	k := 0
	for j := 0; ; j++ {
		// Most terms are not the query's: skip them in a loop of their
		// own (few values, all in registers).
		for j < len(fwd) && !terms.has(fwd[j].slot()) {
			j++
		}
		if j >= len(fwd) {
			return
		}
		id := fwd[j].slot()
		for k < len(ids) && ids[k] < id {
			k++
		}
		for ; k < len(ids) && ids[k] == id; k++ {
			qi := byID[k]
			hit[qi] = int32(j)
			hits[qi>>6] |= 1 << (qi & 63)
		}
	}
}

// docTotal is the document side's total of a request's terms fwd: the
// idf-weighted sum of its words (docTermWeight), in the request's order.
// A concept stands for words of the request, which count. It is a pass of
// its own (a loop with few registers), the idfs read inline from the
// query's memo when there (ix.idfOf). A term's df and whether it is a
// concept are one read of dfs: a concept's (dfConcept and more) is past
// the memo, like the dfs the memo does not hold.
func (z *scorer) docTotal(fwd []posting) float64 {
	ix := z.ix
	dfs, memo := ix.dfs, z.sc.idfMemo
	// docTermWeight by whether the term is in the body (bit 0) and in
	// the title (bit 1): the largest field weight it occurs in.
	weights := [4]float64{ix.cfg.ExtraWeight, ix.cfg.BodyWeight, ix.cfg.TitleWeight, ix.cfg.TitleWeight}
	total := 0.0
	for _, p := range fwd {
		id := p.slot()
		df := dfs[id]
		var idf float64
		if uint(df) < uint(len(memo)) && memo[df] != 0 {
			idf = memo[df]
		} else {
			if df >= dfConcept {
				continue
			}
			idf = ix.idfOf(z.sc, int(df))
		}
		total += idf * weights[docWeightIndex(p)]
	}
	return total
}

// dfConcept is added to a concept's df in Index.dfs.
const dfConcept = 1 << 31

// df is the number of requests that have term id; the caller holds a lock.
func (ix *Index) df(id uint32) int {
	return int(ix.dfs[id] &^ dfConcept)
}

// eachHit yields the indexes of the bits set in hits, in increasing order.
func eachHit(hits []uint64) iter.Seq[int] {
	return func(yield func(int) bool) {
		for w, b := range hits {
			for b != 0 {
				if !yield(w<<6 | bits.TrailingZeros64(b)) {
					return
				}
				b &= b - 1
			}
		}
	}
}

// learnedCoverage is what the learned words found in a request (fwd, lens)
// add to its coverage: a query word the request lacks is covered by the
// best of its learned associations the request has, at that
// association's weight (a translation of the word); each request word so
// found counts on the request's side at the same weight.
func (z *scorer) learnedCoverage(fwd []posting, den *[numFields]float64, matched []bool) (raw, inQuery float64) {
	ix, q, hit := z.ix, z.q, z.sc.hit
	// best is per query word in [q.srcLo, q.srcHi) (the others have no
	// learned word and add 0).
	n := max(0, int(q.srcHi-q.srcLo))
	best := slices.Grow(z.sc.best[:0], n)[:n]
	clear(best)
	z.sc.best = best
	// Learned words are the last query terms, sorted by id.
	lastID, lastScale := uint32(0), 0.0
	flush := func() { inQuery += lastScale }
	for i := int(q.learnedAt); i < len(q.terms); i++ {
		qt := &q.terms[i]
		k := hit[i]
		if k < 0 || qt.kind != termLearned {
			continue
		}
		hit[i] = -1
		if matched[qt.srcI] {
			continue
		}
		b := &best[qt.srcI-q.srcLo]
		*b = max(*b, qt.weight*qt.idf*ix.tfPartDen(fwd[k], den))
		// The request word counts once, at its strongest association.
		v := qt.idf * ix.docTermWeight(fwd[k]) * qt.scale
		if qt.id != lastID {
			flush()
			lastID, lastScale = qt.id, 0
		}
		lastScale = max(lastScale, v)
	}
	flush()
	for _, v := range best {
		raw += v
	}
	return raw, inQuery
}

// findBigram returns the index of the first query bigram of key, or where
// it would be (slices.BinarySearchFunc without a function call per step).
func findBigram(qbs []qbigram, key uint32) int {
	lo, hi := 0, len(qbs)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if qbs[h].h&^bigramFieldMask < key {
			lo = h + 1
		} else {
			hi = h
		}
	}
	return lo
}

// findTerm is slices.BinarySearchFunc on the term ids of a request's
// terms (sorted), without a function call per step.
func findTerm(fwd []posting, id uint32) (int, bool) {
	lo, hi := 0, len(fwd)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if fwd[h].slot() < id {
			lo = h + 1
		} else {
			hi = h
		}
	}
	return lo, lo < len(fwd) && fwd[lo].slot() == id
}

// hasTerm reports whether the query has term id (as a word).
func (z *scorer) hasTerm(id uint32) bool {
	if !z.terms.has(id) {
		return false
	}
	_, ok := slices.BinarySearch(z.words, id)
	return ok
}

// finish turns the coverages of slot s (coverage) into its full score.
func (z *scorer) finish(s uint32, c *covered) float64 {
	ix, q := z.ix, z.q
	alpha := ix.cfg.DocCoverage
	cw := ix.cfg.CharWeight
	qcov, inQuery, total := c.qcov, c.inQuery, c.total
	if !z.wantTotal {
		return qcov
	}
	dot, norm2 := 0.0, 0.0
	if q.grams != nil {
		for _, p := range ix.slots[s].fwd {
			if ix.concept[p.slot()] || p.tf(fieldTitle)+p.tf(fieldBody) == 0 {
				continue
			}
			idf := ix.idfOf(z.sc, ix.df(p.slot()))
			dot += q.grams.dotTerm(ix.terms[p.slot()].grams, idf)
			norm2 += idf * idf
		}
	}
	if total <= 0 {
		return 0
	}
	lex := qcov
	if alpha > 0 {
		qpow := c.qpow
		if qpow == 0 {
			qpow = math.Pow(qcov, 1-alpha)
		}
		lex = qpow * math.Pow(min(1, inQuery/total), alpha)
	}
	if cw <= 0 || q.grams == nil {
		return clamp01(lex)
	}
	cos := 0.0
	if norm2 > 0 && q.grams.norm2 > 0 {
		cos = clamp01(dot / math.Sqrt(norm2*q.grams.norm2))
	}
	return clamp01((1-cw)*lex + cw*cos)
}

// fuzzyMaxDF: a query word that at most this many requests contain (in
// the bot the new request is not indexed yet when it is checked, in
// `dedup eval` it is) may be a misspelling or an unusual form of a
// commoner word, and is also matched as that word (Config.FuzzyWeight).
const fuzzyMaxDF = 1

// maxFuzzyTerms bounds the rare words of one query looked up for fuzzy
// matching (query cost).
const maxFuzzyTerms = 8

// fuzzyVariant returns the word a rare query word t probably stands for,
// and how sure it is (0..1): first the indexed term one edit away
// (editVariant, sureness 1), else the term with the most similar character
// n-grams (gramVariant). The caller holds the read lock.
func (ix *Index) fuzzyVariant(sc *scratch, t string, df int) (uint32, float64, bool) {
	if id, ok := ix.editVariant(t, df); ok {
		return id, 1, true
	}
	return ix.gramVariant(sc, t, df)
}

// gramVariant returns the indexed term whose character n-grams are the most
// like t's (Dice coefficient of the n-gram sets, at least minGramDice),
// among terms that more than fuzzyMaxDF requests contain, and the Dice
// coefficient; false if there is none.
func (ix *Index) gramVariant(sc *scratch, t string, df int) (uint32, float64, bool) {
	if ix.gramTerms == nil || utf8.RuneCountInString(t) < 5 {
		return 0, 0, false
	}
	grams := termGrams(t)
	// Each n-gram's terms, looked up once.
	n, lists := 0, sc.gramLists[:0]
	for _, g := range grams {
		if ts := ix.gramTerms.get(g); len(ts) <= maxGramTerms {
			n += len(ts)
			lists = append(lists, ts)
		}
	}
	counts := &sc.counts
	counts.reset(n)
	for _, ts := range lists {
		for _, id := range ts {
			counts.inc(id)
		}
	}
	clear(lists)
	sc.gramLists = lists[:0]
	// The best (Dice, then lowest id) of the terms that more than df
	// requests contain, other than t: a term is checked for those only
	// when it would be the best so far. A term shares k n-grams with t
	// and has at least 2 (gramTerms lists no other), so its Dice is at
	// most 2k / (len(grams)+2): one whose k keeps it below minGramDice is
	// passed over without reading its length (most share an n-gram or
	// two). Those could be the best only when none reaches minGramDice,
	// and then none is returned.
	best, bestDice := uint32(0), 0.0
	dfs, gramLens := ix.dfs, ix.gramLens
	kmin := minGramDice * float64(len(grams)+2) / 2
	for _, cell := range counts.used {
		id, k := counts.keys[cell]-1, counts.vals[cell]
		if float64(k) < kmin {
			continue
		}
		d := 2 * float64(k) / float64(len(grams)+int(gramLens[id]))
		if !(d > bestDice || d == bestDice && id < best) {
			continue
		}
		if int(dfs[id]&^dfConcept) <= df || ix.terms[id].text == t {
			continue
		}
		best, bestDice = id, d
	}
	return best, bestDice, bestDice >= minGramDice
}

// editable tells whether editVariant looks t up: 4 to 20 lower-case ASCII
// letters.
func editable(t string) bool {
	if len(t) < 4 || len(t) > 20 {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < 'a' || t[i] > 'z' {
			return false
		}
	}
	return true
}

// editVariant returns the indexed term one edit away from t (Damerau:
// deletion, transposition, substitution, insertion of a letter a-z) that
// the most requests contain, if more than fuzzyMaxDF do. Only words of 4
// to 20 lower-case ASCII letters are looked up (up to 54 x len(t) map
// lookups).
func (ix *Index) editVariant(t string, df int) (uint32, bool) {
	if !editable(t) {
		return 0, false
	}
	best, bestDF := uint32(0), df
	buf := make([]byte, 0, len(t)+1)
	try := func(b []byte) {
		if id, ok := ix.vocab.findBytes(ix.terms, b); ok {
			if df := len(ix.terms[id].posts); df > bestDF {
				best, bestDF = id, df
			}
		}
	}
	// The filter's hash of each edit, from those of t's prefixes and
	// suffixes (polyHash): an edit is spelt out, and looked up, only when
	// the filter may have it.
	n, pw := len(t), &polyPow
	var pre, suf [22]uint64 // hash of t[:i], of t[i:]
	for i := 0; i < n; i++ {
		pre[i+1] = pre[i]*polyBase + uint64(t[i])
	}
	for i := n - 1; i >= 0; i-- {
		suf[i] = uint64(t[i])*pw[n-1-i] + suf[i+1]
	}
	words := ix.words
	for i := 0; i < n; i++ { // deletion
		if words.mayHaveHash(pre[i]*pw[n-1-i]+suf[i+1], n-1) {
			buf = append(append(buf[:0], t[:i]...), t[i+1:]...)
			try(buf)
		}
	}
	for i := 0; i+1 < n; i++ { // transposition
		if t[i] == t[i+1] {
			continue
		}
		h := pre[i]*pw[n-i] + uint64(t[i+1])*pw[n-i-1] + uint64(t[i])*pw[n-i-2] + suf[i+2]
		if words.mayHaveHash(h, n) {
			buf = append(buf[:0], t...)
			buf[i], buf[i+1] = buf[i+1], buf[i]
			try(buf)
		}
	}
	// The letters of the substitutions and insertions at a position come
	// from one letter cell (mayFill: base is the hash of the edit with a
	// 0 byte for the letter), lowest first as before, each then probed in
	// the filter.
	for i := 0; i < n; i++ { // substitution
		base, p := pre[i]*pw[n-i]+suf[i+1], pw[n-1-i]
		for m := words.mayFill(base, n) &^ (1 << (t[i] - 'a')); m != 0; m &= m - 1 {
			c := 'a' + byte(bits.TrailingZeros32(m))
			if words.mayHaveHash(base+uint64(c)*p, n) {
				buf = append(buf[:0], t...)
				buf[i] = c
				try(buf)
			}
		}
	}
	for i := 0; i <= n; i++ { // insertion
		base, p := pre[i]*pw[n-i+1]+suf[i], pw[n-i]
		for m := words.mayFill(base, n+1); m != 0; m &= m - 1 {
			c := 'a' + byte(bits.TrailingZeros32(m))
			if words.mayHaveHash(base+uint64(c)*p, n+1) {
				buf = append(append(append(buf[:0], t[:i]...), c), t[i:]...)
				try(buf)
			}
		}
	}
	return best, bestDF > df
}

const maxTitleRunes = 120

func (ix *Index) fieldWeight(f int) float64 {
	switch f {
	case fieldTitle:
		return ix.cfg.TitleWeight
	case fieldBody:
		return ix.cfg.BodyWeight
	default:
		return ix.cfg.ExtraWeight
	}
}

// docTermWeight is the weight of a term in a request for document-side
// coverage: the largest field weight it occurs in.
func (ix *Index) docTermWeight(p posting) float64 {
	switch {
	case p.tf(fieldTitle) > 0:
		return ix.cfg.TitleWeight
	case p.tf(fieldBody) > 0:
		return ix.cfg.BodyWeight
	default:
		return ix.cfg.ExtraWeight
	}
}

func clamp01(x float64) float64 {
	if x < 0 || math.IsNaN(x) {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}

type heapEntry struct {
	s uint32
	v float32
}

// minHeap keeps the best entries seen so far, worst at the root.
type minHeap []heapEntry

// wants reports whether v belongs among the best depth of h: h has fewer,
// or v is larger than the smallest (inlined: most slots fail it).
func (h *minHeap) wants(v float32, depth int) bool {
	return len(*h) < depth || v > (*h)[0].v
}

// take puts (s, v), which h wants, among the best depth of h: pushed while
// h has fewer, else in place of the smallest.
// offerDense offers slot s, whose sum v is above lo, to h in the dense
// first pass's selection: an inactive slot is passed over, least becomes
// at least the sum h pushes out once it is full, and it returns what a
// sum must exceed to enter h from then on (lo, or h's lowest once full).
func (h *minHeap) offerDense(s uint32, v, lo float32, least *float32, depth int, active []bool) float32 {
	if !active[s] {
		return lo
	}
	if len(*h) == depth {
		*least = max(*least, (*h)[0].v)
	}
	h.take(s, v, depth)
	if len(*h) == depth {
		return (*h)[0].v
	}
	return lo
}

func (h *minHeap) take(s uint32, v float32, depth int) {
	if len(*h) < depth {
		h.push(s, v)
	} else {
		h.replaceTop(s, v)
	}
}

func (h *minHeap) push(s uint32, v float32) {
	*h = append(*h, heapEntry{s, v})
	a := *h
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p].v <= a[i].v {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h minHeap) replaceTop(s uint32, v float32) {
	// Sift (s, v) down from the root: the same comparisons and moves as
	// swapping it down level by level, with the entry written once.
	i, n := 0, len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m, mv := i, v
		if h[l].v < mv {
			m, mv = l, h[l].v
		}
		if r := l + 1; r < n && h[r].v < mv {
			m = r
		}
		if m == i {
			break
		}
		h[i] = h[m]
		i = m
	}
	h[i] = heapEntry{s, v}
}
