package discord

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/discordtest"
)

// TestEngineE2ERegressionAlert: through the fake Discord, after FB-1 ships
// in v2.4, problem replies from two people in its thread raise one alert in
// the release channel with a "Roll back v2.4" button; a third report raises
// no second alert; the button is refused (ephemeral) to a team member who
// is not a release lead and changes nothing; a release lead's click rolls
// v2.4 back and the thread hears it.
//
// Not parallel: it runs alone, before the parallel end-to-end tests, so it
// adds no writers to theirs on a loaded machine.
func TestEngineE2ERegressionAlert(t *testing.T) {
	e := newEngineEnv(t)
	f := e.fake
	const wait = 60 * time.Second
	// Replies count as handled once the engine has returned (an alert is
	// written before that).
	var mu sync.Mutex
	handled := map[string]bool{}
	e.rec.setFn(func(ctx context.Context, ev *bot.Event) (*bot.Response, error) {
		resp, err := e.eng.Handle(ctx, ev)
		if ev.Kind == bot.EventMessage && ev.Message != nil {
			mu.Lock()
			handled[ev.Message.ID] = true
			mu.Unlock()
		}
		return resp, err
	})
	e.command(t, generalID, tina, "watch")
	if r := e.command(t, releasesID, tina, "releases"); !r.Ephemeral() {
		t.Fatalf("releases: %+v", r)
	}
	m1, _ := f.UserMessage(generalID, alice, "Single sign-on with Okta")
	eventually(t, wait, func() bool { return len(botPosts(f, generalID, "FB-1")) == 1 }, "card for FB-1")
	f.StartThread(generalID, m1.ID, "SSO")
	e.command(t, releasesID, rex, "ship", o("keys", "FB-1"), o("version", "v2.4"))
	eventually(t, wait, func() bool { return len(botPosts(f, m1.ID, "Shipped in v2.4")) == 1 }, "ship reply in the thread")

	reply := func(who discordtest.Member, text string) {
		t.Helper()
		m, err := f.UserMessage(m1.ID, who, text)
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, wait, func() bool { mu.Lock(); defer mu.Unlock(); return handled[m.ID] }, "reply %q handled", text)
	}
	alerts := func() []discordtest.Message { return botPosts(f, releasesID, "report problems with FB-1") }
	reply(bob, "SSO is broken since the update")
	reply(mod, "login fails for me too")
	eventually(t, wait, func() bool { return len(alerts()) == 1 }, "the alert in the release channel")
	alert := alerts()[0]
	if !strings.Contains(alert.Content, "2 people report problems with FB-1 since v2.4 shipped") {
		t.Fatalf("alert %q", alert.Content)
	}
	if bs := alert.Buttons(); len(bs) != 1 || bs[0].CustomID != "rollback:1" || !strings.Contains(bs[0].Label, "Roll back v2.4") {
		t.Fatalf("alert buttons %+v", bs)
	}
	reply(alice, "still broken here")
	if as, err := e.db.ListRegressionAlerts(context.Background()); err != nil || len(as) != 1 || as[0].People != 2 {
		t.Fatalf("alerts in the store after a third report: %+v %v", as, err)
	}

	// A team member who is not a release lead: refused, only to them.
	id, _ := f.ClickButton(releasesID, alert.ID, "rollback:1", tina)
	if r := finalResponse(t, f, id); r.Content != "Only release leads can roll back releases." || !r.Ephemeral() {
		t.Fatalf("non-lead click: %+v", r)
	}
	if st := e.request(t, 1).Status; st != bot.StatusShipped {
		t.Fatalf("after a non-lead click FB-1 is %s", st)
	}

	// The release lead rolls back.
	id, _ = f.ClickButton(releasesID, alert.ID, "rollback:1", rex)
	if r := finalResponse(t, f, id); !strings.Contains(r.Content, "Rolled back FB-1 in v2.4") {
		t.Fatalf("lead click: %+v", r)
	}
	eventually(t, wait, func() bool { return len(botPosts(f, m1.ID, "v2.4 was rolled back")) == 1 }, "rollback reply in the thread")
	if st := e.request(t, 1).Status; st != bot.StatusRolledBack {
		t.Fatalf("after the lead's click FB-1 is %s", st)
	}
	if n := len(alerts()); n != 1 {
		t.Errorf("%d alert posts, want 1", n)
	}
}
