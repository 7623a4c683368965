package slack_test

import (
	"context"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/slacktest"
)

// TestRegressionAlert: through the fake Slack (HTTP mode), after FB-1
// ships in v2.4 two people's problem replies in its thread raise one alert
// in the request's channel with a "Roll back v2.4" button; a third report
// raises no second alert; the button is refused (ephemeral) to a team
// member who is not a release lead and changes nothing; a release lead's
// click rolls v2.4 back and the thread hears it.
func TestRegressionAlert(t *testing.T) {
	h := newHarness(t, false)
	f := h.f
	ctx := context.Background()
	h.respond(t, "U1", "C1", "watch")
	m1 := f.NewMessage("C1", "U1", "Single sign-on with Okta", "")
	h.tr.event(t, f.MessageEvent(m1))
	eventually(t, "card for FB-1", func() bool { return len(h.postsContaining("C1", m1.TS, "FB-1")) == 1 })
	h.respond(t, "U5", "C1", "ship FB-1 v2.4")
	eventually(t, "ship reply", func() bool { return len(h.postsContaining("C1", m1.TS, "Shipped in v2.4")) == 1 })

	reply := func(user, text string) {
		t.Helper()
		m := f.NewMessage("C1", user, text, m1.TS)
		h.tr.event(t, f.MessageEvent(m))
		eventually(t, "reply "+text, func() bool { return h.cnt.handled(bot.EventMessage, m.TS) == 1 })
	}
	const alertText = "2 people report problems with FB-1 since v2.4 shipped"
	alerts := func() []slacktest.Message {
		var out []slacktest.Message
		for _, p := range f.Posts() {
			if strings.Contains(p.Text, "report problems with FB-1") {
				out = append(out, p)
			}
		}
		return out
	}
	reply("U2", "SSO is broken since the update")
	if n := len(alerts()); n != 0 {
		t.Fatalf("%d alerts after one report", n)
	}
	reply("U4", "login fails for me too")
	eventually(t, "the alert", func() bool { return len(alerts()) == 1 })
	alert := alerts()[0]
	if alert.Channel != "C1" || alert.ThreadTS != "" || !strings.Contains(alert.Text, alertText) {
		t.Fatalf("alert %+v", alert)
	}
	if len(alert.Buttons) != 1 || alert.Buttons[0].ActionID != "rollback:1" || !strings.Contains(alert.Buttons[0].Text, "Roll back v2.4") {
		t.Fatalf("alert buttons %+v", alert.Buttons)
	}
	reply("U1", "still broken here")
	if as, err := h.db.ListRegressionAlerts(ctx); err != nil || len(as) != 1 || as[0].People != 2 {
		t.Fatalf("alerts in the store after a third report: %+v %v", as, err)
	}

	// A team member who is not a release lead: refused, only to them.
	click := f.BlockAction("U1", "C1", alert.TS, "rollback:1")
	h.tr.interaction(t, click)
	url := responseURLOf(t, click)
	if got := h.responseTo(t, url); !strings.Contains(got, "Only release leads can roll back releases.") {
		t.Fatalf("non-lead click: %q", got)
	}
	for _, r := range f.Responses() {
		if r.URL == url && r.ResponseType != "ephemeral" {
			t.Errorf("refusal is %q, not ephemeral", r.ResponseType)
		}
	}
	if st := h.status(t, 1); st != bot.StatusShipped {
		t.Fatalf("after a non-lead click FB-1 is %s", st)
	}

	// The release lead rolls back.
	click = f.BlockAction("U5", "C1", alert.TS, "rollback:1")
	h.tr.interaction(t, click)
	if got := h.responseTo(t, responseURLOf(t, click)); !strings.Contains(got, "Rolled back FB-1 in v2.4") {
		t.Fatalf("lead click: %q", got)
	}
	eventually(t, "rollback reply in the thread", func() bool { return len(h.postsContaining("C1", m1.TS, "v2.4 was rolled back")) == 1 })
	if st := h.status(t, 1); st != bot.StatusRolledBack {
		t.Fatalf("after the lead's click FB-1 is %s", st)
	}
	if n := len(alerts()); n != 1 {
		t.Errorf("%d alert posts, want 1", n)
	}
}

func (h *harness) status(t *testing.T, id int64) bot.Status {
	t.Helper()
	d, err := h.eng.Detail(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d.Request.Status
}
