package bot

import (
	"context"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
)

// Button id prefixes. Ids are "vote:<request>", "merge:<suggestion>:<request>"
// and "dismiss:<suggestion>".
const (
	actionVote    = "vote"
	actionMerge   = "merge"
	actionDismiss = "dismiss"
)

// resolveAll returns the canonical request of each id that exists, by id,
// in one query.
func (e *Engine) resolveAll(ctx context.Context, ids []int64) (map[int64]*Request, error) {
	return e.store.ResolveRequests(ctx, ids)
}

// similar returns the duplicate index's candidates for req above the
// suggestion threshold, best first: a little more than shown, room for
// entries another replica merged a moment ago (the index is active
// requests only). req is a request just created, or being created
// (startSimilar), and not indexed yet, so no suggestion about it can have
// been dismissed and DismissedWith is not asked.
func (e *Engine) similar(ctx context.Context, req *Request) []Candidate {
	found, err := e.similarText(ctx, req.Title+"\n"+req.Description)
	if err != nil {
		e.log.Warn("duplicate check", "err", err)
	}
	return found
}

// similarText is similar for the text req.Title+"\n"+req.Description,
// with the scorer's error (and then no candidates).
func (e *Engine) similarText(ctx context.Context, text string) ([]Candidate, error) {
	raw, err := e.scorer.Similar(ctx, text, e.cfg.MaxSuggestions+2)
	if err != nil {
		return nil, err
	}
	n := 0
	for n < len(raw) && raw[n].Score >= e.cfg.SuggestThreshold {
		n++
	}
	return raw[:n], nil
}

// pendingSimilar is a duplicate check running while the request it is
// about is being written (startSimilar).
type pendingSimilar struct {
	e      *Engine
	cancel context.CancelFunc
	done   chan similarResult
}

type similarResult struct {
	found []Candidate
	err   error
	panic *helperPanic
}

// helperPanic is a panic on a goroutine a capture started (startSimilar,
// upsertAsync), raised again on the capture's own goroutine when it
// waits for it, so that Handle recovers it as it would a panic of the
// capture itself (one on another goroutine would end the process). It
// keeps the stack where it happened.
type helperPanic struct {
	value any
	stack string
}

func (p *helperPanic) String() string { return fmt.Sprint(p.value) + "\n" + p.stack }

// catchPanic, deferred on a helper goroutine, keeps its panic in *dst.
func catchPanic(dst **helperPanic) {
	if r := recover(); r != nil {
		*dst = &helperPanic{value: r, stack: string(debug.Stack())}
	}
}

// startSimilar runs similar for req, a request about to be created, on
// another goroutine: the check needs only the text, and a capture spends
// most of CreateRequest waiting for its commit (group commit), time in
// which the check can run. wait returns its candidates; abandon, for a
// capture that was not created (a conflict, an error), stops it and
// waits for it to end, so that nothing of the capture runs after it is
// answered. The request is indexed (Upsert) only after its commit, as
// when the check runs then.
func (e *Engine) startSimilar(ctx context.Context, req *Request) *pendingSimilar {
	ctx, cancel := context.WithCancel(ctx)
	p := &pendingSimilar{e: e, cancel: cancel, done: make(chan similarResult, 1)}
	text := req.Title + "\n" + req.Description
	go func() {
		var r similarResult
		defer func() { p.done <- r }()
		defer catchPanic(&r.panic)
		r.found, r.err = e.similarText(ctx, text)
	}()
	return p
}

// wait returns the check's candidates (similar's); a panic of the check
// is raised here.
func (p *pendingSimilar) wait() []Candidate {
	r := <-p.done
	p.cancel()
	if r.panic != nil {
		panic(r.panic)
	}
	if r.err != nil {
		p.e.log.Warn("duplicate check", "err", r.err)
	}
	return r.found
}

// abandon stops the check and waits for it to end; a panic of the check
// is raised here.
func (p *pendingSimilar) abandon() {
	p.cancel()
	if r := <-p.done; r.panic != nil {
		panic(r.panic)
	}
}

// candidates returns up to MaxSuggestions canonical requests likely to be
// duplicates of req among found (similar's), best first.
func (e *Engine) candidates(ctx context.Context, req *Request, found []Candidate) ([]Candidate, []*Request, error) {
	if len(found) == 0 {
		return nil, nil, nil
	}
	ids := make([]int64, len(found))
	for i, c := range found {
		ids[i] = c.RequestID
	}
	resolved, err := e.resolveAll(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	out, reqs := KeepCandidates(req.ID, found, resolved, e.cfg.MaxSuggestions)
	return out, reqs, nil
}

// KeepCandidates returns what a suggestion about request id shows of
// found (the duplicate index's candidates, best first), given the
// canonical request of each found id that exists (resolved): in found's
// order, the canonical request of each, once, when it is suggestible and
// not id itself, up to max of them. Each candidate keeps its score and
// reason and names the canonical request.
func KeepCandidates(id int64, found []Candidate, resolved map[int64]*Request, max int) ([]Candidate, []*Request) {
	skip := map[int64]bool{id: true}
	var out []Candidate
	var reqs []*Request
	for _, c := range found {
		if len(out) >= max {
			break
		}
		r, ok := resolved[c.RequestID]
		if !ok || skip[r.ID] || !r.Status.Suggestible() {
			continue
		}
		skip[r.ID] = true
		out = append(out, Candidate{RequestID: r.ID, Score: c.Score, Reason: c.Reason})
		reqs = append(reqs, r)
	}
	return out, reqs
}

// suggestionMaker is implemented by stores that resolve a new request's
// candidates and store its suggestion in one write (store.DB: on
// PostgreSQL one statement, where the read and the write are otherwise
// two round trips).
type suggestionMaker interface {
	// CreateSuggestionFrom keeps of found what KeepCandidates keeps (for
	// s.RequestID, with the canonical requests as they are) and, when it
	// keeps any, stores s with those candidates as CreateSuggestion does.
	// It sets s.Candidates to them and returns their requests, in order;
	// when none is kept nothing is written and s.ID stays 0.
	CreateSuggestionFrom(ctx context.Context, s *Suggestion, found []Candidate, max int) ([]*Request, error)
}

// afterCreate indexes a new request and posts the card (with the
// suggestion, if any) in the mention's thread; found is the duplicate
// check's result for req (similar), run before req was indexed.
func (e *Engine) afterCreate(ctx context.Context, req *Request, m *Mention, card bool, found []Candidate) (*CaptureResult, error) {
	t := e.TextFor(ctx, m.Platform, m.Workspace, m.Channel)
	// A capture with a card and no auto-merge to try resolves its
	// candidates in the write that stores its suggestion, when the store
	// can (one round trip instead of two).
	maker, fold := e.store.(suggestionMaker)
	fold = fold && card && m.ThreadID != "" && len(found) > 0 &&
		!(e.cfg.AutoMergeThreshold > 0 && found[0].Score >= e.cfg.AutoMergeThreshold)
	var cands []Candidate
	var candReqs []*Request
	if !fold {
		var err error
		if cands, candReqs, err = e.candidates(ctx, req, found); err != nil {
			return nil, err
		}
	}
	// req is committed: it is indexed while the rest of the capture
	// (its suggestion's and its card's writes) waits on the database, and
	// the capture is answered once it is.
	indexed := e.upsertAsync(docOf(req))
	defer indexed()

	if e.cfg.AutoMergeThreshold > 0 && len(cands) > 0 && cands[0].Score >= e.cfg.AutoMergeThreshold {
		indexed() // before the merge's reindex
		target, err := e.store.Merge(ctx, req.ID, cands[0].RequestID, "auto-merge")
		if err == nil {
			e.metrics.Merged()
			e.reindex(ctx, req.ID)
			e.learn(Decision{Key: MergeDecisionKey(req.ID, target.ID), A: req.ID, B: target.ID, Same: true})
			if ref, ok := e.postInThread(ctx, m, t.autoMergedCard(target), []Button{t.voteButton(target.ID)}); ok {
				e.saveCard(ctx, target.ID, ref)
			}
			return &CaptureResult{Request: target, Mention: m, AutoMerged: true}, nil
		}
		e.log.Warn("auto-merge", "err", err)
	}

	// req is as CreateRequest left it, counters included: no need to read
	// it again for the card.
	if card && m.ThreadID != "" {
		text := t.Card(req)
		buttons := t.cardButtons(req.ID)
		var sugg *Suggestion
		switch {
		case fold:
			sugg = &Suggestion{RequestID: req.ID, Platform: m.Platform, Workspace: m.Workspace, Channel: m.Channel, ThreadID: m.ThreadID}
			reqs, err := maker.CreateSuggestionFrom(ctx, sugg, found, e.cfg.MaxSuggestions)
			if err != nil {
				return nil, err
			}
			cands, candReqs = sugg.Candidates, reqs
			if sugg.ID == 0 {
				sugg = nil
			}
		case len(cands) > 0:
			sugg = &Suggestion{RequestID: req.ID, Candidates: cands, Platform: m.Platform, Workspace: m.Workspace, Channel: m.Channel, ThreadID: m.ThreadID}
			if err := e.store.CreateSuggestion(ctx, sugg); err != nil {
				return nil, err
			}
		}
		if sugg != nil {
			e.metrics.Suggested()
			text += "\n" + t.suggestionList(req.ID, candReqs, cands)
			buttons = append(buttons, t.suggestionButtons(sugg.ID, candReqs)...)
		}
		if ref, ok := e.postInThread(ctx, m, text, buttons); ok {
			if err := e.saveNewCard(ctx, t, req, m, sugg, ref, OutMessage{Text: text, Buttons: buttons}); err != nil {
				return nil, err
			}
		}
	}
	res := &CaptureResult{Request: req, Mention: m, Created: true}
	for _, c := range cands {
		res.Duplicates = append(res.Duplicates, c.RequestID)
	}
	return res, nil
}

// upsertAsync indexes d on another goroutine; the function it returns
// waits until it is indexed (and may be called more than once).
func (e *Engine) upsertAsync(d Doc) func() {
	done := make(chan struct{})
	var pv *helperPanic
	go func() {
		defer close(done)
		defer catchPanic(&pv)
		e.scorer.Upsert(d)
	}()
	raised := false
	// Called on the capture's goroutine only (at once and deferred): its
	// panic is raised by the first call.
	return func() {
		<-done
		if pv != nil && !raised {
			raised = true
			panic(pv)
		}
	}
}

func (e *Engine) postInThread(ctx context.Context, m *Mention, text string, buttons []Button) (MessageRef, bool) {
	p := e.platform(m.Platform)
	if p == nil {
		return MessageRef{}, false
	}
	ref, err := e.post(ctx, p, OutMessage{Workspace: m.Workspace, Channel: m.Channel, ThreadID: m.ThreadID, Text: text, Buttons: buttons})
	if err != nil {
		e.log.Warn("post card", "platform", m.Platform, "err", err)
		return MessageRef{}, false
	}
	return ref, true
}

// newCardSaver is implemented by stores that do what saveNewCard needs in
// one write (store.DB): save the card with what it shows, point the
// suggestion (if any) at it, and read the request as it is once the card
// is saved.
type newCardSaver interface {
	SaveNewCard(ctx context.Context, requestID int64, ref MessageRef, shown string, suggestion int64) (*Request, error)
}

// saveNewCard records the card just posted for new request req (with
// suggestion sugg, or nil) and closes the gap between rendering it and
// saving it: a change committed meanwhile (a vote or an edit from a quick
// click, on any replica) queued no card refresh, because the request had
// no card yet, so the card is edited if what it shows changed. A store
// without SaveNewCard, or a SaveNewCard that fails other than with
// EUNAVAILABLE, gets the writes one by one. A failure to save the card is
// logged, one to point the suggestion at it returned.
func (e *Engine) saveNewCard(ctx context.Context, t Text, req *Request, m *Mention, sugg *Suggestion, ref MessageRef, msg OutMessage) error {
	if ns, ok := e.store.(newCardSaver); ok && ref.ID != "" {
		var suggID int64
		if sugg != nil {
			suggID = sugg.ID
		}
		cur, err := ns.SaveNewCard(ctx, req.ID, ref, shownHash(msg), suggID)
		switch {
		case err == nil:
			e.refreshNewCard(ctx, t, req, cur, m, ref, msg)
			return nil
		case ErrorCode(err) == EUNAVAILABLE:
			// Each write alone would meet the same outage.
			e.log.Warn("save card", "err", err)
			if sugg != nil {
				return err
			}
			return nil
		}
	}
	e.saveShownCard(ctx, req.ID, ref, msg)
	e.recheckNewCard(ctx, t, req, m, ref, msg)
	if sugg != nil {
		if err := e.store.SetSuggestionMessage(ctx, sugg.ID, ref); err != nil {
			return err
		}
	}
	return nil
}

// recheckNewCard is the gap check of saveNewCard for a card saved on its
// own: one read tells.
func (e *Engine) recheckNewCard(ctx context.Context, t Text, req *Request, m *Mention, ref MessageRef, msg OutMessage) {
	cur, err := e.store.ResolveRequest(ctx, req.ID)
	if err != nil {
		return
	}
	e.refreshNewCard(ctx, t, req, cur, m, ref, msg)
}

// refreshNewCard edits the new card of req, posted as msg, when the
// request as it is now (cur, canonical) shows otherwise.
func (e *Engine) refreshNewCard(ctx context.Context, t Text, req, cur *Request, m *Mention, ref MessageRef, msg OutMessage) {
	if cur.ID == req.ID && t.sameCard(cur, req) && cur.Tags.String() == req.Tags.String() && cur.Removed() == req.Removed() {
		return
	}
	if ref.ThreadID == "" {
		ref.ThreadID = m.ThreadID
	}
	c := &Card{RequestID: req.ID, MessageRef: ref, Shown: shownHash(msg)}
	if err := e.editCard(ctx, c, cur, nil, false); err != nil {
		e.log.Warn("refresh new card", "platform", m.Platform, "err", err)
	}
}

// cardShowSaver is implemented by stores that save a new card and what it
// shows in one write (store.DB): a capture then costs one write less.
type cardShowSaver interface {
	SaveCardShown(ctx context.Context, requestID int64, ref MessageRef, shown string) error
}

// saveShownCard is saveCard and recordShown for a card just posted.
func (e *Engine) saveShownCard(ctx context.Context, reqID int64, ref MessageRef, msg OutMessage) {
	cs, ok := e.store.(cardShowSaver)
	if !ok || ref.ID == "" {
		e.saveCard(ctx, reqID, ref)
		e.recordShown(ctx, ref, msg)
		return
	}
	if err := cs.SaveCardShown(ctx, reqID, ref, shownHash(msg)); err != nil {
		e.log.Warn("save card", "err", err)
	}
}

func (e *Engine) saveCard(ctx context.Context, reqID int64, ref MessageRef) {
	if ref.ID == "" {
		return
	}
	if err := e.store.SaveCard(ctx, reqID, ref); err != nil {
		e.log.Warn("save card", "err", err)
	}
}

// voteButton is the vote button under a card.
func (t Text) voteButton(reqID int64) Button {
	return Button{ID: actionVote + ":" + strconv.FormatInt(reqID, 10), Label: t.voteLabel()}
}

func (t Text) suggestionButtons(suggID int64, reqs []*Request) []Button {
	var out []Button
	sid := strconv.FormatInt(suggID, 10)
	for _, r := range reqs {
		out = append(out, Button{ID: actionMerge + ":" + sid + ":" + strconv.FormatInt(r.ID, 10), Label: t.mergeLabel(r.ID), Style: StylePrimary})
	}
	out = append(out, Button{ID: actionDismiss + ":" + sid, Label: t.dismissLabel()})
	return out
}

// onButton handles a button press.
func (e *Engine) onButton(ctx context.Context, ev *Event) (*Response, error) {
	parts := strings.Split(ev.ActionID, ":")
	nums := make([]int64, 0, 2)
	for _, p := range parts[1:] {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n <= 0 {
			return nil, errUnknownButton
		}
		nums = append(nums, n)
	}
	a := ChatActor(ev)
	var clicked *MessageRef
	if m := ev.Message; m != nil && m.ID != "" {
		ref := MessageRef{Platform: ev.Platform, Workspace: m.Workspace, Channel: m.Channel, ID: m.ID, ThreadID: m.ThreadID}
		if ref.Workspace == "" {
			ref.Workspace = ev.Workspace
		}
		if ref.Channel == "" {
			ref.Channel = ev.Channel
		}
		clicked = &ref
	}
	var in DecideInput
	switch {
	case parts[0] == actionEdit && len(nums) == 1:
		return e.EditFormFor(ctx, a, nums[0])
	case parts[0] == actionVote && len(nums) == 1:
		res, err := e.Vote(ctx, a, VoteInput{Request: nums[0]})
		if err != nil {
			return nil, err
		}
		return &Response{Text: e.Text().Voted(res)}, nil
	case parts[0] == actionRollback && len(nums) == 1:
		out, err := e.RollbackAlert(ctx, a, RollbackAlertInput{Alert: nums[0], Platform: ev.Platform})
		if err != nil {
			return nil, err
		}
		return &Response{Text: e.Text().ReleaseSummary(out)}, nil
	case parts[0] == actionMerge && len(nums) == 2:
		in = DecideInput{Suggestion: nums[0], State: SuggestionMerged, Into: nums[1], Clicked: clicked}
	case parts[0] == actionDismiss && len(nums) == 1:
		in = DecideInput{Suggestion: nums[0], State: SuggestionDismissed, Clicked: clicked}
	default:
		return nil, errUnknownButton
	}
	res, err := e.DecideSuggestion(ctx, a, in)
	if err != nil {
		return nil, err
	}
	return &Response{Text: e.Text().Decided(res)}, nil
}

// DecideInput decides a duplicate suggestion: State SuggestionMerged (merge
// its request into Into) or SuggestionDismissed. Clicked, when set, is the
// message whose button was pressed; it is edited to show the outcome.
type DecideInput struct {
	Suggestion int64
	State      string
	Into       int64
	Clicked    *MessageRef
}

// DecideResult is the suggestion after the decision. Changed is false when
// it had been decided before (by anyone); then nothing was done.
type DecideResult struct {
	Suggestion *Suggestion
	Changed    bool
}

// DecideSuggestion merges or dismisses a suggestion, once (team only), and
// edits the suggestion's message to show the outcome. EFORBIDDEN;
// ENOTFOUND when the suggestion does not exist.
func (e *Engine) DecideSuggestion(ctx context.Context, a Actor, in DecideInput) (*DecideResult, error) {
	what := doMergeDup
	if in.State == SuggestionDismissed {
		what = doDismissDup
	}
	if err := RequireTeam(a, what); err != nil {
		return nil, err
	}
	s, changed, err := e.store.DecideSuggestion(ctx, in.Suggestion, in.State, in.Into, a.DisplayName())
	if ErrorCode(err) == ENOTFOUND {
		return nil, errNoSuggestion
	}
	if err != nil {
		return nil, err
	}
	res := &DecideResult{Suggestion: s, Changed: changed}
	if !changed {
		return res, nil
	}
	if in.State == SuggestionMerged {
		e.metrics.Merged()
		e.reindex(ctx, s.RequestID)
	}
	e.learn(decisionsOf(s)...)
	// Edit the message whose button was pressed; the stored id can lag
	// behind a very fast click (the card is posted before its id is saved).
	ref := MessageRef{Platform: s.Platform, Workspace: s.Workspace, Channel: s.Channel, ID: s.MessageID, ThreadID: s.ThreadID}
	if in.Clicked != nil && in.Clicked.Platform == s.Platform {
		ref = *in.Clicked
	}
	if ref.ID != "" {
		e.showDecision(ctx, ref, s)
	}
	return res, nil
}

// showDecision edits the suggestion's card to show the outcome, with only
// the vote button left.
func (e *Engine) showDecision(ctx context.Context, ref MessageRef, s *Suggestion) {
	c := &Card{RequestID: s.RequestID, MessageRef: ref}
	if c.ThreadID == "" {
		c.ThreadID = s.ThreadID
	}
	if err := e.showCard(ctx, c, s); err != nil {
		e.log.Warn("update suggestion", "err", err)
	}
}

// decisionsOf returns what a decided suggestion teaches the duplicate
// index, with the keys store.DecisionsSince gives the same decisions.
func decisionsOf(s *Suggestion) []Decision {
	switch s.State {
	case SuggestionMerged:
		if s.MergedInto == nil {
			return nil
		}
		return []Decision{{Key: MergeDecisionKey(s.RequestID, *s.MergedInto), A: s.RequestID, B: *s.MergedInto, Same: true}}
	case SuggestionDismissed:
		ds := make([]Decision, len(s.Candidates))
		for i, c := range s.Candidates {
			ds[i] = Decision{Key: DismissDecisionKey(s.ID, c.RequestID), A: s.RequestID, B: c.RequestID}
		}
		return ds
	}
	return nil
}
