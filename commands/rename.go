package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// rename: /feedback rename FB-n <title> (team).
func (r *Runner) rename(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	res, err := r.e.Rename(ctx, bot.ChatActor(ev), bot.RenameInput{Request: c.IDs[0], Title: c.Text})
	if err != nil {
		return nil, err
	}
	return reply(r.e.Text().Renamed(res)), nil
}
