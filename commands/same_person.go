package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// samePerson: /feedback same-person <who> <who>.
func (r *Runner) samePerson(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	a := bot.ChatActor(ev)
	if err := bot.RequireTeam(a, "link people"); err != nil {
		return nil, err
	}
	first, err := r.e.ParseWho(ctx, ev.Platform, ev.Workspace, c.Who[0])
	if err != nil {
		return nil, err
	}
	second, err := r.e.ParseWho(ctx, ev.Platform, ev.Workspace, c.Who[1])
	if err != nil {
		return nil, err
	}
	res, err := r.e.SamePerson(ctx, a, bot.SamePersonInput{A: first, B: second})
	if err != nil {
		return nil, err
	}
	return reply(r.e.Text().SamePerson(res)), nil
}
