package main

import (
	"testing"

	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// TestConsolePersonCommands: same-person counts two accounts once,
// split-person undoes it exactly, person lists accounts and requests, and
// only the team may use them.
func TestConsolePersonCommands(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		out := runConsole(t, dsn, script(
			"bob@acme: /feedback new Offline mode for the mobile app",
			"robert@acme: /feedback vote FB-1",
			"alice: /feedback show FB-1",
			"bob: /feedback same-person bob robert",
			"alice: /feedback same-person bob robert",
			"alice: /feedback same-person robert bob",
			"alice: /feedback show FB-1",
			"alice: /feedback person robert",
			"alice: /feedback split-person robert",
			"alice: /feedback show FB-1",
			"alice: /feedback same-person bob slack:U999",
			"alice: /feedback same-person bob email:bob@acme.com",
			"alice: /feedback person not a who",
		), "--team", "alice")
		mustContain(t, out,
			"Status: open · 2 people · 1 organisation",
			"→ bob: ⚠ Only team members can link people.",
			"🧑 Linked as one person: bob, robert.",
			"Those are already one person: bob, robert.",
			"Status: open · 1 person · 1 organisation",
			"🧑 robert\n    Accounts:\n      • bob\n      • robert\n    Requests:\n      • FB-1 Offline mode for the mobile app",
			"✂️ robert is a person of their own again",
			"I don't know slack:U999 yet",
			"🧑 Linked as one person: bob, email:bob@acme.com.",
			"Usage: /feedback person <who>",
		)
		// After the split FB-1 counts two people again (in /feedback show;
		// the card's edits show the same counts).
		if n := countLines(out, "Status: open · 2 people · 1 organisation · 1 mention"); n != 2 {
			t.Errorf("want demand 2 before the link and after the split, got %d times\n%s", n, out)
		}
	})
}
