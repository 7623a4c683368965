package embeddings

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"iter"
	"log/slog"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
)

// VectorCache keeps request vectors keyed by request id and text hash: a
// vector is valid only for the text it was computed from. Implementations
// are safe for concurrent use; Get misses on any failure.
type VectorCache interface {
	Get(id int64, hash string) ([]float32, bool)
	Put(id int64, hash string, v []float32)
}

// DefaultDepth is how many lexical candidates Hybrid re-ranks.
const DefaultDepth = 20

// Hybrid is a bot.Scorer that combines the lexical index's score with the
// cosine similarity of embeddings: score = (1-weight) x lexical +
// weight x max(0, cosine), over the lexical index's best DefaultDepth
// candidates. The cosine of two texts from an embedding model is not
// calibrated like the lexical score (unrelated texts often have a cosine of
// 0.2 to 0.5, depending on the model), so measure the thresholds with the
// model before relying on them.
type Hybrid struct {
	lex    *dedup.Index
	client *Client
	cache  VectorCache
	weight float64
	log    *slog.Logger
	depth  int

	mu    sync.RWMutex
	texts map[int64]string // text (title + "\n" + description) per request

	failMu  sync.Mutex
	failing bool // in a burst of provider failures (logged once)
}

var (
	_ bot.Scorer     = (*Hybrid)(nil)
	_ bot.BulkLoader = (*Hybrid)(nil)
	_ bot.SeqLoader  = (*Hybrid)(nil)
)

// NewHybrid returns a hybrid scorer over lex. With a nil client or a weight
// of 0 or less it scores like lex alone. weight is clamped to [0,1]. A nil
// cache is an in-memory one; a nil logger discards.
func NewHybrid(lex *dedup.Index, client *Client, cache VectorCache, weight float64, logger *slog.Logger) *Hybrid {
	if cache == nil {
		cache = NewMemoryCache()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Hybrid{
		lex: lex, client: client, cache: cache, weight: min(max(weight, 0), 1),
		log: logger, depth: DefaultDepth, texts: make(map[int64]string),
	}
}

func docText(d bot.Doc) string { return d.Title + "\n" + d.Description }

// TextHash is the cache key of a text: hex SHA-256, 32 characters.
func TextHash(text string) string {
	h := sha256.Sum256([]byte(text))
	return hex.EncodeToString(h[:16])
}

// Upsert indexes a request. Its vector is computed when it is first a
// candidate, and again after its text changes (the hash no longer
// matches).
func (h *Hybrid) Upsert(doc bot.Doc) {
	h.lex.Upsert(doc)
	h.keepText(doc)
}

// keepText records an active request's text (what its vector is computed
// from) and forgets an inactive one's.
func (h *Hybrid) keepText(d bot.Doc) {
	h.mu.Lock()
	if d.Active {
		h.texts[d.ID] = docText(d)
	} else {
		delete(h.texts, d.ID)
	}
	h.mu.Unlock()
}

// Load indexes many requests at once (start-up).
func (h *Hybrid) Load(docs []bot.Doc) { h.LoadSeq(slices.Values(docs)) }

// LoadSeq indexes a stream of requests as it is read (start-up,
// bot.SeqLoader): the lexical index's streaming load, keeping each
// request's text on the way, so that start-up with embeddings on takes the
// same path as without.
func (h *Hybrid) LoadSeq(docs iter.Seq[bot.Doc]) {
	h.lex.LoadSeq(func(yield func(bot.Doc) bool) {
		for d := range docs {
			h.keepText(d)
			if !yield(d) {
				return
			}
		}
	})
}

// Learn hands the team's decisions to the lexical index (bot.Learner).
func (h *Hybrid) Learn(ds []bot.Decision) {
	h.lex.Learn(ds)
}

// Remove forgets a request.
func (h *Hybrid) Remove(id int64) {
	h.lex.Remove(id)
	h.mu.Lock()
	delete(h.texts, id)
	h.mu.Unlock()
}

// Similar returns at most limit candidates, best first. When the provider
// fails it returns the lexical candidates; its only error is ctx's.
func (h *Hybrid) Similar(ctx context.Context, text string, limit int) ([]bot.Candidate, error) {
	if limit <= 0 {
		return nil, ctx.Err()
	}
	if h.client == nil || h.weight <= 0 {
		return h.lex.Similar(ctx, text, limit)
	}
	cands, err := h.lex.Similar(ctx, text, max(limit, h.depth))
	if err != nil || len(cands) == 0 {
		return cands, err
	}
	lexical := func() []bot.Candidate { return cands[:min(limit, len(cands))] }

	// Vectors of the candidates: cached, or embedded with the query in one
	// batch.
	type missing struct {
		i          int
		hash, text string
	}
	vecs := make([][]float32, len(cands))
	var miss []missing
	h.mu.RLock()
	for i, c := range cands {
		t, ok := h.texts[c.RequestID]
		if !ok {
			continue
		}
		hash := TextHash(t)
		if v, ok := h.cache.Get(c.RequestID, hash); ok {
			vecs[i] = v
		} else {
			miss = append(miss, missing{i, hash, t})
		}
	}
	h.mu.RUnlock()
	inputs := make([]string, 0, 1+len(miss))
	inputs = append(inputs, text)
	for _, m := range miss {
		inputs = append(inputs, m.text)
	}
	out, err := h.client.Embed(ctx, inputs)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		h.failed(err)
		return lexical(), nil
	}
	h.recovered()
	qv := out[0]
	for j, m := range miss {
		vecs[m.i] = out[1+j]
		h.cache.Put(cands[m.i].RequestID, m.hash, out[1+j])
	}
	res := make([]bot.Candidate, len(cands))
	for i, c := range cands {
		cos := 0.0
		if vecs[i] != nil {
			cos = max(0, cosine(qv, vecs[i]))
		}
		res[i] = bot.Candidate{RequestID: c.RequestID, Score: (1-h.weight)*c.Score + h.weight*cos, Reason: c.Reason}
	}
	sort.SliceStable(res, func(i, j int) bool { return res[i].Score > res[j].Score })
	return res[:min(limit, len(res))], nil
}

// failed logs the first failure of a burst.
func (h *Hybrid) failed(err error) {
	h.failMu.Lock()
	defer h.failMu.Unlock()
	if !h.failing {
		h.failing = true
		h.log.Warn("embeddings provider failed; lexical scores only until it answers again", "err", err)
	}
}

func (h *Hybrid) recovered() {
	h.failMu.Lock()
	defer h.failMu.Unlock()
	if h.failing {
		h.failing = false
		h.log.Info("embeddings provider answers again")
	}
}

// cosine returns the cosine similarity of a and b (0 when their lengths
// differ or one is zero).
func cosine(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// MemoryCache is an in-memory VectorCache holding one vector per request.
type MemoryCache struct {
	mu sync.RWMutex
	m  map[int64]memEntry
}

type memEntry struct {
	hash string
	v    []float32
}

// NewMemoryCache returns an empty cache.
func NewMemoryCache() *MemoryCache { return &MemoryCache{m: make(map[int64]memEntry)} }

// Get returns the vector of id if it was computed from the text with hash.
func (c *MemoryCache) Get(id int64, hash string) ([]float32, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[id]
	if !ok || e.hash != hash {
		return nil, false
	}
	return e.v, true
}

// Put stores the vector of id, replacing any older one.
func (c *MemoryCache) Put(id int64, hash string, v []float32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[id] = memEntry{hash, v}
}

// VectorStore is the store's vector table (store.DB.VectorCache()).
type VectorStore interface {
	GetVector(ctx context.Context, requestID int64, model string) (hash string, v []float32, err error)
	PutVector(ctx context.Context, requestID int64, model, hash string, v []float32) error
}

// StoreCache is a VectorCache in the store, for one model, with an
// in-memory copy in front of it.
type StoreCache struct {
	vs    VectorStore
	model string
	mem   *MemoryCache
	log   *slog.Logger
}

// NewStoreCache returns a cache of model's vectors in vs. Store errors are
// logged at debug level and read as misses.
func NewStoreCache(vs VectorStore, model string, logger *slog.Logger) *StoreCache {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &StoreCache{vs: vs, model: model, mem: NewMemoryCache(), log: logger}
}

const storeTimeout = 2 * time.Second

// Get returns the vector of id if it was computed from the text with hash.
func (c *StoreCache) Get(id int64, hash string) ([]float32, bool) {
	if v, ok := c.mem.Get(id, hash); ok {
		return v, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	h, v, err := c.vs.GetVector(ctx, id, c.model)
	if err != nil {
		if bot.ErrorCode(err) != bot.ENOTFOUND {
			c.log.Debug("read cached vector", "request_id", id, "err", err)
		}
		return nil, false
	}
	if h != hash {
		return nil, false
	}
	c.mem.Put(id, hash, v)
	return v, true
}

// Put stores the vector of id in memory and in the store.
func (c *StoreCache) Put(id int64, hash string, v []float32) {
	c.mem.Put(id, hash, v)
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := c.vs.PutVector(ctx, id, c.model, hash, v); err != nil {
		c.log.Debug("store vector", "request_id", id, "err", err)
	}
}
