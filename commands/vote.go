package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// vote: /feedback vote FB-n.
func (r *Runner) vote(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	res, err := r.e.Vote(ctx, bot.ChatActor(ev), bot.VoteInput{Request: c.IDs[0]})
	if err != nil {
		return nil, err
	}
	return reply(r.e.Text().Voted(res)), nil
}
