package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// Runner runs /feedback commands against the engine. It implements
// bot.CommandRunner: each verb's handler (one file per verb) turns the
// parsed command into a use-case call with the chat actor (bot.ChatActor)
// and the result into a reply with the engine's presenter (bot.Text).
type Runner struct {
	e *bot.Engine
}

var _ bot.CommandRunner = (*Runner)(nil)

var errUnknownCommand = bot.Errorf(bot.EINVALID, "Unknown command. Try /feedback help.")

// reply is a private answer with text.
func reply(text string) *bot.Response { return &bot.Response{Text: text} }

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
		return r.help(), nil
	case "new":
		return r.newFeedback(ctx, ev, c)
	case "list", "top":
		return r.list(ctx, c)
	case "show":
		return r.show(ctx, ev, c)
	case "changelog":
		return r.changelog(ctx, c)
	case "search":
		return r.search(ctx, c)
	case "vote":
		return r.vote(ctx, ev, c)
	case "unvote":
		return r.unvote(ctx, ev, c)
	case "merge":
		return r.merge(ctx, ev, c)
	case "unmerge":
		return r.unmerge(ctx, ev, c)
	case "status":
		return r.status(ctx, ev, c)
	case "ship":
		return r.release(ctx, ev, bot.ActionShipped, c)
	case "rollback":
		return r.release(ctx, ev, bot.ActionRolledBack, c)
	case "link":
		return r.link(ctx, ev, c)
	case "rename":
		return r.rename(ctx, ev, c)
	case "describe":
		return r.describe(ctx, ev, c)
	case "tag":
		return r.tag(ctx, ev, c)
	case "untag":
		return r.untag(ctx, ev, c)
	case "remove":
		return r.remove(ctx, ev, c)
	case "restore":
		return r.restore(ctx, ev, c)
	case "track":
		return r.track(ctx, ev, c)
	case "untrack":
		return r.untrack(ctx, ev, c)
	case "watch", "unwatch", "releases":
		return r.channel(ctx, ev, c)
	case "digest":
		return r.digest(ctx, ev, c)
	case "same-person":
		return r.samePerson(ctx, ev, c)
	case "split-person":
		return r.splitPerson(ctx, ev, c)
	case "person":
		return r.person(ctx, ev, c)
	}
	return nil, errUnknownCommand
}
