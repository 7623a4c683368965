package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// channel serves watch, unwatch and releases [#channel] [off] (team): the
// channel named, or the one the command was run in.
func (r *Runner) channel(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	in := bot.SetChannelInput{Platform: ev.Platform, Workspace: ev.Workspace, Channel: c.Channel, Kind: bot.ChannelWatch, On: c.Verb == "watch"}
	if c.Verb == "releases" {
		in.Kind, in.On = bot.ChannelReleases, c.Text != "off"
	}
	if in.Channel == "" {
		in.Channel = ev.Channel
	}
	res, err := r.e.SetChannel(ctx, bot.ChatActor(ev), in)
	if err != nil {
		return nil, err
	}
	return reply(r.e.Text().ChannelSet(res)), nil
}
