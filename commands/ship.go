package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// release serves ship FB-n… [version] [-- note] and rollback FB-n…
// [version] [-- reason] | rollback <version> (release lead). Where the
// command was run in a channel of a connected platform, the bot posts there
// a progress message that it edits as the thread replies go out.
func (r *Runner) release(ctx context.Context, ev *bot.Event, action string, c *Command) (*bot.Response, error) {
	in := bot.ReleaseCommand{Action: action, Keys: c.Keys, Version: c.Version, Note: c.Note, Platform: ev.Platform}
	if ev.Channel != "" && r.e.Connected(ev.Platform) {
		in.Progress = &bot.OutMessage{Workspace: ev.Workspace, Channel: ev.Channel}
		if ev.Message != nil && ev.Message.ThreadID != "" {
			in.Progress.ThreadID = ev.Message.ThreadID
		}
	}
	out, err := r.e.Release(ctx, bot.ChatActor(ev), in)
	if err != nil {
		return nil, err
	}
	return reply(r.e.Text().ReleaseSummary(out)), nil
}
