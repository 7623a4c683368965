package commands

import (
	"context"

	"github.com/feedbackbot/feedbackbot/bot"
)

func (r *Runner) show(ctx context.Context, c *Command) (*bot.Response, error) {
	d, err := r.e.Detail(ctx, c.IDs[0])
	if err != nil {
		return nil, err
	}
	return &bot.Response{Text: r.e.Text().Detail(d)}, nil
}
