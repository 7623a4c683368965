package main

import (
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// TestConsoleDigest runs the digest commands in the console on SQLite and
// PostgreSQL: a customer is refused, digest now answers "nothing new" when
// there is nothing, and otherwise posts the digest in the digest's channel.
func TestConsoleDigest(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		out := runConsole(t, dsn, script(
			"bob@acme: /feedback digest weekly",
			"bob@acme: /feedback digest now",
			"alice: /feedback digest #news weekly",
			"alice: /feedback digest now",
			"alice: /feedback digest fortnightly",
			"bob@acme: /feedback Dark mode for the dashboard",
			"alice: /feedback digest now",
			"alice: /feedback digest now",
			"alice: /feedback digest #news off",
		), "--team", "alice")
		mustContain(t, out,
			"→ bob: ⚠ Only team members can set up digests.",
			"📰 #news gets a weekly digest of new and rising requests and what shipped.",
			"→ alice: Nothing new since the last digest.",
			"Usage: /feedback digest [#channel] daily|weekly|off|now",
			"→ alice: 📰 Posting the digest in #news.",
			"#news feedbackbot: 📰 Feedback digest since",
			"• FB-1 Dark mode for the dashboard · 1 person",
			"No more digests in #news.",
		)
		if n := strings.Count(out, "#news feedbackbot: 📰 Feedback digest"); n != 1 {
			t.Errorf("%d digests posted, want 1:\n%s", n, out)
		}
		if strings.Contains(out, "#general feedbackbot: 📰") {
			t.Errorf("digest posted in the current channel instead of the digest's:\n%s", out)
		}
	})
}
