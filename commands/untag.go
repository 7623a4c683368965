package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// untag: /feedback untag FB-n <tag>… (team).
func (r *Runner) untag(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	res, err := r.e.Untag(ctx, bot.ChatActor(ev), bot.TagInput{Request: c.IDs[0], Tags: c.Tags})
	if err != nil {
		return nil, err
	}
	return reply(r.e.Text().Tagged(res)), nil
}
