package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// digest serves digest [#channel] daily|weekly|off (the channel named, or
// the one the command was run in) and digest [#channel] now (team).
func (r *Runner) digest(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	a := bot.ChatActor(ev)
	if c.Text == "now" {
		res, err := r.e.DigestNow(ctx, a, bot.DigestNowInput{Platform: ev.Platform, Workspace: ev.Workspace, Channel: c.Channel, Current: ev.Channel})
		if err != nil {
			return nil, err
		}
		return reply(r.e.Text().DigestPosted(res)), nil
	}
	ch := c.Channel
	if ch == "" {
		ch = ev.Channel
	}
	res, err := r.e.SetDigest(ctx, a, bot.SetDigestInput{Platform: ev.Platform, Workspace: ev.Workspace, Channel: ch, Every: c.Text})
	if err != nil {
		return nil, err
	}
	return reply(r.e.Text().DigestSet(res)), nil
}
