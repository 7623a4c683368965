package dedup

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
)

// board is a small realistic board: requests that share common words
// ("mode", "dashboard", "export") with the test queries.
var board = []bot.Doc{
	{Title: "Dark mode for the dashboard, please"},
	{Title: "Offline mode for the mobile app", Description: "Let me read the board without a connection"},
	{Title: "Compact mode in the list view", Description: "Rows take too much space"},
	{Title: "Presentation mode", Description: "Full screen charts for meetings"},
	{Title: "Export the dashboard to PDF", Description: "We print the dashboard for the weekly review"},
	{Title: "CSV export of all requests"},
	{Title: "Slack notifications when a request ships"},
	{Title: "SSO login with Okta", Description: "Support SAML single sign-on"},
	{Title: "Keyboard shortcuts", Description: "j/k to move between requests"},
	{Title: "Larger font size on the board", Description: "The text is hard to read on a big screen"},
	{Title: "Filter requests by status"},
	{Title: "Dashboard widgets can be reordered", Description: "Drag and drop the cards on the dashboard"},
	{Title: "Email digest every Monday", Description: "Summary of new requests by email"},
	{Title: "API token per user", Description: "Tokens should be scoped to a user, not the workspace"},
	{Title: "Reply in Discord threads", Description: "The bot should answer in the forum post thread"},
	{Title: "Night shift schedule for on-call", Description: "Show who is on call at night"},
	{Title: "My eyes hurt with the bright colours", Description: "The colours are too saturated"},
	{Title: "Maintenance mode banner", Description: "Show a banner while we upgrade"},
	{Title: "Search by author", Description: "Find every request a person asked for"},
	{Title: "Debug mode logs", Description: "Verbose logs when debugging the integration"},
}

func newBoard(n int) *Index {
	ix := New(DefaultConfig())
	for i, d := range board[:n] {
		d.ID = int64(i + 1)
		d.Active = true
		ix.Upsert(d)
	}
	return ix
}

func TestTypos(t *testing.T) {
	ix := newBoard(len(board))
	tests := []struct {
		query string
		want  int64
	}{
		{"dakr mode", 1},                                 // transposition
		{"Drak mode for the dashbord", 1},                // transposition, deletion
		{"Exprot the dashboard as a PDF", 5},             // transposition
		{"Keybord shortcut to move between requests", 9}, // deletion
		{"notificatons in slack when shipped", 7},        // deletion
		{"maintenence mode", 18},                         // substitution
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			cs, err := ix.Similar(context.Background(), tt.query, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) == 0 || cs[0].RequestID != tt.want {
				t.Fatalf("want %d first, got %v", tt.want, cs)
			}
			if cs[0].Score < DefaultSuggestThreshold {
				t.Fatalf("score %.3f below the suggestion threshold", cs[0].Score)
			}
		})
	}
	t.Run("CorrectSpellingUnchanged", func(t *testing.T) {
		// A word that other requests contain is not read as a misspelling.
		cfg := DefaultConfig()
		cfg.FuzzyWeight = 0
		plain := New(cfg)
		for i, d := range board {
			d.ID, d.Active = int64(i+1), true
			plain.Upsert(d)
		}
		a, _ := ix.Similar(context.Background(), "Dark mode for the dashboard", 3)
		b, _ := plain.Similar(context.Background(), "Dark mode for the dashboard", 3)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("fuzzy matching changed a query without rare words:\n%v\n%v", a, b)
		}
	})
}

// TestSmallBoardCalibration checks that the score of a pair does not depend
// much on how many requests the board holds: the first request on a new
// board gets about the score it would get among many.
func TestSmallBoardCalibration(t *testing.T) {
	pairs := []struct {
		query string
		min   float64
	}{
		{"Could the dashboard get a dark mode? My eyes hurt at night", DefaultSuggestThreshold},
		{"Dark theme\nCan we get a dark mode for the dashboard?", DefaultSuggestThreshold},
		{"dakr mode", DefaultSuggestThreshold},
	}
	for _, p := range pairs {
		t.Run(p.query, func(t *testing.T) {
			lo, hi := 1.0, 0.0
			for _, n := range []int{1, 2, 5, len(board)} {
				cs, err := newBoard(n).ScoreIDs(context.Background(), p.query, []int64{1})
				if err != nil {
					t.Fatal(err)
				}
				s := cs[0].Score
				t.Logf("board of %2d: %.3f", n, s)
				if s < p.min {
					t.Errorf("board of %d: score %.3f below %.2f", n, s, p.min)
				}
				lo, hi = min(lo, s), max(hi, s)
			}
			if hi-lo > 0.15 {
				t.Errorf("score varies by %.3f with the board's size", hi-lo)
			}
		})
	}
	t.Run("Unrelated", func(t *testing.T) {
		for _, n := range []int{1, 2, len(board)} {
			cs, _ := newBoard(n).ScoreIDs(context.Background(), "Invoices in PDF\nDownload invoices as PDF files", []int64{1})
			if cs[0].Score >= DefaultSuggestThreshold {
				t.Errorf("board of %d: unrelated pair scores %.3f", n, cs[0].Score)
			}
		}
	})
}

// TestJoinedWords: two adjacent query words that a request writes as one
// word match it ("LU LU" / Lulu, "drop down" / dropdown, "log in" /
// login), covering those words and never more than the word itself would.
func TestJoinedWords(t *testing.T) {
	ix := newBoard(len(board))
	extra := []bot.Doc{
		{ID: 101, Title: "Lulu hypermarket opening hours", Active: true},
		{ID: 102, Title: "Dropdown menu is too small", Active: true},
		{ID: 103, Title: "Login fails on Safari", Active: true},
	}
	for _, d := range extra {
		ix.Upsert(d)
	}
	tests := []struct {
		query string
		want  int64
	}{
		{"Opening hours of LU LU", 101},
		{"The drop down menu is small", 102},
		{"Cannot log in on Safari", 103},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			cs, err := ix.Similar(context.Background(), tt.query, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) == 0 || cs[0].RequestID != tt.want {
				t.Fatalf("want %d first, got %v", tt.want, cs)
			}
			if cs[0].Score < DefaultSuggestThreshold {
				t.Errorf("score %.3f below the suggestion threshold", cs[0].Score)
			}
			off := DefaultConfig()
			off.JoinWeight = 0
			plain := New(off)
			for i, d := range board {
				d.ID, d.Active = int64(i+1), true
				plain.Upsert(d)
			}
			for _, d := range extra {
				plain.Upsert(d)
			}
			if ps, _ := plain.Similar(context.Background(), tt.query, 3); len(ps) > 0 && ps[0].RequestID == tt.want && ps[0].Score >= cs[0].Score {
				t.Errorf("without joins %v, with %v: the test tests nothing", ps[0], cs[0])
			}
		})
	}
	// No double credit: a request that has the words and also the joined
	// word scores no higher than one with the words only.
	two := New(DefaultConfig())
	two.Upsert(bot.Doc{ID: 1, Title: "Drop down menu is too small", Active: true})
	two.Upsert(bot.Doc{ID: 2, Title: "Drop down (dropdown) menu is too small", Active: true})
	for i, d := range board {
		d.ID, d.Active = int64(i+10), true
		two.Upsert(d)
	}
	cs, _ := two.Similar(context.Background(), "The drop down menu is small", 2)
	if len(cs) != 2 || cs[0].RequestID != 1 {
		t.Errorf("the joined word counted on top of its words: %v", cs)
	}
}

// TestIdentifierCoversItsJoinedSpelling: a query word written as an
// identifier (ZooKeeper: the word and its parts zoo, keeper) finds a
// request that writes it joined (Zookeeper) about as fully as one that
// writes it the same way: the joined word covers the parts the request
// lacks.
func TestIdentifierCoversItsJoinedSpelling(t *testing.T) {
	scores := func(cfg Config, query string) (same, joined bot.Candidate) {
		t.Helper()
		ix := New(cfg)
		for i, d := range board {
			d.ID, d.Active = int64(i+10), true
			ix.Upsert(d)
		}
		ix.Upsert(bot.Doc{ID: 1, Title: "Upgrade ZooKeeper to 3.8.2", Active: true})
		ix.Upsert(bot.Doc{ID: 2, Title: "Upgrade Zookeeper to 3.8.2", Active: true})
		cs, err := ix.ScoreIDs(context.Background(), query, []int64{1, 2})
		if err != nil || len(cs) != 2 {
			t.Fatalf("ScoreIDs: %v, %v", cs, err)
		}
		for _, c := range cs {
			if c.RequestID == 1 {
				same = c
			} else {
				joined = c
			}
		}
		return same, joined
	}
	const query = "Upgrade ZooKeeper to version 3.8.3"
	same, joined := scores(DefaultConfig(), query)
	off := DefaultConfig()
	off.JoinWeight = 0
	s0, j0 := scores(off, query)
	t.Logf("Zookeeper / ZooKeeper: %.3f / %.3f (without joins %.3f / %.3f)", joined.Score, same.Score, j0.Score, s0.Score)
	if joined.Score < 0.85*same.Score {
		t.Errorf("Zookeeper %.3f, ZooKeeper %.3f: the joined spelling is not covered", joined.Score, same.Score)
	}
	if j0.Score >= 0.85*s0.Score {
		t.Errorf("without joins Zookeeper %.3f, ZooKeeper %.3f: the test tests nothing", j0.Score, s0.Score)
	}
	// The reason names the word once, as the query wrote it.
	ix := New(DefaultConfig())
	ix.Upsert(bot.Doc{ID: 2, Title: "Upgrade Zookeeper to 3.8.2", Active: true})
	ix.Upsert(bot.Doc{ID: 3, Title: "Dark mode for the dashboard", Active: true})
	cs, err := ix.Similar(context.Background(), query, 1)
	if err != nil || len(cs) != 1 {
		t.Fatalf("Similar: %v, %v", cs, err)
	}
	if r := cs[0].Reason; strings.Count(r, "zookeeper") != 1 || strings.Contains(r, "zoo keeper") {
		t.Errorf("reason %q: want the word once, as the query wrote it", r)
	}
}

// TestEditVariantMatchesPlainLookup checks editVariant, which hashes each
// edit from the hashes of the word's prefixes and suffixes and looks up
// only what the word filter may have, against looking every edit up in
// the vocabulary: a wrong hash would make the filter miss indexed words.
func TestEditVariantMatchesPlainLookup(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	randWord := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + rng.IntN(6)) // few letters: many words one edit apart
		}
		return string(b)
	}
	ix := New(DefaultConfig())
	for i := 0; i < 3000; i++ {
		var words []string
		for range 3 {
			words = append(words, randWord(4+rng.IntN(8)))
		}
		// Stemming would change some words; identifiers are kept as
		// they are. Also make some words more frequent than others.
		ix.Upsert(bot.Doc{ID: int64(i + 1), Title: strings.Join(words, " "), Description: words[0], Active: true})
	}
	if len(ix.words.letters) <= 1<<14 {
		t.Fatalf("letter cells never grew (%d)", len(ix.words.letters))
	}
	for _, te := range ix.terms {
		if filterable(te.text) {
			checkLetters(t, ix.words, te.text)
		}
	}
	found := 0
	for i := 0; i < 2000; i++ {
		w := randWord(4 + rng.IntN(17))
		if i%3 == 0 {
			w = ix.terms[rng.IntN(len(ix.terms))].text
		}
		gotID, gotOK := ix.editVariant(w, 0)
		wantID, wantOK := plainEditVariant(ix, w, 0)
		if gotID != wantID || gotOK != wantOK {
			t.Fatalf("editVariant(%q) = %d %v, plain lookup %d %v", w, gotID, gotOK, wantID, wantOK)
		}
		if gotOK {
			found++
		}
	}
	if found < 200 {
		t.Fatalf("only %d words had a variant", found)
	}
}

// plainEditVariant is editVariant without the word filter: every edit
// is looked up in the vocabulary.
func plainEditVariant(ix *Index, t string, df int) (uint32, bool) {
	if !editable(t) {
		return 0, false
	}
	best, bestDF := uint32(0), df
	try := func(s string) {
		if id, ok := ix.vocab.find(ix.terms, s); ok {
			if df := len(ix.terms[id].posts); df > bestDF {
				best, bestDF = id, df
			}
		}
	}
	for i := 0; i < len(t); i++ {
		try(t[:i] + t[i+1:])
	}
	for i := 0; i+1 < len(t); i++ {
		if t[i] != t[i+1] {
			try(t[:i] + string(t[i+1]) + string(t[i]) + t[i+2:])
		}
	}
	for i := 0; i < len(t); i++ {
		for c := byte('a'); c <= 'z'; c++ {
			if c != t[i] {
				try(t[:i] + string(c) + t[i+1:])
			}
		}
	}
	for i := 0; i <= len(t); i++ {
		for c := byte('a'); c <= 'z'; c++ {
			try(t[:i] + string(c) + t[i:])
		}
	}
	return best, bestDF > df
}
