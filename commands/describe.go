package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// describe: /feedback describe FB-n <text> (team).
func (r *Runner) describe(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	res, err := r.e.Describe(ctx, bot.ChatActor(ev), bot.DescribeInput{Request: c.IDs[0], Text: c.Text})
	if err != nil {
		return nil, err
	}
	return reply(r.e.Text().Described(res)), nil
}
