package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// link: /feedback link FB-n <message link> (team). The link is loaded by
// the platform the command came from.
func (r *Runner) link(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	res, err := r.e.Link(ctx, bot.ChatActor(ev), bot.LinkInput{Request: c.IDs[0], Link: c.Link})
	if err != nil {
		return nil, err
	}
	return reply(r.e.Text().Linked(res)), nil
}
