package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// track: /feedback track FB-n <GitHub issue or pull request URL, Linear
// issue URL or identifier> (team).
func (r *Runner) track(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	res, err := r.e.Track(ctx, bot.ChatActor(ev), bot.TrackInput{Request: c.IDs[0], URL: c.Link})
	if err != nil {
		return nil, err
	}
	return reply(r.e.Text().Tracked(res)), nil
}
