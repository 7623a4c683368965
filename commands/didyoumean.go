package commands

import (
	"strings"
	"unicode"

	"github.com/feedbackbot/feedbackbot/bot"
)

// commonWords are English words one edit away from a verb that often start
// real feedback ("note that…", "stop sending…", "few of us…"); they are
// never taken for a mistyped verb.
var commonWords = map[string]bool{
	"note": true, "notes": true, "stop": true, "shop": true, "snow": true, "slow": true,
	"few": true, "now": true, "news": true, "knew": true, "net": true, "nee": true,
	"tip": true, "tips": true, "toy": true, "tap": true, "tops": true,
	"tags": true, "lists": true, "lost": true, "last": true, "lust": true, "mist": true,
	"votes": true, "voted": true, "rote": true, "dote": true, "ships": true,
	"shi": true, "hip": true, "chip": true, "whip": true, "skip": true, "slip": true, "shin": true,
	"shown": true, "shows": true, "shoe": true, "how": true, "sow": true, "row": true,
	"lint": true, "line": true, "lick": true, "links": true, "blink": true, "linked": true,
	"merged": true, "verge": true, "merger": true, "bag": true, "rag": true, "tog": true, "tab": true,
	"watches": true, "match": true, "batch": true, "patch": true, "catch": true, "latch": true, "hatch": true,
	"helps": true, "hell": true, "held": true, "yelp": true, "kelp": true, "hemp": true,
	"persons": true, "searches": true,
	"removed": true, "remote": true, "remover": true, "tracks": true, "truck": true, "trick": true,
	"renamed": true, "restored": true, "restores": true, "describes": true,
}

// didYouMean answers feedback text that is more likely a mistyped command:
// its first word is one edit away from a verb, or most of its words are
// request keys (nobody writes feedback as a list of keys). It returns nil
// for text to capture.
func didYouMean(prefix, text string) error {
	words := strings.Fields(text)
	if len(words) == 0 {
		return nil
	}
	first := strings.ToLower(words[0])
	keys := 0
	for _, w := range words {
		if bot.LooksLikeKey(prefix, strings.Trim(w, ",.;")) {
			keys++
		}
	}
	if v := nearVerb(first); v != "" {
		return bot.Errorf(bot.EINVALID, "Did you mean `/feedback %s`? Nothing was captured. To send this as feedback, use /feedback new %s",
			v, clip(text, 200))
	}
	if keys > 0 && 2*keys >= len(words) {
		key := strings.ToUpper(strings.Trim(firstKey(prefix, words), ",.;"))
		return bot.Errorf(bot.EINVALID, "Did you mean `/feedback show %s` (or vote, merge …)? Nothing was captured; /feedback help lists the commands.", key)
	}
	if len(words) == 1 && isWord(first) {
		return bot.Errorf(bot.EINVALID, "Unknown command %q: nothing was captured. /feedback help lists the commands; to send feedback, write it as a sentence or use /feedback new <text>.", clip(words[0], 40))
	}
	return nil
}

func firstKey(prefix string, words []string) string {
	for _, w := range words {
		if bot.LooksLikeKey(prefix, strings.Trim(w, ",.;")) {
			return w
		}
	}
	return ""
}

// isWord reports whether s is made of letters (a word typed as a verb, not a
// number, an emoji or a link).
func isWord(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && r != '-' {
			return false
		}
	}
	return s != ""
}

// nearVerb returns the verb one edit (insertion, deletion, substitution or
// transposition of neighbours) away from w, or "".
func nearVerb(w string) string {
	if len([]rune(w)) < 3 || commonWords[w] || !isWord(w) {
		return ""
	}
	for _, v := range Verbs {
		if v.Name != w && oneEdit(w, v.Name) {
			return v.Name
		}
	}
	return ""
}

// oneEdit reports whether a and b differ by exactly one edit.
func oneEdit(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > len(rb) {
		ra, rb = rb, ra
	}
	switch len(rb) - len(ra) {
	case 0:
		diff := []int{}
		for i := range ra {
			if ra[i] != rb[i] {
				diff = append(diff, i)
			}
		}
		switch len(diff) {
		case 1:
			return true
		case 2:
			i, j := diff[0], diff[1]
			return j == i+1 && ra[i] == rb[j] && ra[j] == rb[i]
		}
		return false
	case 1:
		i := 0
		for i < len(ra) && ra[i] == rb[i] {
			i++
		}
		return string(ra[i:]) == string(rb[i+1:])
	}
	return false
}
