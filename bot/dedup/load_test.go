package dedup

import (
	"fmt"
	"reflect"
	"runtime"
	"testing"
	"unsafe"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/textgen"
)

// loadDocs is a start-up's worth of docs that exercise what indexing
// keeps: vocabulary concepts, joined words, typos, identifiers, URLs,
// mention texts (Extra), inactive requests, empty texts, and ids that come
// again (an edit read twice replaces the first).
func loadDocs(n int) []bot.Doc {
	gen := textgen.New(5)
	extra := []string{
		"Drop down menu\nThe drop down for the export is too small",
		"Log in with Okta\nSSO login through Okta SAML fails at https://okta.example.com/app?name=CVE-2022-41881",
		"Dark mode\nPlease add a dark theme to the dashbaord",
		"ZooKeeper session expiry\norg.apache.zookeeper.KeeperException in ZooKeeperWatcher.process()",
		"",
		"the and of\nit is",
	}
	var docs []bot.Doc
	for i := 0; i < n; i++ {
		var text string
		switch {
		case i%61 == 7:
			text = extra[(i/61)%len(extra)]
		case i%5 == 4:
			d := docs[(i*7919)%len(docs)]
			text = gen.Near(i, d.Title+"\n"+d.Description)
		default:
			text = gen.Text(i)
		}
		title, desc := textgen.Split(text)
		d := bot.Doc{ID: int64(i + 1), Title: title, Description: desc, Active: i%13 != 3}
		if i%17 == 0 {
			d.Extra = []string{gen.Reply(i, 0), gen.Reply(i, 1)}
		}
		docs = append(docs, d)
		if i%37 == 36 {
			// The same request again, edited.
			e := docs[i/2]
			e.Description += " and the csv export"
			e.Active = !e.Active
			docs = append(docs, e)
		}
	}
	return docs
}

// sameIndexState fails the test unless a and b hold the same index: the
// same term ids, postings (with their impacts), slots, lengths and
// filters, not only the same rankings.
func sameIndexState(t *testing.T, a, b *Index) {
	t.Helper()
	fields := []struct {
		name string
		a, b any
	}{
		{"vocab", a.vocab, b.vocab},
		{"terms", a.terms, b.terms},
		{"dfs", a.dfs, b.dfs},
		{"concept", a.concept, b.concept},
		{"conceptWords", a.conceptWords, b.conceptWords},
		{"gramTerms", a.gramTerms, b.gramTerms},
		{"words", a.words, b.words},
		{"byID", a.byID, b.byID},
		{"slots", a.slots, b.slots},
		{"lens", a.lens, b.lens},
		{"active", a.active, b.active},
		{"live", a.live, b.live},
		{"free", a.free, b.free},
		{"nLive", a.nLive, b.nLive},
		{"sumLen", a.sumLen, b.sumLen},
	}
	for _, f := range fields {
		if !reflect.DeepEqual(f.a, f.b) {
			t.Errorf("%s differs", f.name)
		}
	}
}

// sameSeeds makes b hash as a does (docSum, the term dictionary, the word
// filter).
func sameSeeds(a, b *Index) {
	b.seed = a.seed
	b.vocab.seed = a.vocab.seed
	if a.words != nil {
		b.words.seed = a.words.seed
	}
}

// TestLoadBuildsWhatUpsertBuilds: a bulk load (several calls, one of them
// re-reading requests already indexed, or one stream as the engine reads
// at start-up) leaves the index exactly as Upserting the same docs one by
// one does.
func TestLoadBuildsWhatUpsertBuilds(t *testing.T) {
	docs := loadDocs(3000)
	for _, cfg := range []struct {
		name string
		cfg  Config
	}{
		{"Default", DefaultConfig()},
		{"NoVocabularyNoFuzzy", func() Config { c := DefaultConfig(); c.VocabWeight, c.FuzzyWeight = 0, 0; return c }()},
	} {
		t.Run(cfg.name, func(t *testing.T) {
			up, bulk := New(cfg.cfg), New(cfg.cfg)
			sameSeeds(up, bulk)
			for _, d := range docs {
				up.Upsert(d)
			}
			// Re-reading the first docs again (a second load, as a replica
			// that catches up) replaces them with themselves.
			for _, d := range docs[:300] {
				up.Upsert(d)
			}
			for lo := 0; lo < len(docs); lo += 1000 {
				bulk.Load(docs[lo:min(len(docs), lo+1000)])
			}
			bulk.Load(docs[:300])
			bulk.Load(nil)
			sameIndexState(t, up, bulk)
			// One stream of the same docs (as the engine loads at start-up).
			seq := New(cfg.cfg)
			sameSeeds(up, seq)
			seq.LoadSeq(func(yield func(bot.Doc) bool) {
				for _, d := range append(docs[:len(docs):len(docs)], docs[:300]...) {
					if !yield(d) {
						return
					}
				}
			})
			sameIndexState(t, up, seq)
			sameLookups(t, up, bulk, docs)
		})
	}
}

// TestLearnManyTexts: learning many further mentions at once (start-up
// reads up to 10,000; their texts are analysed on all CPUs) teaches what
// learning them a few at a time does (analysed on the calling goroutine).
func TestLearnManyTexts(t *testing.T) {
	docs := loadDocs(1500)
	gen := textgen.New(9)
	var ds []bot.Decision
	for i := 0; i < 3000; i++ {
		d := docs[(i*7919)%len(docs)]
		switch {
		case i%10 == 9:
			ds = append(ds, bot.Decision{Key: fmt.Sprint("m", i), A: docs[i%len(docs)].ID, B: d.ID, Same: i%3 != 0})
		default:
			ds = append(ds, bot.Decision{Key: fmt.Sprint("t", i), B: d.ID, Text: gen.Near(i, d.Title+"\n"+d.Description), Same: true})
		}
	}
	cfg := DefaultConfig()
	cfg.MaxDecisions = len(ds)
	once, pieces := New(cfg), New(cfg)
	once.Load(docs)
	pieces.Load(docs)
	once.Learn(ds)
	for i := 0; i < len(ds); i += 50 {
		pieces.Learn(ds[i:min(len(ds), i+50)])
	}
	if n, _, _ := once.LearnedDecisions(); n < len(ds)*9/10 {
		t.Fatalf("%d decisions learned of %d", n, len(ds))
	}
	if !reflect.DeepEqual(once.Learned(), pieces.Learned()) || !sameLearned(once, pieces) {
		t.Fatal("learning at once and a few at a time differ")
	}
}

// TestLoadSharesAllocations: a bulk load keeps the requests' terms and
// bigram keys in pieces of 32 KiB slices (slab) instead of two slices per
// request (fewer allocations, none rounded up: 6-8 MiB less heap in use
// at start-up with 100,000 requests than one slice per request).
func TestLoadSharesAllocations(t *testing.T) {
	docs := loadDocs(1000)
	ix := New(DefaultConfig())
	ix.Load(docs)
	// adjacent counts the slots whose slice starts where the previous
	// slot's ends.
	adjacent := func(get func(m *slotMeta) (unsafe.Pointer, uintptr)) int {
		n := 0
		for s := 1; s < len(ix.slots); s++ {
			pa, la := get(&ix.slots[s-1])
			pb, _ := get(&ix.slots[s])
			if pa != nil && pb != nil && uintptr(pb) == uintptr(pa)+la {
				n++
			}
		}
		return n
	}
	fwd := adjacent(func(m *slotMeta) (unsafe.Pointer, uintptr) {
		return unsafe.Pointer(unsafe.SliceData(m.fwd)), uintptr(len(m.fwd)) * unsafe.Sizeof(posting(0))
	})
	keys := adjacent(func(m *slotMeta) (unsafe.Pointer, uintptr) {
		return unsafe.Pointer(unsafe.SliceData(m.bigrams)), uintptr(len(m.bigrams)) * 4
	})
	// Slots loaded one after the other share a slab (a worker's keys
	// within a batch of loadBatch).
	if want := len(ix.slots) / 2; fwd < want || keys < want {
		t.Fatalf("of %d requests, %d have their terms and %d their bigram keys right after the previous one's (want at least %d)", len(ix.slots), fwd, keys, want)
	}
}

// TestSlab: pieces follow each other in 32 KiB slices, each with its
// length as capacity (an append cannot run into the next); a piece that
// does not fit starts a new slice, or gets its own if it is long.
func TestSlab(t *testing.T) {
	var b slab[posting]
	per := slabBytes / 8
	a := b.take(3)
	c := b.take(0)
	d := b.take(5)
	if len(a) != 3 || cap(a) != 3 || len(d) != 5 || cap(d) != 5 || c == nil {
		t.Fatalf("pieces %d/%d, %v, %d/%d", len(a), cap(a), c, len(d), cap(d))
	}
	if uintptr(unsafe.Pointer(&a[0]))+3*unsafe.Sizeof(posting(0)) != uintptr(unsafe.Pointer(&d[0])) {
		t.Fatal("pieces not one after the other")
	}
	if cap(b.buf) != per {
		t.Fatalf("slab of %d postings, want %d (32 KiB)", cap(b.buf), per)
	}
	for i := 0; i < 4; i++ {
		b.take(per / 4)
	}
	if len(b.buf) != per/4 {
		t.Fatalf("a piece that did not fit: %d used of the new slab", len(b.buf))
	}
	b.take(per - len(b.buf)) // fills it
	if long := b.take(per/4 + 1); len(long) != per/4+1 || len(b.buf) != per || cap(b.buf) != per {
		t.Fatal("a long piece that did not fit started a slab")
	}
}

// TestLearnManyTextsLeavesNoPool: the analysed texts of many decisions at
// once (start-up's up to 10,000 further mentions) are not kept in
// analyzedPool, where they would outlive a collection (about 45 MiB when
// the bot reports ready).
func TestLearnManyTextsLeavesNoPool(t *testing.T) {
	docs := loadDocs(500)
	gen := textgen.New(4)
	var ds []bot.Decision
	for i := 0; i < 3000; i++ {
		d := docs[(i*7919)%len(docs)]
		ds = append(ds, bot.Decision{Key: fmt.Sprint("t", i), B: d.ID, Text: gen.Near(i, d.Title+"\n"+d.Description), Same: true})
	}
	cfg := DefaultConfig()
	cfg.MaxDecisions = 200
	ix := New(cfg)
	ix.Load(docs)
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m0)
	ix.Learn(ds)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	if grown := int64(m1.HeapAlloc) - int64(m0.HeapAlloc); grown > 4<<20 {
		t.Errorf("heap grew by %d bytes after learning 3,000 mentions at once (200 kept) and one collection", grown)
	}
}
