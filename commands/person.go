package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// person: /feedback person <who>.
func (r *Runner) person(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	a := bot.ChatActor(ev)
	if err := bot.RequireTeam(a, "look up people"); err != nil {
		return nil, err
	}
	who, err := r.e.ParseWho(ctx, ev.Platform, ev.Workspace, c.Who[0])
	if err != nil {
		return nil, err
	}
	res, err := r.e.ShowPerson(ctx, a, who)
	if err != nil {
		return nil, err
	}
	return reply(r.e.Text().Person(res)), nil
}
