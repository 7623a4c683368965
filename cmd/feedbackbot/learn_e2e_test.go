package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// learnScript is a board where a paraphrase shares no word with the request
// it restates, and two different requests share the words "export" and
// "board". decide is what the team does about each: the merge of FB-4 into
// FB-1 and the dismissal of suggestion 1 (FB-2 for FB-5), or nothing.
func learnScript(decide bool) string {
	lines := []string{
		"alice: /feedback watch",
		"bob: Dark mode for the dashboard",              // FB-1
		"bob: CSV export of the board",                  // FB-2
		"bob: Slack notifications when a request ships", // FB-3
		"carol: Low-light palette for late shifts",      // FB-4, no suggestion
	}
	if decide {
		lines = append(lines, "alice: /feedback merge FB-4 into FB-1")
	}
	lines = append(lines, "erin: Export the board as a PDF") // FB-5, suggests FB-2 (suggestion 1)
	if decide {
		lines = append(lines, "alice: click dismiss:1")
	}
	lines = append(lines,
		"dave: A low-light palette would be nice", // FB-6
		"frank: Export the board as an image",     // FB-7
	)
	return script(lines...)
}

// cardOf returns the bot's card (with its suggestion) for the request
// titled title: from its first line to the next message or answer.
func cardOf(out, title string) string {
	re := regexp.MustCompile(`(?m)^\[\d+\] #\S+ ↳\d+ feedbackbot: 📌 FB-\d+: ` + regexp.QuoteMeta(title) + `\n`)
	loc := re.FindStringIndex(out)
	if loc == nil {
		return ""
	}
	rest := out[loc[0]:]
	if end := regexp.MustCompile(`\n[\[→]`).FindStringIndex(rest); end != nil {
		rest = rest[:end[0]]
	}
	return rest
}

// TestConsoleLearnsFromDecisions: after the team merges a paraphrase into
// the request it restates, the next paraphrase is suggested against that
// request (saying why); after the team dismisses a suggestion, a request
// sharing only the same words with the dismissed candidate is not
// suggested it. Without the decisions, neither happens (the control run),
// so the test can fail.
func TestConsoleLearnsFromDecisions(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		out := runConsoleDefault(t, dsn, learnScript(true))
		fresh := storetest.SQLiteDSN(t)
		if !strings.HasPrefix(dsn, "sqlite:") {
			fresh = storetest.PostgresDSN(t)
		}
		control := runConsoleDefault(t, fresh, learnScript(false))

		mustContain(t, cardOf(out, "Export the board as a PDF"), "1. FB-2: CSV export of the board", "[dismiss:1] Not a duplicate")
		mustContain(t, out, "🔗 Merged FB-4 into FB-1", "🚫 Not a duplicate (decided by alice).")

		// The merge taught the index: the paraphrase finds FB-1.
		mustNotContain(t, cardOf(control, "A low-light palette would be nice"), "FB-1: Dark mode")
		mustContain(t, cardOf(out, "A low-light palette would be nice"),
			"🔎 Possible duplicates of FB-6:\n    1. FB-1: Dark mode for the dashboard", "learned from a merge: ")

		// The dismissal stopped the misleading suggestion of FB-2.
		mustContain(t, cardOf(control, "Export the board as an image"), "FB-2: CSV export of the board")
		mustNotContain(t, cardOf(out, "Export the board as an image"), "FB-2: CSV export of the board")
	})
}
