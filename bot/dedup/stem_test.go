package dedup

import (
	"bufio"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/internal/textgen"
	"github.com/kljensen/snowball/english"
)

// refStem is the stem the index used before snowballStem:
// github.com/kljensen/snowball, kept as the reference of the tests.
func refStem(w string) string { return english.Stem(w, true) }

// analyzerWords calls fn with each word of text that the analyzer stems
// (term: words of two letters or more, whole lower-case identifiers) and
// with each pair of adjacent sequence words that addJoin stems (both ASCII
// lower case, written together, four letters or more).
func analyzerWords(text string, fn func(w string)) {
	prev := ""
	forEachToken(text, func(t Token, seq bool) {
		if t.Kind == KindWord && len(t.Text) >= 2 || t.Kind == KindIdent && isPlainLower(t.Text) {
			fn(t.Text)
		}
		if !seq {
			return
		}
		if t.Kind != KindWord || !isPlainLower(t.Text) {
			prev = ""
			return
		}
		if prev != "" && len(prev)+len(t.Text) >= 4 {
			fn(prev + t.Text)
		}
		prev = t.Text
	})
}

// sharedCorpora returns the texts (titles and bodies) of the corpora in
// ../shared/data; it skips the test when they are absent, unless CI=true.
func sharedCorpora(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "shared", "data", "*", "*corpus.jsonl"))
	if len(files) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("shared data missing in CI")
		}
		t.Skip("shared data not present")
	}
	var texts []string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			var d struct{ Title, Body string }
			if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			texts = append(texts, d.Title, d.Body)
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return texts
}

// benchTexts are the synthetic texts of the benchmarks and bench capture
// (internal/textgen), with near-duplicates (misspelt words).
func benchTexts(n int) []string {
	var texts []string
	for _, seed := range []uint64{1, 42} {
		gen := textgen.New(seed)
		for i := 0; i < n; i++ {
			text := gen.Text(i)
			texts = append(texts, text, gen.Near(i, text))
		}
	}
	return texts
}

func checkStems(t *testing.T, what string, texts []string) {
	t.Helper()
	seen := map[string]bool{}
	bad := 0
	for _, text := range texts {
		analyzerWords(text, func(w string) {
			if seen[w] {
				return
			}
			seen[w] = true
			got, want := snowballStem(w), refStem(w)
			if gen := generatedStem(w); got != want || gen != want {
				if bad++; bad <= 20 {
					t.Errorf("%s: stem(%q) = %q (generated %q), kljensen/snowball %q", what, w, got, gen, want)
				}
			}
		})
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d words stemmed differently", what, bad, len(seen))
	}
	t.Logf("%s: %d distinct words and joined pairs", what, len(seen))
	if len(seen) < 1000 {
		t.Fatalf("%s: only %d words", what, len(seen))
	}
}

// TestStemMatchesReference checks that snowballStem gives the stem
// kljensen/snowball gave on every word and joined pair the analyzer
// stems in the shared corpora (GitBugs, SemEval) and in the synthetic
// texts of the benchmarks.
func TestStemMatchesReference(t *testing.T) {
	t.Run("bench", func(t *testing.T) { checkStems(t, "bench", benchTexts(3000)) })
	t.Run("corpora", func(t *testing.T) { checkStems(t, "corpora", sharedCorpora(t)) })
}

// stemAlphabet holds the letters the stemmer's rules tell apart (vowels,
// y, the doubled consonants, l, s, the valid endings before li, w and x),
// a digit and non-ASCII letters (a capital that Fold leaves: Cherokee).
var stemAlphabet = []string{
	"a", "e", "i", "o", "u", "y", "b", "c", "d", "g", "l", "n", "r", "s", "t", "w", "x", "z", "1",
	"é", "ß", "ж", "Ꭰ",
}

// TestStemShortWords compares snowballStem with kljensen/snowball on all
// words of up to four letters of stemAlphabet.
func TestStemShortWords(t *testing.T) {
	words := []string{""}
	for n := 0; n < 4; n++ {
		var next []string
		for _, w := range words {
			for _, c := range stemAlphabet {
				next = append(next, w+c)
			}
		}
		for _, w := range next {
			if got, want := snowballStem(w), refStem(w); got != want {
				t.Fatalf("stem(%q) = %q, kljensen/snowball %q", w, got, want)
			}
		}
		words = next
	}
}

// stemPieces are the suffixes and special words of the stemmer's rules,
// to build words that reach its steps.
var stemPieces = strings.Fields(`s ss sses ied ies us ed eed ing edly eedly ingly anci enci ogi li bli abli
alli fulli lessli ousli entli aliti biliti iviti tional ational alism ation ization izer ator iveness
fulness ousness icate ative alize iciti ical ful ness ic ance ence able ible ate ive ize iti al ism ion
er ous ant ent ment ement e l ll y yy at bl iz bb dd ff gg mm nn pp rr tt cc sion tion ogy ly eys ay oy
ying yed gener commun arsen ski skis skies sky news howe atlas cosmos bias andes only early dying lying
tying idly gently ugly singly succeed proceed exceed inning outing canning herring earring`)

// randomWord builds a word of random letters and stemPieces.
func randomWord(rng *rand.Rand) string {
	const letters = "abcdefghijklmnopqrstuvwxyzaeiouyaeiouy0123456789"
	var sb strings.Builder
	for k := rng.IntN(5); k >= 0; k-- {
		switch rng.IntN(6) {
		case 0, 1:
			for m := rng.IntN(4); m >= 0; m-- {
				sb.WriteByte(letters[rng.IntN(len(letters))])
			}
		case 2:
			if rng.IntN(10) == 0 {
				sb.WriteString(stemAlphabet[len(stemAlphabet)-1-rng.IntN(4)])
			} else {
				sb.WriteByte(letters[rng.IntN(26)])
			}
		default:
			sb.WriteString(stemPieces[rng.IntN(len(stemPieces))])
		}
	}
	return sb.String()
}

// TestStemRandomWords compares snowballStem with kljensen/snowball on
// random words made of the rules' suffixes and random letters, and on
// words longer than porter2's buffer.
func TestStemRandomWords(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 17))
	n := 300_000
	if testing.Short() {
		n = 30_000
	}
	for i := 0; i < n; i++ {
		w := randomWord(rng)
		if i%100 == 0 {
			for len(w) <= maxPorter2 {
				w += randomWord(rng)
			}
		}
		if got, want := snowballStem(w), refStem(w); got != want {
			t.Fatalf("stem(%q) = %q, kljensen/snowball %q", w, got, want)
		}
	}
}

// FuzzStem checks that every word the analyzer stems in a text is
// stemmed as kljensen/snowball stemmed it. go test -fuzz FuzzStem.
func FuzzStem(f *testing.F) {
	for _, s := range []string{
		"Dropdowns are dying; the skies generously proceeded",
		"ZooKeeper's e-mail: cannot log in, sign-ups failed (HTTPServerError)",
		"Ｃafé naïve Straße ᏣᎳᎩ yearly crying flies agreed",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		analyzerWords(text, func(w string) {
			if got, want := snowballStem(w), refStem(w); got != want {
				t.Fatalf("stem(%q) = %q, kljensen/snowball %q", w, got, want)
			}
		})
	})
}

// refJoin is a join as refJoins spells it.
type refJoin struct {
	term, src string
	w         float64
}

// refJoins is what addJoin records for one field of a query, written
// plainly with the reference stemmer: the distinct stems (not stop words)
// of adjacent words written together, up to maxJoins, each with its words
// and largest weight.
func refJoins(text string, w float64, joins []refJoin) []refJoin {
	prev := ""
	forEachToken(text, func(t Token, seq bool) {
		if !seq {
			return
		}
		if t.Kind != KindWord || !isPlainLower(t.Text) {
			prev = ""
			return
		}
		if prev != "" && len(joins) < maxJoins && len(prev+t.Text) >= 4 && !isStopWord(prev+t.Text) {
			s := refStem(prev + t.Text)
			found := false
			for i := range joins {
				if joins[i].term == s {
					joins[i].w, found = max(joins[i].w, w), true
				}
			}
			if !found {
				joins = append(joins, refJoin{term: s, src: prev + " " + t.Text, w: w})
			}
		}
		prev = t.Text
	})
	return joins
}

// TestQueryJoins checks the joined words of query analyses (Similar)
// against refJoins, with the words they cover.
func TestQueryJoins(t *testing.T) {
	ix := New(DefaultConfig())
	texts := append([]string{
		"Drop down menu\nThe drop down for the export can not pop ups",
		"Sign up\nsign up sign ups, log in logins; the set up setups",
		strings.Repeat("alpha beta gamma delta ", 20) + "\n" + strings.Repeat("x y ", 40),
		"Long words\n" + strings.Repeat("pneumonoultramicroscopicsilicovolcanoconiosis ", 3),
	}, benchTexts(300)...)
	checked := 0
	for _, text := range texts {
		qa := ix.analyzeQuery(text)
		title, body := splitTitle(text)
		want := refJoins(body, 1, refJoins(title, ix.cfg.QueryTitleWeight, nil))
		if len(qa.joins) != len(want) {
			t.Fatalf("%q: %d joins, want %d", text, len(qa.joins), len(want))
		}
		for i, j := range qa.joins {
			term, src := string(qa.joinTerm(&j)), string(qa.joinSrc(&j))
			if term != want[i].term || src != want[i].src || j.w != want[i].w {
				t.Fatalf("%q: join %d = %q %q %v, want %q %q %v", text, i, term, src, j.w, want[i].term, want[i].src, want[i].w)
			}
			for _, k := range []int32{j.a, j.b} {
				if k >= int32(len(qa.terms)) {
					t.Fatalf("join %q: word index %d of %d terms", src, k, len(qa.terms))
				}
			}
			a, b, _ := strings.Cut(src, " ")
			if j.a >= 0 && qa.terms[j.a] != snowballStem(a) || j.b >= 0 && qa.terms[j.b] != snowballStem(b) {
				t.Fatalf("join %q: words %d %d are %q", src, j.a, j.b, qa.terms)
			}
			checked++
		}
		qa.release()
	}
	if checked < 1000 {
		t.Fatalf("only %d joins", checked)
	}
}

// BenchmarkStem is the cost of a stem (no cache) for the joined pairs
// and the words of the synthetic texts: kljensen/snowball (before),
// the generated blevesearch/snowballstem and snowballStem (porter2).
func BenchmarkStem(b *testing.B) {
	var words []string
	seen := map[string]bool{}
	for _, text := range benchTexts(1000) {
		analyzerWords(text, func(w string) {
			if !seen[w] {
				seen[w] = true
				words = append(words, w)
			}
		})
	}
	for _, bc := range []struct {
		name string
		fn   func(string) string
	}{
		{"kljensen", refStem},
		{"snowballstem", generatedStem},
		{"porter2", snowballStem},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				bc.fn(words[i%len(words)])
			}
		})
	}
}
