package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// unmerge: /feedback unmerge FB-a (team).
func (r *Runner) unmerge(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	res, err := r.e.Unmerge(ctx, bot.ChatActor(ev), bot.UnmergeInput{Request: c.IDs[0]})
	if err != nil {
		return nil, err
	}
	return reply(r.e.Text().Unmerged(res)), nil
}
