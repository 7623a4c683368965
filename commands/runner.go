package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// Runner runs /feedback commands against the engine. It implements
// bot.CommandRunner.
type Runner struct {
	e *bot.Engine
}

var _ bot.CommandRunner = (*Runner)(nil)

// New returns a Runner over engine e.
func New(e *bot.Engine) *Runner { return &Runner{e: e} }

// Run parses ev.Text and executes the command for ev.User.
func (r *Runner) Run(ctx context.Context, ev *bot.Event) (*bot.Response, error) {
	prefix := r.e.Config().KeyPrefix
	c, err := Parse(prefix, ev.Text)
	if err != nil {
		return nil, err
	}
	switch c.Verb {
	case "help":
		return &bot.Response{Text: HelpText(prefix)}, nil
	case "new":
		return r.newFeedback(ctx, ev, c)
	case "list", "top":
		return r.list(ctx, c)
	case "show":
		return r.show(ctx, c)
	case "search":
		return r.search(ctx, c)
	case "vote":
		return r.e.Vote(ctx, ev, c.IDs[0])
	case "unvote":
		return r.e.Unvote(ctx, ev, c.IDs[0])
	case "merge":
		return r.e.Merge(ctx, ev, c.IDs[0], c.Into)
	case "unmerge":
		return r.e.Unmerge(ctx, ev, c.IDs[0])
	case "status":
		return r.e.SetStatus(ctx, ev, c.IDs[0], c.Status, c.Note)
	case "ship":
		return r.e.Ship(ctx, ev, c.Keys, c.Version, c.Note)
	case "rollback":
		return r.e.Rollback(ctx, ev, c.Keys, c.Version, c.Note)
	case "link":
		return r.e.Link(ctx, ev, c.IDs[0], c.Link)
	case "watch":
		return r.e.SetChannel(ctx, ev, c.Channel, bot.ChannelWatch, true)
	case "unwatch":
		return r.e.SetChannel(ctx, ev, c.Channel, bot.ChannelWatch, false)
	case "releases":
		return r.e.SetChannel(ctx, ev, c.Channel, bot.ChannelReleases, c.Text != "off")
	}
	return nil, bot.Errorf(bot.EINVALID, "Unknown command. Try /feedback help.")
}
