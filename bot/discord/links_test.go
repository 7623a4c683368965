package discord

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
)

func TestNeutralizeLinks(t *testing.T) {
	for in, want := range map[string]string{
		"plain text":                          "plain text",
		"see [docs](https://evil.example/x)":  `see \[docs\](https://evil.example/x)`,
		"[a](<https://x.example>) and [b](y)": `\[a\](<https://x.example>) and \[b\](y)`,
		"brackets [alone] and (parens)":       "brackets [alone] and (parens)",
		"FB-1: Dark mode":                     "FB-1: Dark mode",
	} {
		if got := neutralizeLinks(in); got != want {
			t.Errorf("neutralizeLinks(%q) = %q, want %q", in, got, want)
		}
	}
}

// Captured text echoed by the bot (in a reply here) shows a masked link
// [text](url) as the literal text, never as a link hiding its target.
func TestE2EMaskedLinkNeutralised(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.rec.setFn(func(ctx context.Context, ev *bot.Event) (*bot.Response, error) {
		if ev.Kind == bot.EventMention {
			return &bot.Response{Text: "Captured as FB-1: " + ev.Message.Text}, nil
		}
		return nil, nil
	})
	e.fake.UserMessage(generalID, alice, "<@"+e.fake.AppID()+"> login at [your bank](https://evil.example/phish)")
	eventually(t, 5*time.Second, func() bool { return len(e.fake.BotMessages(generalID)) == 1 }, "reply")
	r := e.fake.BotMessages(generalID)[0]
	if strings.Contains(r.Content, "[your bank](") || !strings.Contains(r.Content, `\[your bank\](https://evil.example/phish)`) {
		t.Fatalf("reply %q keeps a masked link", r.Content)
	}
}
