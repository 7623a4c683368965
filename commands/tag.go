package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// tag: /feedback tag FB-n <tag>… (team). Any invalid tag, or more than 10
// in all, changes nothing.
func (r *Runner) tag(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	res, err := r.e.Tag(ctx, bot.ChatActor(ev), bot.TagInput{Request: c.IDs[0], Tags: c.Tags})
	if err != nil {
		return nil, err
	}
	return reply(r.e.Text().Tagged(res)), nil
}
