package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// splitPerson: /feedback split-person <who>.
func (r *Runner) splitPerson(ctx context.Context, ev *bot.Event, c *Command) (*bot.Response, error) {
	a := bot.ChatActor(ev)
	if err := bot.RequireTeam(a, "split people"); err != nil {
		return nil, err
	}
	who, err := r.e.ParseWho(ctx, ev.Platform, ev.Workspace, c.Who[0])
	if err != nil {
		return nil, err
	}
	res, err := r.e.SplitPerson(ctx, a, bot.SplitPersonInput{Who: who})
	if err != nil {
		return nil, err
	}
	return reply(r.e.Text().SplitPerson(res)), nil
}
