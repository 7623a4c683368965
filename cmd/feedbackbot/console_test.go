package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// runConsole runs "feedbackbot console" over script, with a low suggestion
// threshold, and returns stdout.
func runConsole(t *testing.T, dsn, script string, args ...string) string {
	t.Helper()
	return runConsoleArgs(t, dsn, script, append([]string{"--suggest-threshold", "0.2"}, args...)...)
}

// runConsoleDefault runs "feedbackbot console" with the default settings.
func runConsoleDefault(t *testing.T, dsn, script string) string {
	t.Helper()
	return runConsoleArgs(t, dsn, script)
}

func runConsoleArgs(t *testing.T, dsn, script string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{
		Stdin:  strings.NewReader(script),
		Stdout: &out,
		Stderr: &errOut,
		Getenv: func(string) string { return "" },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	argv := append([]string{"console", "--no-http", "--database-url", dsn}, args...)
	if err := m.Execute(ctx, argv); err != nil {
		t.Fatalf("console: %v\nstderr:\n%s\nstdout:\n%s", err, errOut.String(), out.String())
	}
	return out.String()
}

// script joins lines into console input.
func script(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func mustContain(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q\n--- output ---\n%s", w, out)
		}
	}
}

func mustNotContain(t *testing.T, out string, bad ...string) {
	t.Helper()
	for _, w := range bad {
		if strings.Contains(out, w) {
			t.Errorf("output has %q\n--- output ---\n%s", w, out)
		}
	}
}

// botPostsIn counts bot messages posted (not edited) in the thread of root
// message n whose text contains substr.
func botPostsIn(out string, root int, substr string) int {
	re := regexp.MustCompile(`(?m)^\[\d+\] #\S+ ↳` + strconv.Itoa(root) + ` feedbackbot: (.*)$`)
	n := 0
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		if strings.Contains(m[1], substr) {
			n++
		}
	}
	return n
}

func countLines(out, substr string) int {
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}

func TestConsoleCapture(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		out := runConsole(t, dsn, script(
			"alice: /feedback watch",
			"bob: Please let us export the board to CSV", // [2], card [3]
			"carol: react 2 :bulb:",                      // captured twice
			"dave: reply 2 yes, CSV export would save me hours",
			"erin: react 3 :+1:", // vote on the card
			"erin: /feedback show FB-1",
		))
		mustContain(t, out,
			"[3] #general ↳2 feedbackbot: 📌 FB-1: Please let us export the board to CSV",
			"→ carol: ⚠ This message is already on the board as FB-1",
			"(feedbackbot reacted :white_check_mark: on 4)",
			"Status: open · 3 people · 0 organisations · 2 mentions",
		)
		if n := countLines(out, "feedbackbot: 📌 FB-") - countLines(out, " edited] #"); n != 1 {
			t.Errorf("want one card, got %d\n%s", n, out)
		}
		// The card stays true: edited as the reply and the vote come in.
		mustContain(t, out, "[3 edited] #general ↳2 feedbackbot: 📌 FB-1: Please let us export the board to CSV\n    Status: open · 3 people")
	})
}

func TestConsoleSuggestMergeDemand(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		out := runConsole(t, dsn, script(
			"alice: /feedback watch",
			"bob@acme: Dark mode for the dashboard please",       // [2] FB-1, card [3]
			"carol@globex: Dark mode for the dashboard, please!", // [4] FB-2, suggestion [5]
			"alice: click merge:1:1",
			"bob@acme: react 5 :+1:",                    // bob votes on FB-2's card: already counts via FB-1
			"dave@acme: Add dark mode to the dashboard", // [6] FB-3
			"alice: /feedback merge FB-1 into FB-3",     // chain FB-2→FB-1→FB-3
			"alice: /feedback show FB-2",                // resolves to FB-3
			"alice: /feedback merge FB-3 into FB-2",     // cycle
			"alice: /feedback unmerge FB-1",
			"alice: /feedback show FB-1",
			"alice: /feedback show FB-3",
		))
		mustContain(t, out,
			"🔎 Possible duplicates of FB-2:",
			"[merge:1:1] Merge into FB-1",
			"[dismiss:1] Not a duplicate",
			"✅ FB-2 was merged into FB-1 by alice.",
			"🔗 Merged FB-1 into FB-3: Add dark mode to the dashboard (3 people, 2 organisations).",
			"FB-2 was merged into FB-3.",
		)
		// The suggestion message is edited with the outcome.
		if !regexp.MustCompile(`\[\d+ edited\] #general ↳4 feedbackbot: 📌 FB-1`).MatchString(out) {
			t.Errorf("suggestion message not edited with the outcome\n%s", out)
		}
		if !strings.Contains(out, "→ alice: ⚠ FB-2 is merged into FB-3, so merging FB-3 into it would make a cycle.") {
			t.Errorf("cycle not refused\n%s", out)
		}
		// Unmerge restores FB-1 (with FB-2 merged into it) and FB-3 alone.
		show1 := out[strings.LastIndex(out, "alice: /feedback show FB-1"):]
		mustContain(t, show1, "📌 FB-1: Dark mode for the dashboard please\n    Status: open · 2 people · 2 organisations")
		show3 := out[strings.LastIndex(out, "alice: /feedback show FB-3"):]
		mustContain(t, show3, "📌 FB-3: Add dark mode to the dashboard\n    Status: open · 1 person · 1 organisation")
	})
}

func TestConsoleShipRollback(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		out := runConsole(t, dsn, script(
			"alice: /feedback watch",
			"bob: Single sign-on with Okta",        // [2] FB-1, card [3]
			"carol: Keyboard shortcuts for triage", // [4] FB-2, card [5]
			"#support",
			"dave: We need SSO via Okta for our company",                // [6] #support is not watched
			"dave: /feedback new Our company needs Okta single sign-on", // [7] FB-3, card [8]
			"alice: /feedback merge FB-3 into FB-1",
			"erin: reply 2 +1 for SSO", // another mention in thread 2
			"alice: /feedback ship FB-1 FB-2 v2.4 -- thanks all",
			"alice: /feedback ship FB-1 v2.4", // twice in a row: no new notifications
			"alice: /feedback rollback FB-1 v2.4 -- crash on login",
			"alice: /feedback ship FB-1 v2.5",
		))
		// Ship notifies thread 2 (FB-1, two mentions) once, thread 4 once, thread 7 (merged FB-3) once.
		for _, root := range []int{2, 4, 7} {
			if n := botPostsIn(out, root, "🚀 Shipped in v2.4"); n != 1 {
				t.Errorf("thread %d: %d ship replies for v2.4, want 1\n%s", root, n, out)
			}
		}
		mustContain(t, out, "🚀 Shipped in v2.4: Single sign-on with Okta. Thanks for asking!\n    > thanks all",
			"FB-1 is already shipped")
		for _, root := range []int{2, 7} {
			if n := botPostsIn(out, root, "↩️ v2.4 was rolled back"); n != 1 {
				t.Errorf("thread %d: %d rollback replies, want 1\n%s", root, n, out)
			}
			if n := botPostsIn(out, root, "🚀 Shipped in v2.5"); n != 1 {
				t.Errorf("thread %d: %d replies for v2.5, want 1\n%s", root, n, out)
			}
		}
		if n := botPostsIn(out, 4, "rolled back"); n != 0 {
			t.Errorf("FB-2's thread got a rollback reply\n%s", out)
		}
		mustContain(t, out, "Notified 3 threads: 3 delivered, 0 failed.")
	})
}

func TestConsoleRoles(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		out := runConsole(t, dsn, script(
			"alice: /feedback new Bulk edit of tags",
			"alice: /feedback new Bulk editing for tags",
			"mallory: /feedback merge FB-2 into FB-1",
			"mallory: /feedback status FB-1 planned",
			"mallory: /feedback ship FB-1 v1",
			"mallory: /feedback watch",
			"mallory: click merge:1:1",
			"bob: /feedback ship FB-1 v1",
			"alice: /feedback show FB-2",
			"alice: /feedback show FB-1",
		), "--team", "alice,bob", "--release-leads", "alice")
		mustContain(t, out,
			"→ mallory: ⚠ Only team members can merge requests.",
			"→ mallory: ⚠ Only team members can change a request's status.",
			"→ mallory: ⚠ Only release leads can ship requests.",
			"→ mallory: ⚠ Only team members can change which channels I watch.",
			"→ mallory: ⚠ Only team members can merge duplicates.",
			"→ bob: ⚠ Only release leads can ship requests.",
		)
		mustNotContain(t, out, "was merged into", "is now planned", "Shipped in")
		show := out[strings.LastIndex(out, "alice: /feedback show FB-1"):]
		mustContain(t, show, "Status: open")
	})
}

func TestConsoleBadInput(t *testing.T) {
	out := runConsole(t, storetest.SQLiteDSN(t), script(
		"alice: /feedback show FB-42",
		"alice: /feedback vote FB-0",
		"alice: /feedback show FB-99999999999999999999",
		"alice: /feedback merge FB-1",
		"alice: /feedback status FB-1 shipped-ish",
		"alice: /feedback new "+strings.Repeat("long ", 1000),
		"this line has no author",
		"alice: click nope:1",
		"alice: react 99 :bulb:",
	))
	mustContain(t, out,
		"→ alice: ⚠ There is no request FB-42.",
		"→ alice: ⚠ There is no request FB-0.",
		"→ alice: ⚠ There is no request FB-99999999999999999999.",
		"→ alice: ⚠ Usage: /feedback merge FB-a into FB-b",
		"→ alice: ⚠ Unknown status",
		"→ alice: ⚠ Feedback can be at most 4000 characters long (this one has 4999).",
		"? Type \"name: text\"",
		"→ alice: ⚠ There is no button nope:1.",
		"→ alice: ⚠ There is no message 99.",
	)
	mustNotContain(t, out, "📌")
}

// TestConsoleRestartKeepsBoard runs two console sessions on one database.
func TestConsoleRestartKeepsBoard(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		runConsole(t, dsn, script("alice: /feedback new Webhooks for new requests", "bob: /feedback vote FB-1"))
		out := runConsole(t, dsn, script("carol: /feedback top 5"))
		mustContain(t, out, "1. FB-1 Webhooks for new requests · open · 2 people")
	})
}

// TestConsoleNumbersContinueAcrossRestarts: a second session on the same
// database numbers its messages after the first session's, so a new message
// is not taken for an old captured one, and a ship reply still lands in the
// old thread.
func TestConsoleNumbersContinueAcrossRestarts(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		first := runConsole(t, dsn, script(
			"#ideas",
			"alice: /feedback watch",
			"bob: Dark mode for the board please",
		))
		mustContain(t, first, "[2] #ideas bob: Dark mode for the board please")
		last := regexp.MustCompile(`(?m)^\[(\d+)`).FindAllStringSubmatch(first, -1)
		if len(last) == 0 {
			t.Fatalf("no numbered messages:\n%s", first)
		}
		n, _ := strconv.Atoi(last[len(last)-1][1])

		second := runConsole(t, dsn, script(
			"#ideas",
			"carol: Export the board as CSV",
			"alice: /feedback ship FB-1 v2",
		))
		next := "[" + strconv.Itoa(n+1) + "] #ideas carol: Export the board as CSV"
		mustContain(t, second, next, "FB-2")
		mustNotContain(t, second, "already on the board", "[1] #ideas carol")
		if got := botPostsIn(second, 2, "Shipped in v2"); got != 1 {
			t.Errorf("ship replies in the first session's thread 2 = %d, want 1\n%s", got, second)
		}
	})
}

// TestConsoleNewcomerReplies: mistyped commands capture nothing and say what
// was meant; empty lists, statuses, a bare command and a click on a decided
// suggestion each say what is true and what to do.
func TestConsoleNewcomerReplies(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		out := runConsole(t, dsn, script(
			"alice: /feedback shw FB-1",
			"alice: /feedback frobnicate",
			"alice: /feedback FB-1 FB-2",
			"alice: /feedback list",
			"/feedback help",
			"alice: /feedback Export the board as CSV files",
			"bob: /feedback Export the board to CSV please",
			"alice: /feedback list planned",
			"alice: /feedback status FB-1 in_progress",
			"alice: /feedback show FB-1",
			"alice: click dismiss:1",
			"carol: click dismiss:1",
		))
		mustContain(t, out,
			"→ alice: ⚠ Did you mean `/feedback show`? Nothing was captured.",
			"→ alice: ⚠ Unknown command \"frobnicate\": nothing was captured.",
			"→ alice: ⚠ Did you mean `/feedback show FB-1`",
			"→ alice: No requests yet. Send the first idea with /feedback <text>.",
			"? Say who types it: \"alice: /feedback help\"",
			"→ alice: No planned requests. /feedback list shows every request.",
			"FB-1 is now in progress: Export the board as CSV files.",
			"Status: in progress",
			"→ carol: Already decided:",
		)
		mustNotContain(t, out, "There is no button", "in_progress:", "Status: in_progress", "shw FB-1 · open")
		// Only the two real ideas became requests.
		mustNotContain(t, out, "FB-3")
	})
}

// --capture-spool opens the spool file at start-up (created empty, owner
// only); a path that cannot be a file is refused.
func TestConsoleCaptureSpool(t *testing.T) {
	dir := t.TempDir()
	spool := filepath.Join(dir, "pending.jsonl")
	runConsoleArgs(t, "sqlite:"+filepath.Join(dir, "fb.db"), script("alice: hello"), "--capture-spool", spool)
	fi, err := os.Stat(spool)
	if err != nil || fi.Size() != 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("spool after a run: %v, %v", fi, err)
	}
	m := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	err = m.Execute(context.Background(), []string{"console", "--no-http", "--database-url", "sqlite:" + filepath.Join(dir, "fb.db"), "--capture-spool", dir})
	if err == nil || !strings.Contains(err.Error(), "FEEDBACKBOT_CAPTURE_SPOOL") {
		t.Fatalf("a directory as the spool: %v", err)
	}
}
