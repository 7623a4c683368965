package bot

import (
	"context"
	"fmt"
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

// docOf returns the index document for a request.
func docOf(r *Request) Doc {
	return Doc{ID: r.ID, Title: r.Title, Description: r.Description, Active: r.MergedInto == nil && r.RemovedAt == nil && r.Status.Suggestible()}
}

// reindex refreshes the index entries of the given requests from the store.
func (e *Engine) reindex(ctx context.Context, ids ...int64) {
	for _, id := range ids {
		r, err := e.store.FindRequestByID(ctx, id)
		if err != nil {
			e.log.Warn("reindex", "id", id, "err", err)
			continue
		}
		e.scorer.Upsert(docOf(r))
	}
}

// requestsResolver is implemented by stores that resolve many requests in
// one query (store.DB).
type requestsResolver interface {
	ResolveRequests(ctx context.Context, ids []int64) (map[int64]*Request, error)
}

// resolveAll returns the canonical request of each id that exists, by id:
// one query when the store can, else one per id.
func (e *Engine) resolveAll(ctx context.Context, ids []int64) (map[int64]*Request, error) {
	if rr, ok := e.store.(requestsResolver); ok {
		return rr.ResolveRequests(ctx, ids)
	}
	out := make(map[int64]*Request, len(ids))
	for _, id := range ids {
		r, err := e.store.ResolveRequest(ctx, id)
		if ErrorCode(err) == ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[id] = r
	}
	return out, nil
}

// candidates returns up to MaxSuggestions canonical requests likely to be
// duplicates of req, best first, above the suggestion threshold. req is a
// request just created (afterCreate is the only caller), so no suggestion
// about it can have been dismissed yet and DismissedWith is not asked.
func (e *Engine) candidates(ctx context.Context, req *Request) ([]Candidate, []*Request, error) {
	// A little more than shown: room for entries another replica merged a
	// moment ago (the index is active requests only).
	raw, err := e.scorer.Similar(ctx, req.Title+"\n"+req.Description, e.cfg.MaxSuggestions+2)
	if err != nil {
		e.log.Warn("duplicate check", "err", err)
		return nil, nil, nil
	}
	var ids []int64
	for _, c := range raw {
		if c.Score < e.cfg.SuggestThreshold {
			break
		}
		ids = append(ids, c.RequestID)
	}
	if len(ids) == 0 {
		return nil, nil, nil
	}
	resolved, err := e.resolveAll(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	skip := map[int64]bool{req.ID: true}
	var out []Candidate
	var reqs []*Request
	for _, c := range raw[:len(ids)] {
		if len(out) >= e.cfg.MaxSuggestions {
			break
		}
		r, ok := resolved[c.RequestID]
		if !ok || skip[r.ID] || !r.Status.Suggestible() {
			continue
		}
		skip[r.ID] = true
		out = append(out, Candidate{RequestID: r.ID, Score: c.Score})
		reqs = append(reqs, r)
	}
	return out, reqs, nil
}

// afterCreate indexes a new request, runs the duplicate check and posts the
// card (with the suggestion, if any) in the mention's thread.
func (e *Engine) afterCreate(ctx context.Context, by User, req *Request, m *Mention, card bool) (*Response, error) {
	cands, candReqs, err := e.candidates(ctx, req)
	if err != nil {
		return nil, err
	}
	e.scorer.Upsert(docOf(req))

	if e.cfg.AutoMergeThreshold > 0 && len(cands) > 0 && cands[0].Score >= e.cfg.AutoMergeThreshold {
		target, err := e.store.Merge(ctx, req.ID, cands[0].RequestID, "auto-merge")
		if err == nil {
			e.metrics.Merged()
			e.reindex(ctx, req.ID)
			text := fmt.Sprintf("🔗 This looks like %s: %s, so I added it there (%s).", e.Key(target.ID), target.Title, peopleCount(target.Demand))
			if ref, ok := e.postInThread(ctx, m, text, []Button{{ID: actionVote + ":" + strconv.FormatInt(target.ID, 10), Label: "👍 Vote"}}); ok {
				e.saveCard(ctx, target.ID, ref)
			}
			return &Response{Text: fmt.Sprintf("Added to %s: %s.", e.Key(target.ID), target.Title), RequestID: target.ID}, nil
		}
		e.log.Warn("auto-merge", "err", err)
	}

	// req is as CreateRequest left it, counters included: no need to read
	// it again for the card.
	if card && m.ThreadID != "" {
		text := e.cardText(req)
		buttons := []Button{{ID: actionVote + ":" + strconv.FormatInt(req.ID, 10), Label: "👍 Vote"}}
		var sugg *Suggestion
		if len(cands) > 0 {
			sugg = &Suggestion{RequestID: req.ID, Candidates: cands, Platform: m.Platform, Workspace: m.Workspace, Channel: m.Channel, ThreadID: m.ThreadID}
			if err := e.store.CreateSuggestion(ctx, sugg); err != nil {
				return nil, err
			}
			e.metrics.Suggested()
			text += "\n" + e.suggestionText(req.ID, candReqs, cands)
			buttons = append(buttons, suggestionButtons(sugg.ID, candReqs, e.cfg.KeyPrefix)...)
		}
		if ref, ok := e.postInThread(ctx, m, text, buttons); ok {
			e.saveCard(ctx, req.ID, ref)
			if sugg != nil {
				if err := e.store.SetSuggestionMessage(ctx, sugg.ID, ref); err != nil {
					return nil, err
				}
			}
		}
	}
	resp := &Response{Text: fmt.Sprintf("Captured as %s: %s.", e.Key(req.ID), req.Title), RequestID: req.ID}
	if len(cands) > 0 {
		keys := make([]string, len(cands))
		for i, c := range cands {
			keys[i] = e.Key(c.RequestID)
			resp.Duplicates = append(resp.Duplicates, c.RequestID)
		}
		resp.Text += " Possible duplicates: " + strings.Join(keys, ", ") + "."
	}
	return resp, nil
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

func (e *Engine) saveCard(ctx context.Context, reqID int64, ref MessageRef) {
	if ref.ID == "" {
		return
	}
	if err := e.store.SaveCard(ctx, reqID, ref); err != nil {
		e.log.Warn("save card", "err", err)
	}
}

// cardText is the compact request card.
func (e *Engine) cardText(r *Request) string {
	return fmt.Sprintf("📌 %s: %s\nStatus: %s · %s · %s", e.Key(r.ID), r.Title, r.Status, peopleCount(r.Demand), orgCount(r.Orgs))
}

func orgCount(n int) string {
	if n == 1 {
		return "1 organisation"
	}
	return fmt.Sprintf("%d organisations", n)
}

func (e *Engine) suggestionText(reqID int64, reqs []*Request, cands []Candidate) string {
	var b strings.Builder
	fmt.Fprintf(&b, "🔎 Possible duplicates of %s:", e.Key(reqID))
	for i, r := range reqs {
		fmt.Fprintf(&b, "\n%d. %s: %s (%s, %s, score %.2f)", i+1, e.Key(r.ID), r.Title, r.Status, peopleCount(r.Demand), cands[i].Score)
	}
	return b.String()
}

func suggestionButtons(suggID int64, reqs []*Request, prefix string) []Button {
	var out []Button
	sid := strconv.FormatInt(suggID, 10)
	for _, r := range reqs {
		out = append(out, Button{ID: actionMerge + ":" + sid + ":" + strconv.FormatInt(r.ID, 10), Label: "Merge into " + FormatKey(prefix, r.ID), Style: StylePrimary})
	}
	out = append(out, Button{ID: actionDismiss + ":" + sid, Label: "Not a duplicate"})
	return out
}

// onButton handles a button press.
func (e *Engine) onButton(ctx context.Context, ev *Event) (*Response, error) {
	parts := strings.Split(ev.ActionID, ":")
	nums := make([]int64, 0, 2)
	for _, p := range parts[1:] {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n <= 0 {
			return nil, Errorf(EINVALID, "Unknown button.")
		}
		nums = append(nums, n)
	}
	switch {
	case parts[0] == actionVote && len(nums) == 1:
		return e.Vote(ctx, ev, nums[0])
	case parts[0] == actionMerge && len(nums) == 2:
		return e.decide(ctx, ev, nums[0], SuggestionMerged, nums[1])
	case parts[0] == actionDismiss && len(nums) == 1:
		return e.decide(ctx, ev, nums[0], SuggestionDismissed, 0)
	}
	return nil, Errorf(EINVALID, "Unknown button.")
}

// decide applies a suggestion button: merge or dismiss, once, by a team member.
func (e *Engine) decide(ctx context.Context, ev *Event, suggID int64, state string, into int64) (*Response, error) {
	what := "merge duplicates"
	if state == SuggestionDismissed {
		what = "dismiss duplicate suggestions"
	}
	if err := RequireTeam(ev.User, what); err != nil {
		return nil, err
	}
	s, changed, err := e.store.DecideSuggestion(ctx, suggID, state, into, actorName(ev.User))
	if ErrorCode(err) == ENOTFOUND {
		return nil, Errorf(ENOTFOUND, "This suggestion no longer exists.")
	}
	if err != nil {
		return nil, err
	}
	if !changed {
		return &Response{Text: "Already decided: " + e.outcomeText(ctx, s)}, nil
	}
	if state == SuggestionMerged {
		e.metrics.Merged()
		e.reindex(ctx, s.RequestID)
	}
	outcome := e.outcomeText(ctx, s)
	// Edit the message whose button was pressed; the stored id can lag
	// behind a very fast click (the card is posted before its id is saved).
	ref := MessageRef{Platform: s.Platform, Workspace: s.Workspace, Channel: s.Channel, ID: s.MessageID, ThreadID: s.ThreadID}
	if m := ev.Message; m != nil && m.ID != "" && ev.Platform == s.Platform {
		ref = MessageRef{Platform: ev.Platform, Workspace: m.Workspace, Channel: m.Channel, ID: m.ID, ThreadID: m.ThreadID}
		if ref.Workspace == "" {
			ref.Workspace = ev.Workspace
		}
		if ref.Channel == "" {
			ref.Channel = ev.Channel
		}
	}
	if ref.ID != "" {
		if p := e.platform(ref.Platform); p != nil {
			req, err := e.store.ResolveRequest(ctx, s.RequestID)
			if err == nil {
				req, err = e.store.FindRequestByID(ctx, req.ID)
			}
			if err == nil {
				text := e.cardText(req) + "\n" + outcome
				buttons := []Button{{ID: actionVote + ":" + strconv.FormatInt(req.ID, 10), Label: "👍 Vote"}}
				if err := e.update(ctx, p, ref, OutMessage{Workspace: ref.Workspace, Channel: ref.Channel, ThreadID: s.ThreadID, Text: text, Buttons: buttons}); err != nil {
					e.log.Warn("update suggestion", "err", err)
				}
			}
		}
	}
	return &Response{Text: outcome}, nil
}

func (e *Engine) outcomeText(ctx context.Context, s *Suggestion) string {
	switch s.State {
	case SuggestionMerged:
		into := int64(0)
		if s.MergedInto != nil {
			into = *s.MergedInto
		}
		return fmt.Sprintf("✅ %s was merged into %s by %s.", e.Key(s.RequestID), e.Key(into), s.DecidedBy)
	case SuggestionDismissed:
		return fmt.Sprintf("🚫 Not a duplicate (decided by %s).", s.DecidedBy)
	}
	return "Still pending."
}
