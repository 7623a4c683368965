package bot

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file is the presenter: every sentence the engine says to people —
// cards, duplicate suggestions, confirmations of each use case, refusals,
// release replies and progress lines, plurals — is made here and nowhere
// else, so a change of wording never touches a rule. The commands package
// turns use-case results into chat replies with these methods, and bot/web
// uses the same ones for the "message" of its JSON answers, so chat and API
// say the same thing. Keys ("FB-12") are rendered here, from ids.

// Text renders the engine's sentences. Get it from Engine.Text; the zero
// value renders keys without a prefix.
type Text struct {
	// Prefix is the request key prefix ("FB").
	Prefix string
	// Shared is set for a channel shared with other organisations (Slack
	// Connect): cards and replies there show the title, key, status and
	// number of people, never organisation or company names, counts of
	// them, values or internal notes (see Engine.TextFor).
	Shared bool
}

// Text returns the presenter for the engine's key prefix.
func (e *Engine) Text() Text { return Text{Prefix: e.cfg.KeyPrefix} }

// Key formats a request id as a key.
func (t Text) Key(id int64) string { return FormatKey(t.Prefix, id) }

func (t Text) keys(ids []int64) string {
	ks := make([]string, len(ids))
	for i, id := range ids {
		ks[i] = t.Key(id)
	}
	return strings.Join(ks, ", ")
}

// ---- plurals and counts ----

// plural formats n with a noun that takes an s in the plural.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func peopleCount(n int) string {
	if n == 1 {
		return "1 person"
	}
	return strconv.Itoa(n) + " people"
}

func orgCount(n int) string {
	if n == 1 {
		return "1 organisation"
	}
	return strconv.Itoa(n) + " organisations"
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func threadCount(n int) string {
	if n == 1 {
		return "1 thread"
	}
	return fmt.Sprintf("%s threads", groupThousands(n))
}

func groupThousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// ---- requests ----

// Card is the compact request card posted on capture and shown by show.
//
// It is "📌 KEY: TITLE\nStatus: STATUS · PEOPLE[ · ORGS]" put together
// by concatenation (what fmt.Sprintf made of it before, without its
// formatting machinery: every capture renders its card).
func (t Text) Card(r *Request) string {
	if t.Shared {
		return "📌 " + t.Key(r.ID) + ": " + r.Title + "\nStatus: " + r.Status.Label() + " · " + peopleCount(r.Demand)
	}
	return "📌 " + t.Key(r.ID) + ": " + r.Title + "\nStatus: " + r.Status.Label() + " · " + peopleCount(r.Demand) + " · " + orgCount(r.Orgs)
}

// sameCard reports whether t.Card(a) == t.Card(b): at once when
// everything the card shows is the same (the request, its title, status,
// demand and, outside a shared channel, organisations), else by rendering
// both.
func (t Text) sameCard(a, b *Request) bool {
	if a.ID == b.ID && a.Title == b.Title && a.Status == b.Status && a.Demand == b.Demand && (t.Shared || a.Orgs == b.Orgs) {
		return true
	}
	return t.Card(a) == t.Card(b)
}

// RequestLine is the one-line form of a request used in lists.
func (t Text) RequestLine(r *Request) string {
	return fmt.Sprintf("%s %s · %s · %s", t.Key(r.ID), r.Title, r.Status.Label(), peopleCount(r.Demand))
}

// Detail renders a request with its mentions, duplicates, history and
// thread replies (/feedback show).
func (t Text) Detail(d *RequestDetail) string {
	var b strings.Builder
	r := d.Request
	if d.AskedFor != 0 {
		fmt.Fprintf(&b, "%s was merged into %s.\n", t.Key(d.AskedFor), t.Key(r.ID))
	}
	if r.Removed() {
		fmt.Fprintf(&b, "🗑️ %s is removed from the board (/feedback restore %s puts it back).\n", t.Key(r.ID), t.Key(r.ID))
	}
	b.WriteString(t.Card(r))
	if t.Shared {
		// A shared channel sees the card only: no mentions (authors and
		// their organisations), history notes or links.
		return b.String()
	}
	fmt.Fprintf(&b, " · %s", plural(r.Mentions, "mention"))
	if len(r.Tags) > 0 {
		fmt.Fprintf(&b, "\nTags: %s", t.TagList(r.Tags))
	}
	if r.Description != r.Title && r.Description != "" {
		fmt.Fprintf(&b, "\n%s", clip(r.Description, 500))
	}
	if len(d.Duplicates) > 0 {
		ids := make([]int64, len(d.Duplicates))
		for i, x := range d.Duplicates {
			ids[i] = x.ID
		}
		fmt.Fprintf(&b, "\nDuplicates merged in: %s", t.keys(ids))
	}
	if len(d.Mentions) > 0 {
		b.WriteString("\nMentions:")
		for i, m := range d.Mentions {
			if i == 10 {
				fmt.Fprintf(&b, "\n  … and %d more", len(d.Mentions)-10)
				break
			}
			who := m.AuthorName
			if who == "" {
				who = m.AuthorID
			}
			fmt.Fprintf(&b, "\n  • %s (%s, %s): %s", who, m.Platform, m.Via, clip(strings.ReplaceAll(m.Text, "\n", " "), 80))
			if m.Permalink != "" {
				fmt.Fprintf(&b, " %s", m.Permalink)
			}
			if m.Deleted {
				b.WriteString(" [deleted]")
			}
		}
	}
	if len(d.Links) > 0 {
		b.WriteString("\nLinks:")
		for _, l := range d.Links {
			fmt.Fprintf(&b, "\n  • %s (%s)", l.URL, l.State)
		}
	}
	if len(d.History) > 0 {
		b.WriteString("\nHistory:")
		for _, h := range d.History {
			fmt.Fprintf(&b, "\n  • %s → %s by %s", h.From.Label(), h.To.Label(), h.Actor)
			if h.Version != "" {
				fmt.Fprintf(&b, " in %s", h.Version)
			}
			if h.Note != "" {
				fmt.Fprintf(&b, " (%s)", clip(h.Note, 80))
			}
		}
	}
	if len(d.Problems) > 0 {
		b.WriteString("\n" + t.ProblemReports(d.Problems))
	}
	if len(d.Edits) > 0 {
		b.WriteString("\nEdits:")
		for _, ed := range d.Edits {
			fmt.Fprintf(&b, "\n  • %s", clip(t.editHistoryLine(ed), 160))
		}
	}
	counts := map[string]int{}
	for _, x := range d.Deliveries {
		counts[x.State]++
	}
	if len(d.Deliveries) > 0 {
		fmt.Fprintf(&b, "\nThread replies: %d sent, %d failed", counts[DeliveryDone], counts[DeliveryFailed])
		if waiting := counts[DeliveryPending] + counts[DeliveryRunning]; waiting > 0 {
			fmt.Fprintf(&b, ", %d waiting", waiting)
		}
		for _, x := range d.Deliveries {
			if x.State == DeliveryFailed {
				fmt.Fprintf(&b, "\n  ✗ %s %s: %s", x.Platform, x.Channel, clip(x.LastError, 80))
			}
		}
	}
	return b.String()
}

// ---- capture ----

// MentionHelp answers a mention of the bot with no idea in it.
func (t Text) MentionHelp() string {
	return "Mention me with your idea and I'll put it on the feedback board. Try /feedback help for commands."
}

// newFeedbackCard is the top-level message the bot posts for feedback that
// has no chat message of its own (a slash command); the request's thread
// hangs on it.
func (t Text) newFeedbackCard(by, title string) string {
	return fmt.Sprintf("📝 New feedback from %s: %s", by, title)
}

// Captured confirms a capture to the person who asked for it.
func (t Text) Captured(r *CaptureResult) string {
	switch {
	case r.AutoMerged:
		return fmt.Sprintf("Added to %s: %s.", t.Key(r.Request.ID), r.Request.Title)
	case !r.Created:
		return fmt.Sprintf("Added to %s: %s (%s).", t.Key(r.Request.ID), r.Request.Title, peopleCount(r.Request.Demand))
	}
	s := fmt.Sprintf("Captured as %s: %s.", t.Key(r.Request.ID), r.Request.Title)
	if len(r.Duplicates) > 0 {
		s += " Possible duplicates: " + t.keys(r.Duplicates) + "."
	}
	return s
}

// autoMergedCard is posted in the thread of feedback merged on arrival.
func (t Text) autoMergedCard(target *Request) string {
	return fmt.Sprintf("🔗 This looks like %s: %s, so I added it there (%s).", t.Key(target.ID), target.Title, peopleCount(target.Demand))
}

// voteLabel is the label of the vote button under a card.
func (t Text) voteLabel() string { return "👍 Vote" }

// Linked confirms /feedback link.
func (t Text) Linked(r *LinkResult) string {
	return fmt.Sprintf("Linked the message to %s: %s (%s).", t.Key(r.Request.ID), r.Request.Title, peopleCount(r.Request.Demand))
}

// Tracked confirms /feedback track.
func (t Text) Tracked(r *TrackResult) string {
	if !r.Changed {
		return fmt.Sprintf("%s is already linked to %s.", t.Key(r.Request.ID), r.Link.URL)
	}
	state := ""
	if r.Link.State != ItemUnknown {
		state = " (" + r.Link.State + ")"
	}
	s := fmt.Sprintf("🔗 Linked %s to %s%s. I'll follow it: when it is done, the request ships and every thread hears about it.", t.Key(r.Request.ID), r.Link.URL, state)
	if r.Status != nil {
		s += fmt.Sprintf(" %s is now %s.", t.Key(r.Request.ID), r.Status.To.Label())
	}
	return s
}

// Untracked confirms /feedback untrack.
func (t Text) Untracked(r *TrackResult) string {
	return fmt.Sprintf("Unlinked %s from %s; its status stays %s.", t.Key(r.Request.ID), r.Link.URL, r.Request.Status.Label())
}

func (t Text) errNotTracked(id int64, url string) error {
	return Errorf(ENOTFOUND, "%s is not linked to %s.", t.Key(id), clip(url, 80))
}

// ---- votes ----

// Voted confirms a vote (or says the person already counts).
func (t Text) Voted(r *VoteResult) string {
	if !r.Changed {
		return fmt.Sprintf("You already count for %s: %s (%s).", t.Key(r.Request.ID), r.Request.Title, peopleCount(r.Request.Demand))
	}
	return fmt.Sprintf("👍 Voted for %s: %s (%s).", t.Key(r.Request.ID), r.Request.Title, peopleCount(r.Request.Demand))
}

// Unvoted confirms that a vote was removed (or that there was none).
func (t Text) Unvoted(r *VoteResult) string {
	if !r.Changed {
		return fmt.Sprintf("You had no vote to remove on %s.", t.Key(r.Request.ID))
	}
	return fmt.Sprintf("Removed your vote from %s: %s (%s).", t.Key(r.Request.ID), r.Request.Title, peopleCount(r.Request.Demand))
}

// ---- merges and statuses ----

// Merged confirms a merge.
func (t Text) Merged(r *MergeResult) string {
	if t.Shared {
		return fmt.Sprintf("🔗 Merged %s into %s: %s (%s).", t.Key(r.Merged), t.Key(r.Into.ID), r.Into.Title, peopleCount(r.Into.Demand))
	}
	return fmt.Sprintf("🔗 Merged %s into %s: %s (%s, %s).", t.Key(r.Merged), t.Key(r.Into.ID), r.Into.Title, peopleCount(r.Into.Demand), orgCount(r.Into.Orgs))
}

// Unmerged confirms an unmerge.
func (t Text) Unmerged(r *UnmergeResult) string {
	return fmt.Sprintf("↔️ %s is its own request again: %s (%s).", t.Key(r.Request.ID), r.Request.Title, peopleCount(r.Request.Demand))
}

// StatusSet confirms a status change.
func (t Text) StatusSet(r *SetStatusResult) string {
	return fmt.Sprintf("%s is now %s: %s.", t.Key(r.Request.ID), r.Change.To.Label(), r.Request.Title)
}

// ---- channels ----

// ChannelSet confirms watch, unwatch and releases.
func (t Text) ChannelSet(r *SetChannelResult) string {
	name := r.ChannelName
	switch {
	case r.Kind == ChannelWatch && r.On && r.Changed:
		return fmt.Sprintf("👀 Watching %s: every new top-level message there becomes feedback.", name)
	case r.Kind == ChannelWatch && r.On:
		return fmt.Sprintf("I already watch %s.", name)
	case r.Kind == ChannelWatch && r.Changed:
		return fmt.Sprintf("Stopped watching %s.", name)
	case r.Kind == ChannelWatch:
		return fmt.Sprintf("I was not watching %s.", name)
	case r.On && r.Changed:
		return fmt.Sprintf("📣 %s is a release channel: release leads' announcements there ship and roll back requests.", name)
	case r.On:
		return fmt.Sprintf("%s is already a release channel.", name)
	case r.Changed:
		return fmt.Sprintf("%s is no longer a release channel.", name)
	}
	return fmt.Sprintf("%s was not a release channel.", name)
}

// ---- suggestions ----

// suggestionList lists the duplicate candidates under a new request's card.
func (t Text) suggestionList(reqID int64, reqs []*Request, cands []Candidate) string {
	var b strings.Builder
	fmt.Fprintf(&b, "🔎 Possible duplicates of %s:", t.Key(reqID))
	for i, r := range reqs {
		fmt.Fprintf(&b, "\n%d. %s: %s (%s, %s, score %.2f)", i+1, t.Key(r.ID), r.Title, r.Status.Label(), peopleCount(r.Demand), cands[i].Score)
		if why := cands[i].Reason; why != "" {
			// Why it was suggested, so the team can judge at a glance.
			b.WriteString(" — " + why)
		}
	}
	return b.String()
}

// mergeLabel and dismissLabel are the suggestion buttons.
func (t Text) mergeLabel(id int64) string { return "Merge into " + t.Key(id) }
func (t Text) dismissLabel() string       { return "Not a duplicate" }

// SuggestionOutcome says how a suggestion was decided.
func (t Text) SuggestionOutcome(s *Suggestion) string {
	switch s.State {
	case SuggestionMerged:
		into := int64(0)
		if s.MergedInto != nil {
			into = *s.MergedInto
		}
		return fmt.Sprintf("✅ %s was merged into %s by %s.", t.Key(s.RequestID), t.Key(into), s.DecidedBy)
	case SuggestionDismissed:
		return fmt.Sprintf("🚫 Not a duplicate (decided by %s).", s.DecidedBy)
	}
	return "Still pending."
}

// Decided answers the person who pressed a suggestion button.
func (t Text) Decided(r *DecideResult) string {
	if !r.Changed {
		return "Already decided: " + t.SuggestionOutcome(r.Suggestion)
	}
	return t.SuggestionOutcome(r.Suggestion)
}

// ---- releases ----

// ReleaseReply is the reply posted in a subscribed thread when requests it
// asked for are shipped or rolled back.
func (t Text) ReleaseReply(action, version, note string, reqs []*Request) string {
	titles := make([]string, len(reqs))
	for i, r := range reqs {
		titles[i] = r.Title
	}
	list := strings.Join(titles, "; ")
	var s string
	if action == ActionShipped {
		if version != "" {
			s = fmt.Sprintf("🚀 Shipped in %s: %s. Thanks for asking!", version, list)
		} else {
			s = fmt.Sprintf("🚀 Shipped: %s. Thanks for asking!", list)
		}
	} else {
		verb := "is"
		if len(reqs) > 1 {
			verb = "are"
		}
		if version != "" {
			s = fmt.Sprintf("↩️ %s was rolled back: %s %s not available for now. We'll reply here when it's back.", version, list, verb)
		} else {
			s = fmt.Sprintf("↩️ The release was rolled back: %s %s not available for now. We'll reply here when it's back.", list, verb)
		}
	}
	if note = strings.TrimSpace(note); note != "" {
		s += "\n> " + strings.ReplaceAll(note, "\n", "\n> ")
	}
	return s
}

// ReleaseText is Text.ReleaseReply (kept for callers of the old name).
func ReleaseText(action, version, note string, reqs []*Request) string {
	return Text{}.ReleaseReply(action, version, note, reqs)
}

// releaseHeadline says what changed, for example "Shipped FB-1, FB-2 in v2.4."
func (t Text) releaseHeadline(o *ReleaseOutcome) string {
	verb := "Shipped"
	if o.Action == ActionRolledBack {
		verb = "Rolled back"
	}
	s := verb + " " + strings.Join(o.Changed, ", ")
	if o.Version != "" {
		s += " in " + o.Version
	}
	return s + "."
}

// ReleaseSummary is a one-line description of a release for the release
// lead (the command's reply, the API's "summary").
func (t Text) ReleaseSummary(o *ReleaseOutcome) string {
	var b strings.Builder
	verb := "Shipped"
	if o.Action == ActionRolledBack {
		verb = "Rolled back"
	}
	if len(o.Changed) > 0 {
		fmt.Fprintf(&b, "%s %s", verb, strings.Join(o.Changed, ", "))
		if o.Version != "" {
			fmt.Fprintf(&b, " in %s", o.Version)
		}
		fmt.Fprintf(&b, "; notifying %s.", threadCount(o.Threads))
	} else {
		b.WriteString("Nothing changed.")
	}
	if len(o.Skipped) > 0 {
		state := "already shipped"
		if o.Action == ActionRolledBack {
			state = "not shipped"
		}
		fmt.Fprintf(&b, " %s %s %s.", strings.Join(o.Skipped, ", "), isAre(len(o.Skipped)), state)
	}
	if len(o.Unknown) > 0 {
		fmt.Fprintf(&b, " Unknown: %s.", strings.Join(o.Unknown, ", "))
	}
	if o.Replayed {
		b.WriteString(" (repeated request: nothing was done again)")
	}
	return b.String()
}

// Summary is Text.ReleaseSummary.
func (o *ReleaseOutcome) Summary() string { return Text{}.ReleaseSummary(o) }

func releaseEmoji(action string) string {
	if action == ActionRolledBack {
		return "↩️"
	}
	return "🚀"
}

// progressStart is the first text of a release's progress message.
func (t Text) progressStart(o *ReleaseOutcome) string {
	return fmt.Sprintf("%s %s Notifying %s…", releaseEmoji(o.Action), t.releaseHeadline(o), threadCount(o.Threads))
}

// progressLine is the progress message while (or once) the release's
// deliveries run.
func (t Text) progressLine(o *ReleaseOutcome, st DeliveryStats, finished bool) string {
	total := st.Pending + st.Running + st.Done + st.Failed
	if finished {
		return fmt.Sprintf("%s %s Notified %s: %d delivered, %d failed.", releaseEmoji(o.Action), t.releaseHeadline(o), threadCount(total), st.Done, st.Failed)
	}
	return fmt.Sprintf("%s %s Notifying %s… %d delivered, %d failed so far.", releaseEmoji(o.Action), t.releaseHeadline(o), threadCount(total), st.Done, st.Failed)
}

// ---- refusals and errors ----

// Things only some roles may do, as the refusals name them.
const (
	doMerge         = "merge requests"
	doUnmerge       = "unmerge requests"
	doStatus        = "change a request's status"
	doChannels      = "change which channels I watch"
	doLink          = "link messages to requests"
	doTrack         = "link requests to issues"
	doUntrack       = "unlink requests from issues"
	doMergeDup      = "merge duplicates"
	doDismissDup    = "dismiss duplicate suggestions"
	doShip          = "ship requests"
	doRollback      = "roll back releases"
	refuseTeam      = "Only team members can %s."
	refuseLead      = "Only release leads can %s."
	noRequestFormat = "There is no request %s."
)

func (t Text) errNoRequest(id int64) error {
	return &Error{Code: ENOTFOUND, Reason: ReasonNoRequest, IDs: []int64{id}, Message: fmt.Sprintf(noRequestFormat, t.Key(id))}
}

func (t Text) errCapturedAs(r *Request) error {
	return &Error{Code: ECONFLICT, Reason: ReasonCaptured, IDs: []int64{r.ID}, Message: fmt.Sprintf("This message is already on the board as %s: %s.", t.Key(r.ID), r.Title)}
}

func (t Text) errSameStatus(id int64, to Status) error {
	return &Error{Code: ECONFLICT, Reason: ReasonSameStatus, IDs: []int64{id}, Message: fmt.Sprintf("%s is already %s.", t.Key(id), to.Label())}
}

// notSaved tells a person that what they captured was given up after the
// database stayed unavailable for the whole retry window; err is the last
// error ("The database is unavailable; try again in a moment.").
func (t Text) notSaved(err error) string {
	if ErrorCode(err) != EUNAVAILABLE {
		return "⚠ Not saved: the database did not answer in time; try again in a moment."
	}
	return "⚠ Not saved: " + ErrorMessage(err)
}

// errKept is the capture kept for a retry while the database is
// unavailable (Engine.Handle answers nothing for it).
var errKept = &Error{Code: EUNAVAILABLE, Reason: ReasonKept, Message: "The database is unavailable; this is kept and saved when it is back."}

// Errors the use cases return for input they cannot take.
var (
	errNoMessage     = Errorf(EINVALID, "There is no message to capture.")
	errNoCommands    = Errorf(EUNAVAILABLE, "Commands are not available.")
	errBotMessage    = Errorf(EINVALID, "Messages from bots are not captured.")
	errNoText        = Errorf(EINVALID, "There is no text to capture.")
	errUseRelease    = Errorf(EINVALID, "Use /feedback ship or /feedback rollback to ship or roll back.")
	errNoChannel     = Errorf(EINVALID, "Name a channel, for example #ideas.")
	errNoLinking     = Errorf(EINVALID, "Linking messages is not supported here.")
	errNoSearch      = Errorf(EINVALID, "Usage: /feedback search <words>")
	errUnknownButton = Errorf(EINVALID, "Unknown button.")
	errNoSuggestion  = Errorf(ENOTFOUND, "This suggestion no longer exists.")
	errInternal      = Errorf(EINTERNAL, "Internal error.")
)

func errNotAKey(prefix, s string) error {
	return Errorf(EINVALID, "%q is not a request key (expected %s-<number>).", clip(s, 40), prefix)
}

// errNoSuchKey is ENOTFOUND for a key that cannot exist (zero, too large).
func errNoSuchKey(s string) error {
	return Errorf(ENOTFOUND, noRequestFormat, clip(s, 40))
}

func errTooLong(n int) error {
	return Errorf(ETOOLARGE, "Feedback can be at most %d characters long (this one has %d).", MaxTextRunes, n)
}

func errUnknownStatus(s Status) error {
	return Errorf(EINVALID, "Unknown status %q: use open, planned, in_progress or declined.", clip(string(s), 30))
}

func errUnknownAction(a string) error {
	return Errorf(EINVALID, "Unknown release action %q: use shipped or rolled_back.", clip(a, 30))
}

func errCannotLoad(link string) error {
	return Errorf(EINVALID, "Could not load the message at %s.", clip(link, 100))
}

func errIdempotencyReused() error {
	return Errorf(ECONFLICT, "This idempotency key was already used for a different request; use a new key.")
}

func errNothingShippedIn(version string) error {
	return Errorf(ENOTFOUND, "No request is shipped in %s.", clip(version, 40))
}

func (t Text) errNoKeys() error {
	return Errorf(EINVALID, "Name at least one request key, for example %s-12.", t.Prefix)
}

// storeError renders a structured store error about requests as a sentence
// with keys; other errors pass through unchanged.
func (t Text) storeError(err error) error {
	var be *Error
	if !errors.As(err, &be) {
		return err
	}
	id := func(i int) string {
		if i < len(be.IDs) {
			return t.Key(be.IDs[i])
		}
		return "?"
	}
	var msg string
	switch be.Reason {
	case ReasonNoRequest:
		msg = fmt.Sprintf("%s does not exist.", id(0))
	case ReasonAlreadyMerged:
		msg = fmt.Sprintf("%s is already merged into %s.", id(0), id(1))
	case ReasonMergeSelf:
		msg = fmt.Sprintf("%s cannot be merged into itself.", id(0))
	case ReasonMergeCycle:
		msg = fmt.Sprintf("%s is merged into %s, so merging %s into it would make a cycle.", id(0), id(1), id(1))
	case ReasonNotMerged:
		msg = fmt.Sprintf("%s is not merged into another request.", id(0))
	default:
		return err
	}
	return &Error{Code: be.Code, Reason: be.Reason, IDs: be.IDs, Message: msg}
}
