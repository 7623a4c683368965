package main

import (
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// TestConsoleRegressionAlert: after FB-1 ships in v2.4, problem replies in
// its thread from two people raise exactly one alert in the release channel
// with a "Roll back v2.4" button; a thank-you does not count, a third report
// raises no second alert; the button is refused to a non-lead and rolls
// back for a lead (the thread hears it), and /feedback show lists the reports.
func TestConsoleRegressionAlert(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		out := runConsole(t, dsn, script(
			"alice: /feedback watch",
			"bob: Single sign-on with Okta", // [2] FB-1, card [3]
			"#releases",
			"alice: /feedback releases",
			"alice: /feedback ship FB-1 v2.4",
			"#general",
			"carol: reply 2 SSO is broken since the update",
			"dave: reply 2 thanks, works great",
			"carol: reply 2 really, it's broken", // same person again
			"erin: reply 2 still getting a login loop",
			"frank: reply 2 it crashes for me too",
			"#releases",
			"mallory: click rollback:1",
			"alice: click rollback:1",
			"alice: /feedback show FB-1",
		), "--team", "alice", "--release-leads", "alice")
		alert := "feedbackbot: ⚠️ 2 people report problems with FB-1 since v2.4 shipped"
		if n := countLines(out, alert); n != 1 {
			t.Fatalf("%d alerts, want 1\n%s", n, out)
		}
		if n := countLines(out, "people report problems"); n != 1 {
			t.Errorf("%d alerts in all, want 1\n%s", n, out)
		}
		mark := strings.Index(out, "erin: still getting a login loop")
		if i := strings.Index(out, alert); mark < 0 || i < mark {
			t.Errorf("the alert came before the second person's report (a thank-you or a repeat counted)\n%s", out)
		}
		if !strings.Contains(out, "] #releases feedbackbot: ⚠️ 2 people") {
			t.Errorf("the alert is not in #releases\n%s", out)
		}
		mustContain(t, out,
			"[rollback:1] Roll back v2.4",
			"→ mallory: ⚠",
			"→ alice: Rolled back FB-1 in v2.4",
			"Status: rolled back",
			"↩️ v2.4 was rolled back: Single sign-on with Okta",
			"Problems reported since v2.4 shipped: 4",
			"> console:8\n    > console:11\n    [rollback:1] Roll back v2.4",
		)
		if n := botPostsIn(out, 2, "↩️ v2.4 was rolled back"); n != 1 {
			t.Errorf("thread: %d rollback replies, want 1\n%s", n, out)
		}
	})
}

// TestConsoleRegressionThanksDoNotCount: one problem report and thank-yous
// from others raise no alert.
func TestConsoleRegressionThanksDoNotCount(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		out := runConsole(t, dsn, script(
			"alice: /feedback watch",
			"bob: Single sign-on with Okta",
			"alice: /feedback ship FB-1 v2.4",
			"carol: reply 2 SSO is broken since the update",
			"dave: reply 2 thanks, works great",
			"erin: reply 2 Love it, thank you!",
		), "--team", "alice", "--release-leads", "alice")
		mustContain(t, out, "erin: Love it, thank you!")
		mustNotContain(t, out, "report problems", "rollback:")
	})
}
