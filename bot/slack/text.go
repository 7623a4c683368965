package slack

import (
	"context"
	"regexp"
	"strings"
)

// Slack sends message text as mrkdwn: &, < and > escaped as &amp;, &lt;
// and &gt;, and references in angle brackets: <@U123> (a person),
// <#C123|name> (a channel), <!here>, <!subteam^S1|@team>, <https://x|label>
// (a link). The bot stores and shows plain text, and escapes once when it
// posts (escapeText).

// markupRE finds one <…> reference.
var markupRE = regexp.MustCompile(`<([^<>\n]*)>`)

// unescapeText undoes Slack's three escapes.
var unescapeText = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace

// maxNameLookups bounds the users.info calls one message may cause.
const maxNameLookups = 10

// plainText turns the mrkdwn text of a Slack message into plain text:
// people become @name (from the reference's label, else users.info, else
// the id), channels #name, <!here> and the like @here, links "label (url)"
// or the url alone, and the escapes are undone.
func (a *Adapter) plainText(ctx context.Context, s string) string {
	if !strings.ContainsAny(s, "<&") {
		return s
	}
	lookups := 0
	s = markupRE.ReplaceAllStringFunc(s, func(m string) string {
		target, label, _ := strings.Cut(m[1:len(m)-1], "|")
		switch {
		case strings.HasPrefix(target, "@"):
			if label != "" {
				return "@" + strings.TrimPrefix(label, "@")
			}
			id := target[1:]
			if lookups < maxNameLookups && a != nil && a.api != nil {
				lookups++
				if info, err := a.userInfo(ctx, id); err == nil {
					if n := displayName(info); n != "" {
						return "@" + escapeText(n) // unescaped below with the rest
					}
				}
			}
			return "@" + id
		case strings.HasPrefix(target, "#"):
			if label != "" {
				return "#" + label
			}
			return target
		case strings.HasPrefix(target, "!"):
			if label != "" {
				return label
			}
			name, _, _ := strings.Cut(target[1:], "^")
			return "@" + name
		case target == "":
			return m
		default:
			url := target
			if strings.HasPrefix(url, "mailto:") {
				if label != "" {
					return label
				}
				return strings.TrimPrefix(url, "mailto:")
			}
			if label != "" && label != url {
				return label + " (" + url + ")"
			}
			return url
		}
	})
	return unescapeText(s)
}
