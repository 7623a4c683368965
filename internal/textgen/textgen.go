// Package textgen generates synthetic feedback text, deterministically from
// a seed, for the load harness (bench/capture) and the duplicate index
// benchmarks (bot/dedup): real feedback words extended by synthetic ones,
// drawn with a Zipf distribution, and near-duplicates of earlier texts.
// It imports only the standard library.
package textgen

import (
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
)

// baseWords are real feedback words; synthetic words extend the vocabulary
// to vocabSize entries. Words are drawn with a Zipf distribution, so a few
// are very common and most are rare, as in real text.
var baseWords = strings.Fields(`export import csv pdf report dashboard dark mode theme login sso okta
saml password reset email notification slack discord webhook api token rate limit search filter sort
page pagination mobile ios android app crash freeze slow performance timeout error upload download
file image video audio calendar sync integration github jira zapier billing invoice subscription plan
team member role permission admin settings profile avatar language translation timezone date format
chart graph analytics metric alert schedule reminder comment reply thread mention tag label board
column card drag drop keyboard shortcut accessibility contrast font size print share link embed widget
offline cache backup restore delete archive history audit log version release update upgrade install
browser firefox chrome safari windows linux macos desktop tray menu button dialog popup modal tooltip`)

// openers start a feedback message, as people write them.
var openers = []string{
	"", "", "", "please add", "it would be great if", "can we have", "i wish", "feature request:",
	"bug:", "any chance of", "we really need", "would love", "is it possible to get",
}

// replies are short thread replies that join a captured request.
var replies = []string{
	"+1 we need this too", "same here", "this would help our team a lot", "any update on this?",
	"we hit this every week", "also affects us", "yes please", "our customers keep asking for this",
}

const vocabSize = 50_000

// Gen generates synthetic feedback deterministically from a seed: Text(i)
// is always the same text for the same seed and i. One request in five is a
// near-duplicate (words dropped, replaced or misspelt) of an earlier one.
type Gen struct {
	seed  uint64
	words []string
}

var (
	vocabOnce sync.Once
	vocab     []string
)

func vocabulary() []string {
	vocabOnce.Do(func() {
		rng := rand.New(rand.NewPCG(42, 42))
		vocab = slices.Clone(baseWords)
		const letters = "abcdefghijklmnoprstuvwy"
		for len(vocab) < vocabSize {
			n := 3 + rng.IntN(7)
			var sb strings.Builder
			for range n {
				sb.WriteByte(letters[rng.IntN(len(letters))])
			}
			vocab = append(vocab, sb.String())
		}
	})
	return vocab
}

// New returns a generator for seed.
func New(seed uint64) *Gen { return &Gen{seed: seed, words: vocabulary()} }

type draw struct {
	rng  *rand.Rand
	zipf *rand.Zipf
	g    *Gen
}

func (g *Gen) draw(stream, i uint64) *draw {
	rng := rand.New(rand.NewPCG(g.seed^stream*0x9E3779B97F4A7C15, i))
	return &draw{rng: rng, zipf: rand.NewZipf(rng, 1.1, 2, uint64(len(g.words)-1)), g: g}
}

func (d *draw) words(n int) string {
	var sb strings.Builder
	// Room for n words of the length most are, their spaces and a "the "
	// in four: one buffer instead of a doubling one (the load harness draws
	// a text per capture).
	sb.Grow(10 * n)
	for i := range n {
		if i > 0 {
			sb.WriteByte(' ')
			if d.rng.IntN(4) == 0 {
				sb.WriteString("the ")
			}
		}
		sb.WriteString(d.g.words[d.zipf.Uint64()])
	}
	return sb.String()
}

// mutate returns a near-duplicate of s: some words dropped, replaced or
// misspelt.
func (d *draw) mutate(s string) string {
	lines := strings.Split(s, "\n")
	for li, line := range lines {
		ws := strings.Fields(line)
		out := ws[:0]
		for _, w := range ws {
			switch d.rng.IntN(10) {
			case 0: // drop
			case 1:
				out = append(out, d.g.words[d.zipf.Uint64()])
			case 2:
				if len(w) > 3 {
					k := 1 + d.rng.IntN(len(w)-2)
					w = w[:k] + w[k+1:]
				}
				out = append(out, w)
			default:
				out = append(out, w)
			}
		}
		if len(out) == 0 && len(ws) > 0 {
			out = append(out, ws[0])
		}
		lines[li] = strings.Join(out, " ")
	}
	return strings.Join(lines, "\n")
}

// Text returns the i-th feedback message (i ≥ 0): a first line (the title
// a capture takes) and a description, or a near-duplicate of an earlier
// message.
func (g *Gen) Text(i int) string {
	d := g.draw(1, uint64(i))
	if i > 10 && d.rng.IntN(5) == 0 {
		return d.mutate(g.Text(d.rng.IntN(i)))
	}
	return d.fresh()
}

// fresh draws a new message: a title line and a description.
func (d *draw) fresh() string {
	title := d.words(4 + d.rng.IntN(7))
	if o := openers[d.rng.IntN(len(openers))]; o != "" {
		title = o + " " + title
	}
	return title + "\n" + d.words(15+d.rng.IntN(45))
}

// Mixed returns the i-th message (i ≥ 0) of a stream in which a share
// (0..1) of the messages are near-duplicates of earlier ones of the same
// stream and the others are new. Unlike Text it does not refer to the
// texts bench seed put on the board, so with a seed of its own a run sends
// texts the board has not seen.
func (g *Gen) Mixed(i int, share float64) string {
	d := g.draw(3, uint64(i))
	if i > 0 && d.rng.Float64() < share {
		return d.mutate(g.Mixed(d.rng.IntN(i), share))
	}
	return d.fresh()
}

// Reply returns the j-th further mention (j ≥ 1) of the request whose first
// message is Text(i): a short reply, or a rewording of the request.
func (g *Gen) Reply(i, j int) string {
	d := g.draw(2, uint64(i)<<20|uint64(j))
	if d.rng.IntN(2) == 0 {
		return replies[d.rng.IntN(len(replies))]
	}
	text := g.Text(i)
	if k := strings.IndexByte(text, '\n'); k >= 0 {
		text = text[k+1:]
	}
	ws := strings.Fields(d.mutate(text))
	if len(ws) > 20 {
		ws = ws[:8+d.rng.IntN(12)]
	}
	return strings.Join(ws, " ")
}

// Near returns a near-duplicate of s (words dropped, replaced or
// misspelt), the same for the same seed, i and s: a query that should find
// the text it was made from.
func (g *Gen) Near(i int, s string) string {
	return g.draw(3, uint64(i)).mutate(s)
}

// Title returns the title a capture takes from text (its first line).
func Title(text string) string {
	title, _ := Split(text)
	return title
}

// Split returns text's first line (the title) and the rest (the
// description).
func Split(text string) (title, description string) {
	title, description, _ = strings.Cut(text, "\n")
	return title, description
}
