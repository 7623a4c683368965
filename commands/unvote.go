package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// unvote: /feedback unvote FB-n.
func (r *Runner) unvote(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	res, err := r.e.Unvote(ctx, bot.ChatActor(ev), bot.VoteInput{Request: c.IDs[0]})
	if err != nil {
		return nil, err
	}
	return reply(r.e.Text().Unvoted(res)), nil
}
