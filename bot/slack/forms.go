package slack

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/feedbackbot/feedbackbot/bot"
)

// formTimeout is the default Config.FormTimeout: Slack needs a
// view_submission answered (with its response_action) within 3 s.
const formTimeout = 2500 * time.Millisecond

// Slack's limits on a modal: title, submit and close at most 24 characters;
// a plain_text_input at most 3000 characters.
const (
	maxViewTitle  = 24
	maxInputValue = 3000
)

// modalView renders f as a Slack modal. The form id is the callback_id; each
// field is an input block whose block_id and action_id are the field id.
func modalView(f *bot.Form) slack.ModalViewRequest {
	plain := func(s string, max int) *slack.TextBlockObject {
		if utf8.RuneCountInString(s) > max {
			s = string([]rune(s)[:max-1]) + "…"
		}
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	submit := f.Submit
	if submit == "" {
		submit = "Save"
	}
	var blocks []slack.Block
	for _, fl := range f.Fields {
		e := slack.NewPlainTextInputBlockElement(nil, fl.ID)
		e.Multiline = fl.Multiline
		e.InitialValue = fl.Value
		max := fl.MaxLength
		if max <= 0 || max > maxInputValue {
			max = maxInputValue
		}
		e.MaxLength = max
		if utf8.RuneCountInString(e.InitialValue) > max {
			e.InitialValue = string([]rune(e.InitialValue)[:max])
		}
		if fl.Placeholder != "" {
			e.Placeholder = plain(fl.Placeholder, 150)
		}
		in := slack.NewInputBlock(fl.ID, plain(fl.Label, 2000), nil, e)
		in.Optional = fl.Optional
		blocks = append(blocks, in)
	}
	return slack.ModalViewRequest{
		Type:       slack.VTModal,
		Title:      plain(f.Title, maxViewTitle),
		Submit:     plain(submit, maxViewTitle),
		Close:      plain("Cancel", maxViewTitle),
		CallbackID: f.ID,
		Blocks:     slack.Blocks{BlockSet: blocks},
	}
}

// openForm opens f for the person whose click carried triggerID.
func (a *Adapter) openForm(ctx context.Context, triggerID string, f *bot.Form) error {
	if triggerID == "" {
		return bot.Errorf(bot.EINVALID, "This click cannot open a form.")
	}
	if _, err := a.api.OpenViewContext(ctx, triggerID, modalView(f)); err != nil {
		return classify("views.open", err)
	}
	return nil
}

// formValues reads a view_submission's typed values, by block id.
func formValues(v slack.View) map[string]string {
	out := map[string]string{}
	if v.State == nil {
		return out
	}
	for block, actions := range v.State.Values {
		for _, act := range actions {
			out[block] = act.Value
		}
	}
	return out
}

// submitForm handles a view_submission synchronously and returns the body
// to answer Slack with: nil closes the modal, {"response_action":"errors"}
// shows field errors and keeps it open.
func (a *Adapter) submitForm(ctx context.Context, cb slack.InteractionCallback) []byte {
	limit := a.cfg.FormTimeout
	if limit <= 0 {
		limit = formTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	ws := a.workspace(ctx, cb.Team.ID)
	ev := &bot.Event{
		Kind: bot.EventFormSubmit, Platform: bot.PlatformSlack, Workspace: ws,
		User: a.resolveUser(ctx, cb.User.ID, cb.User.TeamID), FormID: cb.View.CallbackID, Values: formValues(cb.View),
	}
	// The Handler logs its internal errors (bot.Engine.Handle does).
	resp, err := a.h.Handle(ctx, ev)
	if err != nil {
		// Show the refusal on the first field so the person sees it.
		field := ""
		for block := range formValues(cb.View) {
			if field == "" || block < field {
				field = block
			}
		}
		if field == "" {
			return nil
		}
		resp = &bot.Response{FieldErrors: map[string]string{field: bot.ErrorMessage(err)}}
	}
	if resp == nil || len(resp.FieldErrors) == 0 {
		return nil
	}
	b, _ := json.Marshal(slack.NewErrorsViewSubmissionResponse(resp.FieldErrors))
	return b
}

// isViewSubmission reports whether cb is a modal's submit.
func isViewSubmission(cb slack.InteractionCallback) bool {
	return cb.Type == slack.InteractionTypeViewSubmission && strings.TrimSpace(cb.View.CallbackID) != ""
}

// opensForm reports whether a block_actions click presses a form button.
func opensForm(cb slack.InteractionCallback) bool {
	for _, act := range cb.ActionCallback.BlockActions {
		if act != nil && bot.IsFormButton(act.ActionID) {
			return true
		}
	}
	return false
}
