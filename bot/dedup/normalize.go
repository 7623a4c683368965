package dedup

import (
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Chat markup handled by StripMarkup.
var (
	// Slack links and references: <https://x.y|label>, <@U123>, <#C1|general>,
	// <!here>, <!subteam^S1|@team>. Discord: <@123>, <@!123>, <@&123>, <#123>,
	// <:name:123>, <a:name:123>, <t:1700000000:R>, </cmd:123>.
	reAngle = regexp.MustCompile(`<([^<>\s][^<>]*)>`)
	// Emoji shortcodes such as :bulb: or :+1:.
	reShortcode = regexp.MustCompile(`:[a-z0-9_+\-]{1,40}:`)
	// Code fences with an optional language tag.
	reFence = regexp.MustCompile("```[a-zA-Z0-9_+\\-]*\\n?")
)

// StripMarkup removes Slack and Discord markup from chat text while keeping
// the words a reader sees: link labels and URLs, channel names and the
// contents of code spans and blocks. User, role and group mentions, emoji
// (custom and shortcodes) and timestamps are removed because they say who
// wrote to whom, not what was asked.
func StripMarkup(s string) string {
	if strings.IndexByte(s, '<') >= 0 {
		s = reAngle.ReplaceAllStringFunc(s, func(m string) string {
			inner := m[1 : len(m)-1]
			label := ""
			if i := strings.IndexByte(inner, '|'); i >= 0 {
				inner, label = inner[:i], inner[i+1:]
			}
			switch {
			case strings.HasPrefix(inner, "@"), strings.HasPrefix(inner, "!"),
				strings.HasPrefix(inner, "t:"), strings.HasPrefix(inner, "/"):
				// Mentions, special mentions, timestamps, slash-command
				// references. A Slack group label like "@team" is kept.
				if strings.HasPrefix(inner, "!subteam") {
					return " " + strings.TrimPrefix(label, "@") + " "
				}
				return " "
			case strings.HasPrefix(inner, "#"):
				// A channel: Slack gives the name as a label, Discord only the id.
				return " " + label + " "
			case strings.HasPrefix(inner, ":"), strings.HasPrefix(inner, "a:"):
				// Discord custom emoji.
				return " "
			case strings.Contains(inner, "://") || strings.HasPrefix(inner, "mailto:"):
				return " " + inner + " " + label + " "
			}
			return m
		})
	}
	if strings.Contains(s, "```") {
		s = reFence.ReplaceAllString(s, " ")
	}
	if strings.IndexByte(s, ':') >= 0 {
		s = reShortcode.ReplaceAllStringFunc(s, func(m string) string {
			// Keep clock times and the like (digits only), drop emoji names.
			if strings.Trim(m[1:len(m)-1], "0123456789") == "" {
				return m
			}
			return " "
		})
	}
	return strings.ReplaceAll(s, "`", " ")
}

// newFolder returns NFKC, then canonical decomposition, accent removal and
// recomposition. A transformer is not safe for concurrent use, so each call
// builds one.
func newFolder() transform.Transformer {
	return transform.Chain(norm.NFKC, norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}

// Fold returns s in NFKC form with accents stripped and case folded, so
// that "Ｃafé" and "cafe" compare equal. It keeps the text's structure
// (spaces, punctuation).
func Fold(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	out, _, err := transform.String(newFolder(), s)
	if err != nil {
		out = s
	}
	// A Caser is not safe for concurrent use: make one per call.
	out = cases.Fold().String(out)
	// Folding can produce new combining marks (rare); strip once more.
	if !isASCII(out) {
		if o2, _, err := transform.String(newFolder(), out); err == nil {
			out = o2
		}
	}
	return out
}

// foldKeepCase is Fold without case folding, for tokenisers that split
// camelCase identifiers.
func foldKeepCase(s string) string {
	if isASCII(s) {
		return s
	}
	out, _, err := transform.String(newFolder(), s)
	if err != nil {
		return s
	}
	return out
}

// Normalize is StripMarkup followed by Fold: the text as the index reads it.
func Normalize(s string) string {
	return Fold(StripMarkup(s))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
