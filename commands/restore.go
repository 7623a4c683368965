package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// restore: /feedback restore FB-n (team).
func (r *Runner) restore(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	res, err := r.e.Restore(ctx, bot.ChatActor(ev), bot.RestoreInput{Request: c.IDs[0]})
	if err != nil {
		return nil, err
	}
	return reply(r.e.Text().Restored(res)), nil
}
