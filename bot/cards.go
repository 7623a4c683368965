package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cards stay true: every card the bot posted for a request is edited when
// what it shows changes (title, description, tags, status, demand, merges,
// removal). The store queues a refresh per request group in the same
// transaction as the change (durable: a restart loses nothing); the worker
// below claims refreshes that have settled for Config.CardSettle, so a
// burst of votes makes one edit per card, renders each card again and edits
// only the cards whose content changed, paced like the deliveries.

const actionEdit = "edit"

// editButton is the Edit button under a card (shown to everyone; only team
// members get the form).
func (t Text) editButton(reqID int64) Button {
	return Button{ID: FormButtonPrefix + strconv.FormatInt(reqID, 10), Label: t.editLabel()}
}

// cardButtons are the buttons of a request's card.
func (t Text) cardButtons(reqID int64) []Button {
	return []Button{t.voteButton(reqID), t.editButton(reqID)}
}

// mergedCardLine says on a merged duplicate's card where it went.
func (t Text) mergedCardLine(dup, into int64) string {
	return fmt.Sprintf("↪️ %s was merged into %s.", t.Key(dup), t.Key(into))
}

// shownHash is what SetCardShown records for a message's content.
// It is the SHA-256 of the text followed, for each button, by NUL, its id,
// 0x01, its label, 0x01 and its style (what fmt's "\x00%s\x01%s\x01%s"
// wrote into the hash before), the bytes put in one buffer and hashed at
// once: a capture hashes its card on every post.
func shownHash(msg OutMessage) string {
	n := len(msg.Text)
	for _, b := range msg.Buttons {
		n += 3 + len(b.ID) + len(b.Label) + len(b.Style)
	}
	var stack [1024]byte
	buf := stack[:0]
	if n > len(stack) {
		buf = make([]byte, 0, n)
	}
	buf = append(buf, msg.Text...)
	for _, b := range msg.Buttons {
		buf = append(buf, 0)
		buf = append(buf, b.ID...)
		buf = append(buf, 1)
		buf = append(buf, b.Label...)
		buf = append(buf, 1)
		buf = append(buf, b.Style...)
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:12])
}

// renderCard renders card c of the group whose canonical request is root.
// s is the suggestion the card's message shows, when the caller has it (nil:
// looked up).
func (e *Engine) renderCard(ctx context.Context, c *Card, root *Request, s *Suggestion) OutMessage {
	t := e.TextFor(ctx, c.Platform, c.Workspace, c.Channel)
	var b strings.Builder
	b.WriteString(t.Card(root))
	if len(root.Tags) > 0 {
		b.WriteString("\nTags: " + t.TagList(root.Tags))
	}
	if root.Removed() {
		b.WriteString("\n🗑️ Removed from the board.")
	}
	buttons := t.cardButtons(root.ID)
	if s == nil {
		if found, err := e.store.FindSuggestionByMessage(ctx, c.MessageRef); err == nil {
			s = found
		}
	}
	switch {
	case s != nil && s.State == SuggestionPending:
		var ids []int64
		for _, cd := range s.Candidates {
			ids = append(ids, cd.RequestID)
		}
		byID, err := e.resolveAll(ctx, ids)
		var reqs []*Request
		var cands []Candidate
		for _, cd := range s.Candidates {
			if r := byID[cd.RequestID]; err == nil && r != nil && r.ID != root.ID && !r.Removed() {
				reqs, cands = append(reqs, r), append(cands, Candidate{RequestID: r.ID, Score: cd.Score})
			}
		}
		if len(reqs) > 0 {
			b.WriteString("\n" + t.suggestionList(s.RequestID, reqs, cands))
			buttons = append(buttons, t.suggestionButtons(s.ID, reqs)...)
		}
	case s != nil:
		b.WriteString("\n" + t.SuggestionOutcome(s))
	case c.RequestID != root.ID:
		b.WriteString("\n" + t.mergedCardLine(c.RequestID, root.ID))
	}
	return OutMessage{Workspace: c.Workspace, Channel: c.Channel, ThreadID: c.ThreadID, Text: b.String(), Buttons: buttons}
}

// showCard edits the one card c to show its request as it is now (with s,
// the suggestion it shows, when known) and records what it shows.
func (e *Engine) showCard(ctx context.Context, c *Card, s *Suggestion) error {
	root, err := e.store.ResolveRequest(ctx, c.RequestID)
	if err != nil {
		return err
	}
	return e.editCard(ctx, c, root, s, false)
}

// editCard renders and edits card c unless it already shows that (and
// paced is false); paced waits for the channel's and platform's turn.
func (e *Engine) editCard(ctx context.Context, c *Card, root *Request, s *Suggestion, paced bool) error {
	msg := e.renderCard(ctx, c, root, s)
	shown := shownHash(msg)
	if shown == c.Shown {
		return nil
	}
	p := e.platform(c.Platform)
	if p == nil {
		return nil
	}
	if paced && !e.outbox.waitTurn(ctx, &Delivery{Platform: c.Platform, Workspace: c.Workspace, Channel: c.Channel}, p) {
		return ctx.Err()
	}
	if err := e.update(ctx, p, c.MessageRef, msg); err != nil {
		var perm *PermanentError
		if errors.As(err, &perm) {
			// Deleted message, lost access: nothing to keep true.
			e.log.Info("card not editable", "platform", c.Platform, "channel", c.Channel, "err", err)
			return nil
		}
		return err
	}
	if err := e.store.SetCardShown(ctx, c.MessageRef, shown); err != nil {
		e.log.Warn("set card shown", "err", err)
	}
	c.Shown = shown
	return nil
}

// recordShown notes what a card just posted shows.
func (e *Engine) recordShown(ctx context.Context, ref MessageRef, msg OutMessage) {
	if ref.ID == "" {
		return
	}
	if err := e.store.SetCardShown(ctx, ref, shownHash(msg)); err != nil {
		e.log.Warn("set card shown", "err", err)
	}
}

// refreshGroup edits every card of the group whose canonical request is
// rootID. A rate limit or a failure stops it with the error (the refresh is
// retried; cards already edited are skipped then, by their hash).
func (e *Engine) refreshGroup(ctx context.Context, rootID int64) error {
	cards, err := e.store.FindGroupCards(ctx, rootID)
	if err != nil || len(cards) == 0 {
		return err
	}
	root, err := e.store.FindRequestByID(ctx, rootID)
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return nil
		}
		return err
	}
	for _, c := range cards {
		if err := e.editCard(ctx, c, root, nil, true); err != nil {
			return err
		}
	}
	return nil
}

// refreshCards runs one pass over the settled card refreshes and reports
// how many it claimed.
func (e *Engine) refreshCards(ctx context.Context, settle time.Duration) (int, error) {
	cs, err := e.store.ClaimCardRefreshes(ctx, e.cfg.Worker, 50, settle, e.cfg.DeliveryLease)
	if err != nil {
		return 0, err
	}
	for _, c := range cs {
		err := e.refreshGroup(ctx, c.RootID)
		var ra *RetryAfterError
		switch {
		case err == nil:
			err = e.store.FinishCardRefresh(ctx, e.cfg.Worker, c)
		case ctx.Err() != nil:
			return len(cs), ctx.Err()
		case errors.As(err, &ra):
			e.log.Info("card refresh rate limited", "request", c.RootID, "after", ra.After)
			err = e.store.RetryCardRefresh(ctx, e.cfg.Worker, c, time.Now().Add(ra.After))
		case c.Attempts >= 8:
			e.log.Warn("card refresh given up", "request", c.RootID, "attempts", c.Attempts, "err", err)
			err = e.store.FinishCardRefresh(ctx, e.cfg.Worker, c)
		default:
			e.log.Warn("card refresh failed", "request", c.RootID, "attempts", c.Attempts, "err", err)
			err = e.store.RetryCardRefresh(ctx, e.cfg.Worker, c, time.Now().Add(backoff(c.Attempts)))
		}
		if err != nil {
			e.log.Warn("card refresh bookkeeping", "request", c.RootID, "err", err)
		}
	}
	return len(cs), nil
}

// runCards refreshes cards until ctx ends.
func (e *Engine) runCards(ctx context.Context) {
	t := time.NewTicker(e.cfg.CardPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for {
			n, err := e.refreshCards(ctx, e.cfg.CardSettle)
			if err != nil && ctx.Err() == nil {
				e.log.Warn("card refresh", "err", err)
			}
			if n == 0 || err != nil {
				break
			}
		}
	}
}

// flushCards refreshes every queued card at once (the console's Flush).
func (e *Engine) flushCards(ctx context.Context) error {
	for range 100 {
		n, err := e.refreshCards(ctx, 0)
		if err != nil || n == 0 {
			return err
		}
	}
	return nil
}

// EditFormFor answers the card's Edit button: the form for team members
// (with the commands that do the same, for platforms without forms), a
// refusal for others. EFORBIDDEN; ENOTFOUND.
func (e *Engine) EditFormFor(ctx context.Context, a Actor, id int64) (*Response, error) {
	if err := RequireTeam(a, doEdit); err != nil {
		return nil, err
	}
	req, err := e.resolve(ctx, id)
	if err != nil {
		return nil, err
	}
	t := e.Text()
	return &Response{Text: t.EditCommands(req), Form: t.EditForm(req)}, nil
}

// onFormSubmit saves a submitted edit form.
func (e *Engine) onFormSubmit(ctx context.Context, ev *Event) (*Response, error) {
	idText, ok := strings.CutPrefix(ev.FormID, FormButtonPrefix)
	id, err := strconv.ParseInt(idText, 10, 64)
	if !ok || err != nil || id <= 0 {
		return nil, Errorf(EINVALID, "Unknown form.")
	}
	a := ChatActor(ev)
	if err := RequireTeam(a, doEdit); err != nil {
		return nil, err
	}
	in := EditInput{Request: id}
	if v, ok := ev.Values[FieldTitle]; ok {
		in.Title = &v
	}
	if v, ok := ev.Values[FieldDescription]; ok {
		in.Description = &v
	}
	if v, ok := ev.Values[FieldTags]; ok {
		tags := SplitTags(v)
		in.Tags = &tags
	}
	if errs := EditFieldErrors(in); len(errs) > 0 {
		return &Response{FieldErrors: errs}, nil
	}
	res, err := e.Edit(ctx, a, in)
	if err != nil {
		if ErrorCode(err) == EINVALID {
			return &Response{FieldErrors: map[string]string{FieldTags: ErrorMessage(err)}}, nil
		}
		return nil, err
	}
	return &Response{Text: e.Text().Edited(res)}, nil
}
