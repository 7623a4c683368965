package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// TestConsoleAnnouncements: in a channel marked with /feedback releases, a
// release lead's "Shipped …" message ships the keys it names and the bot
// answers in that message's thread with progress that it edits once at the
// end; other people's messages and messages without keys do nothing; a
// rollback by version alone rolls back everything shipped in it.
func TestConsoleAnnouncements(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		out := runConsole(t, dsn, script(
			"alice: /feedback watch",
			"bob: Single sign-on with Okta",        // [2] FB-1, card [3]
			"carol: Keyboard shortcuts for triage", // [4] FB-2, card [5]
			"#releases",
			"alice: /feedback releases",
			"mallory: Shipped FB-1 in v2.4",                       // not a release lead
			"alice: Lunch is at noon, everything shipped on time", // no key
			"alice: Shipped FB-1 and FB-2 in v2.4 🎉",
			"alice: /feedback rollback v2.4 -- login loop",
			"alice: /feedback show FB-2",
		), "--team", "alice", "--release-leads", "alice")
		for _, root := range []int{2, 4} {
			if n := botPostsIn(out, root, "🚀 Shipped in v2.4"); n != 1 {
				t.Errorf("thread %d: %d ship replies, want 1\n%s", root, n, out)
			}
			if n := botPostsIn(out, root, "↩️ v2.4 was rolled back"); n != 1 {
				t.Errorf("thread %d: %d rollback replies, want 1\n%s", root, n, out)
			}
		}
		// The progress message is in the announcement's thread, edited once.
		if !strings.Contains(out, "feedbackbot: 🚀 Shipped FB-1, FB-2 in v2.4. Notifying 2 threads…") {
			t.Errorf("no progress answer to the announcement\n%s", out)
		}
		if !regexp.MustCompile(`\[(\d+)\] #releases ↳(\d+) feedbackbot: 🚀 Shipped FB-1, FB-2 in v2.4. Notifying`).MatchString(out) {
			t.Errorf("the progress answer is not in the announcement's thread\n%s", out)
		}
		if n := countLines(out, "edited] #releases"); n != 2 {
			t.Errorf("%d progress edits in #releases, want 2 (ship and rollback)\n%s", n, out)
		}
		mustContain(t, out,
			"🚀 Shipped FB-1, FB-2 in v2.4. Notified 2 threads: 2 delivered, 0 failed.",
			"→ alice: Rolled back FB-1, FB-2 in v2.4; notifying 2 threads.",
			"↩️ Rolled back FB-1, FB-2 in v2.4. Notified 2 threads: 2 delivered, 0 failed.",
			"Status: rolled back",
		)
		if n := countLines(out, "Notified 2 threads"); n != 2 {
			t.Errorf("final progress edits %d, want one per release\n%s", n, out)
		}
		mustNotContain(t, out, "Shipped FB-1 in v2.4.") // mallory's message did nothing
	})
}

// TestConsoleRollbackByVersion: "/feedback rollback v2.4" with no key, when
// nothing is shipped in v2.4, says so.
func TestConsoleRollbackByVersion(t *testing.T) {
	out := runConsole(t, storetest.SQLiteDSN(t), script(
		"alice: /feedback new Webhooks",
		"alice: /feedback ship FB-1 v2.3",
		"alice: /feedback rollback v2.4",
		"alice: /feedback rollback v2.3",
	))
	mustContain(t, out,
		"→ alice: ⚠ No request is shipped in v2.4.",
		"→ alice: Rolled back FB-1 in v2.3",
	)
}
