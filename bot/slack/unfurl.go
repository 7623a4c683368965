package slack

import (
	"context"
	"net/url"
	"strings"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/feedbackbot/feedbackbot/bot"
)

// unfurl answers link_shared for links to the board's request pages
// (<BoardURL>/requests/FB-n) with chat.unfurl and the request card. A
// private board's links unfurl only in channels not shared with other
// organisations; in a shared channel of a public board the card is the
// redacted one (the engine's TextFor).
func (a *Adapter) unfurl(ctx context.Context, team string, e *slackevents.LinkSharedEvent) {
	board, err := url.Parse(a.cfg.BoardURL)
	if a.cfg.BoardURL == "" || err != nil || board.Host == "" || e.Channel == "" || e.MessageTimeStamp == "" {
		return
	}
	workspace := a.workspace(ctx, team)
	if !a.cfg.BoardPublic && a.IsSharedChannel(ctx, workspace, e.Channel) {
		return
	}
	unfurls := map[string]slack.Attachment{}
	for _, l := range e.Links {
		u, err := url.Parse(l.URL)
		if err != nil || !strings.EqualFold(u.Host, board.Host) {
			continue
		}
		key, ok := strings.CutPrefix(strings.TrimSuffix(u.Path, "/"), strings.TrimSuffix(board.Path, "/")+"/requests/")
		if !ok || key == "" || strings.Contains(key, "/") {
			continue
		}
		resp, err := a.h.Handle(ctx, &bot.Event{Kind: bot.EventUnfurl, Platform: bot.PlatformSlack, Workspace: workspace, Channel: e.Channel, User: bot.User{ID: e.User}, Text: key})
		if err != nil || resp == nil || resp.Text == "" {
			continue
		}
		unfurls[l.URL] = slack.Attachment{Fallback: resp.Text, Text: resp.Text}
	}
	if len(unfurls) == 0 {
		return
	}
	if _, _, _, err := a.api.UnfurlMessageContext(ctx, e.Channel, e.MessageTimeStamp, unfurls); err != nil {
		a.log.Warn("slack chat.unfurl failed", "err", classify("chat.unfurl", err))
	}
}
