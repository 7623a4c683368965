package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// newFeedback captures the command's text as feedback from the caller, linked
// to the message that carried the command where the platform has one.
func (r *Runner) newFeedback(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	where := ev.Message
	if where == nil {
		where = &bot.Message{Platform: ev.Platform, Workspace: ev.Workspace, Channel: ev.Channel}
	}
	return r.e.CaptureText(ctx, ev.User, where, c.Text)
}
