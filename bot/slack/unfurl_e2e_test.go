package slack_test

import (
	"io"
	"strings"
	"testing"

	fbslack "github.com/feedbackbot/feedbackbot/bot/slack"
)

// TestUnfurl: link_shared with a link to a request page on the board's
// host → chat.unfurl (checked by the fake against Slack's Web API spec)
// with the request card; links to other hosts and pages are left alone;
// the harness's board is private, so a channel shared with other
// organisations gets no preview.
func TestUnfurl(t *testing.T) {
	h := newHarness(t, false)
	f := h.f
	h.respond(t, "U1", "C1", "watch")
	m1 := f.NewMessage("C1", "U1", "Please add a dark mode to the dashboard", "")
	h.tr.event(t, f.MessageEvent(m1))
	eventually(t, "card for FB-1", func() bool { return len(h.postsContaining("C1", m1.TS, "FB-1")) == 1 })

	f.ShareChannel("C2")
	h.tr.event(t, f.LinkSharedEvent("U1", "C2", "1700000000.000900", "https://feedback.example.com/requests/FB-1"))
	link := f.NewMessage("C1", "U1", "see https://feedback.example.com/requests/fb-1", "")
	h.tr.event(t, f.LinkSharedEvent("U1", "C1", link.TS, "https://feedback.example.com/requests/fb-1", "https://elsewhere.example.com/requests/FB-1", "https://feedback.example.com/roadmap"))
	eventually(t, "chat.unfurl", func() bool { return len(f.Unfurls()) >= 1 })
	u := f.Unfurls()[0]
	if u.Channel != "C1" || u.TS != link.TS || len(u.Unfurls) != 1 {
		t.Fatalf("unfurl %+v", u)
	}
	text, _ := u.Unfurls["https://feedback.example.com/requests/fb-1"]["text"].(string)
	if !strings.Contains(text, "FB-1: Please add a dark mode to the dashboard") || !strings.Contains(text, "1 person") {
		t.Errorf("card %q", text)
	}
	// The shared channel's event was sent first; wait until the adapter
	// has handled both before saying it got nothing.
	eventually(t, "conversations.info of C2", func() bool {
		for _, c := range f.Calls() {
			if c.Method == "conversations.info" && c.Params.Get("channel") == "C2" {
				return true
			}
		}
		return false
	})
	for _, u := range f.Unfurls() {
		if u.Channel == "C2" {
			t.Errorf("a private board unfurled in a shared channel: %+v", u)
		}
	}
}

// TestUnfurl_PublicBoardSharedChannel: a public board's links unfurl in a
// channel shared with other organisations too, with the redacted card (no
// organisation count); in an internal channel the card is the full one.
func TestUnfurl_PublicBoardSharedChannel(t *testing.T) {
	h := newHarnessWith(t, false, nil, io.Discard, func(c *fbslack.Config) { c.BoardPublic = true })
	f := h.f
	h.respond(t, "U1", "C1", "watch")
	m1 := f.NewMessage("C1", "U1", "Please add a dark mode to the dashboard", "")
	h.tr.event(t, f.MessageEvent(m1))
	eventually(t, "card for FB-1", func() bool { return len(h.postsContaining("C1", m1.TS, "FB-1")) == 1 })

	const link = "https://feedback.example.com/requests/FB-1"
	f.ShareChannel("C2")
	shared := f.NewMessage("C2", "U4", "see "+link, "")
	h.tr.event(t, f.LinkSharedEvent("U4", "C2", shared.TS, link))
	internal := f.NewMessage("C1", "U1", "see "+link, "")
	h.tr.event(t, f.LinkSharedEvent("U1", "C1", internal.TS, link))
	card := map[string]string{}
	eventually(t, "both unfurls", func() bool {
		for _, u := range f.Unfurls() {
			text, _ := u.Unfurls[link]["text"].(string)
			card[u.Channel] = text
		}
		return card["C1"] != "" && card["C2"] != ""
	})
	if !strings.Contains(card["C2"], "FB-1: Please add a dark mode to the dashboard") || !strings.Contains(card["C2"], "1 person") ||
		strings.Contains(card["C2"], "organisation") {
		t.Errorf("shared channel card %q, want the redacted card", card["C2"])
	}
	if !strings.Contains(card["C1"], "1 organisation") {
		t.Errorf("internal channel card %q, want the full card", card["C1"])
	}
}
