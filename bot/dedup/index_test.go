package dedup

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/textgen"
)

func similarIDs(t *testing.T, ix *Index, text string, limit int) []int64 {
	t.Helper()
	cs, err := ix.Similar(context.Background(), text, limit)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(cs))
	for i, c := range cs {
		if c.Score < 0 || c.Score > 1 {
			t.Errorf("score %v of %d out of [0,1]", c.Score, c.RequestID)
		}
		if i > 0 && c.Score > cs[i-1].Score {
			t.Errorf("not sorted: %v", cs)
		}
		ids[i] = c.RequestID
	}
	return ids
}

func contains(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func seed(ix *Index) {
	docs := []bot.Doc{
		{ID: 1, Title: "Dark mode", Description: "Please add a dark theme to the dashboard", Active: true},
		{ID: 2, Title: "Export to CSV", Description: "We need to export reports as CSV files", Active: true},
		{ID: 3, Title: "SSO login with Okta", Description: "Support single sign-on through Okta SAML", Active: true},
		{ID: 4, Title: "Slack notifications", Description: "Notify a Slack channel when a report is ready", Active: true},
	}
	for _, d := range docs {
		ix.Upsert(d)
	}
}

func TestIndexConsistency(t *testing.T) {
	ix := New(DefaultConfig())
	seed(ix)
	const q = "Dark theme\nCan we get a dark mode for the dashboard?"

	t.Run("Add", func(t *testing.T) {
		ids := similarIDs(t, ix, q, 3)
		if len(ids) == 0 || ids[0] != 1 {
			t.Fatalf("want request 1 first, got %v", ids)
		}
		if ix.Len() != 4 {
			t.Fatalf("Len = %d", ix.Len())
		}
	})
	t.Run("Update", func(t *testing.T) {
		ix.Upsert(bot.Doc{ID: 1, Title: "Invoices in PDF", Description: "Download invoices as PDF", Active: true})
		if ids := similarIDs(t, ix, q, 3); contains(ids, 1) {
			t.Fatalf("old text of 1 still matches: %v", ids)
		}
		if ids := similarIDs(t, ix, "PDF invoices", 3); len(ids) == 0 || ids[0] != 1 {
			t.Fatalf("new text of 1 does not match: %v", ids)
		}
		if ix.Len() != 4 {
			t.Fatalf("Len = %d after update", ix.Len())
		}
	})
	t.Run("Merge", func(t *testing.T) {
		ix.Upsert(bot.Doc{ID: 5, Title: "Dark mode please", Description: "dark theme for the dashboard", Active: true})
		if ids := similarIDs(t, ix, q, 3); !contains(ids, 5) {
			t.Fatalf("5 not found: %v", ids)
		}
		ix.Upsert(bot.Doc{ID: 5, Title: "Dark mode please", Description: "dark theme for the dashboard", Active: false})
		if ids := similarIDs(t, ix, q, 3); contains(ids, 5) {
			t.Fatalf("merged 5 returned: %v", ids)
		}
	})
	t.Run("Unmerge", func(t *testing.T) {
		ix.Upsert(bot.Doc{ID: 5, Title: "Dark mode please", Description: "dark theme for the dashboard", Active: true})
		if ids := similarIDs(t, ix, q, 3); len(ids) == 0 || ids[0] != 5 {
			t.Fatalf("unmerged 5 not first: %v", ids)
		}
	})
	t.Run("Remove", func(t *testing.T) {
		ix.Remove(5)
		ix.Remove(5) // twice is fine
		ix.Remove(99)
		if ids := similarIDs(t, ix, q, 3); contains(ids, 5) {
			t.Fatalf("removed 5 returned: %v", ids)
		}
		if ix.Len() != 4 {
			t.Fatalf("Len = %d after remove", ix.Len())
		}
		// The freed slot is reused without leaking the old postings.
		ix.Upsert(bot.Doc{ID: 6, Title: "Okta SSO", Description: "SAML single sign-on", Active: true})
		if ids := similarIDs(t, ix, q, 3); contains(ids, 6) {
			t.Fatalf("6 matches the dark mode query: %v", ids)
		}
		if ids := similarIDs(t, ix, "SSO through Okta", 3); !contains(ids, 6) || !contains(ids, 3) {
			t.Fatalf("want 3 and 6: %v", ids)
		}
	})
	t.Run("RemoveAll", func(t *testing.T) {
		for _, id := range []int64{1, 2, 3, 4, 6} {
			ix.Remove(id)
		}
		if ids := similarIDs(t, ix, q, 3); len(ids) != 0 {
			t.Fatalf("empty index returned %v", ids)
		}
		for _, te := range ix.terms {
			if len(te.posts) != 0 {
				t.Fatalf("term %q keeps %d postings", te.text, len(te.posts))
			}
		}
		for f, s := range ix.sumLen {
			if s != 0 {
				t.Fatalf("field %d length sum %v", f, s)
			}
		}
	})
}

func TestSimilarScores(t *testing.T) {
	ix := New(DefaultConfig())
	seed(ix)
	tests := []struct {
		name    string
		text    string
		first   int64
		min     float64 // lowest acceptable score of the first candidate
		max     float64
		wantNil bool
	}{
		{name: "Identical", text: "Export to CSV\nWe need to export reports as CSV files", first: 2, min: 0.95, max: 1},
		{name: "Paraphrase", text: "CSV export\nexporting the reports to csv would help", first: 2, min: 0.3, max: 0.95},
		{name: "Typo-free unrelated", text: "Mobile app for iPhone\nan iOS application", wantNil: true},
		{name: "Markup", text: "<@U1> Okta <https://okta.com|SSO> login", first: 3, min: 0.2, max: 1},
		{name: "OnlyStopWords", text: "the and of", wantNil: true},
		{name: "Empty", text: "", wantNil: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := ix.Similar(context.Background(), tt.text, 3)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantNil {
				if len(cs) != 0 {
					t.Fatalf("want none, got %v", cs)
				}
				return
			}
			if len(cs) == 0 || cs[0].RequestID != tt.first {
				t.Fatalf("want %d first, got %v", tt.first, cs)
			}
			if s := cs[0].Score; s < tt.min || s > tt.max {
				t.Fatalf("score %v not in [%v,%v]", s, tt.min, tt.max)
			}
		})
	}
}

func TestLoadEqualsUpsert(t *testing.T) {
	docs := synthDocs(textgen.New(1), 3000)
	a, b := New(DefaultConfig()), New(DefaultConfig())
	for _, d := range docs {
		a.Upsert(d)
	}
	b.Load(docs)
	sameLookups(t, a, b, docs)
}

// sameLookups fails t unless up (built by Upsert) and bulk (by a bulk
// load) answer 50 near-duplicates of docs alike.
func sameLookups(t *testing.T, up, bulk *Index, docs []bot.Doc) {
	t.Helper()
	gen := textgen.New(2)
	for i := 0; i < 50; i++ {
		d := docs[(i*7919)%len(docs)]
		q := gen.Near(i, d.Title+"\n"+d.Description)
		ca, _ := up.Similar(context.Background(), q, 5)
		cb, _ := bulk.Similar(context.Background(), q, 5)
		if fmt.Sprint(ca) != fmt.Sprint(cb) {
			t.Fatalf("Load and Upsert differ:\n%v\n%v", ca, cb)
		}
	}
}

func TestSimilarLimitAndContext(t *testing.T) {
	ix := New(DefaultConfig())
	for i := int64(1); i <= 20; i++ {
		ix.Upsert(bot.Doc{ID: i, Title: fmt.Sprintf("report export %d", i), Active: true})
	}
	if ids := similarIDs(t, ix, "report export", 3); len(ids) != 3 {
		t.Fatalf("limit 3 gave %d", len(ids))
	}
	if ids := similarIDs(t, ix, "report export", 0); len(ids) != 0 {
		t.Fatalf("limit 0 gave %d", len(ids))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.Similar(ctx, "report", 3); err == nil {
		t.Fatal("want error from a cancelled context")
	}
}

func TestScoreIDs(t *testing.T) {
	ix := New(DefaultConfig())
	seed(ix)
	ix.Upsert(bot.Doc{ID: 9, Title: "CSV export", Active: false})
	cs, err := ix.ScoreIDs(context.Background(), "export CSV", []int64{4, 2, 9, 42})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 4 || cs[0].RequestID != 4 || cs[1].RequestID != 2 {
		t.Fatalf("order not kept: %v", cs)
	}
	if cs[1].Score <= cs[0].Score || cs[2].Score != 0 || cs[3].Score != 0 {
		t.Fatalf("scores: %v", cs)
	}
	sim, _ := ix.Similar(context.Background(), "export CSV", 1)
	if sim[0].RequestID != 2 || sim[0].Score != cs[1].Score {
		t.Fatalf("ScoreIDs and Similar disagree: %v vs %v", sim, cs)
	}
}

func TestConcurrency(t *testing.T) {
	ix := New(DefaultConfig())
	seed(ix)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(2)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				id := int64(100 + w*1000 + i%20)
				ix.Upsert(bot.Doc{ID: id, Title: fmt.Sprintf("export report %d", i), Description: "csv dark mode", Active: i%3 != 0})
				if i%7 == 0 {
					ix.Remove(id)
				}
			}
		}(w)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if _, err := ix.Similar(context.Background(), "Export\nCSV reports in dark mode", 3); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if _, err := ix.Similar(context.Background(), "export", 3); err != nil {
		t.Fatal(err)
	}
	checkDFs(t, ix)
}

// checkDFs checks that the packed document frequencies match the postings.
func checkDFs(t *testing.T, ix *Index) {
	t.Helper()
	for id, te := range ix.terms {
		if ix.df(uint32(id)) != len(te.posts) {
			t.Fatalf("df of %q: %d, %d postings", te.text, ix.df(uint32(id)), len(te.posts))
		}
		if concept := ix.dfs[id]&dfConcept != 0; concept != ix.concept[id] {
			t.Fatalf("%q: concept %v in dfs, %v in concept", te.text, concept, ix.concept[id])
		}
	}
}

// TestSimilarPrunedEqualsFull checks that the re-ranking, which scores only
// the candidates that can still be among the best limit, returns exactly
// the best limit of scoring all of them, and that the typo index finds the
// same words as a plain lookup would.
func TestSimilarPrunedEqualsFull(t *testing.T) {
	docs := synthDocs(textgen.New(3), 2000)
	ix := New(DefaultConfig())
	ix.Load(docs)
	gen := textgen.New(4)
	ctx := context.Background()
	for i := 0; i < 80; i++ {
		d := docs[(i*7919)%len(docs)]
		q := gen.Near(i, d.Title+"\n"+d.Description)
		for _, limit := range []int{1, 3, 10} {
			got, err := ix.Similar(ctx, q, limit)
			if err != nil {
				t.Fatal(err)
			}
			want := similarUnpruned(ix, q, limit)
			for i := range got {
				got[i].Reason = "" // similarUnpruned gives none
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("limit %d:\n got %v\nwant %v", limit, got, want)
			}
		}
	}
	for i := 0; i < len(docs); i += 3 {
		ix.Remove(docs[i].ID)
	}
	checkDFs(t, ix)
	for _, te := range ix.terms {
		if filterable(te.text) && !ix.words.mayHave([]byte(te.text)) {
			t.Fatalf("word filter misses %q", te.text)
		}
		if filterable(te.text) {
			checkLetters(t, ix.words, te.text)
		}
	}
}

// similarUnpruned is Similar with every first-pass candidate scored.
func similarUnpruned(ix *Index, text string, limit int) []bot.Candidate {
	var z *scorer
	return scoreFirstPass(ix, text, limit, func(q *query, sc *scratch, s uint32) float64 {
		if z == nil {
			z = ix.newScorer(q, sc)
		}
		return z.score(s)
	})
}

// scoreFirstPass scores every first-pass candidate of text (as Similar
// finds them, under the read lock) with score and returns the best limit,
// best first, ties by id (no reasons).
func scoreFirstPass(ix *Index, text string, limit int, score func(q *query, sc *scratch, s uint32) float64) []bot.Candidate {
	qa := ix.analyzeQuery(text)
	defer qa.release()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	sc := ix.getScratch()
	defer ix.putScratch(sc)
	q := ix.buildQuery(qa, sc)
	if len(q.terms) == 0 {
		return nil
	}
	if len(sc.acc) < len(ix.slots) {
		sc.acc = make([]float32, len(ix.slots))
	}
	cands := slices.Clone(ix.firstPass(q, sc, max(limit, ix.rerankDepth())))
	out := []bot.Candidate{}
	for _, s := range cands {
		out = append(out, bot.Candidate{RequestID: ix.slots[s].id, Score: score(q, sc, s)})
	}
	slices.SortFunc(out, func(a, b bot.Candidate) int {
		if a.Score != b.Score {
			return cmp.Compare(b.Score, a.Score)
		}
		return cmp.Compare(a.RequestID, b.RequestID)
	})
	return out[:min(limit, len(out))]
}

// TestUpsertUnchanged checks that upserting a request the index holds as it
// is (what following other replicas does with this replica's own captures)
// leaves its entry untouched, while any change of its texts or of Active is
// indexed.
func TestUpsertUnchanged(t *testing.T) {
	ix := New(DefaultConfig())
	seed(ix)
	// postsOf lists, per term of request id, where its posting is in the
	// term's list and its impact.
	postsOf := func(id int64) []string {
		s := ix.byID[id]
		var out []string
		for _, p := range ix.slots[s].fwd {
			for i, q := range ix.terms[p.slot()].posts {
				if q.slot == s {
					out = append(out, fmt.Sprint(p.slot(), i, q.impact))
				}
			}
		}
		return out
	}
	d := bot.Doc{ID: 1, Title: "Dark mode", Description: "Please add a dark theme to the dashboard", Active: true}
	before := postsOf(1)
	// Another request changes the average lengths that impacts are
	// computed with: re-indexing request 1 would change its impacts and
	// the order of its postings.
	ix.Upsert(bot.Doc{ID: 5, Title: "Dark theme for the mobile app", Description: "The app is far too bright at night in bed", Active: true})
	ix.Upsert(d)
	if got := postsOf(1); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Fatalf("unchanged doc re-indexed:\n got %v\nwant %v", got, before)
	}
	checkDFs(t, ix)

	d.Active = false
	ix.Upsert(d)
	if ids := similarIDs(t, ix, "dark mode dashboard", 5); contains(ids, 1) {
		t.Fatalf("inactive request returned: %v", ids)
	}
	d.Active = true
	ix.Upsert(d)
	if ids := similarIDs(t, ix, "dark mode dashboard", 5); !contains(ids, 1) {
		t.Fatalf("active again, not returned: %v", ids)
	}
	// The texts are hashed with their lengths: moving a word from the
	// title to the description is a change.
	for _, c := range []bot.Doc{
		{ID: 1, Title: "Dark mode Please", Description: "add a dark theme to the dashboard", Active: true},
		{ID: 1, Title: "Dark mode", Description: "Please add a dark theme to the dashboard", Extra: []string{"night"}, Active: true},
		{ID: 1, Title: "Kanban board", Description: "Drag cards between columns", Active: true},
	} {
		ix.Upsert(c)
		want := New(DefaultConfig())
		seed(want)
		want.Upsert(bot.Doc{ID: 5, Title: "Dark theme for the mobile app", Description: "The app is far too bright at night in bed", Active: true})
		want.Upsert(c)
		for _, q := range []string{"dark mode dashboard", "kanban columns", "please night"} {
			got, w := similarIDs(t, ix, q, 5), similarIDs(t, want, q, 5)
			if !contains(got, 1) && contains(w, 1) || contains(got, 1) && !contains(w, 1) {
				t.Fatalf("after %+v, %q: got %v, want %v", c, q, got, w)
			}
		}
	}
	checkDFs(t, ix)
}

// TestSimilarListsEachRequestOnce: a pair of query stop words joined into
// a word that requests write ("may be" / "maybe", "in its" / "inits") is a
// query term of weight 0; two of them reading the same request listed it
// twice among the candidates, and Similar returned it twice.
func TestSimilarListsEachRequestOnce(t *testing.T) {
	ix := New(DefaultConfig())
	ix.Upsert(bot.Doc{ID: 1, Title: "Dark mode maybe", Description: "Maybe a dark theme for the dashboard", Active: true})
	ix.Upsert(bot.Doc{ID: 2, Title: "Maybe the inits fail", Description: "The inits maybe hang", Active: true})
	ix.Upsert(bot.Doc{ID: 3, Title: "Pick a place for the export", Description: "Let us choose the place of the CSV export", Active: true})
	ids := similarIDs(t, ix, "It may be in its place\nWe may be done, in its time", 10)
	if !contains(ids, 3) {
		t.Fatalf("ids = %v, want 3 among them", ids)
	}
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("request %d listed twice: %v", id, ids)
		}
		seen[id] = true
	}
}

// TestUpsertSharesSimilarAnalysis checks that the Upsert of a request
// just checked with Similar (the capture path) takes Similar's analysis,
// and indexes exactly what analysing the request again indexes: the same
// terms, counts, lengths, bigrams (with their fields) and impacts as an
// index that only upserts. Texts whose first line Similar would not read
// as the title are analysed again.
func TestUpsertSharesSimilarAnalysis(t *testing.T) {
	gen := textgen.New(21)
	shared, plain := New(DefaultConfig()), New(DefaultConfig())
	ctx := context.Background()
	var docs []bot.Doc
	for i := 0; i < 400; i++ {
		title, desc := textgen.Split(gen.Text(i))
		switch i % 10 {
		case 3:
			title = "  " + title // trimmed by splitTitle
		case 5:
			desc = "" // a title alone
		case 7:
			title = "" // no title
		}
		d := bot.Doc{ID: int64(i + 1), Title: title, Description: desc, Active: true}
		docs = append(docs, d)
		if _, err := shared.Similar(ctx, d.Title+"\n"+d.Description, 5); err != nil {
			t.Fatal(err)
		}
		shared.Upsert(d)
		plain.Upsert(d)
	}
	if h := shared.shared.hits; h < 300 {
		t.Fatalf("Upsert took %d of Similar's analyses", h)
	}
	// The same term ids (Upsert reads those Similar found).
	if len(shared.terms) != len(plain.terms) {
		t.Fatalf("%d terms, want %d", len(shared.terms), len(plain.terms))
	}
	for id := range plain.terms {
		if got, want := shared.terms[id].text, plain.terms[id].text; got != want {
			t.Fatalf("term %d is %q, want %q", id, got, want)
		}
	}
	dump := func(ix *Index, id int64) string {
		s := ix.byID[id]
		m := ix.slots[s]
		var b strings.Builder
		fmt.Fprint(&b, ix.lens[s], " ") // not m.sum: each index has its own hash seed
		for _, p := range m.fwd {
			te := &ix.terms[p.slot()]
			for _, q := range te.posts {
				if q.slot == s {
					fmt.Fprint(&b, te.text, p&0xFFFFFF, q.impact, " ")
				}
			}
		}
		// Bigram hashes are of term texts, so they compare across indexes.
		fmt.Fprint(&b, m.bigrams)
		return b.String()
	}
	for _, d := range docs {
		if got, want := dump(shared, d.ID), dump(plain, d.ID); got != want {
			t.Fatalf("request %d (%q / %q):\n got %s\nwant %s", d.ID, d.Title, d.Description, got, want)
		}
	}
}

// checkLetters fails unless the word filter's letter cells have each
// letter of w at its position (w with a wildcard there).
func checkLetters(t *testing.T, f *wordFilter, w string) {
	t.Helper()
	for i := 0; i < len(w); i++ {
		b := []byte(w)
		b[i] = 0
		if f.mayFill(polyHash(b), len(b))&(1<<(w[i]-'a')) == 0 {
			t.Fatalf("letter cells miss %q at %d", w, i)
		}
	}
}
