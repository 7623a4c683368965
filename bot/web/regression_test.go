package web

import (
	"context"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
)

// The request page lists post-ship problem reports (replies in the
// request's thread after the ship that report a problem), and only those.
func TestRequestPage_ProblemReports(t *testing.T) {
	env := newEnv(t)
	env.capture("slack", "T1", "C1", "1.1", "alice", "", "Single sign-on with Okta", "")
	if _, err := env.e.Release(context.Background(), teamLead, bot.ReleaseCommand{Action: bot.ActionShipped, Keys: []string{"FB-1"}, Version: "v2.4"}); err != nil {
		t.Fatal(err)
	}
	if r := env.do("GET", "/requests/FB-1", ""); strings.Contains(r.Body, `id="problems"`) {
		t.Fatalf("problems listed before any report:\n%s", r.Body)
	}
	for i, text := range []string{"SSO is broken since v2.4", "thanks, works great"} {
		m := &bot.Message{Platform: "slack", Workspace: "T1", Channel: "C1", ID: "1." + string(rune('2'+i)), ThreadID: "1.1",
			Author: bot.User{ID: "U-p" + string(rune('a'+i)), Name: "p" + string(rune('a'+i))}, Text: text,
			Permalink: "https://acme.slack.com/archives/C1/p1" + string(rune('2'+i))}
		if _, err := env.e.Handle(context.Background(), &bot.Event{Kind: bot.EventMessage, Platform: "slack", Workspace: "T1", Channel: "C1", User: m.Author, Message: m}); err != nil {
			t.Fatalf("reply %q: %v", text, err)
		}
	}
	body := env.do("GET", "/requests/FB-1", "").Body
	i := strings.Index(body, `id="problems"`)
	if i < 0 {
		t.Fatalf("no problem reports section:\n%s", body)
	}
	section := body[i:]
	section = section[:strings.Index(section, "</section>")]
	if !strings.Contains(section, "Problems reported since v2.4 shipped") || !strings.Contains(section, "SSO is broken since v2.4") ||
		!strings.Contains(section, `href="https://acme.slack.com/archives/C1/p12"`) {
		t.Errorf("problem section lacks the report:\n%s", section)
	}
	if strings.Contains(section, "works great") {
		t.Errorf("a thank-you is listed as a problem:\n%s", section)
	}
}
