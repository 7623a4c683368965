package dedup

import (
	"context"
	"slices"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/textgen"
)

// Similar re-ranks a quarter of Config.RerankDepth on a small board, all of
// it from rerankFullAt active requests, in proportion between; and on a
// generated board of 20,000 requests the suggestions (above the 0.20
// threshold) are those of re-ranking twice as many for 99% of queries.
func TestRerankDepthFollowsTheBoard(t *testing.T) {
	ix := New(DefaultConfig())
	for _, c := range []struct{ live, want int }{
		{0, 50}, {20_000, 50}, {25_000, 50}, {50_000, 100}, {75_000, 150}, {100_000, 200}, {1_000_000, 200},
	} {
		ix.nLive = c.live
		if got := ix.rerankDepth(); got != c.want {
			t.Errorf("%d active requests: re-rank %d, want %d", c.live, got, c.want)
		}
	}

	if testing.Short() {
		t.Skip("builds two boards of 20,000 requests")
	}
	gen := textgen.New(3)
	docs := make([]bot.Doc, 20_000)
	for i := range docs {
		title, desc := textgen.Split(gen.Text(i))
		docs[i] = bot.Doc{ID: int64(i + 1), Title: title, Description: desc, Active: true}
	}
	cfg := DefaultConfig()
	small := New(cfg)
	small.Load(docs)
	cfg.RerankDepth *= 2 // re-ranks 200 here
	wide := New(cfg)
	wide.Load(docs)
	if small.rerankDepth()*2 != wide.rerankDepth() {
		t.Fatalf("re-rank %d and %d", small.rerankDepth(), wide.rerankDepth())
	}
	suggested := func(ix *Index, q string) []int64 {
		cs, err := ix.Similar(context.Background(), q, 5)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, c := range cs {
			if c.Score >= 0.2 {
				ids = append(ids, c.RequestID)
			}
		}
		return ids
	}
	with, differ := 0, 0
	for k := range 500 {
		q := gen.Text(len(docs) + k)
		a, b := suggested(small, q), suggested(wide, q)
		if !slices.Equal(a, b) {
			differ++
			t.Logf("query %d: suggested %v, re-ranking twice as many %v", k, a, b)
		}
		if len(b) > 0 {
			with++
		}
	}
	if with < 50 {
		t.Fatalf("only %d of 500 queries got suggestions: the board has too few near-duplicates to tell", with)
	}
	// 1 of 500 when this was written (a third suggestion missed).
	if differ > 5 {
		t.Errorf("%d of 500 queries got other suggestions than re-ranking twice as many, want at most 1%%", differ)
	}
}
