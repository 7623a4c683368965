package eval

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"sort"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
)

// Main runs `feedbackbot dedup eval` with args (what follows "dedup eval")
// and writes its report to stdout. Errors are bad flags, unreadable or
// malformed files and ids that are not in the corpus.
//
// Text output: the precision/recall table at score thresholds, then with
// --baseline and --bootstrap N a comment line ("# bootstrap over queries
// ...": the 95% interval of our R@5 and MAP over the baseline's, from N
// paired resamples of the queries), then with --baseline bm25 the
// baseline's summary line (prefixed "baseline=bm25 "), and last our
// summary line:
//
//	queries=N MAP=xx.xx MRR=xx.xx P@1=xx.xx P@5=xx.xx R@1=xx.xx R@5=xx.xx R@10=xx.xx
//
// With --json: one JSON object per query ({"id", "ranking": [{"id","score"}]},
// the full ranking) and, last, one summary object {"summary": {...},
// "baseline": {...}, "thresholds": [...]} holding the same figures.
func Main(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dedup eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	corpusPath := fs.String("corpus", "", "corpus `FILE` (JSON Lines {\"id\",\"title\",\"body\"})")
	queriesPath := fs.String("queries", "", "queries `FILE` (JSON Lines {\"id\",\"candidates\",\"positives\"})")
	baseline := fs.String("baseline", "", "also score a baseline: bm25 (plain BM25) or order (candidates as given)")
	asJSON := fs.Bool("json", false, "write one JSON object per query, then a summary object")
	fuse := fs.Bool("fuse-order", false, "re-ranking only: rank by the Borda sum of our rank and the given candidate order")
	trainPath := fs.String("train", "", "labelled pairs `FILE` (queries format) learned first, as past team decisions: positives merged, other candidates dismissed")
	rerankAll := fs.Bool("rerank-all", false, "retrieval only: rank the whole corpus by the full score (the ranking before session 13) instead of as the bot looks up: the first pass, then the full score of its re-ranking depth")
	folds := fs.Int("folds", 0, "cross-validate learning: split the queries' duplicate groups into `N` folds and rank each fold after learning the others")
	boot := fs.Int("bootstrap", 0, "with --baseline: resample the queries `N` times (paired, fixed seed) and report the 95% interval of our R@5 and MAP over the baseline's")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: feedbackbot dedup eval --corpus FILE --queries FILE [--train FILE] [--folds N] [--baseline bm25|order] [--bootstrap N] [--rerank-all] [--json]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *corpusPath == "" || *queriesPath == "" {
		fs.Usage()
		return errors.New("--corpus and --queries are required")
	}
	switch *baseline {
	case "", "bm25", "order":
	default:
		return fmt.Errorf("unknown baseline %q (want bm25 or order)", *baseline)
	}
	if *boot < 0 || *boot > maxBootstrap {
		return fmt.Errorf("--bootstrap %d: want 0 (off) to %d", *boot, maxBootstrap)
	}
	if *boot > 0 && *baseline == "" {
		return errors.New("--bootstrap needs --baseline (it compares our figures with the baseline's)")
	}
	c, err := readCorpus(*corpusPath)
	if err != nil {
		return fmt.Errorf("read corpus: %w", err)
	}
	qs, err := readQueries(*queriesPath, c)
	if err != nil {
		return fmt.Errorf("read queries: %w", err)
	}
	opt := Options{Baseline: *baseline, FuseOrder: *fuse, Folds: *folds, RerankAll: *rerankAll, Bootstrap: *boot}
	if *folds < 0 || *folds == 1 {
		return fmt.Errorf("--folds %d: want 0 (off) or at least 2", *folds)
	}
	if *trainPath != "" {
		if opt.Train, err = readQueries(*trainPath, c); err != nil {
			return fmt.Errorf("read training pairs: %w", err)
		}
	}
	r, err := Run(context.Background(), c, qs, opt)
	if err != nil {
		return err
	}
	if *asJSON {
		return r.writeJSON(stdout)
	}
	return r.writeText(stdout)
}

// rankedItem is one ranked candidate.
type rankedItem struct {
	ID    string  `json:"id"`
	Score float64 `json:"score"`
}

type queryResult struct {
	ID      string       `json:"id"`
	Ranking []rankedItem `json:"ranking"`
}

// Result is what a run measured.
type Result struct {
	Ours       Metrics
	Baseline   *Metrics
	BaseName   string
	Thresholds []ThresholdRow
	// Bootstrap is set when Options.Bootstrap and Options.Baseline are.
	Bootstrap *Bootstrap
	queries   []queryResult
}

// ThresholdRow is the precision and recall of "score >= Threshold means
// duplicate" over the candidate pairs (the top 10 per query).
type ThresholdRow struct {
	Threshold float64 `json:"threshold"`
	Predicted int     `json:"predicted"`
	Correct   int     `json:"correct"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
}

// pairCutoff is how many top-ranked pairs per query the threshold table
// considers.
const pairCutoff = 10

// Options select what Run measures besides our ranking.
type Options struct {
	// Baseline is "", "bm25" or "order".
	Baseline string
	// FuseOrder, for re-ranking data, ranks candidates by the sum of their
	// rank in our scores and their rank in the given order (Borda count,
	// ties broken by the given order). The given order is a search
	// engine's: the bot has no such order, so this measures what a
	// deployment that has one could reach. Scores are unchanged.
	FuseOrder bool
	// Train holds labelled pairs the index learns before ranking, as past
	// team decisions (Decisions).
	Train []labelledQuery
	// Folds > 1 cross-validates learning: the queries' duplicate groups
	// (queries linked through their positives) are split into Folds parts
	// (foldOf), and each part is ranked by an index that learned the other
	// parts (and Train).
	Folds int
	// RerankAll, for retrieval data (no candidates), ranks the whole
	// corpus by the full score. Without it the top of the ranking is the
	// bot's own lookup (the first pass, then the full score of
	// Index.LookupDepth candidates) and the rest follows in full-score
	// order: the bot never re-ranks more, and re-ranking everything can
	// lift a request the bot would not suggest.
	RerankAll bool
	// Config, when set, replaces dedup.DefaultConfig() (experiments).
	Config *dedup.Config
	// Bootstrap > 0, with a Baseline, resamples the queries that many
	// times (Result.Bootstrap).
	Bootstrap int
}

// maxBootstrap bounds --bootstrap (each sample reads every query once).
const maxBootstrap = 1_000_000

// Run ranks every query with the index the bot uses (and the baseline, if
// named) and measures the rankings.
func Run(ctx context.Context, c *corpus, qs []labelledQuery, opt Options) (*Result, error) {
	baseline := opt.Baseline
	docs := make([]bot.Doc, len(c.docs))
	for i, d := range c.docs {
		docs[i] = docOf(i, d)
	}
	folds := max(1, opt.Folds)
	fold := foldOf(qs, folds)
	rankings := make([][]rankedItem, len(qs))
	for f := 0; f < folds; f++ {
		cfg := dedup.DefaultConfig()
		if opt.Config != nil {
			cfg = *opt.Config
		}
		ix := dedup.New(cfg)
		ix.Load(docs)
		ds := Decisions(c, opt.Train, "train")
		if folds > 1 {
			var others []labelledQuery
			for i, q := range qs {
				if fold[i] != f {
					others = append(others, q)
				}
			}
			ds = append(ds, Decisions(c, others, "fold")...)
		}
		ix.Learn(ds)
		for i, q := range qs {
			if fold[i] != f {
				continue
			}
			r, err := rank(ctx, ix, c, q, opt)
			if err != nil {
				return nil, err
			}
			rankings[i] = r
		}
	}
	var bm *bm25
	if baseline == "bm25" {
		bm = newBM25(c)
	}
	res := &Result{BaseName: baseline}
	var ours, base Metrics
	type pair struct {
		score float64
		pos   bool
	}
	var pairs []pair
	var perOurs, perBase []figures
	totalPos := 0
	for qn, q := range qs {
		qi := c.pos[q.ID]
		pos := make(map[string]bool, len(q.Positives))
		for _, p := range q.Positives {
			if p != q.ID {
				pos[p] = true
			}
		}
		totalPos += len(pos)
		ranking := rankings[qn]
		rel := relevance(ranking, pos)
		ours.add(rel, len(pos))
		perOurs = append(perOurs, figuresOf(rel, len(pos)))
		for i := 0; i < len(ranking) && i < pairCutoff; i++ {
			pairs = append(pairs, pair{ranking[i].Score, pos[ranking[i].ID]})
		}
		res.queries = append(res.queries, queryResult{ID: q.ID, Ranking: ranking})

		switch baseline {
		case "order":
			ids := q.Candidates
			if len(ids) == 0 {
				ids = corpusOrder(c, qi)
			}
			rel := relevanceIDs(ids, pos)
			base.add(rel, len(pos))
			perBase = append(perBase, figuresOf(rel, len(pos)))
		case "bm25":
			ids := q.Candidates
			if len(ids) == 0 {
				ids = corpusOrder(c, qi)
			}
			qt := bm25Tokens(c.docs[qi].Title + " " + c.docs[qi].Body)
			br := make([]rankedItem, len(ids))
			for i, id := range ids {
				br[i] = rankedItem{ID: id, Score: bm.score(qt, c.pos[id])}
			}
			sort.SliceStable(br, func(i, j int) bool { return br[i].Score > br[j].Score })
			rel := relevance(br, pos)
			base.add(rel, len(pos))
			perBase = append(perBase, figuresOf(rel, len(pos)))
		}
	}
	res.Ours = ours.mean()
	if baseline != "" {
		b := base.mean()
		res.Baseline = &b
		res.Bootstrap = bootstrap(perOurs, perBase, opt.Bootstrap)
	}
	for t := 0.05; t < 0.999; t += 0.05 {
		row := ThresholdRow{Threshold: math.Round(t*100) / 100}
		for _, p := range pairs {
			if p.score >= row.Threshold {
				row.Predicted++
				if p.pos {
					row.Correct++
				}
			}
		}
		if row.Predicted > 0 {
			row.Precision = float64(row.Correct) / float64(row.Predicted)
		}
		if totalPos > 0 {
			row.Recall = float64(row.Correct) / float64(totalPos)
		}
		res.Thresholds = append(res.Thresholds, row)
	}
	return res, nil
}

// rank ranks one query's candidates (or the whole corpus) with ix.
func rank(ctx context.Context, ix *dedup.Index, c *corpus, q labelledQuery, opt Options) ([]rankedItem, error) {
	qi := c.pos[q.ID]
	text := c.text(qi)
	var ranking []rankedItem
	if len(q.Candidates) > 0 {
		ids := make([]int64, len(q.Candidates))
		for i, id := range q.Candidates {
			ids[i] = int64(c.pos[id]) + 1
		}
		cs, err := ix.ScoreIDs(ctx, text, ids)
		if err != nil {
			return nil, err
		}
		for i, cand := range cs {
			ranking = append(ranking, rankedItem{ID: q.Candidates[i], Score: cand.Score})
		}
		sort.SliceStable(ranking, func(i, j int) bool { return ranking[i].Score > ranking[j].Score })
		if opt.FuseOrder {
			ranking = fuseOrder(ranking, q.Candidates)
		}
		return ranking, nil
	}
	cs, err := ix.Similar(ctx, text, len(c.docs))
	if err != nil {
		return nil, err
	}
	if !opt.RerankAll {
		head, err := ix.Similar(ctx, text, ix.LookupDepth())
		if err != nil {
			return nil, err
		}
		cs = botOrder(head, cs)
	}
	seen := make(map[int]bool, len(cs))
	for _, cand := range cs {
		i := int(cand.RequestID - 1)
		if i == qi {
			continue
		}
		seen[i] = true
		ranking = append(ranking, rankedItem{ID: c.docs[i].ID, Score: cand.Score})
	}
	// Documents sharing no term come last, in corpus order.
	for i := range c.docs {
		if i != qi && !seen[i] {
			ranking = append(ranking, rankedItem{ID: c.docs[i].ID})
		}
	}
	return ranking, nil
}

// botOrder puts the bot's own lookup (head) first, then the rest of all
// in its order.
func botOrder(head, all []bot.Candidate) []bot.Candidate {
	out := make([]bot.Candidate, 0, len(all))
	in := make(map[int64]bool, len(head))
	for _, c := range head {
		in[c.RequestID] = true
		out = append(out, c)
	}
	for _, c := range all {
		if !in[c.RequestID] {
			out = append(out, c)
		}
	}
	return out
}

// Decisions turns labelled queries into the team decisions the index
// learns: each positive is a merge of the query into it, each other
// candidate a dismissed suggestion. Keys are prefix:query:other.
func Decisions(c *corpus, qs []labelledQuery, prefix string) []bot.Decision {
	var ds []bot.Decision
	for _, q := range qs {
		a := int64(c.pos[q.ID]) + 1
		pos := make(map[string]bool, len(q.Positives))
		for _, p := range q.Positives {
			if p == q.ID {
				continue
			}
			pos[p] = true
			ds = append(ds, bot.Decision{Key: prefix + ":" + q.ID + ":" + p, A: a, B: int64(c.pos[p]) + 1, Same: true})
		}
		for _, id := range q.Candidates {
			if id == q.ID || pos[id] {
				continue
			}
			ds = append(ds, bot.Decision{Key: prefix + ":" + q.ID + ":" + id, A: a, B: int64(c.pos[id]) + 1})
		}
	}
	return ds
}

// foldOf assigns each query to one of n folds by its duplicate group: the
// queries and positives linked to each other form a group, and the group's
// fold is the FNV-1a hash of its smallest id modulo n. So a pair and its
// reverse (A -> B, B -> A) are always in the same fold.
func foldOf(qs []labelledQuery, n int) []int {
	out := make([]int, len(qs))
	if n <= 1 {
		return out
	}
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		p, ok := parent[x]
		if !ok || p == x {
			parent[x] = x
			return x
		}
		r := find(p)
		parent[x] = r
		return r
	}
	union := func(a, b string) {
		ra, rb := find(a), find(b)
		if ra == rb {
			return
		}
		if rb < ra {
			ra, rb = rb, ra
		}
		parent[rb] = ra // the smallest id is the root
	}
	for _, q := range qs {
		find(q.ID)
		for _, p := range q.Positives {
			union(q.ID, p)
		}
	}
	for i, q := range qs {
		h := fnv.New32a()
		h.Write([]byte(find(q.ID)))
		out[i] = int(h.Sum32() % uint32(n))
	}
	return out
}

func corpusOrder(c *corpus, skip int) []string {
	ids := make([]string, 0, len(c.docs)-1)
	for i, d := range c.docs {
		if i != skip {
			ids = append(ids, d.ID)
		}
	}
	return ids
}

func relevance(r []rankedItem, pos map[string]bool) []bool {
	rel := make([]bool, len(r))
	for i, it := range r {
		rel[i] = pos[it.ID]
	}
	return rel
}

func relevanceIDs(ids []string, pos map[string]bool) []bool {
	rel := make([]bool, len(ids))
	for i, id := range ids {
		rel[i] = pos[id]
	}
	return rel
}

// SummaryLine formats metrics as the eval's summary line.
func SummaryLine(m Metrics) string {
	return fmt.Sprintf("queries=%d MAP=%.2f MRR=%.2f P@1=%.2f P@5=%.2f R@1=%.2f R@5=%.2f R@10=%.2f",
		m.Queries, 100*m.MAP, 100*m.MRR, 100*m.P1, 100*m.P5, 100*m.R1, 100*m.R5, 100*m.R10)
}

func (r *Result) writeText(w io.Writer) error {
	fmt.Fprintf(w, "# is-a-duplicate at score >= threshold, over the top %d pairs per query (recall over all labelled positives)\n", pairCutoff)
	fmt.Fprintf(w, "%-9s %9s %7s %9s %7s\n", "threshold", "predicted", "correct", "precision", "recall")
	for _, row := range r.Thresholds {
		fmt.Fprintf(w, "%-9.2f %9d %7d %9.2f %7.2f\n", row.Threshold, row.Predicted, row.Correct, 100*row.Precision, 100*row.Recall)
	}
	if r.Bootstrap != nil {
		r.Bootstrap.writeText(w, r.BaseName, r.Ours.Queries)
	}
	if r.Baseline != nil {
		fmt.Fprintf(w, "baseline=%s %s\n", r.BaseName, SummaryLine(*r.Baseline))
	}
	_, err := fmt.Fprintln(w, SummaryLine(r.Ours))
	return err
}

type jsonMetrics struct {
	Queries int     `json:"queries"`
	MAP     float64 `json:"MAP"`
	MRR     float64 `json:"MRR"`
	P1      float64 `json:"P@1"`
	P5      float64 `json:"P@5"`
	R1      float64 `json:"R@1"`
	R5      float64 `json:"R@5"`
	R10     float64 `json:"R@10"`
}

func toJSON(m Metrics) *jsonMetrics {
	r := func(x float64) float64 { return math.Round(x*10000) / 100 }
	return &jsonMetrics{m.Queries, r(m.MAP), r(m.MRR), r(m.P1), r(m.P5), r(m.R1), r(m.R5), r(m.R10)}
}

func (r *Result) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	for _, q := range r.queries {
		if err := enc.Encode(q); err != nil {
			return err
		}
	}
	sum := struct {
		Summary    *jsonMetrics   `json:"summary"`
		Baseline   *jsonMetrics   `json:"baseline,omitempty"`
		BaseName   string         `json:"baseline_name,omitempty"`
		Thresholds []ThresholdRow `json:"thresholds"`
		Bootstrap  *Bootstrap     `json:"bootstrap,omitempty"`
	}{Summary: toJSON(r.Ours), BaseName: r.BaseName, Thresholds: r.Thresholds, Bootstrap: r.Bootstrap}
	if r.Baseline != nil {
		sum.Baseline = toJSON(*r.Baseline)
	}
	return enc.Encode(sum)
}

// fuseOrder re-sorts ranking by (our rank + given rank), ties by given rank.
func fuseOrder(ranking []rankedItem, given []string) []rankedItem {
	gr := make(map[string]int, len(given))
	for i, id := range given {
		gr[id] = i
	}
	type item struct {
		it        rankedItem
		sum, orig int
	}
	items := make([]item, len(ranking))
	for i, it := range ranking {
		items[i] = item{it, i + gr[it.ID], gr[it.ID]}
	}
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].sum != items[j].sum {
			return items[i].sum < items[j].sum
		}
		return items[i].orig < items[j].orig
	})
	out := make([]rankedItem, len(items))
	for i, x := range items {
		out[i] = x.it
	}
	return out
}
