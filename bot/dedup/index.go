package dedup

import (
	"cmp"
	"context"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

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
	// RerankDepth is how many lexical candidates the full score re-ranks.
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
		PriorDocs:        30,
	}
}

// Thresholds chosen from the precision/recall table that
// `feedbackbot dedup eval` prints (dev data, DefaultConfig; precision over
// the top 10 pairs per query, recall over all labelled duplicates):
//
//	score >= | SemEval P / R | SeaMonkey P / R | Hadoop P / R
//	0.15     | 78.9 / 57.5   | 12.2 / 83.7     |  9.9 / 82.0
//	0.20     | 81.7 / 39.7   | 15.9 / 71.7     | 15.1 / 79.0
//	0.25     | 85.3 / 27.1   | 24.9 / 59.8     | 19.7 / 67.0
//	0.45     | 100  /  3.7   | 25.6 / 12.0     | 34.3 / 36.0
//	0.70     | 100  /  1.4   | 100  /  2.2     | 50.0 / 11.0
//	0.85     | 100  /  0.5   |  -   /  0       | 62.5 / 10.0
//
// On the bug data a query has about one labelled duplicate, so precision
// over ten pairs cannot exceed about 12% at full recall; what matters there
// is recall. A person confirms every suggestion, so the suggestion
// threshold favours recall (0.20 keeps 72-79% of the duplicates on the bug
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
	grams []uint32 // character n-gram hashes (termGrams)
}

// slotMeta is one indexed request. fwd lists its terms (term id << 24 | tf
// of the three fields, as in a posting), sorted by term id.
type slotMeta struct {
	id      int64
	fwd     []posting // term id instead of slot
	bigrams []uint32  // sorted bigram hashes; the low 2 bits hold the field
}

// Bigram hashes keep their field in the low two bits.
const bigramFieldMask = 3

// Index is an in-memory duplicate index over requests. It is safe for
// concurrent use: queries share a read lock, changes take the write lock.
type Index struct {
	cfg Config
	an  analyzer

	mu    sync.RWMutex
	vocab map[string]uint32
	terms []termEntry
	// gramTerms lists the terms that contain each character n-gram (for
	// fuzzy matching; nil when Config.FuzzyWeight is 0).
	gramTerms map[uint32][]uint32
	byID      map[int64]uint32
	slots     []slotMeta
	lens      [][numFields]uint16 // per slot
	active    []bool              // per slot
	live      []bool              // per slot: false for free slots
	free      []uint32
	nLive     int
	sumLen    [numFields]float64

	pool sync.Pool // *scratch
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
	ix := &Index{
		cfg:   cfg,
		vocab: make(map[string]uint32),
		byID:  make(map[int64]uint32),
	}
	if cfg.FuzzyWeight > 0 {
		ix.gramTerms = make(map[uint32][]uint32)
	}
	return ix
}

// Len returns the number of indexed requests, active or not.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.nLive
}

func (ix *Index) analyzeDoc(doc bot.Doc) *analyzed {
	a := newAnalyzed()
	ix.an.add(a, fieldTitle, doc.Title, ix.cfg.TitleWeight)
	ix.an.add(a, fieldBody, doc.Description, ix.cfg.BodyWeight)
	for _, e := range doc.Extra {
		ix.an.add(a, fieldExtra, e, ix.cfg.ExtraWeight)
	}
	return a
}

// Upsert adds a request or replaces what the index knows about it. Requests
// with Active false stay indexed (their words still count in word rarity)
// but are never returned.
func (ix *Index) Upsert(doc bot.Doc) {
	a := ix.analyzeDoc(doc)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.insert(doc, a)
}

// Load upserts many requests at once (start-up), analysing their texts on
// all CPUs. It is equivalent to calling Upsert for each in order.
func (ix *Index) Load(docs []bot.Doc) {
	const chunk = 1024
	workers := max(1, runtime.GOMAXPROCS(0))
	for start := 0; start < len(docs); start += chunk * workers {
		end := min(len(docs), start+chunk*workers)
		as := make([]*analyzed, end-start)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := start + w; i < end; i += workers {
					as[i-start] = ix.analyzeDoc(docs[i])
				}
			}(w)
		}
		wg.Wait()
		ix.mu.Lock()
		for i, a := range as {
			ix.insert(docs[start+i], a)
		}
		ix.mu.Unlock()
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
	fwd := make([]posting, 0, len(a.tf))
	for _, t := range a.order {
		tf := a.tf[t]
		id, ok := ix.vocab[t]
		if !ok {
			id = uint32(len(ix.terms))
			ix.vocab[t] = id
			var grams []uint32
			if ix.cfg.CharWeight > 0 {
				grams = termGrams(t)
			}
			if ix.gramTerms != nil {
				if grams == nil {
					grams = termGrams(t)
				}
				if len(grams) > 1 {
					for _, g := range grams {
						ix.gramTerms[g] = append(ix.gramTerms[g], id)
					}
				}
			}
			ix.terms = append(ix.terms, termEntry{text: t, grams: grams})
		}
		te := &ix.terms[id]
		p := makePosting(id, *tf)
		te.posts = append(te.posts, post{slot: s, impact: float32(ix.tfPart(p, &lens))})
		fwd = append(fwd, p)
	}
	slices.Sort(fwd)
	bg := make([]uint32, 0, len(a.bigrams))
	for h, b := range a.bigrams {
		bg = append(bg, h&^bigramFieldMask|uint32(b.field))
	}
	slices.Sort(bg)
	ix.slots[s] = slotMeta{id: doc.ID, fwd: fwd, bigrams: bg}
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
}

// query is an analysed query text.
type query struct {
	terms   []queryTerm
	grams   *gramTable // character n-gram vector (nil when CharWeight is 0)
	bigrams []qbigram  // sorted by hash
	self    float64    // the query's score against itself (unigrams)
	titleW  float64    // sum of idf over the terms of the query's first line
}

// qbigram is a query bigram: v is its weight (mean idf of the pair times the
// saturated query field weight), self its evidence against the query itself.
type qbigram struct {
	h       uint32
	v, self float64
}

type scratch struct {
	acc     []float32
	touched []uint32
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
	title, body := splitTitle(text)
	qa := newAnalyzed()
	ix.an.add(qa, fieldTitle, title, ix.cfg.QueryTitleWeight)
	ix.an.add(qa, fieldBody, body, 1)

	ix.mu.RLock()
	defer ix.mu.RUnlock()
	q := ix.buildQuery(qa)
	if len(q.terms) == 0 {
		return nil, nil
	}
	sc, _ := ix.pool.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	defer ix.pool.Put(sc)
	if len(sc.acc) < len(ix.slots) {
		sc.acc = make([]float32, len(ix.slots)+len(ix.slots)/4)
	}
	cands := ix.firstPass(q, sc, max(limit, ix.cfg.RerankDepth))
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := make([]scored, 0, len(cands))
	for _, s := range cands {
		res = append(res, scored{slot: s, score: ix.fullScore(q, s)})
	}
	for _, s := range sc.touched {
		sc.acc[s] = 0
	}
	sc.touched = sc.touched[:0]
	sort.Slice(res, func(i, j int) bool {
		if res[i].score != res[j].score {
			return res[i].score > res[j].score
		}
		return ix.slots[res[i].slot].id < ix.slots[res[j].slot].id
	})
	if len(res) > limit {
		res = res[:limit]
	}
	out := make([]bot.Candidate, len(res))
	for i, r := range res {
		out[i] = bot.Candidate{RequestID: ix.slots[r.slot].id, Score: r.score}
	}
	return out, nil
}

// ScoreIDs scores the given requests against text with the same scoring as
// Similar, whether or not they would be among its first-pass candidates,
// and returns them in the given order. Unknown or inactive ids get score 0.
// It is meant for re-ranking a fixed candidate list (evaluation).
func (ix *Index) ScoreIDs(ctx context.Context, text string, ids []int64) ([]bot.Candidate, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	title, body := splitTitle(text)
	qa := newAnalyzed()
	ix.an.add(qa, fieldTitle, title, ix.cfg.QueryTitleWeight)
	ix.an.add(qa, fieldBody, body, 1)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	q := ix.buildQuery(qa)
	out := make([]bot.Candidate, len(ids))
	for i, id := range ids {
		out[i] = bot.Candidate{RequestID: id}
		if s, ok := ix.byID[id]; ok && ix.active[s] && len(q.terms) > 0 {
			out[i].Score = ix.fullScore(q, s)
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

func (ix *Index) buildQuery(qa *analyzed) *query {
	q := &query{}
	if ix.cfg.CharWeight > 0 {
		q.grams = newGramTable(8 * len(qa.tf))
	}
	var fuzzy []queryTerm
	var fuzzyText []string
	idfOf := make(map[string]float64, len(qa.tf))
	var qlens [numFields]uint16
	for f := range qlens {
		qlens[f] = uint16(min(qa.lens[f], 0xFFFF))
	}
	for _, t := range qa.order {
		tf := qa.tf[t]
		w := ix.satq(ix.cfg.QueryTitleWeight*float64(tf[fieldTitle]) + float64(tf[fieldBody]))
		id, ok := ix.vocab[t]
		df := 0
		if ok {
			df = len(ix.terms[id].posts)
		}
		idf := ix.idf(df)
		idfOf[t] = idf
		q.self += w * idf * ix.tfPart(makePosting(0, *tf), &qlens)
		if q.grams != nil && tf[fieldTitle]+tf[fieldBody] > 0 {
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
			q.terms = append(q.terms, queryTerm{id: id, weight: w, idf: idf, df: df})
		}
		if df <= fuzzyMaxDF && ix.cfg.FuzzyWeight > 0 {
			fuzzy = append(fuzzy, queryTerm{weight: w, df: df})
			fuzzyText = append(fuzzyText, t)
		}
	}
	for i, t := range fuzzyText {
		if i == maxFuzzyTerms {
			break
		}
		vid, sim, ok := ix.fuzzyVariant(t, fuzzy[i].df)
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
		q.terms = append(q.terms, queryTerm{id: vid, weight: fuzzy[i].weight * sim * ix.cfg.FuzzyWeight, idf: ix.idf(df), df: df})
	}
	if ix.cfg.BigramWeight > 0 {
		for h, bg := range qa.bigrams {
			v := ix.satq(bg.w) * (idfOf[bg.a] + idfOf[bg.b]) / 2
			dw := ix.cfg.BodyWeight
			if bg.w == ix.cfg.QueryTitleWeight && qa.lens[fieldTitle] > 0 {
				dw = ix.cfg.TitleWeight
			}
			q.bigrams = append(q.bigrams, qbigram{h: h, v: v, self: v * dw / (ix.cfg.K1 + dw)})
		}
		slices.SortFunc(q.bigrams, func(a, b qbigram) int { return cmp.Compare(a.h, b.h) })
	}
	// Rarest first.
	sort.SliceStable(q.terms, func(i, j int) bool { return q.terms[i].idf > q.terms[j].idf })
	return q
}

// tfPart is the saturated BM25F term frequency of a posting in a slot, in
// [0,1).
func (ix *Index) tfPart(p posting, lens *[numFields]uint16) float64 {
	cfg := &ix.cfg
	n := float64(ix.nLive)
	x := 0.0
	if tf := p.tf(fieldTitle); tf > 0 {
		avg := max(ix.sumLen[fieldTitle]/n, 1)
		x += cfg.TitleWeight * tf / (1 - cfg.TitleB + cfg.TitleB*float64(lens[fieldTitle])/avg)
	}
	if tf := p.tf(fieldBody); tf > 0 {
		avg := max(ix.sumLen[fieldBody]/n, 1)
		x += cfg.BodyWeight * tf / (1 - cfg.BodyB + cfg.BodyB*float64(lens[fieldBody])/avg)
	}
	if tf := p.tf(fieldExtra); tf > 0 {
		avg := max(ix.sumLen[fieldExtra]/n, 1)
		x += cfg.ExtraWeight * tf / (1 - cfg.ExtraB + cfg.ExtraB*float64(lens[fieldExtra])/avg)
	}
	return x / (cfg.K1 + x)
}

// firstPass accumulates BM25F over the postings of the rarest query terms
// (within Config.MaxPostings) and returns the best depth active slots.
func (ix *Index) firstPass(q *query, sc *scratch, depth int) []uint32 {
	budget := ix.cfg.MaxPostings
	acc := sc.acc
	for i := range q.terms {
		qt := &q.terms[i]
		if i > 0 && qt.df > budget {
			continue
		}
		budget -= qt.df
		w := qt.weight * qt.idf
		wf := float32(w)
		for _, p := range ix.terms[qt.id].posts {
			if acc[p.slot] == 0 {
				sc.touched = append(sc.touched, p.slot)
			}
			acc[p.slot] += wf * p.impact
		}
	}
	// Select the best depth active slots.
	h := make(minHeap, 0, depth)
	for _, s := range sc.touched {
		if !ix.active[s] {
			continue
		}
		v := acc[s]
		if len(h) < depth {
			h.push(s, v)
		} else if v > h[0].v {
			h.replaceTop(s, v)
		}
	}
	out := make([]uint32, len(h))
	for i, e := range h {
		out[i] = e.s
	}
	return out
}

// fullScore computes the BM25F score of slot s exactly (every query term,
// current average lengths) with the bigram evidence, and turns it into a
// score in [0,1]:
// the geometric mix (Config.DocCoverage) of how much of the query's weight
// the request matches and how much of the request's weight the query
// matches.
func (ix *Index) fullScore(q *query, s uint32) float64 {
	m := &ix.slots[s]
	lens := &ix.lens[s]
	raw := 0.0
	qmax := q.self
	// Skipped terms, and the document-side coverage.
	inQuery := 0.0
	for _, qt := range q.terms {
		i, ok := slices.BinarySearchFunc(m.fwd, qt.id, func(p posting, id uint32) int {
			return int(int64(p.slot()) - int64(id))
		})
		if !ok {
			continue
		}
		raw += qt.weight * qt.idf * ix.tfPart(m.fwd[i], lens)
		inQuery += qt.idf * ix.docTermWeight(m.fwd[i])
	}
	if ix.cfg.BigramWeight > 0 && len(q.bigrams) > 0 {
		bw := ix.cfg.BigramWeight
		for _, qb := range q.bigrams {
			qmax += bw * qb.self
			j, _ := slices.BinarySearch(m.bigrams, qb.h&^bigramFieldMask)
			if j < len(m.bigrams) && m.bigrams[j]&^bigramFieldMask == qb.h&^bigramFieldMask {
				dw := ix.fieldWeight(int(m.bigrams[j] & bigramFieldMask))
				raw += bw * qb.v * dw / (ix.cfg.K1 + dw)
			}
		}
	}
	if qmax <= 0 {
		return 0
	}
	qcov := clamp01(raw / qmax)
	alpha := ix.cfg.DocCoverage
	cw := ix.cfg.CharWeight
	if alpha <= 0 && (cw <= 0 || q.grams == nil) {
		return qcov
	}
	total := 0.0
	dot, norm2 := 0.0, 0.0
	for _, p := range m.fwd {
		te := &ix.terms[p.slot()]
		idf := ix.idf(len(te.posts))
		total += idf * ix.docTermWeight(p)
		if q.grams != nil && p.tf(fieldTitle)+p.tf(fieldBody) > 0 {
			dot += q.grams.dotTerm(te.grams, idf)
			norm2 += idf * idf
		}
	}
	if total <= 0 {
		return 0
	}
	lex := qcov
	if alpha > 0 {
		lex = math.Pow(qcov, 1-alpha) * math.Pow(inQuery/total, alpha)
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
func (ix *Index) fuzzyVariant(t string, df int) (uint32, float64, bool) {
	if id, ok := ix.editVariant(t, df); ok {
		return id, 1, true
	}
	return ix.gramVariant(t, df)
}

// gramVariant returns the indexed term whose character n-grams are the most
// like t's (Dice coefficient of the n-gram sets, at least minGramDice),
// among terms that more than fuzzyMaxDF requests contain, and the Dice
// coefficient.
func (ix *Index) gramVariant(t string, df int) (uint32, float64, bool) {
	if ix.gramTerms == nil || utf8.RuneCountInString(t) < 5 {
		return 0, 0, false
	}
	grams := termGrams(t)
	counts := make(map[uint32]int)
	for _, g := range grams {
		ts := ix.gramTerms[g]
		if len(ts) > maxGramTerms {
			continue
		}
		for _, id := range ts {
			counts[id]++
		}
	}
	best, bestDice := uint32(0), 0.0
	for id, k := range counts {
		te := &ix.terms[id]
		if len(te.posts) <= df || te.text == t {
			continue
		}
		d := 2 * float64(k) / float64(len(grams)+len(te.grams))
		if d > bestDice || d == bestDice && id < best {
			best, bestDice = id, d
		}
	}
	return best, bestDice, bestDice >= minGramDice
}

// editVariant returns the indexed term one edit away from t (Damerau:
// deletion, transposition, substitution, insertion of a letter a-z) that
// the most requests contain, if more than fuzzyMaxDF do. Only words of 4
// to 20 lower-case ASCII letters are looked up (up to 54 x len(t) map
// lookups).
func (ix *Index) editVariant(t string, df int) (uint32, bool) {
	if len(t) < 4 || len(t) > 20 {
		return 0, false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < 'a' || t[i] > 'z' {
			return 0, false
		}
	}
	best, bestDF := uint32(0), df
	buf := make([]byte, 0, len(t)+1)
	try := func(b []byte) {
		if id, ok := ix.vocab[string(b)]; ok {
			if df := len(ix.terms[id].posts); df > bestDF {
				best, bestDF = id, df
			}
		}
	}
	for i := 0; i < len(t); i++ { // deletion
		buf = append(append(buf[:0], t[:i]...), t[i+1:]...)
		try(buf)
	}
	for i := 0; i+1 < len(t); i++ { // transposition
		if t[i] == t[i+1] {
			continue
		}
		buf = append(buf[:0], t...)
		buf[i], buf[i+1] = buf[i+1], buf[i]
		try(buf)
	}
	for i := 0; i < len(t); i++ { // substitution
		buf = append(buf[:0], t...)
		for c := byte('a'); c <= 'z'; c++ {
			if c != t[i] {
				buf[i] = c
				try(buf)
			}
		}
	}
	for i := 0; i <= len(t); i++ { // insertion
		buf = append(append(append(buf[:0], t[:i]...), 'x'), t[i:]...)
		for c := byte('a'); c <= 'z'; c++ {
			buf[i] = c
			try(buf)
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
	h[0] = heapEntry{s, v}
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[l].v < h[m].v {
			m = l
		}
		if r < len(h) && h[r].v < h[m].v {
			m = r
		}
		if m == i {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
