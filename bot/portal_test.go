package bot_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// TestChangelogCommand: /feedback changelog lists the last 5 events newest
// first; with a version, every event of that version.
func TestChangelogCommand(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		e := newEngine(t, openDB(t, dsn), &recorder{})
		if got := command(t, e, lead, "c", "changelog").Text; got != "Nothing has shipped yet." {
			t.Fatalf("empty: %q", got)
		}
		command(t, e, bot.User{ID: "alice"}, "c", "new Dark mode")
		command(t, e, lead, "c", "new Export to CSV")
		for i := 1; i <= 6; i++ {
			command(t, e, lead, "c", fmt.Sprintf("ship FB-1 v%d", i))
			command(t, e, lead, "c", fmt.Sprintf("rollback FB-1 v%d -- broke it", i))
		}
		command(t, e, lead, "c", "ship FB-2 v7 -- at last")
		got := command(t, e, bot.User{ID: "anyone"}, "c", "changelog").Text
		lines := strings.Split(got, "\n")
		var heads []string
		for _, l := range lines[1:] {
			if !strings.HasPrefix(l, "   ") {
				heads = append(heads, strings.SplitN(l, " · ", 2)[0])
			}
		}
		if lines[0] != "Changelog (latest first):" || strings.Join(heads, ",") != "🚀 Shipped v7,↩️ Rolled back v6,🚀 Shipped v6,↩️ Rolled back v5,🚀 Shipped v5" {
			t.Fatalf("changelog:\n%s", got)
		}
		if !strings.Contains(got, "Note: at last\n   FB-2 Export to CSV · 1 person") || !strings.Contains(got, "Reason: broke it\n   FB-1 Dark mode · 1 person") {
			t.Errorf("changelog lacks requests or notes:\n%s", got)
		}
		got = command(t, e, bot.User{ID: "anyone"}, "c", "changelog v2").Text
		if !strings.HasPrefix(got, "Changelog of v2:\n↩️ Rolled back v2") || strings.Count(got, "v2 ·") != 2 || strings.Contains(got, "v3") {
			t.Errorf("changelog v2:\n%s", got)
		}
		if got := command(t, e, lead, "c", "changelog v99").Text; got != "Nothing was shipped or rolled back in v99." {
			t.Errorf("unknown version: %q", got)
		}
	})
}
