package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

// changelog lists the last release events, or every event of a version.
func (r *Runner) changelog(ctx context.Context, c *Command) (*bot.Response, error) {
	f := bot.ReleaseFilter{Version: c.Version, Limit: bot.ChangelogChatEvents}
	if c.Version != "" {
		f.Limit = 0
	}
	rels, _, err := r.e.Releases(ctx, f)
	if err != nil {
		return nil, err
	}
	return &bot.Response{Text: r.e.Text().Changelog(rels, c.Version)}, nil
}
