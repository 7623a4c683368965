package main

import (
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// TestConsoleCuration runs each curation command in the console, on SQLite
// and PostgreSQL, including the refusals (customers, bad input) that change
// nothing.
func TestConsoleCuration(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		out := runConsole(t, dsn, script(
			"bob@acme: /feedback hey team, quick question: could the dashboard have a dark mode?",
			"carol@globex: /feedback Buy cheap watches at example.com",
			// Refusals for a customer: nothing changes.
			"bob@acme: /feedback rename FB-1 Mine now",
			"bob@acme: /feedback tag FB-1 mobile",
			"bob@acme: /feedback remove FB-1",
			// Team.
			"alice: /feedback rename FB-1 Dark mode for the dashboard",
			"alice: /feedback rename FB-1 "+strings.Repeat("x", 121),
			"alice: /feedback describe FB-1 Customers on night shifts want a dark theme.",
			"alice: /feedback tag FB-1 UI, mobile",
			"alice: /feedback tag FB-1 bad_tag ios",
			"alice: /feedback tag FB-1 a1 a2 a3 a4 a5 a6 a7 a8 a9",
			"alice: /feedback untag FB-1 mobile",
			"alice: /feedback list tag:ui",
			"alice: /feedback list open tag:ui",
			"alice: /feedback list tag:ui planned",
			"alice: /feedback remove FB-2 -- spam",
			"alice: /feedback remove FB-2",
			"alice: /feedback list",
			"alice: /feedback search watches",
			"alice: /feedback show FB-2",
			"alice: /feedback restore FB-2",
			"alice: /feedback restore FB-2",
			"alice: /feedback show FB-1",
			// The card's Edit button: the console has no forms, so it
			// prints the commands; a customer is refused.
			"bob@acme: click edit:1",
			"alice: click edit:1",
		), "--team", "alice")
		mustContain(t, out,
			"Only team members can rename requests.",
			"Only team members can tag requests.",
			"Only team members can remove requests.",
			"✏️ Renamed FB-1: Dark mode for the dashboard (was: hey team, quick question: could the dashboard have a dark mode?).",
			"A title is at most 120 characters; this one has 121.",
			"✏️ New description for FB-1.",
			"🏷️ FB-1 tags: #mobile #ui.",
			`"bad_tag" is not a valid tag`,
			"FB-1 would have more than 10 tags; nothing was changed.",
			"🏷️ FB-1 tags: #ui.",
			"Requests tagged #ui (1 of 1, by demand):\n    1. FB-1 Dark mode for the dashboard",
			"Requests open tagged #ui (1 of 1, by demand):",
			"→ alice: No planned requests tagged #ui. /feedback list shows every request.",
			"🗑️ Removed FB-2 from the board: Buy cheap watches at example.com. Reason: spam /feedback restore FB-2 puts it back.",
			"FB-2 is already removed.",
			"🗑️ FB-2 is removed from the board (/feedback restore FB-2 puts it back).",
			"♻️ Restored FB-2: Buy cheap watches at example.com.",
			"FB-2 is not removed.",
			"Tags: #ui",
			"Customers on night shifts want a dark theme.",
			"alice renamed it (was: hey team, quick question: could the dashboard have a dark mode?)",
			"alice set the tags to #mobile #ui",
			"alice changed the description",
			"[edit:1] ✏️ Edit",
			"→ bob: ⚠ Only team members can edit requests.",
			"→ alice: ✏️ To edit FB-1, use:\n    /feedback rename FB-1 <title>\n    /feedback describe FB-1 <text>\n    /feedback tag FB-1 <tag>…",
			// The card stayed true through the rename and the tags.
			"edited] #general ↳1 feedbackbot: 📌 FB-1: Dark mode for the dashboard\n    Status: open · 1 person · 1 organisation\n    Tags: #ui",
		)
		// The list after the remove shows only FB-1; search does not find FB-2.
		i := strings.Index(out, "alice: /feedback list\n")
		j := strings.Index(out, "alice: /feedback show FB-2")
		if i < 0 || j < i {
			t.Fatalf("transcript out of order:\n%s", out)
		}
		between := out[i:j]
		if strings.Contains(between, "FB-2 Buy cheap") {
			t.Errorf("a removed request is listed or found:\n%s", between)
		}
		mustNotContain(t, out, "Renamed FB-1: Mine now", "🏷️ FB-1 tags: #a1")
	})
}
