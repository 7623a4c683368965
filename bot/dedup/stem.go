package dedup

import (
	"strings"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
)

// snowballStem returns the Snowball English (Porter2) stem of a word as
// the analyzer feeds it (folded, so lower-case, without apostrophes or
// spaces). It gives what github.com/kljensen/snowball/english.Stem(w,
// true) gave, which the index used before (TestStemMatchesReference),
// at a tenth of the cost: a word of ASCII lower-case letters and digits
// (nearly all) is stemmed by porter2, any other by the stemmer generated
// from the Snowball source (github.com/blevesearch/snowballstem).
func snowballStem(w string) string {
	if isPlainLower(w) {
		return porter2(w)
	}
	// As kljensen/snowball did; a no-op for the analyzer's words but
	// for some non-ASCII letters (Fold leaves Cherokee in capitals).
	w = strings.ToLower(strings.TrimSpace(w))
	if len(w) <= 2 {
		return w
	}
	return generatedStem(w)
}

// generatedStem is the stemmer generated from the Snowball source.
func generatedStem(w string) string {
	env := snowballstem.NewEnv(w)
	english.Stem(env)
	return env.Current()
}

// maxPorter2 is the longest word porter2 stems in a buffer on the stack.
const maxPorter2 = 64

// porter2 returns the stem of w, a word of ASCII lower-case letters and
// digits (porter2Bytes): w itself or a prefix of it when it can be, with
// no allocation.
func porter2(w string) string {
	if len(w) < 3 {
		return w
	}
	var buf [maxPorter2]byte
	var b []byte
	if len(w) <= len(buf) {
		b = buf[:len(w)]
	} else {
		b = make([]byte, len(w))
	}
	copy(b, w)
	b = porter2Bytes(b)
	if string(b) == w[:len(b)] {
		return w[:len(b)]
	}
	return string(b)
}

// porter2Bytes is the Snowball English stemmer (snowballstem.org,
// algorithms/english/stemmer.sbl, as generated in
// github.com/blevesearch/snowballstem/english) for a word of ASCII
// lower-case letters and digits, step by step as there, in place: it
// returns the stem, in b's memory (a stem is never longer than its
// word).
func porter2Bytes(b []byte) []byte {
	if len(b) < 3 {
		return b
	}
	if s, ok := porter2Exception1(b); ok {
		if s == "" {
			return b
		}
		return b[:copy(b, s)]
	}

	// prelude: a y that starts the word or follows a vowel is a
	// consonant (Y), left to right on the marked word.
	yFound := false
	if b[0] == 'y' {
		b[0], yFound = 'Y', true
	}
	for i := 1; i < len(b); i++ {
		if b[i] == 'y' && isVowel(b[i-1]) {
			b[i], yFound = 'Y', true
		}
	}

	// mark_regions
	n := len(b)
	p1, p2 := n, n
	var at int
	switch {
	case hasPrefixB(b, "gener"), hasPrefixB(b, "arsen"):
		at = 5
	case hasPrefixB(b, "commun"):
		at = 6
	default:
		at = pastVowelConsonant(b, 0)
	}
	if at >= 0 {
		p1 = at
		if at2 := pastVowelConsonant(b, at); at2 >= 0 {
			p2 = at2
		}
	}

	b = step1a(b)
	if !porter2Exception2(b) {
		b = step1b(b, p1)
		b = step1c(b)
		b = step2(b, p1)
		b = step3(b, p1, p2)
		b = step4(b, p2)
		b = step5(b, p1, p2)
	}

	// postlude
	if yFound {
		for i := range b {
			if b[i] == 'Y' {
				b[i] = 'y'
			}
		}
	}
	return b
}

// porter2Exception1 is the stemmer's exception1: whole words with a
// stem of their own ("" for a word that is its own stem).
func porter2Exception1(w []byte) (string, bool) {
	switch string(w) {
	case "skis":
		return "ski", true
	case "skies":
		return "sky", true
	case "dying":
		return "die", true
	case "lying":
		return "lie", true
	case "tying":
		return "tie", true
	case "idly":
		return "idl", true
	case "gently":
		return "gentl", true
	case "ugly":
		return "ugli", true
	case "early":
		return "earli", true
	case "only":
		return "onli", true
	case "singly":
		return "singl", true
	case "sky", "news", "howe", "atlas", "cosmos", "bias", "andes":
		return "", true
	}
	return "", false
}

// porter2Exception2 is the stemmer's exception2: words left as they are
// after step 1a.
func porter2Exception2(b []byte) bool {
	switch string(b) {
	case "inning", "outing", "canning", "herring", "earring", "proceed", "exceed", "succeed":
		return true
	}
	return false
}

// isVowel is the stemmer's grouping v (a marked Y is not in it).
func isVowel(c byte) bool {
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y'
}

// pastVowelConsonant is "gopast v gopast non-v" from i: the position
// after the first non-vowel that follows a vowel, or -1.
func pastVowelConsonant(b []byte, i int) int {
	for i < len(b) && !isVowel(b[i]) {
		i++
	}
	for i < len(b) && isVowel(b[i]) {
		i++
	}
	if i >= len(b) {
		return -1
	}
	return i + 1
}

func hasPrefixB(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}

// hasSuffixB is bytes.HasSuffix for the stemmer's short suffixes, a
// loop rather than a call of memequal.
func hasSuffixB(b []byte, s string) bool {
	if len(b) < len(s) {
		return false
	}
	b = b[len(b)-len(s):]
	for i := 0; i < len(s); i++ {
		if b[i] != s[i] {
			return false
		}
	}
	return true
}

// hasVowel reports whether b holds a vowel.
func hasVowel(b []byte) bool {
	for _, c := range b {
		if isVowel(c) {
			return true
		}
	}
	return false
}

// shortv is the stemmer's shortv before position c: a non-vowel other
// than w, x and Y after a vowel after a non-vowel, or a non-vowel after a
// vowel that starts the word.
func shortv(b []byte, c int) bool {
	if c < 2 || isVowel(b[c-1]) || !isVowel(b[c-2]) {
		return false
	}
	if c == 2 {
		return true
	}
	x := b[c-1]
	return x != 'w' && x != 'x' && x != 'Y' && !isVowel(b[c-3])
}

func step1a(b []byte) []byte {
	n := len(b)
	if c := b[n-1]; c != 's' && c != 'd' {
		return b
	}
	switch {
	case hasSuffixB(b, "sses"):
		return b[:n-2]
	case hasSuffixB(b, "ied"), hasSuffixB(b, "ies"):
		if n-3 >= 2 {
			return append(b[:n-3], 'i')
		}
		return append(b[:n-3], 'i', 'e')
	case hasSuffixB(b, "us"), hasSuffixB(b, "ss"):
		return b
	case b[n-1] == 's':
		// A vowel before the letter before the s.
		if n >= 3 && hasVowel(b[:n-2]) {
			return b[:n-1]
		}
	}
	return b
}

func step1b(b []byte, p1 int) []byte {
	if len(b) == 0 {
		return b
	}
	if c := b[len(b)-1]; c != 'd' && c != 'g' && c != 'y' {
		return b
	}
	var suf int
	switch {
	case hasSuffixB(b, "eedly"):
		if len(b)-5 >= p1 {
			return b[:len(b)-3]
		}
		return b
	case hasSuffixB(b, "eed"):
		if len(b)-3 >= p1 {
			return b[:len(b)-1]
		}
		return b
	case hasSuffixB(b, "ingly"):
		suf = 5
	case hasSuffixB(b, "edly"):
		suf = 4
	case hasSuffixB(b, "ing"):
		suf = 3
	case hasSuffixB(b, "ed"):
		suf = 2
	default:
		return b
	}
	if !hasVowel(b[:len(b)-suf]) {
		return b
	}
	b = b[:len(b)-suf]
	m := len(b)
	switch {
	case hasSuffixB(b, "at"), hasSuffixB(b, "bl"), hasSuffixB(b, "iz"):
		return append(b, 'e')
	case m >= 2 && b[m-1] == b[m-2]:
		switch b[m-1] {
		case 'b', 'd', 'f', 'g', 'm', 'n', 'p', 'r', 't':
			return b[:m-1]
		}
	}
	if m == p1 && shortv(b, m) {
		return append(b, 'e')
	}
	return b
}

func step1c(b []byte) []byte {
	n := len(b)
	if n >= 3 && (b[n-1] == 'y' || b[n-1] == 'Y') && !isVowel(b[n-2]) {
		b[n-1] = 'i'
	}
	return b
}

// A suffix rule: a suffix, what replaces it, and a condition.
type suffixRule struct {
	suf, to string
	cond    uint8
}

const (
	condNone = iota
	condL    // step 2 ogi: after an l
	condLI   // step 2 li: after c, d, e, g, h, k, m, n, r or t
	condR2   // step 3 ative: in R2
	condST   // step 4 ion: after s or t
)

// The suffixes of steps 2, 3 and 4, longest first within each last
// letter (the stemmer takes the longest that matches, then checks its
// region).
var (
	step2Rules = [256][]suffixRule{
		'i': {
			{"lessli", "less", condNone}, {"biliti", "ble", condNone},
			{"fulli", "ful", condNone}, {"ousli", "ous", condNone}, {"entli", "ent", condNone},
			{"aliti", "al", condNone}, {"iviti", "ive", condNone},
			{"anci", "ance", condNone}, {"enci", "ence", condNone}, {"abli", "able", condNone},
			{"alli", "al", condNone},
			{"ogi", "og", condL}, {"bli", "ble", condNone},
			{"li", "", condLI},
		},
		'l': {{"ational", "ate", condNone}, {"tional", "tion", condNone}},
		'm': {{"alism", "al", condNone}},
		'n': {{"ization", "ize", condNone}, {"ation", "ate", condNone}},
		'r': {{"izer", "ize", condNone}, {"ator", "ate", condNone}},
		's': {{"iveness", "ive", condNone}, {"fulness", "ful", condNone}, {"ousness", "ous", condNone}},
	}
	step3Rules = [256][]suffixRule{
		'l': {{"ational", "ate", condNone}, {"tional", "tion", condNone}, {"ical", "ic", condNone}, {"ful", "", condNone}},
		'e': {{"icate", "ic", condNone}, {"ative", "", condR2}, {"alize", "al", condNone}},
		'i': {{"iciti", "ic", condNone}},
		's': {{"ness", "", condNone}},
	}
	step4Rules = [256][]suffixRule{
		'l': {{"al", "", condNone}},
		'e': {
			{"ance", "", condNone}, {"ence", "", condNone}, {"able", "", condNone}, {"ible", "", condNone},
			{"ate", "", condNone}, {"ive", "", condNone}, {"ize", "", condNone},
		},
		'r': {{"er", "", condNone}},
		'c': {{"ic", "", condNone}},
		't': {{"ement", "", condNone}, {"ment", "", condNone}, {"ant", "", condNone}, {"ent", "", condNone}},
		'm': {{"ism", "", condNone}},
		'i': {{"iti", "", condNone}},
		's': {{"ous", "", condNone}},
		'n': {{"ion", "", condST}},
	}
)

// longestRule returns the longest rule of rules whose suffix ends b.
func longestRule(b []byte, rules *[256][]suffixRule) *suffixRule {
	rs := rules[b[len(b)-1]]
	for i := range rs {
		if hasSuffixB(b, rs[i].suf) {
			return &rs[i]
		}
	}
	return nil
}

// applyRule applies r to b if its suffix starts at or after region (the
// start of R1 or R2) and its condition holds.
func applyRule(b []byte, r *suffixRule, region, p2 int) []byte {
	start := len(b) - len(r.suf)
	if start < region {
		return b
	}
	switch r.cond {
	case condL:
		if start == 0 || b[start-1] != 'l' {
			return b
		}
	case condLI:
		if start == 0 {
			return b
		}
		switch b[start-1] {
		case 'c', 'd', 'e', 'g', 'h', 'k', 'm', 'n', 'r', 't':
		default:
			return b
		}
	case condR2:
		if start < p2 {
			return b
		}
	case condST:
		if start == 0 || b[start-1] != 's' && b[start-1] != 't' {
			return b
		}
	}
	return append(b[:start], r.to...)
}

func step2(b []byte, p1 int) []byte {
	if len(b) == 0 {
		return b
	}
	if r := longestRule(b, &step2Rules); r != nil {
		return applyRule(b, r, p1, 0)
	}
	return b
}

func step3(b []byte, p1, p2 int) []byte {
	if len(b) == 0 {
		return b
	}
	if r := longestRule(b, &step3Rules); r != nil {
		return applyRule(b, r, p1, p2)
	}
	return b
}

func step4(b []byte, p2 int) []byte {
	if len(b) == 0 {
		return b
	}
	if r := longestRule(b, &step4Rules); r != nil {
		return applyRule(b, r, p2, p2)
	}
	return b
}

func step5(b []byte, p1, p2 int) []byte {
	n := len(b)
	if n == 0 {
		return b
	}
	switch b[n-1] {
	case 'e':
		if n-1 >= p2 || n-1 >= p1 && !shortv(b, n-1) {
			return b[:n-1]
		}
	case 'l':
		if n-1 >= p2 && n >= 2 && b[n-2] == 'l' {
			return b[:n-1]
		}
	}
	return b
}
