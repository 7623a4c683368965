package bot_test

import (
	"context"
	"fmt"
	"iter"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
	"github.com/feedbackbot/feedbackbot/internal/textgen"
	"github.com/feedbackbot/feedbackbot/store"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// seqIndex is a duplicate index that records how LoadIndex fills it.
type seqIndex struct {
	*dedup.Index
	seqs, loads int
	// first is how many docs the store had yielded when the index took
	// the first one.
	yielded *int
	first   int
	docs    int
}

func (s *seqIndex) Load(docs []bot.Doc) {
	s.loads++
	s.Index.Load(docs)
}

func (s *seqIndex) LoadSeq(docs iter.Seq[bot.Doc]) {
	s.seqs++
	s.Index.LoadSeq(func(yield func(bot.Doc) bool) {
		for d := range docs {
			if s.docs == 0 {
				s.first = *s.yielded
			}
			s.docs++
			if !yield(d) {
				return
			}
		}
	})
}

// countingStore counts the docs EachDoc yields.
type countingStore struct {
	*store.DB
	yielded int
}

func (c *countingStore) EachDoc(ctx context.Context, fn func(bot.Doc) error) error {
	return c.DB.EachDoc(ctx, func(d bot.Doc) error {
		c.yielded++
		return fn(d)
	})
}

// TestLoadIndexStreams: LoadIndex hands a scorer that takes a stream
// (bot.SeqLoader) each doc as the store reads it, once, rather than
// chunks held in between, and the index it builds answers as one built by
// Upserting the same docs.
func TestLoadIndexStreams(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := openDB(t, dsn)
		gen := textgen.New(3)
		const n = 3000
		if err := db.SeedBulk(ctx, store.SeedSpec{Requests: n, MentionsPerRequest: 1, Text: gen.Text, Reply: gen.Reply}); err != nil {
			t.Fatal(err)
		}
		cs := &countingStore{DB: db}
		ix := &seqIndex{Index: dedup.New(dedup.DefaultConfig()), yielded: &cs.yielded}
		e := bot.NewEngine(cs, ix, bot.DefaultConfig(), nil)
		if err := e.LoadIndex(ctx); err != nil {
			t.Fatal(err)
		}
		if ix.seqs != 1 || ix.loads != 0 || ix.docs != n || cs.yielded != n {
			t.Fatalf("LoadSeq %d times, Load %d times, %d docs of %d yielded (want one stream of %d)", ix.seqs, ix.loads, ix.docs, cs.yielded, n)
		}
		if ix.first != 1 {
			t.Fatalf("the index took its first doc after the store had read %d", ix.first)
		}
		up := dedup.New(dedup.DefaultConfig())
		if err := db.EachDoc(ctx, func(d bot.Doc) error { up.Upsert(d); return nil }); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 40; i++ {
			q := gen.Near(i, gen.Text(i*71%n))
			a, _ := ix.Similar(ctx, q, 5)
			b, _ := up.Similar(ctx, q, 5)
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Fatalf("query %d: loaded %v, upserted %v", i, a, b)
			}
		}
	})
}
