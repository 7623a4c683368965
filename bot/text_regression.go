package bot

import (
	"fmt"
	"strings"
)

// Sentences of the regression signal (README "Regression signal").

// RegressionAlert is the alert posted in the release channel.
func (t Text) RegressionAlert(a *RegressionAlert) string {
	var b strings.Builder
	verb := "report"
	if a.People == 1 {
		verb = "reports"
	}
	fmt.Fprintf(&b, "⚠️ %s %s problems with %s since %s shipped", peopleCount(a.People), verb, t.Key(a.RequestID), a.Version)
	for _, l := range strings.Split(a.Links, "\n") {
		if l != "" {
			b.WriteString("\n> " + l)
		}
	}
	return b.String()
}

// RollbackButton labels the alert's button.
func (t Text) RollbackButton(version string) string { return "Roll back " + version }

// ProblemReports lists post-ship problem reports (request page, /feedback show).
func (t Text) ProblemReports(rs []ProblemReport) string {
	if len(rs) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Problems reported since %s shipped: %d", rs[0].Version, len(rs))
	for _, r := range rs {
		fmt.Fprintf(&b, "\n  ⚠️ %s: %s (%s)", r.Mention.AuthorName, r.Mention.Text, reportLink(r.Mention))
	}
	return b.String()
}
