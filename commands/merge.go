package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// merge: /feedback merge FB-a into FB-b (team).
func (r *Runner) merge(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	res, err := r.e.Merge(ctx, bot.ChatActor(ev), bot.MergeInput{Request: c.IDs[0], Into: c.Into})
	if err != nil {
		return nil, err
	}
	return reply(r.e.TextFor(ctx, ev.Platform, ev.Workspace, ev.Channel).Merged(res)), nil
}
