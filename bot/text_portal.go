package bot

import (
	"fmt"
	"strings"
)

// ChangelogChatEvents is how many events /feedback changelog lists without
// a version.
const ChangelogChatEvents = 5

// Changelog renders release events, newest first (/feedback changelog
// [version]); since gives each rollback's time after its ship.
func (t Text) Changelog(rels []*Release, version string) string {
	if len(rels) == 0 {
		if version != "" {
			return fmt.Sprintf("Nothing was shipped or rolled back in %s.", version)
		}
		return "Nothing has shipped yet."
	}
	var b strings.Builder
	if version != "" {
		fmt.Fprintf(&b, "Changelog of %s:", version)
	} else {
		b.WriteString("Changelog (latest first):")
	}
	for _, r := range rels {
		ev := r.Event
		b.WriteString("\n")
		if ev.Action == ActionRolledBack {
			b.WriteString("↩️ Rolled back")
		} else {
			b.WriteString("🚀 Shipped")
		}
		if ev.Version != "" {
			b.WriteString(" " + ev.Version)
		}
		b.WriteString(" · " + ev.CreatedAt.UTC().Format("2 Jan 2006"))
		if ev.Note != "" {
			label := "Note"
			if ev.Action == ActionRolledBack {
				label = "Reason"
			}
			fmt.Fprintf(&b, " · %s: %s", label, ev.Note)
		}
		for _, q := range r.Requests {
			fmt.Fprintf(&b, "\n   %s %s · %s", t.Key(q.ID), q.Title, peopleCount(q.Demand))
		}
	}
	return b.String()
}
