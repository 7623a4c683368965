package dedup

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind says how a token was recognised.
type Kind uint8

// Token kinds. Only KindWord tokens are stop-word filtered and stemmed.
const (
	KindWord    Kind = iota // a natural-language word, or a part of an identifier
	KindIdent               // a whole code identifier: snake_case, camelCase, dotted.name
	KindVersion             // a version such as 2.4 or 1.2.3-rc1 (a leading v is dropped)
	KindNumber              // digits only
	KindURL                 // host and path of a URL, without scheme, www, query or fragment
)

// Token is one unit of text, folded (NFKC, no accents, lower case) but not
// stemmed.
type Token struct {
	Text string
	Kind Kind
}

var (
	reURL   = regexp.MustCompile(`(?i)\b(?:https?://|www\.)[^\s<>"'()\[\]{}|]+`)
	reFrame = regexp.MustCompile(`\bat\s+((?:[A-Za-z_$][\w$]*\.)+[\w$<>]+)\s*\([^()]*\)`)
	// reUserAgent matches the engine tokens of a browser's user-agent
	// string (dropUserAgentEngines).
	reUserAgent = regexp.MustCompile(`\(KHTML, like Gecko\)|\b(?:Mozilla|AppleWebKit|Chrome|Safari|Gecko|Firefox|Edg|OPR|Version)/[0-9][\w.]*`)
	reLogLevel  = regexp.MustCompile(`\[(?:INFO|ERROR|WARNING|WARN|DEBUG|TRACE|FATAL)\]`)
	reVersion   = regexp.MustCompile(`^[vV]?([0-9]+(?:\.[0-9]+)+)((?:[-+.]?[a-zA-Z][a-zA-Z0-9]*)*)$`)
)

// Tokenize splits chat text into tokens. Markup is stripped first
// (StripMarkup), and so are the Java stack frames of the runtime and of test
// frameworks (dropRuntimeFrames), the engine tokens of browser user-agent
// strings (dropUserAgentEngines) and log-level markers such as [INFO]. URLs
// become one KindURL token and their host and path words, then the words of
// their query values.
// Versions (v2.4, 1.2.3) stay whole. A code identifier such as
// ensureElementIsVisible, max_retry_count or org.apache.FileSystem yields
// the whole identifier (KindIdent) followed by its parts (KindWord), so that
// both the exact identifier and the words in it can match. Hyphenated words
// also yield their joined form (e-mail: email, e, mail). Emoji and other
// symbols separate tokens and are dropped.
func Tokenize(text string) []Token {
	var out []Token
	forEachToken(text, func(t Token, _ bool) { out = append(out, t) })
	return out
}

// forEachToken calls fn for each token; seq is true for tokens that belong
// to the word sequence used for bigrams (words and identifier parts, not
// whole identifiers, URLs or joined forms).
func forEachToken(text string, fn func(t Token, seq bool)) {
	text = foldKeepCase(StripMarkup(text))
	text = dropRuntimeFrames(text)
	text = dropUserAgentEngines(text)
	if strings.IndexByte(text, '[') >= 0 {
		// Log-level markers of pasted logs ([INFO], [ERROR]) are on every
		// line of a build log, whatever failed.
		text = reLogLevel.ReplaceAllString(text, " ")
	}
	if !strings.Contains(text, "://") && !strings.Contains(text, "www.") && !strings.Contains(text, "WWW.") {
		scanWords(text, fn)
		return
	}
	last := 0
	for _, loc := range reURL.FindAllStringIndex(text, -1) {
		scanWords(text[last:loc[0]], fn)
		raw := text[loc[0]:loc[1]]
		u := urlToken(raw)
		if u != "" {
			fn(Token{Text: u, Kind: KindURL}, false)
			scanWords(u, fn)
			scanQueryValues(raw, fn)
		}
		last = loc[1]
	}
	scanWords(text[last:], fn)
}

// scanQueryValues emits the words of the values of a URL's query string
// (cvename.cgi?name=CVE-2022-41881, show_bug.cgi?id=1234): they often name
// what the link is about, while the host and path are shared by every link
// to the same site.
func scanQueryValues(u string, fn func(Token, bool)) {
	i := strings.IndexByte(u, '?')
	if i < 0 {
		return
	}
	qs := u[i+1:]
	if j := strings.IndexByte(qs, '#'); j >= 0 {
		qs = qs[:j]
	}
	for _, kv := range strings.Split(qs, "&") {
		if _, v, ok := strings.Cut(kv, "="); ok && v != "" {
			scanWords(v, fn)
		}
	}
}

// urlToken returns host/path of a URL, lower-cased, without scheme, "www.",
// query, fragment and trailing punctuation.
func urlToken(u string) string {
	u = strings.TrimRight(u, ".,;:!?")
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	u = strings.TrimPrefix(strings.ToLower(u), "www.")
	return strings.TrimRight(u, "/")
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r) || r == '_'
}

// Word classes of the bytes of a word (scanWords): a word of lower-case
// letters and digits only is emitted without emitWord's passes.
const (
	clsLower = 1 << iota // a-z
	clsDigit             // 0-9
	clsOther             // A-Z, '_', a joiner inside the word, a non-ASCII rune
)

// asciiWordClass is, for ASCII, 0 where isWordRune is false and the
// byte's word class where it is true.
var asciiWordClass = func() (t [utf8.RuneSelf]uint8) {
	for c := range t {
		switch {
		case !isWordRune(rune(c)):
		case 'a' <= c && c <= 'z':
			t[c] = clsLower
		case '0' <= c && c <= '9':
			t[c] = clsDigit
		default:
			t[c] = clsOther
		}
	}
	return t
}()

func isJoiner(r rune) bool {
	return r == '.' || r == '-' || r == '\'' || r == '\u2019'
}

// scanWords finds words (runs of letters, digits and '_', joined by single
// '.', '-' or apostrophes between them) and emits their tokens. It notes
// the classes of each word's bytes as it reads them (emitScanned).
func scanWords(s string, fn func(Token, bool)) {
	start := -1
	var cls uint8
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if k := asciiWordClass[c]; k != 0 {
				// Most bytes: isWordRune of an ASCII letter or digit.
				if start < 0 {
					start, cls = i, 0
				}
				cls |= k
				i++
				continue
			}
		}
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		switch {
		case isWordRune(r):
			if start < 0 {
				start, cls = i, 0
			}
			cls |= clsOther
		case start >= 0 && isJoiner(r):
			// A joiner continues the word only if a word rune follows.
			if n, _ := utf8.DecodeRuneInString(s[i+size:]); !isWordRune(n) {
				emitScanned(s[start:i], cls, fn)
				start = -1
			} else {
				cls |= clsOther
			}
		default:
			if start >= 0 {
				emitScanned(s[start:i], cls, fn)
				start = -1
			}
		}
		i += size
	}
	if start >= 0 {
		emitScanned(s[start:], cls, fn)
	}
}

// emitScanned is emitWord(w, fn) for a word whose bytes are of the
// classes cls: a word of lower-case letters and digits only has no
// apostrophe, is no version (no '.') and is not joined, so emitWord would
// pass it to emitIdent, which emits a number (digits only, more than one)
// or the word (isPlainLower) as it is; emitScanned does that itself
// (TestScanWordsMatchesEmitWord).
func emitScanned(w string, cls uint8, fn func(Token, bool)) {
	switch cls {
	case clsLower, clsLower | clsDigit:
		fn(Token{Text: w, Kind: KindWord}, true)
	case clsDigit:
		if len(w) > 1 { // single digits are list markers and noise
			fn(Token{Text: w, Kind: KindNumber}, true)
		}
	default:
		emitWord(w, fn)
	}
}

func lower(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	return Fold(s)
}

var apostrophes = strings.NewReplacer("'", "", "\u2019", "")

func emitWord(w string, fn func(Token, bool)) {
	apos, joined := false, false
	for i := 0; i < len(w); i++ {
		switch w[i] {
		case '\'':
			apos = true
		case '.', '-':
			joined = true
		case 0xE2: // the first byte of U+2019
			apos = apos || strings.HasPrefix(w[i:], "\u2019")
		}
	}
	// Apostrophes: doesn't -> doesnt, user's -> users.
	if apos {
		w = apostrophes.Replace(w)
	}
	if emitVersion(w, fn) {
		return
	}
	if !joined {
		emitIdent(w, fn)
		return
	}
	hsegs := strings.FieldsFunc(w, func(r rune) bool { return r == '-' })
	if len(hsegs) > 1 {
		if allLetters(w) {
			// e-mail, built-in: also match the joined spelling.
			fn(Token{Text: lower(strings.Join(hsegs, "")), Kind: KindWord}, false)
		} else {
			fn(Token{Text: lower(w), Kind: KindIdent}, false)
		}
	}
	for _, h := range hsegs {
		if emitVersion(h, fn) {
			continue
		}
		dsegs := strings.FieldsFunc(h, func(r rune) bool { return r == '.' })
		if len(dsegs) > 1 {
			fn(Token{Text: lower(h), Kind: KindIdent}, false)
		}
		for _, d := range dsegs {
			emitIdent(d, fn)
		}
	}
}

// emitVersion emits a version (v2.4, 1.2.3, 4.1.89.Final, 3.3.0-rc1) as
// its numeric core without the leading v, its major.minor prefix when it
// has more parts, and its suffix words. It reports whether w is a version.
func emitVersion(w string, fn func(Token, bool)) bool {
	if !looksLikeVersion(w) {
		return false
	}
	m := reVersion.FindStringSubmatch(w)
	if m == nil {
		return false
	}
	core := m[1]
	fn(Token{Text: core, Kind: KindVersion}, true)
	if parts := strings.Split(core, "."); len(parts) > 2 {
		fn(Token{Text: parts[0] + "." + parts[1], Kind: KindVersion}, false)
	}
	for _, suf := range strings.FieldsFunc(m[2], func(r rune) bool { return r == '.' || r == '-' || r == '+' }) {
		emitIdent(suf, fn)
	}
	return true
}

func allLetters(w string) bool {
	for _, r := range w {
		if !unicode.IsLetter(r) && r != '-' {
			return false
		}
	}
	return true
}

// emitIdent emits a segment without '.' or '-': a plain word, a number, or a
// snake/camel identifier with its parts.
func emitIdent(w string, fn func(Token, bool)) {
	if w == "" {
		return
	}
	if isDigits(w) {
		if len(w) > 1 { // single digits are list markers and noise
			fn(Token{Text: w, Kind: KindNumber}, true)
		}
		return
	}
	if isPlainLower(w) {
		// The common case: a lower-case word (what splitIdent would
		// return whole, and lower would leave as it is).
		fn(Token{Text: w, Kind: KindWord}, true)
		return
	}
	parts := splitIdent(w)
	if len(parts) <= 1 {
		fn(Token{Text: lower(strings.Trim(w, "_")), Kind: KindWord}, true)
		return
	}
	fn(Token{Text: lower(strings.Trim(w, "_")), Kind: KindIdent}, false)
	for _, p := range parts {
		if isDigits(p) {
			if len(p) > 1 {
				fn(Token{Text: p, Kind: KindNumber}, true)
			}
		} else {
			fn(Token{Text: lower(p), Kind: KindWord}, true)
		}
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// splitIdent splits snake_case and camelCase (HTTPServerError: HTTP, Server,
// Error). Letters and digits are not split apart (utf8, ipv6).
func splitIdent(w string) []string {
	if isPlainLower(w) {
		return []string{w}
	}
	var parts []string
	for _, sub := range strings.Split(w, "_") {
		if sub == "" {
			continue
		}
		rs := []rune(sub)
		start := 0
		for i := 1; i < len(rs); i++ {
			prev, cur := rs[i-1], rs[i]
			boundary := false
			if unicode.IsUpper(cur) {
				if unicode.IsLower(prev) || unicode.IsDigit(prev) {
					boundary = true
				} else if unicode.IsUpper(prev) && i+1 < len(rs) && unicode.IsLower(rs[i+1]) {
					boundary = true
				}
			}
			if boundary {
				parts = append(parts, string(rs[start:i]))
				start = i
			}
		}
		parts = append(parts, string(rs[start:]))
	}
	return parts
}

// Analyze returns the indexed terms of text in order: tokens from Tokenize,
// stop words and one-letter words removed, words stemmed with the Snowball
// English stemmer.
func Analyze(text string) []string {
	var a analyzer
	var out []string
	forEachToken(text, func(t Token, _ bool) {
		if s, ok := a.term(t); ok {
			out = append(out, s)
		}
	})
	return out
}

// looksLikeVersion is a cheap test before the version regexp: a digit, or v
// and a digit, then a dot somewhere.
func looksLikeVersion(w string) bool {
	if len(w) > 1 && (w[0] == 'v' || w[0] == 'V') {
		w = w[1:]
	}
	return len(w) > 2 && w[0] >= '0' && w[0] <= '9' && strings.IndexByte(w, '.') > 0
}

// isPlainLower reports whether w is lower-case ASCII letters and digits only
// (no identifier to split).
func isPlainLower(w string) bool {
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// dropUserAgentEngines removes the engine tokens of browser user-agent
// strings ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML,
// like Gecko) Chrome/120.0 Safari/537.36", "Gecko/20100101 Firefox/91.0",
// Safari's "Version/17.5 Safari/605.1.15"): bug report templates paste one
// into every report, and they are the same in unrelated ones, like the
// runtime's stack frames. The platform in parentheses and the product the
// report is about ("SeaMonkey/2.53.17.1") stay, and so do the words
// without a version ("works in Firefox"). Only a text with a user-agent
// string in it (Mozilla/ or Gecko) is touched: "Chrome/120
// breaks the login" keeps its words.
func dropUserAgentEngines(text string) string {
	// Every engine's string has one of the two (WebKit's says "like
	// Gecko").
	if !strings.Contains(text, "Mozilla/") && !strings.Contains(text, "Gecko") {
		return text
	}
	return reUserAgent.ReplaceAllString(text, " ")
}

// runtimePrefixes are the packages of the Java runtime and of test
// frameworks: a stack frame in them says how the failing code was called
// (reflection, the test runner), and is the same in every report of a
// failing test.
var runtimePrefixes = []string{"java.", "javax.", "jdk.", "sun.", "com.sun.", "org.junit.", "junit.", "org.testng.", "org.apache.maven.surefire.", "kotlin.", "scala."}

// dropRuntimeFrames removes the Java stack frames ("at
// java.lang.Thread.run(Thread.java:750)") of runtimePrefixes from text,
// the way crash reporters skip runtime frames when they sign a crash: they
// are shared by unrelated reports and, a report holding dozens of them,
// outweighed its own words.
func dropRuntimeFrames(text string) string {
	if !strings.Contains(text, "at ") || !(strings.Contains(text, ".java:") || strings.Contains(text, "Native Method") ||
		strings.Contains(text, "Unknown Source") || strings.Contains(text, ".kt:") || strings.Contains(text, ".scala:")) {
		return text
	}
	return reFrame.ReplaceAllStringFunc(text, func(m string) string {
		name := reFrame.FindStringSubmatch(m)[1]
		for _, p := range runtimePrefixes {
			if strings.HasPrefix(name, p) {
				return " "
			}
		}
		return m
	})
}
