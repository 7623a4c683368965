package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// remove: /feedback remove FB-n [-- reason] (team).
func (r *Runner) remove(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	res, err := r.e.Remove(ctx, bot.ChatActor(ev), bot.RemoveInput{Request: c.IDs[0], Reason: c.Note})
	if err != nil {
		return nil, err
	}
	return reply(r.e.Text().Removed(res)), nil
}
