package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/feedbackbot/feedbackbot/bot"
)

func (r *Runner) search(ctx context.Context, c *Command) (*bot.Response, error) {
	reqs, err := r.e.Search(ctx, c.Text, 5)
	if err != nil {
		return nil, err
	}
	if len(reqs) == 0 {
		return &bot.Response{Text: fmt.Sprintf("Nothing matches %q.", clip(c.Text, 60))}, nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Best matches for %q:", clip(c.Text, 60))
	for i, q := range reqs {
		fmt.Fprintf(&b, "\n%d. %s", i+1, r.e.Text().RequestLine(q))
	}
	return &bot.Response{Text: b.String()}, nil
}
