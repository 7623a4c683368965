package slack

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/slack-go/slack"

	"github.com/feedbackbot/feedbackbot/bot"
)

// publishHome answers app_home_opened: views.publish of the person's own
// requests (asked or voted, with status and a link to the board) and the
// top requests.
func (a *Adapter) publishHome(ctx context.Context, team, user string) {
	if user == "" {
		return
	}
	ev := &bot.Event{Kind: bot.EventHomeOpened, Platform: bot.PlatformSlack, Workspace: a.workspace(ctx, team), User: bot.User{ID: user}}
	resp, err := a.h.Handle(ctx, ev)
	if err != nil || resp == nil || resp.Home == nil {
		a.log.Warn("slack home tab", "err", err)
		return
	}
	view := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: homeBlocks(resp.Home, a.cfg.BoardURL)}}
	if _, err := a.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: view}); err != nil {
		a.log.Warn("slack views.publish failed", "err", classify("views.publish", err))
	}
}

var statusWords = map[bot.Status]string{
	bot.StatusOpen: "open", bot.StatusPlanned: "planned", bot.StatusInProgress: "in progress",
	bot.StatusShipped: "shipped", bot.StatusDeclined: "declined", bot.StatusRolledBack: "rolled back",
}

// homeLine is one request as mrkdwn: the key linked to its board page when
// the board's address is known.
func homeLine(it bot.HomeItem, board string) string {
	key := it.Key
	if board != "" {
		key = fmt.Sprintf("<%s/requests/%s|%s>", strings.TrimSuffix(board, "/"), url.PathEscape(it.Key), it.Key)
	}
	people := "people"
	if it.Demand == 1 {
		people = "person"
	}
	st := statusWords[it.Status]
	if st == "" {
		st = string(it.Status)
	}
	return fmt.Sprintf("%s %s · _%s_ · %d %s", key, escapeMrkdwn(it.Title), st, it.Demand, people)
}

// escapeMrkdwn escapes the three characters Slack's mrkdwn reserves.
func escapeMrkdwn(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func homeBlocks(h *bot.Home, board string) []slack.Block {
	section := func(text string) slack.Block {
		return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)
	}
	list := func(items []bot.HomeItem, empty string) slack.Block {
		if len(items) == 0 {
			return section(empty)
		}
		var lines []string
		for _, it := range items {
			lines = append(lines, "• "+homeLine(it, board))
		}
		text := strings.Join(lines, "\n")
		if len(text) > 2900 { // a section's text is at most 3000 characters
			text = text[:strings.LastIndex(text[:2900], "\n")]
		}
		return section(text)
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "Your requests", false, false)),
		list(h.Mine, "You have not asked for or voted on anything yet. Send an idea with `/feedback <idea>`."),
		slack.NewDividerBlock(),
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "Top requests", false, false)),
		list(h.Top, "The board is empty."),
	}
	if board != "" {
		blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType,
			fmt.Sprintf("<%s/|Open the board> · <%s/roadmap|Roadmap> · <%s/changelog|Changelog>", strings.TrimSuffix(board, "/"), strings.TrimSuffix(board, "/"), strings.TrimSuffix(board, "/")), false, false)))
	}
	return blocks
}
