package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// show: /feedback show FB-n. In a channel shared with other organisations
// it shows the card only (no mentions, organisations or notes).
func (r *Runner) show(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	d, err := r.e.Detail(ctx, c.IDs[0])
	if err != nil {
		return nil, err
	}
	return &bot.Response{Text: r.e.TextFor(ctx, ev.Platform, ev.Workspace, ev.Channel).Detail(d)}, nil
}
