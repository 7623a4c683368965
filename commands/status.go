package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// status: /feedback status FB-n open|planned|in_progress|declined [-- note] (team).
func (r *Runner) status(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	res, err := r.e.SetStatus(ctx, bot.ChatActor(ev), bot.SetStatusInput{Request: c.IDs[0], Status: c.Status, Note: c.Note})
	if err != nil {
		return nil, err
	}
	return reply(r.e.Text().StatusSet(res)), nil
}
