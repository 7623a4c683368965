package tracker

import (
	"strings"

	"github.com/feedbackbot/feedbackbot/bot"
)

// When GitHub work ships (FEEDBACKBOT_GITHUB_SHIP_ON).
const (
	ShipOnMerge   = "merge"
	ShipOnRelease = "release"
)

// category groups item states by what they mean for the request.
type category int

const (
	// pending: tracked, not started (open issue, draft pull request, Linear
	// triage/backlog/unstarted, a link made before the tracker said anything).
	pending category = iota
	// active: work under way (pull request open for review, Linear started).
	active
	// done: merged pull request, issue closed as completed, Linear completed.
	done
	// dropped: neither blocks nor ships (issue closed as not planned, pull
	// request closed without merging or reverted, Linear canceled).
	dropped
	// neutral: ignored (duplicates, removed Linear issues).
	neutral
)

func categoryOf(state string) category {
	switch state {
	case bot.ItemOpen, bot.ItemDraft, bot.ItemUnknown, bot.ItemTriage, bot.ItemBacklog, bot.ItemUnstarted, "":
		return pending
	case bot.ItemStarted:
		return active
	case bot.ItemCompleted, bot.ItemMerged:
		return done
	case bot.ItemNotPlanned, bot.ItemClosed, bot.ItemReverted, bot.ItemCanceled:
		return dropped
	case bot.ItemDuplicate, bot.ItemRemoved:
		return neutral
	}
	return pending
}

// categoryOfLink is categoryOf, with an open pull request active (an open
// issue is only pending).
func categoryOfLink(kind, state string) category {
	if kind == bot.LinkGitHubPull && state == bot.ItemOpen {
		return active
	}
	return categoryOf(state)
}

// Change is what one delivery says about one item linked to a request.
type Change struct {
	Kind string // bot.LinkGitHubIssue, LinkGitHubPull or LinkLinear
	// Prev and Next are the item's states before and after the delivery.
	Prev, Next string
	// Milestone is the item's milestone title (the version of a ship).
	Milestone string
	// Linked is true when the delivery (or a command) has just linked the
	// item to this request: its previous state says nothing about the
	// request.
	Linked bool
	// RevertedBy is "#M" when a merged pull request M reverted the item.
	RevertedBy string
}

// Transition is a status change a tracker event asks for.
type Transition struct {
	To      bot.Status
	Version string
	Note    string // the ship note or rollback reason
}

// summary is what a request's links say together.
type summary struct {
	considered int  // links that are not neutral
	done       int  // of which done
	dropped    int  // of which dropped
	github     bool // some considered link is a GitHub item
	milestone  string
}

func summarize(links []*bot.Link) summary {
	var s summary
	for _, l := range links {
		c := categoryOfLink(l.Kind, l.State)
		if c == neutral {
			continue
		}
		s.considered++
		if l.Kind != bot.LinkLinear {
			s.github = true
		}
		switch c {
		case done:
			s.done++
			if s.milestone == "" {
				s.milestone = l.Milestone
			}
		case dropped:
			s.dropped++
		}
	}
	return s
}

// complete: every considered item is done or dropped and one is done.
func (s summary) complete() bool { return s.done > 0 && s.done+s.dropped == s.considered }

// allDropped: every considered item is dropped.
func (s summary) allDropped() bool { return s.considered > 0 && s.dropped == s.considered }

// Decide returns the transition of a request in status st whose links
// (states already updated by the delivery) are links, after change ch of
// one of them; nil for none. It is the transition table of the README's
// "Issue trackers" section:
//
//   - an item opened or linked makes an open request planned; a pull
//     request opened for review or a Linear issue started makes it
//     in_progress (from open, planned or rolled_back);
//   - the last item done ships it (with ship_on=release GitHub items wait
//     for a published release), version = the milestone of the completing
//     item;
//   - a done item that is reopened, reverted or leaves Linear's completed
//     rolls a shipped request back;
//   - when every item is dropped (not planned, closed unmerged, canceled)
//     the request is declined; dropped items neither block nor ship;
//   - duplicates change nothing.
func Decide(st bot.Status, links []*bot.Link, ch Change, shipOn string) *Transition {
	if ch.Prev == ch.Next && !ch.Linked {
		return nil
	}
	nc := categoryOfLink(ch.Kind, ch.Next)
	if nc == neutral {
		return nil
	}
	if st == bot.StatusShipped {
		if !ch.Linked && categoryOfLink(ch.Kind, ch.Prev) == done && nc != done {
			reason := "reopened"
			if ch.RevertedBy != "" {
				reason = "reverted in " + ch.RevertedBy
			}
			return &Transition{To: bot.StatusRolledBack, Note: reason}
		}
		return nil
	}
	s := summarize(links)
	switch nc {
	case done, dropped:
		if ch.RevertedBy != "" {
			return nil
		}
		if nc == dropped && s.allDropped() {
			if st == bot.StatusDeclined {
				return nil
			}
			return &Transition{To: bot.StatusDeclined}
		}
		if s.complete() {
			if shipOn == ShipOnRelease && s.github {
				return nil
			}
			version := s.milestone
			if nc == done {
				version = ch.Milestone
			}
			return &Transition{To: bot.StatusShipped, Version: version}
		}
		if st == bot.StatusOpen && nc == done {
			return &Transition{To: bot.StatusPlanned}
		}
	case active:
		switch st {
		case bot.StatusOpen, bot.StatusPlanned, bot.StatusRolledBack:
			return &Transition{To: bot.StatusInProgress}
		}
	case pending:
		if st == bot.StatusOpen {
			return &Transition{To: bot.StatusPlanned}
		}
	}
	return nil
}

// DecidePublished returns the transition of a request in status st with
// links when a GitHub release is published with ship_on=release: it ships
// when its items are all done (dropped ones aside), or when its key is in
// the release body (inBody). nil for none.
func DecidePublished(st bot.Status, links []*bot.Link, inBody bool, tag, name string) *Transition {
	if st == bot.StatusShipped {
		return nil
	}
	if !inBody && !summarize(links).complete() {
		return nil
	}
	return &Transition{To: bot.StatusShipped, Version: tag, Note: strings.TrimSpace(name)}
}

// WithdrawnReason is the rollback reason of a withdrawn release.
func WithdrawnReason(tag string) string { return "release " + tag + " withdrawn" }
