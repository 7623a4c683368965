package discord

import (
	"strings"

	"github.com/bwmarrin/discordgo"
)

// emojiUnicode maps the Slack-style names the engine uses to the Unicode
// emoji Discord reactions carry. Only a few are needed: the configured
// capture and vote emoji and the ones the bot reacts with.
var emojiUnicode = map[string]string{
	"bulb":             "💡",
	"+1":               "👍",
	"thumbsup":         "👍",
	"-1":               "👎",
	"thumbsdown":       "👎",
	"eyes":             "👀",
	"white_check_mark": "✅",
	"heavy_check_mark": "✔️",
	"rocket":           "🚀",
	"tada":             "🎉",
	"heart":            "❤️",
	"star":             "⭐",
	"fire":             "🔥",
	"pray":             "🙏",
}

// emojiNames is the reverse of emojiUnicode, preferring the canonical names.
var emojiNames = func() map[string]string {
	m := make(map[string]string, len(emojiUnicode))
	for name, u := range emojiUnicode {
		if name == "thumbsup" || name == "thumbsdown" {
			continue
		}
		m[stripModifiers(u)] = name
	}
	return m
}()

// stripModifiers removes variation selectors and skin-tone modifiers, so
// "👍🏽" and "👍" both count as "+1".
func stripModifiers(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\uFE0F' || r == '\uFE0E' || (r >= 0x1F3FB && r <= 0x1F3FF) {
			return -1
		}
		return r
	}, s)
}

// emojiName returns the canonical Slack-style name for a Discord emoji name
// (Unicode for standard emoji, the custom emoji's name otherwise). Colons
// around a name are dropped. Unknown emoji pass through unchanged.
func emojiName(s string) string {
	s = strings.Trim(strings.TrimSpace(s), ":")
	if s == "thumbsup" {
		return "+1"
	}
	if s == "thumbsdown" {
		return "-1"
	}
	if name, ok := emojiNames[stripModifiers(s)]; ok {
		return name
	}
	return s
}

// reactionName is emojiName for a reaction payload.
func reactionName(e discordgo.Emoji) string {
	if e.Name == "" {
		return e.ID
	}
	return emojiName(e.Name)
}

// emojiAPI returns the emoji in the form the reactions endpoint wants: the
// Unicode character for known names, "name:id" for custom emoji as given.
func emojiAPI(name string) string {
	name = strings.Trim(strings.TrimSpace(name), ":")
	if u, ok := emojiUnicode[name]; ok {
		return u
	}
	return name
}
