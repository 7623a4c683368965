package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/feedbackbot/feedbackbot/bot"
)

// list serves list and top.
func (r *Runner) list(ctx context.Context, c *Command) (*bot.Response, error) {
	f := bot.RequestFilter{Status: c.Status, Tag: c.Tag, Sort: c.Sort, Limit: 20}
	if c.Verb == "top" {
		f.Sort, f.Limit = bot.SortDemand, c.Count
	}
	if f.Sort == "" {
		f.Sort = bot.SortDemand
	}
	reqs, total, err := r.e.List(ctx, f)
	if err != nil {
		return nil, err
	}
	if len(reqs) == 0 {
		return &bot.Response{Text: emptyList(c)}, nil
	}
	var b strings.Builder
	what := "Requests"
	if c.Status != "" {
		what = "Requests " + c.Status.Label()
	}
	if c.Tag != "" {
		what += " tagged #" + c.Tag
	}
	fmt.Fprintf(&b, "%s (%d of %d, by %s):", what, len(reqs), total, f.Sort)
	for i, q := range reqs {
		fmt.Fprintf(&b, "\n%d. %s", i+1, r.e.Text().RequestLine(q))
	}
	return &bot.Response{Text: b.String()}, nil
}

// emptyList says that nothing matched, what was asked for and what to do.
func emptyList(c *Command) string {
	switch {
	case c.Status == "" && c.Tag == "":
		return "No requests yet. Send the first idea with /feedback <text>."
	case c.Tag == "":
		return fmt.Sprintf("No %s requests. /feedback list shows every request.", c.Status.Label())
	case c.Status == "":
		return fmt.Sprintf("No requests tagged #%s. /feedback list shows every request.", c.Tag)
	}
	return fmt.Sprintf("No %s requests tagged #%s. /feedback list shows every request.", c.Status.Label(), c.Tag)
}
