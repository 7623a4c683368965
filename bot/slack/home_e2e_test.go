package slack_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAppHome: app_home_opened on the home tab → views.publish (checked by
// the fake against Slack's Web API spec) with the person's own requests,
// with status and a link to the board, and the top requests; the messages
// tab publishes nothing.
func TestAppHome(t *testing.T) {
	h := newHarness(t, false)
	f := h.f
	h.respond(t, "U1", "C1", "watch")
	m1 := f.NewMessage("C1", "U1", "Please add a dark mode to the dashboard", "")
	h.tr.event(t, f.MessageEvent(m1))
	eventually(t, "card for FB-1", func() bool { return len(h.postsContaining("C1", m1.TS, "FB-1")) == 1 })
	m2 := f.NewMessage("C1", "U4", "Export reports as CSV files", "")
	h.tr.event(t, f.MessageEvent(m2))
	eventually(t, "card for FB-2", func() bool { return len(h.postsContaining("C1", m2.TS, "FB-2")) == 1 })
	h.tr.event(t, f.ReactionEvent(true, "U5", "+1", "C1", m2.TS))
	eventually(t, "vote", func() bool { return h.demand(t, 2) == 2 })

	h.tr.event(t, f.AppHomeOpenedEvent("U5", "messages"))
	h.tr.event(t, f.AppHomeOpenedEvent("U5", "home"))
	eventually(t, "views.publish", func() bool { return len(f.Homes()) == 1 })
	home := f.Homes()[0]
	if home.User != "U5" {
		t.Fatalf("published for %q", home.User)
	}
	b, _ := json.Marshal(home.Blocks)
	text := string(b)
	mine := text[:strings.Index(text, "Top requests")]
	if !strings.Contains(mine, `\u003chttps://feedback.example.com/requests/FB-2|FB-2\u003e Export reports as CSV files · _open_ · 2 people`) || strings.Contains(mine, "FB-1") {
		t.Errorf("your requests:\n%s", mine)
	}
	top := text[strings.Index(text, "Top requests"):]
	if !strings.Contains(top, "FB-1") || !strings.Contains(top, "FB-2") || strings.Index(top, "FB-2") > strings.Index(top, "FB-1") {
		t.Errorf("top requests (FB-2 has more people):\n%s", top)
	}

	// Someone with no request sees the hint.
	h.tr.event(t, f.AppHomeOpenedEvent("U9", "home"))
	eventually(t, "second publish", func() bool { return len(f.Homes()) == 2 })
	if b, _ := json.Marshal(f.Homes()[1].Blocks); !strings.Contains(string(b), "You have not asked for or voted on anything yet") {
		t.Errorf("empty home: %s", b)
	}
}
