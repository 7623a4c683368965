package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// untrack: /feedback untrack FB-n <URL or identifier> (team).
func (r *Runner) untrack(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	res, err := r.e.Untrack(ctx, bot.ChatActor(ev), bot.TrackInput{Request: c.IDs[0], URL: c.Link})
	if err != nil {
		return nil, err
	}
	return reply(r.e.Text().Untracked(res)), nil
}
