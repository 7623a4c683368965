package tracker

import (
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
)

func link(kind, state string, milestone ...string) *bot.Link {
	l := &bot.Link{Kind: kind, State: state}
	if len(milestone) > 0 {
		l.Milestone = milestone[0]
	}
	return l
}

const (
	issue = bot.LinkGitHubIssue
	pull  = bot.LinkGitHubPull
	lin   = bot.LinkLinear
)

func TestDecide(t *testing.T) {
	for _, tt := range []struct {
		name   string
		st     bot.Status
		links  []*bot.Link // after the change; the changed item is the first
		ch     Change
		shipOn string
		want   *Transition
	}{
		// GitHub issue opened or linked, Linear backlog/unstarted/triage: open → planned.
		{"issue opened", bot.StatusOpen, []*bot.Link{link(issue, "open")}, Change{Kind: issue, Next: "open", Linked: true}, "", &Transition{To: bot.StatusPlanned}},
		{"issue linked by command", bot.StatusOpen, []*bot.Link{link(issue, "unknown")}, Change{Kind: issue, Next: "unknown", Linked: true}, "", &Transition{To: bot.StatusPlanned}},
		{"linear backlog", bot.StatusOpen, []*bot.Link{link(lin, "backlog")}, Change{Kind: lin, Prev: "triage", Next: "backlog"}, "", &Transition{To: bot.StatusPlanned}},
		{"linear unstarted", bot.StatusOpen, []*bot.Link{link(lin, "unstarted")}, Change{Kind: lin, Next: "unstarted", Linked: true}, "", &Transition{To: bot.StatusPlanned}},
		{"linear triage", bot.StatusOpen, []*bot.Link{link(lin, "triage")}, Change{Kind: lin, Next: "triage", Linked: true}, "", &Transition{To: bot.StatusPlanned}},
		{"opened but already planned", bot.StatusPlanned, []*bot.Link{link(issue, "open")}, Change{Kind: issue, Next: "open", Linked: true}, "", nil},
		{"opened but in progress", bot.StatusInProgress, []*bot.Link{link(issue, "open")}, Change{Kind: issue, Next: "open", Linked: true}, "", nil},
		{"draft pull request", bot.StatusOpen, []*bot.Link{link(pull, "draft")}, Change{Kind: pull, Next: "draft", Linked: true}, "", &Transition{To: bot.StatusPlanned}},
		{"draft is not in progress", bot.StatusPlanned, []*bot.Link{link(pull, "draft")}, Change{Kind: pull, Next: "draft", Linked: true}, "", nil},

		// Pull request opened (not draft), ready_for_review, Linear started: → in_progress.
		{"pull opened", bot.StatusOpen, []*bot.Link{link(pull, "open")}, Change{Kind: pull, Next: "open", Linked: true}, "", &Transition{To: bot.StatusInProgress}},
		{"pull opened on planned", bot.StatusPlanned, []*bot.Link{link(pull, "open"), link(issue, "open")}, Change{Kind: pull, Next: "open", Linked: true}, "", &Transition{To: bot.StatusInProgress}},
		{"ready for review", bot.StatusPlanned, []*bot.Link{link(pull, "open")}, Change{Kind: pull, Prev: "draft", Next: "open"}, "", &Transition{To: bot.StatusInProgress}},
		{"linear started", bot.StatusPlanned, []*bot.Link{link(lin, "started")}, Change{Kind: lin, Prev: "unstarted", Next: "started"}, "", &Transition{To: bot.StatusInProgress}},
		{"started after rollback", bot.StatusRolledBack, []*bot.Link{link(lin, "started")}, Change{Kind: lin, Prev: "unstarted", Next: "started"}, "", &Transition{To: bot.StatusInProgress}},
		{"started on declined", bot.StatusDeclined, []*bot.Link{link(lin, "started")}, Change{Kind: lin, Prev: "canceled", Next: "started"}, "", nil},
		{"already in progress", bot.StatusInProgress, []*bot.Link{link(pull, "open")}, Change{Kind: pull, Prev: "draft", Next: "open"}, "", nil},

		// ship_on=merge: merged pull request, issue completed, Linear completed → shipped.
		{"pull merged", bot.StatusInProgress, []*bot.Link{link(pull, "merged", "v2.4")}, Change{Kind: pull, Prev: "open", Next: "merged", Milestone: "v2.4"}, "", &Transition{To: bot.StatusShipped, Version: "v2.4"}},
		{"pull merged, merge mode", bot.StatusInProgress, []*bot.Link{link(pull, "merged")}, Change{Kind: pull, Prev: "open", Next: "merged"}, ShipOnMerge, &Transition{To: bot.StatusShipped}},
		{"issue completed", bot.StatusPlanned, []*bot.Link{link(issue, "completed", "v1.0")}, Change{Kind: issue, Prev: "open", Next: "completed", Milestone: "v1.0"}, "", &Transition{To: bot.StatusShipped, Version: "v1.0"}},
		{"issue completed from open", bot.StatusOpen, []*bot.Link{link(issue, "completed")}, Change{Kind: issue, Prev: "open", Next: "completed"}, "", &Transition{To: bot.StatusShipped}},
		{"linear completed", bot.StatusInProgress, []*bot.Link{link(lin, "completed")}, Change{Kind: lin, Prev: "started", Next: "completed"}, "", &Transition{To: bot.StatusShipped}},
		{"merged pull linked automatically", bot.StatusOpen, []*bot.Link{link(pull, "merged")}, Change{Kind: pull, Next: "merged", Linked: true}, "", &Transition{To: bot.StatusShipped}},
		{"ships again after rollback", bot.StatusRolledBack, []*bot.Link{link(issue, "completed")}, Change{Kind: issue, Prev: "open", Next: "completed"}, "", &Transition{To: bot.StatusShipped}},
		{"done but already shipped", bot.StatusShipped, []*bot.Link{link(issue, "completed")}, Change{Kind: issue, Prev: "open", Next: "completed"}, "", nil},

		// Several items: ship when the last is done.
		{"first of two done", bot.StatusInProgress, []*bot.Link{link(issue, "completed"), link(issue, "open")}, Change{Kind: issue, Prev: "open", Next: "completed"}, "", nil},
		{"first of two done on open", bot.StatusOpen, []*bot.Link{link(issue, "completed"), link(issue, "open")}, Change{Kind: issue, Prev: "open", Next: "completed"}, "", &Transition{To: bot.StatusPlanned}},
		{"last of two done", bot.StatusInProgress, []*bot.Link{link(issue, "completed", "v3"), link(pull, "merged", "v2")}, Change{Kind: issue, Prev: "open", Next: "completed", Milestone: "v3"}, "", &Transition{To: bot.StatusShipped, Version: "v3"}},
		{"last one done, milestone of the completing item", bot.StatusInProgress, []*bot.Link{link(pull, "merged"), link(issue, "completed", "v2")}, Change{Kind: pull, Prev: "open", Next: "merged"}, "", &Transition{To: bot.StatusShipped}},

		// Dropped items neither block nor ship; all dropped → declined.
		{"issue not planned", bot.StatusPlanned, []*bot.Link{link(issue, "not_planned")}, Change{Kind: issue, Prev: "open", Next: "not_planned"}, "", &Transition{To: bot.StatusDeclined}},
		{"pull closed unmerged", bot.StatusInProgress, []*bot.Link{link(pull, "closed")}, Change{Kind: pull, Prev: "open", Next: "closed"}, "", &Transition{To: bot.StatusDeclined}},
		{"linear canceled", bot.StatusPlanned, []*bot.Link{link(lin, "canceled")}, Change{Kind: lin, Prev: "unstarted", Next: "canceled"}, "", &Transition{To: bot.StatusDeclined}},
		{"all dropped", bot.StatusInProgress, []*bot.Link{link(pull, "closed"), link(issue, "not_planned"), link(lin, "canceled")}, Change{Kind: pull, Prev: "open", Next: "closed"}, "", &Transition{To: bot.StatusDeclined}},
		{"one dropped, one open", bot.StatusInProgress, []*bot.Link{link(pull, "closed"), link(issue, "open")}, Change{Kind: pull, Prev: "open", Next: "closed"}, "", nil},
		{"dropped does not block", bot.StatusInProgress, []*bot.Link{link(pull, "closed"), link(issue, "completed", "v5")}, Change{Kind: pull, Prev: "open", Next: "closed"}, "", &Transition{To: bot.StatusShipped, Version: "v5"}},
		{"done with a dropped one", bot.StatusInProgress, []*bot.Link{link(pull, "merged", "v6"), link(issue, "not_planned")}, Change{Kind: pull, Prev: "open", Next: "merged", Milestone: "v6"}, "", &Transition{To: bot.StatusShipped, Version: "v6"}},
		{"dropped on declined", bot.StatusDeclined, []*bot.Link{link(issue, "not_planned")}, Change{Kind: issue, Prev: "open", Next: "not_planned"}, "", nil},
		{"dropped on shipped", bot.StatusShipped, []*bot.Link{link(issue, "not_planned")}, Change{Kind: issue, Prev: "open", Next: "not_planned"}, "", nil},

		// Duplicates change nothing, and do not count.
		{"issue duplicate", bot.StatusPlanned, []*bot.Link{link(issue, "duplicate")}, Change{Kind: issue, Prev: "open", Next: "duplicate"}, "", nil},
		{"linear duplicate", bot.StatusInProgress, []*bot.Link{link(lin, "duplicate")}, Change{Kind: lin, Prev: "started", Next: "duplicate"}, "", nil},
		{"duplicate of a shipped one", bot.StatusShipped, []*bot.Link{link(lin, "duplicate")}, Change{Kind: lin, Prev: "completed", Next: "duplicate"}, "", nil},
		{"duplicate does not block", bot.StatusInProgress, []*bot.Link{link(pull, "merged"), link(issue, "duplicate")}, Change{Kind: pull, Prev: "open", Next: "merged"}, "", &Transition{To: bot.StatusShipped}},
		{"linear removed", bot.StatusPlanned, []*bot.Link{link(lin, "removed")}, Change{Kind: lin, Prev: "backlog", Next: "removed"}, "", nil},

		// Nothing new.
		{"edited", bot.StatusOpen, []*bot.Link{link(issue, "open")}, Change{Kind: issue, Prev: "open", Next: "open"}, "", nil},

		// Rollbacks: reopened, reverted, Linear leaving completed.
		{"issue reopened after ship", bot.StatusShipped, []*bot.Link{link(issue, "open")}, Change{Kind: issue, Prev: "completed", Next: "open"}, "", &Transition{To: bot.StatusRolledBack, Note: "reopened"}},
		{"one of two reopened", bot.StatusShipped, []*bot.Link{link(issue, "open"), link(pull, "merged")}, Change{Kind: issue, Prev: "completed", Next: "open"}, "", &Transition{To: bot.StatusRolledBack, Note: "reopened"}},
		{"reopened not after ship", bot.StatusPlanned, []*bot.Link{link(issue, "open")}, Change{Kind: issue, Prev: "completed", Next: "open"}, "", nil},
		{"reopened item that was not done", bot.StatusShipped, []*bot.Link{link(issue, "open"), link(pull, "merged")}, Change{Kind: issue, Prev: "not_planned", Next: "open"}, "", nil},
		{"reverted", bot.StatusShipped, []*bot.Link{link(pull, "reverted")}, Change{Kind: pull, Prev: "merged", Next: "reverted", RevertedBy: "#9"}, "", &Transition{To: bot.StatusRolledBack, Note: "reverted in #9"}},
		{"reverted not shipped", bot.StatusInProgress, []*bot.Link{link(pull, "reverted"), link(issue, "completed")}, Change{Kind: pull, Prev: "merged", Next: "reverted", RevertedBy: "#9"}, "", nil},
		{"linear leaves completed", bot.StatusShipped, []*bot.Link{link(lin, "started")}, Change{Kind: lin, Prev: "completed", Next: "started"}, "", &Transition{To: bot.StatusRolledBack, Note: "reopened"}},
		{"linear completed to unstarted", bot.StatusShipped, []*bot.Link{link(lin, "unstarted")}, Change{Kind: lin, Prev: "completed", Next: "unstarted"}, "", &Transition{To: bot.StatusRolledBack, Note: "reopened"}},
		{"linear completed to canceled", bot.StatusShipped, []*bot.Link{link(lin, "canceled")}, Change{Kind: lin, Prev: "completed", Next: "canceled"}, "", &Transition{To: bot.StatusRolledBack, Note: "reopened"}},
		{"newly linked open item on shipped", bot.StatusShipped, []*bot.Link{link(issue, "open"), link(issue, "completed")}, Change{Kind: issue, Prev: "completed", Next: "open", Linked: true}, "", nil},

		// ship_on=release: closing ships nothing for GitHub items.
		{"release mode: pull merged", bot.StatusInProgress, []*bot.Link{link(pull, "merged")}, Change{Kind: pull, Prev: "open", Next: "merged"}, ShipOnRelease, nil},
		{"release mode: issue completed", bot.StatusPlanned, []*bot.Link{link(issue, "completed")}, Change{Kind: issue, Prev: "open", Next: "completed"}, ShipOnRelease, nil},
		{"release mode: linear only ships", bot.StatusInProgress, []*bot.Link{link(lin, "completed")}, Change{Kind: lin, Prev: "started", Next: "completed"}, ShipOnRelease, &Transition{To: bot.StatusShipped}},
		{"release mode: linear with github waits", bot.StatusInProgress, []*bot.Link{link(lin, "completed"), link(pull, "merged")}, Change{Kind: lin, Prev: "started", Next: "completed"}, ShipOnRelease, nil},
		{"release mode: declines", bot.StatusInProgress, []*bot.Link{link(pull, "closed")}, Change{Kind: pull, Prev: "open", Next: "closed"}, ShipOnRelease, &Transition{To: bot.StatusDeclined}},
		{"release mode: reopened rolls back", bot.StatusShipped, []*bot.Link{link(issue, "open")}, Change{Kind: issue, Prev: "completed", Next: "open"}, ShipOnRelease, &Transition{To: bot.StatusRolledBack, Note: "reopened"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.st, tt.links, tt.ch, tt.shipOn)
			if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Fatalf("Decide = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecidePublished(t *testing.T) {
	for _, tt := range []struct {
		name   string
		st     bot.Status
		links  []*bot.Link
		inBody bool
		want   *Transition
	}{
		{"all done", bot.StatusInProgress, []*bot.Link{link(pull, "merged"), link(issue, "completed")}, false, &Transition{To: bot.StatusShipped, Version: "v1", Note: "First"}},
		{"done and dropped", bot.StatusInProgress, []*bot.Link{link(pull, "merged"), link(issue, "not_planned")}, false, &Transition{To: bot.StatusShipped, Version: "v1", Note: "First"}},
		{"one open", bot.StatusInProgress, []*bot.Link{link(pull, "merged"), link(issue, "open")}, false, nil},
		{"key in body", bot.StatusOpen, nil, true, &Transition{To: bot.StatusShipped, Version: "v1", Note: "First"}},
		{"already shipped", bot.StatusShipped, []*bot.Link{link(pull, "merged")}, true, nil},
		{"all dropped", bot.StatusDeclined, []*bot.Link{link(pull, "closed")}, false, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := DecidePublished(tt.st, tt.links, tt.inBody, "v1", " First ")
			if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Fatalf("DecidePublished = %+v, want %+v", got, tt.want)
			}
		})
	}
}
