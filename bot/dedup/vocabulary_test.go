package dedup

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
)

func TestVocabularyTable(t *testing.T) {
	cs := Vocabulary()
	if len(cs) < 20 {
		t.Fatalf("%d concepts", len(cs))
	}
	v := productVocabulary()
	seen := map[string]string{}
	for _, c := range cs {
		if c.Weight <= 0 || c.Weight >= 1 {
			t.Errorf("%s: weight %v: an expansion must weigh less than an exact word", c.Name, c.Weight)
		}
		if c.Evidence == "" || len(c.Phrases) == 0 {
			t.Errorf("%s: no evidence or phrases", c.Name)
		}
		for _, p := range c.Phrases {
			key := strings.Join(phraseStems(&analyzer{}, p), " ")
			if other, ok := seen[key]; ok && other != c.Name {
				t.Errorf("phrase %q of %s is also a phrase of %s", p, c.Name, other)
			}
			seen[key] = c.Name
		}
	}
	if _, ok := v.conceptOf(v.terms[0]); !ok {
		t.Error("conceptOf")
	}
}

func TestParseVocabularyErrors(t *testing.T) {
	for _, src := range []string{
		"sso\t0.5\tsso",                         // 3 columns
		"sso\t0\tsso\tev",                       // weight 0
		"sso\t1.5\tsso\tev",                     // weight > 1
		"sso\t0.5\tsso\t",                       // no evidence
		"sso\t0.5\tthe, of\tev",                 // only stop words
		"a\t0.5\tx1\tev\na\t0.5\tx2\tev",        // repeated concept
		"sso\t0.5\tone two three four five\tev", // too long
	} {
		if _, err := parseVocabulary(src); err == nil {
			t.Errorf("parseVocabulary(%q): no error", src)
		}
	}
	v, err := parseVocabulary("# comment\n\nsso\t0.5\tSSO, single sign-on\tissue 18\n")
	if err != nil || len(v.concepts) != 1 || len(v.concepts[0].Phrases) != 2 {
		t.Fatalf("%+v %v", v, err)
	}
}

// conceptsOf returns the concept names the analyzer finds in text.
func conceptsOf(text string) []string {
	an := &analyzer{vocab: productVocabulary()}
	a := newAnalyzed()
	defer a.release()
	an.add(a, fieldTitle, text, 1)
	var out []string
	for i, term := range a.terms {
		if c, ok := productVocabulary().conceptOf(term); ok {
			out = append(out, c.Name)
			if a.tfs[i][fieldTitle] != 1 {
				out = append(out, "tf!=1")
			}
		}
	}
	return out
}

func TestVocabularyMatching(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"Please add SSO with Okta", []string{"single sign-on"}},
		{"we need single sign-on (SAML / okta)", []string{"single sign-on"}}, // two phrases of one concept, counted once each
		{"Single Sign On", []string{"single sign-on"}},
		{"signing in with single sign-on", []string{"sign-in", "single sign-on"}},
		{"Would love a night theme", []string{"dark mode"}},
		{"dark-mode please", []string{"dark mode"}},
		{"Dark modes", []string{"dark mode"}},
		{"the mode is dark", nil}, // word order matters for phrases
		{"2FA via an authenticator", []string{"authentication", "two-factor authentication"}},
		{"Two-factor authentication", []string{"authentication", "two-factor authentication"}},
		{"sign up", []string{"sign-up"}},
		{"out of memory", []string{"out of memory"}},
		{"out of the memory", nil},
		{"MFA for admins", []string{"two-factor authentication"}},
		{"Export to Excel", []string{"spreadsheet export"}},
		{"download as .xlsx or csv", []string{"spreadsheet export"}},
		{"keyboard shortcuts for the board", []string{"keyboard shortcuts"}},
		{"hotkeys", []string{"keyboard shortcuts"}},
		{"can't log in", []string{"sign-in"}},
		{"k8s operator", []string{"kubernetes"}},
		{"OutOfMemoryError in the NameNode", []string{"out of memory"}},
		{"Upgrade Netty", nil},
		{"a dark room", nil},
		// Stems of common words are not concepts.
		{"the page loads slowly when paging", nil},
		{"access denied", nil},
		{"a local file", nil},
		{"set the value in settings", nil},
		{"the document and its documentation", nil},
		{"I prefer the old preferences", nil},
		{"translate the exception", nil},
		{"Screen readers cannot read it", []string{"accessibility"}},
		{"docs are wrong", []string{"documentation"}},
		{"single file", nil},
	} {
		got := conceptsOf(tc.text)
		slices.Sort(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%q: concepts %q, want %q", tc.text, got, want)
		}
	}
}

// TestVocabularyPairs: paraphrases that share no word (or only a misleading
// one) find each other through the vocabulary, below an exact match.
func TestVocabularyPairs(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		doc, query string
	}{
		{"we need single sign-on (SAML / okta)", "Please add SSO with Okta"},
		{"Dark mode", "Would love a night theme"},
		{"Two-factor authentication", "Support 2FA"},
		{"Export to Excel", "A CSV file please"},
		{"Hotkeys", "Keyboard shortcuts"},
	} {
		ix := newBoard(len(board))
		ix.Upsert(bot.Doc{ID: 1000, Title: tc.doc, Active: true})
		cs, err := ix.Similar(ctx, tc.query, 3)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(cs, func(c bot.Candidate) bool { return c.RequestID == 1000 })
		if i < 0 || cs[i].Score < DefaultSuggestThreshold {
			t.Errorf("%q -> %q: %+v, want 1000 above %.2f", tc.query, tc.doc, cs, DefaultSuggestThreshold)
			continue
		}
		if !strings.Contains(cs[i].Reason, "same topic: ") {
			t.Errorf("%q: reason %q names no concept", tc.query, cs[i].Reason)
		}
		exact, _ := ix.Similar(ctx, tc.doc, 1)
		if exact[0].Score <= cs[i].Score {
			t.Errorf("%q: the vocabulary match %.2f is not below the exact one %.2f", tc.query, cs[i].Score, exact[0].Score)
		}
		off := DefaultConfig()
		off.VocabWeight = 0
		plain := New(off)
		plain.Upsert(bot.Doc{ID: 1000, Title: tc.doc, Active: true})
		if ps, _ := plain.Similar(ctx, tc.query, 1); len(ps) > 0 && ps[0].Score >= DefaultSuggestThreshold {
			t.Errorf("%q: found without the vocabulary too (%.2f); the case tests nothing", tc.query, ps[0].Score)
		}
	}
}

// TestVocabularyKeyFilter: the matcher skips a term the key filter rules
// out, so the filter must pass every key of the table (else a phrase would
// silently stop matching), and it should rule out most other words (it is
// there to save their two map lookups).
func TestVocabularyKeyFilter(t *testing.T) {
	v := productVocabulary()
	for k := range v.single {
		if !v.mayKey(k) {
			t.Errorf("single key %q ruled out", k)
		}
	}
	for k := range v.phrases {
		if !v.mayKey(k) {
			t.Errorf("phrase key %q ruled out", k)
		}
	}
	an := &analyzer{}
	words := strings.Fields(strings.ToLower("the quick brown fox jumps over a lazy dog while export settings " +
		"dashboard notification timeout crash upload invoice report filter search button mobile android " +
		"release version webhook integration permission billing calendar reminder template attachment " +
		"comment thread reaction channel workspace screenshot latency memory cluster replica migration"))
	passed, checked := 0, 0
	for _, w := range words {
		s := an.stem(w)
		if _, ok := v.single[s]; ok {
			continue
		}
		if _, ok := v.phrases[s]; ok {
			continue
		}
		checked++
		if v.mayKey(s) {
			passed++
		}
	}
	if checked < 40 || passed > checked/4 {
		t.Fatalf("%d of %d words that are not keys pass the filter", passed, checked)
	}
}
