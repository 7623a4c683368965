package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// newFeedback captures the command's text as feedback from the caller, linked
// to the message that carried the command where the platform has one.
func (r *Runner) newFeedback(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	where := bot.Message{Platform: ev.Platform, Workspace: ev.Workspace, Channel: ev.Channel}
	if ev.Message != nil {
		where = *ev.Message
	}
	res, err := r.e.CaptureText(ctx, bot.ChatActor(ev), bot.CaptureTextInput{Where: where, Text: c.Text})
	if err != nil {
		return nil, err
	}
	return &bot.Response{Text: r.e.Text().Captured(res), RequestID: res.Request.ID, Duplicates: res.Duplicates}, nil
}
