package bot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// The capture path's card text, card hash and text normalisation are
// written out by hand; these tests hold them to the plain forms they
// replace.

func plainShownHash(msg OutMessage) string {
	h := sha256.New()
	h.Write([]byte(msg.Text))
	for _, b := range msg.Buttons {
		fmt.Fprintf(h, "\x00%s\x01%s\x01%s", b.ID, b.Label, b.Style)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

func TestShownHashMatchesPlain(t *testing.T) {
	long := strings.Repeat("a long card text ", 100) // past the stack buffer
	for _, msg := range []OutMessage{
		{},
		{Text: "📌 FB-1: Dark mode\nStatus: open · 1 person · 1 organisation"},
		{Text: "x", Buttons: []Button{{ID: "vote:1", Label: "👍 Vote"}}},
		{Text: "bad \xff utf-8 \x00 nul", Buttons: []Button{{ID: "merge:2:3", Label: "Merge into FB-3", Style: StylePrimary}, {ID: "dismiss:2", Label: "Not a duplicate"}, {}}},
		{Text: long, Buttons: []Button{{ID: "vote:9", Label: strings.Repeat("l", 40), Style: StyleDanger}}},
		{Buttons: []Button{{ID: "a\x00b", Label: "\x01", Style: "\x01"}}},
	} {
		if got, want := shownHash(msg), plainShownHash(msg); got != want {
			t.Errorf("shownHash(%q, %d buttons) = %s, want %s", msg.Text[:min(len(msg.Text), 30)], len(msg.Buttons), got, want)
		}
	}
}

func plainCard(t Text, r *Request) string {
	people := "1 person"
	if r.Demand != 1 {
		people = fmt.Sprintf("%d people", r.Demand)
	}
	orgs := "1 organisation"
	if r.Orgs != 1 {
		orgs = fmt.Sprintf("%d organisations", r.Orgs)
	}
	if t.Shared {
		return fmt.Sprintf("📌 %s: %s\nStatus: %s · %s", t.Key(r.ID), r.Title, r.Status.Label(), people)
	}
	return fmt.Sprintf("📌 %s: %s\nStatus: %s · %s · %s", t.Key(r.ID), r.Title, r.Status.Label(), people, orgs)
}

func TestCardMatchesPlainAndSameCard(t *testing.T) {
	base := Request{ID: 12, Title: "Dark mode", Status: StatusOpen, Demand: 1, Orgs: 1}
	variants := []func(r *Request){
		func(r *Request) {},
		func(r *Request) { r.ID = 13 },
		func(r *Request) { r.Title = "Dark mode please" },
		func(r *Request) { r.Title = "bad \xff %s %d" },
		func(r *Request) { r.Status = StatusInProgress },
		func(r *Request) { r.Demand = 2 },
		func(r *Request) { r.Demand = 0 },
		func(r *Request) { r.Orgs = 3 },
		func(r *Request) { r.Orgs = -1 },
		func(r *Request) { r.Mentions = 9; r.Description = "other" }, // not on the card
	}
	for _, shared := range []bool{false, true} {
		tx := Text{Prefix: "FB", Shared: shared}
		for i, va := range variants {
			a := base
			va(&a)
			if got, want := tx.Card(&a), plainCard(tx, &a); got != want {
				t.Errorf("shared %v, variant %d: Card = %q, want %q", shared, i, got, want)
			}
			for j, vb := range variants {
				b := base
				vb(&b)
				if got, want := tx.sameCard(&a, &b), plainCard(tx, &a) == plainCard(tx, &b); got != want {
					t.Errorf("shared %v: sameCard(variant %d, variant %d) = %v, want %v", shared, i, j, got, want)
				}
			}
		}
	}
}

func plainNormalizeText(s string) (string, error) {
	s = strings.TrimSpace(strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", ""))
	if invisible(s) {
		return "", errNoText
	}
	if n := len([]rune(s)); n > MaxTextRunes {
		return "", errTooLong(n)
	}
	return s, nil
}

func TestNormalizeTextMatchesPlain(t *testing.T) {
	for _, s := range []string{
		"", "  ", "\u200b\ufeff", "Dark mode\nplease", "  padded \t\n", "nul\x00in\x00side",
		"bad \xff\xfe utf-8", "\xff", " \x00 ", "é" + strings.Repeat("x", MaxTextRunes-1),
		strings.Repeat("é", MaxTextRunes), strings.Repeat("é", MaxTextRunes+1),
		strings.Repeat("x", MaxTextRunes), strings.Repeat("x", MaxTextRunes+1),
		strings.Repeat("x", MaxTextRunes) + "\x00\x00", strings.Repeat("\xff", MaxTextRunes+1),
	} {
		got, gerr := normalizeText(s)
		want, werr := plainNormalizeText(s)
		if got != want || fmt.Sprint(gerr) != fmt.Sprint(werr) {
			t.Errorf("normalizeText(%.20q) = %.20q, %v; want %.20q, %v", s, got, gerr, want, werr)
		}
	}
}

func plainClip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func plainTitleOf(s string) string {
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line != "" {
			return plainClip(line, MaxTitleRunes-1)
		}
	}
	return ""
}

func TestClipAndTitleMatchPlain(t *testing.T) {
	texts := []string{"", "\n", "\n\n  \n", "title", "  title  \nbody", "\n \t\nsecond line\nthird", "trailing\n",
		"é" + strings.Repeat("x", MaxTitleRunes), strings.Repeat("é", MaxTitleRunes-1), strings.Repeat("é", MaxTitleRunes),
		strings.Repeat("x", MaxTitleRunes-1), strings.Repeat("x", MaxTitleRunes), strings.Repeat("\xff", MaxTitleRunes),
		strings.Repeat("\xff", MaxTitleRunes/2) + "ab", "日本語のタイトル\n説明"}
	for _, s := range texts {
		if got, want := titleOf(s), plainTitleOf(s); got != want {
			t.Errorf("titleOf(%.30q) = %q, want %q", s, got, want)
		}
		for _, n := range []int{0, 1, 3, 8, MaxTitleRunes - 1, MaxTitleRunes, 2 * MaxTitleRunes} {
			if got, want := clip(s, n), plainClip(s, n); got != want {
				t.Errorf("clip(%.30q, %d) = %q, want %q", s, n, got, want)
			}
		}
	}
}
