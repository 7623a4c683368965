package eval

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
)

// syntheticCorpus is n documents of random words, enough for the bot's
// lookup to re-rank fewer candidates than the corpus holds.
func syntheticCorpus(n int) *corpus {
	words := strings.Fields("export csv dark mode board slack discord filter search tags sso okta login mobile app notifications email digest weekly report api webhook github linear jira sync import bulk edit merge duplicate vote customer portal roadmap status release changelog comment thread reply mention keyboard shortcuts theme font size language")
	r := rand.New(rand.NewPCG(7, 11))
	pick := func(k int) string {
		w := make([]string, k)
		for i := range w {
			w[i] = words[r.IntN(len(words))]
		}
		return strings.Join(w, " ")
	}
	c := &corpus{pos: map[string]int{}}
	for i := range n {
		id := fmt.Sprintf("d%d", i)
		c.pos[id] = i
		c.docs = append(c.docs, doc{ID: id, Title: pick(4 + r.IntN(4)), Body: pick(10 + r.IntN(30))})
	}
	return c
}

func TestRankAsTheBotLooksUp(t *testing.T) {
	ctx := context.Background()
	c := syntheticCorpus(600)
	docs := make([]bot.Doc, len(c.docs))
	for i, d := range c.docs {
		docs[i] = docOf(i, d)
	}
	ix := dedup.New(dedup.DefaultConfig())
	ix.Load(docs)
	depth := ix.LookupDepth()
	if depth <= 0 || depth >= len(c.docs) {
		t.Fatalf("LookupDepth %d on %d documents: want fewer than the corpus", depth, len(c.docs))
	}
	ids := func(r []rankedItem) []string {
		out := make([]string, len(r))
		for i, x := range r {
			out[i] = x.ID
		}
		return out
	}
	differ := 0
	for qi := range 60 {
		q := labelledQuery{ID: c.docs[qi].ID}
		asBot, err := rank(ctx, ix, c, q, Options{})
		if err != nil {
			t.Fatal(err)
		}
		all, err := rank(ctx, ix, c, q, Options{RerankAll: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(asBot) != len(c.docs)-1 || len(all) != len(c.docs)-1 {
			t.Fatalf("query %d: rankings of %d and %d, want %d", qi, len(asBot), len(all), len(c.docs)-1)
		}
		a, b := ids(asBot), ids(all)
		sa, sb := slices.Clone(a), slices.Clone(b)
		slices.Sort(sa)
		slices.Sort(sb)
		if !slices.Equal(sa, sb) {
			t.Fatalf("query %d: the two rankings hold different documents", qi)
		}
		// The head is exactly what the bot's lookup returns.
		cs, err := ix.Similar(ctx, c.text(qi), depth)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, x := range cs {
			if int(x.RequestID-1) != qi {
				want = append(want, c.docs[x.RequestID-1].ID)
			}
		}
		if !slices.Equal(a[:len(want)], want) {
			t.Fatalf("query %d: head %v, want the bot's lookup %v", qi, a[:len(want)], want)
		}
		if !slices.Equal(a[:10], b[:10]) {
			differ++
		}
	}
	// Otherwise the test above could not tell the two rankings apart.
	if differ == 0 {
		t.Fatal("re-ranking every document never changed a top 10 here: the corpus does not test the difference")
	}
	t.Logf("%d of 60 top-10s differ between the bot's lookup and re-ranking every document", differ)
}

func TestMain_RerankAll(t *testing.T) {
	for _, args := range [][]string{nil, {"--rerank-all"}} {
		var out, errb strings.Builder
		a := append([]string{"--corpus", "testdata/corpus.jsonl", "--queries", "testdata/queries.jsonl"}, args...)
		if err := Main(a, &out, &errb); err != nil {
			t.Fatalf("Main %v: %v (%s)", args, err, errb.String())
		}
		ls := lines(out.String())
		if s := summary(t, ls[len(ls)-1]); s["queries"] != 2 || s["MAP"] != 100 {
			t.Errorf("Main %v: %s", args, ls[len(ls)-1])
		}
	}
}
