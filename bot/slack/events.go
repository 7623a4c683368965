package slack

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// replyTo says where the answer to an event goes: the response_url when the
// payload has one, else an ephemeral message (or a thread reply when
// Response.Public) in the channel.
type replyTo struct {
	channel     string
	user        string
	threadTS    string
	responseURL string
	triggerID   string // the click's, to open a form
}

// acceptEvent de-duplicates an acknowledged Events API delivery by event_id
// and queues its handling. It reports false when the adapter is stopping.
func (a *Adapter) acceptEvent(eventID string, ev slackevents.EventsAPIEvent) bool {
	if ev.Type != slackevents.CallbackEvent {
		if ev.Type == slackevents.AppRateLimited {
			a.log.Warn("slack app_rate_limited: Slack is dropping events for this workspace")
		}
		return true
	}
	if eventID != "" && a.seen.SeenAt("ev:"+eventID, a.now()) {
		a.log.Debug("slack duplicate event ignored", "event_id", eventID)
		return true
	}
	return a.jobs.submit(eventKey(ev.InnerEvent.Data), func(ctx context.Context) {
		a.handleEvent(ctx, ev.TeamID, ev.InnerEvent.Data)
	})
}

// eventKey orders the events about one conversation or message.
func eventKey(data any) string {
	switch e := data.(type) {
	case *slackevents.MessageEvent:
		ts := e.TimeStamp
		if e.SubType == "message_deleted" {
			ts = e.DeletedTimeStamp
			if e.PreviousMessage != nil && e.PreviousMessage.ThreadTimestamp != "" {
				ts = e.PreviousMessage.ThreadTimestamp
			}
		}
		if e.ThreadTimeStamp != "" {
			ts = e.ThreadTimeStamp
		}
		return e.Channel + "/" + ts
	case *slackevents.AppMentionEvent:
		ts := e.TimeStamp
		if e.ThreadTimeStamp != "" {
			ts = e.ThreadTimeStamp
		}
		return e.Channel + "/" + ts
	case *slackevents.ReactionAddedEvent:
		return e.Item.Channel + "/" + e.Item.Timestamp
	case *slackevents.ReactionRemovedEvent:
		return e.Item.Channel + "/" + e.Item.Timestamp
	}
	return ""
}

// handleEvent translates one inner event and hands it to the Handler.
func (a *Adapter) handleEvent(ctx context.Context, team string, data any) {
	var (
		ev *bot.Event
		to replyTo
	)
	switch e := data.(type) {
	case *slackevents.MessageEvent:
		ev = a.messageEvent(ctx, team, e)
	case *slackevents.AppMentionEvent:
		ev = a.mentionEvent(ctx, team, e)
	case *slackevents.ReactionAddedEvent:
		ev = a.reactionEvent(ctx, team, bot.EventReactionAdded, e.User, e.Reaction, e.ItemUser, e.Item)
	case *slackevents.ReactionRemovedEvent:
		ev = a.reactionEvent(ctx, team, bot.EventReactionRemoved, e.User, e.Reaction, e.ItemUser, e.Item)
	case *slackevents.LinkSharedEvent:
		a.unfurl(ctx, team, e)
		return
	case *slackevents.AppHomeOpenedEvent:
		if e.Tab == "home" {
			a.publishHome(ctx, team, e.User)
		}
		return
	}
	if ev == nil {
		return
	}
	to = replyTo{channel: ev.Channel, user: ev.User.ID}
	if ev.Message != nil {
		to.threadTS = ev.Message.Root()
	}
	a.dispatch(ctx, ev, to)
}

// workspace is the installing workspace's team id (auth.test), which keys
// every mention, so that Slack Connect payloads that name another team still
// land in one workspace.
func (a *Adapter) workspace(ctx context.Context, fallback string) string {
	if id, err := a.identity(ctx); err == nil && id.TeamID != "" {
		return id.TeamID
	}
	return fallback
}

// isSelf reports whether a user or bot id is this bot.
func (a *Adapter) isSelf(ctx context.Context, user, botID string) bool {
	id, err := a.identity(ctx)
	if err != nil {
		return false
	}
	return (user != "" && user == id.UserID) || (botID != "" && botID == id.BotID)
}

// messageEvent translates a message event. New messages (also file shares
// and thread broadcasts) become EventMessage, deletions EventMessageDeleted;
// edits, joins and other subtypes are ignored, as are the bot's own messages.
func (a *Adapter) messageEvent(ctx context.Context, team string, e *slackevents.MessageEvent) *bot.Event {
	ws := a.workspace(ctx, team)
	switch e.SubType {
	case "", "thread_broadcast", "file_share", "bot_message", "me_message":
	case "message_deleted":
		m := &bot.Message{Platform: bot.PlatformSlack, Workspace: ws, Channel: e.Channel, ID: e.DeletedTimeStamp}
		if p := e.PreviousMessage; p != nil {
			m.Author.ID, m.Text = p.User, p.Text
			m.ThreadID = threadOf(p.ThreadTimestamp, e.DeletedTimeStamp)
		}
		return &bot.Event{Kind: bot.EventMessageDeleted, Platform: bot.PlatformSlack, Workspace: ws, Channel: e.Channel, Message: m}
	default:
		return nil
	}
	if a.isSelf(ctx, e.User, e.BotID) {
		return nil
	}
	m := a.message(ctx, ws, e.Channel, slack.Msg{
		User: e.User, Text: e.Text, Timestamp: e.TimeStamp, ThreadTimestamp: e.ThreadTimeStamp,
		BotID: e.BotID, SubType: e.SubType, Username: e.Username,
	}, e.UserTeam)
	return &bot.Event{Kind: bot.EventMessage, Platform: bot.PlatformSlack, Workspace: ws, Channel: e.Channel, User: m.Author, Message: m}
}

// message builds a bot.Message from a Slack message: author with roles
// (users.info), permalink (chat.getPermalink), thread.
func (a *Adapter) message(ctx context.Context, ws, channel string, sm slack.Msg, userTeam string) *bot.Message {
	m := &bot.Message{
		Platform: bot.PlatformSlack, Workspace: ws, Channel: channel, ID: sm.Timestamp,
		ThreadID: threadOf(sm.ThreadTimestamp, sm.Timestamp), Text: a.plainText(ctx, sm.Text),
		Bot: sm.BotID != "" || sm.SubType == "bot_message",
	}
	if m.Bot {
		m.Author = bot.User{ID: cmp.Or(sm.BotID, sm.User), Name: cmp.Or(sm.Username, sm.BotID, sm.User), Org: cmp.Or(userTeam, ws)}
		return m
	}
	m.Author = a.resolveUser(ctx, sm.User, userTeam)
	m.Permalink = a.permalink(ctx, channel, sm.Timestamp, m.ThreadID)
	return m
}

// threadOf returns the thread root of a message, "" for a top-level message
// (Slack sets thread_ts == ts on a thread's root).
func threadOf(threadTS, ts string) string {
	if threadTS == ts {
		return ""
	}
	return threadTS
}

// permalink asks chat.getPermalink; when that fails it builds the link from
// the workspace URL (auth.test), which is the same shape.
func (a *Adapter) permalink(ctx context.Context, channel, ts, threadTS string) string {
	link, err := a.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channel, Ts: ts})
	if err == nil && link != "" {
		return link
	}
	a.log.Warn("slack chat.getPermalink failed", "channel", channel, "ts", ts, "err", err)
	id, ierr := a.identity(ctx)
	if ierr != nil || id.URL == "" {
		return ""
	}
	link = strings.TrimSuffix(id.URL, "/") + "/archives/" + channel + "/p" + strings.ReplaceAll(ts, ".", "")
	if threadTS != "" {
		link += "?thread_ts=" + threadTS + "&cid=" + channel
	}
	return link
}

// mentionEvent translates app_mention: the message without the bot's mention.
func (a *Adapter) mentionEvent(ctx context.Context, team string, e *slackevents.AppMentionEvent) *bot.Event {
	if a.isSelf(ctx, e.User, e.BotID) {
		return nil
	}
	ws := a.workspace(ctx, team)
	selfID := ""
	if id, err := a.identity(ctx); err == nil {
		selfID = id.UserID
	}
	// The bot's own mention goes before the text becomes plain text.
	m := a.message(ctx, ws, e.Channel, slack.Msg{
		User: e.User, Text: stripMention(e.Text, selfID), Timestamp: e.TimeStamp, ThreadTimestamp: e.ThreadTimeStamp, BotID: e.BotID,
	}, e.UserTeam)
	m.Text = strings.TrimSpace(m.Text)
	return &bot.Event{Kind: bot.EventMention, Platform: bot.PlatformSlack, Workspace: ws, Channel: e.Channel, User: m.Author, Message: m}
}

var mentionRE = regexp.MustCompile(`<@([UW][A-Z0-9]+)(\|[^>]*)?>`)

// stripMention removes the mentions of the bot (selfID) from text, or the
// leading mention when selfID is unknown, and tidies the spaces.
func stripMention(text, selfID string) string {
	if selfID == "" {
		if loc := mentionRE.FindStringIndex(strings.TrimSpace(text)); loc != nil && loc[0] == 0 {
			return strings.TrimSpace(strings.TrimSpace(text)[loc[1]:])
		}
		return strings.TrimSpace(text)
	}
	out := mentionRE.ReplaceAllStringFunc(text, func(s string) string {
		if mentionRE.FindStringSubmatch(s)[1] == selfID {
			return ""
		}
		return s
	})
	return strings.Join(strings.Fields(out), " ")
}

// emojiAliases maps Slack's alternative names to the canonical ones the
// engine is configured with.
var emojiAliases = map[string]string{"thumbsup": "+1", "thumbsdown": "-1"}

// canonicalEmoji strips skin tones ("+1::skin-tone-2") and resolves aliases.
func canonicalEmoji(name string) string {
	name, _, _ = strings.Cut(strings.Trim(name, ":"), "::")
	if c, ok := emojiAliases[name]; ok {
		return c
	}
	return name
}

// reactionEvent translates reaction_added / reaction_removed on a message.
// For an added reaction on someone else's message the target is fetched
// (text, author, thread) because capturing it needs them.
func (a *Adapter) reactionEvent(ctx context.Context, team string, kind bot.EventKind, user, reaction, itemUser string, item slackevents.Item) *bot.Event {
	if item.Type != "message" || item.Channel == "" || item.Timestamp == "" || a.isSelf(ctx, user, "") {
		return nil
	}
	ws := a.workspace(ctx, team)
	m := &bot.Message{Platform: bot.PlatformSlack, Workspace: ws, Channel: item.Channel, ID: item.Timestamp, Author: bot.User{ID: itemUser, Name: itemUser}}
	switch {
	case a.isSelf(ctx, itemUser, ""):
		m.Bot = true // a reaction on the bot's own card: the id is all the engine needs
	case kind == bot.EventReactionAdded:
		if sm, err := a.fetchMessage(ctx, item.Channel, item.Timestamp); err != nil {
			a.log.Warn("slack fetch reacted message failed", "channel", item.Channel, "ts", item.Timestamp, "err", err)
		} else {
			m = a.message(ctx, ws, item.Channel, sm, "")
		}
	}
	return &bot.Event{
		Kind: kind, Platform: bot.PlatformSlack, Workspace: ws, Channel: item.Channel,
		User: a.resolveUser(ctx, user, ""), Message: m, Emoji: canonicalEmoji(reaction),
	}
}

// fetchMessage reads one message: conversations.history for a top-level
// message, else conversations.replies for a thread reply.
func (a *Adapter) fetchMessage(ctx context.Context, channel, ts string) (slack.Msg, error) {
	h, err := a.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
		ChannelID: channel, Latest: ts, Inclusive: true, Limit: 1,
	})
	if err != nil {
		return slack.Msg{}, fmt.Errorf("conversations.history: %w", err)
	}
	for _, m := range h.Messages {
		if m.Timestamp == ts {
			return m.Msg, nil
		}
	}
	msgs, _, _, err := a.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
		ChannelID: channel, Timestamp: ts, Latest: ts, Oldest: ts, Inclusive: true, Limit: 10,
	})
	if err != nil {
		return slack.Msg{}, fmt.Errorf("conversations.replies: %w", err)
	}
	for _, m := range msgs {
		if m.Timestamp == ts {
			return m.Msg, nil
		}
	}
	return slack.Msg{}, fmt.Errorf("message %s not found in %s", ts, channel)
}

// acceptCommand queues a slash command (already acknowledged).
func (a *Adapter) acceptCommand(cmd slack.SlashCommand) bool {
	// A signed command replayed within the signature's 5-minute window
	// carries the same trigger_id: run it once.
	if cmd.TriggerID != "" && a.seen.SeenAt("cmd:"+cmd.TriggerID, a.now()) {
		a.log.Debug("slack duplicate command ignored", "trigger_id", cmd.TriggerID)
		return true
	}
	return a.jobs.submit("", func(ctx context.Context) {
		ws := a.workspace(ctx, cmd.TeamID)
		ev := &bot.Event{
			Kind: bot.EventCommand, Platform: bot.PlatformSlack, Workspace: ws, Channel: cmd.ChannelID,
			// Escapes are undone; <#C…> and <@U…> stay, the grammar reads them.
			User: a.resolveUser(ctx, cmd.UserID, ""), Text: strings.TrimSpace(unescapeText(cmd.Text)),
		}
		a.dispatch(ctx, ev, replyTo{channel: cmd.ChannelID, user: cmd.UserID, responseURL: cmd.ResponseURL})
	})
}

// acceptInteraction queues a block_actions click or the "Send to feedback
// board" message shortcut (already acknowledged). Other interactions are
// ignored.
func (a *Adapter) acceptInteraction(cb slack.InteractionCallback) bool {
	channel := cmp.Or(cb.Container.ChannelID, cb.Channel.ID)
	switch {
	case cb.Type == slack.InteractionTypeBlockActions:
		ts := cmp.Or(cb.Container.MessageTs, cb.Message.Timestamp)
		key := channel + "/" + ts
		if opensForm(cb) {
			// A trigger_id opens a view within 3 s: do not queue behind
			// other clicks on the same message.
			key = ""
		}
		return a.jobs.submit(key, func(ctx context.Context) {
			a.handleButtons(ctx, cb, channel, ts)
		})
	case cb.Type == slack.InteractionTypeMessageAction && cb.CallbackID == ShortcutCallbackID:
		root := cmp.Or(cb.Message.ThreadTimestamp, cb.Message.Timestamp, cb.MessageTs)
		return a.jobs.submit(channel+"/"+root, func(ctx context.Context) {
			ws := a.workspace(ctx, cb.Team.ID)
			sm := cb.Message.Msg
			if sm.Timestamp == "" {
				sm.Timestamp = cb.MessageTs
			}
			m := a.message(ctx, ws, channel, sm, "")
			ev := &bot.Event{
				Kind: bot.EventCapture, Platform: bot.PlatformSlack, Workspace: ws, Channel: channel,
				User: a.resolveUser(ctx, cb.User.ID, cb.User.TeamID), Message: m,
			}
			a.dispatch(ctx, ev, replyTo{channel: channel, user: cb.User.ID, threadTS: m.Root(), responseURL: cb.ResponseURL})
		})
	}
	return true
}

// handleButtons turns each pressed button into an EventButton on the bot's
// message that holds it.
func (a *Adapter) handleButtons(ctx context.Context, cb slack.InteractionCallback, channel, ts string) {
	ws := a.workspace(ctx, cb.Team.ID)
	user := a.resolveUser(ctx, cb.User.ID, cb.User.TeamID)
	m := &bot.Message{
		Platform: bot.PlatformSlack, Workspace: ws, Channel: channel, ID: ts,
		ThreadID: threadOf(cmp.Or(cb.Message.ThreadTimestamp, cb.Container.ThreadTs), ts),
		Text:     cb.Message.Text, Bot: cb.Message.BotID != "" || cb.Container.IsEphemeral,
		Author: bot.User{ID: cmp.Or(cb.Message.User, cb.Message.BotID)},
	}
	for _, act := range cb.ActionCallback.BlockActions {
		if act == nil || act.ActionID == "" {
			continue
		}
		ev := &bot.Event{
			Kind: bot.EventButton, Platform: bot.PlatformSlack, Workspace: ws, Channel: channel,
			User: user, Message: m, ActionID: act.ActionID,
		}
		a.dispatch(ctx, ev, replyTo{channel: channel, user: cb.User.ID, threadTS: m.Root(), responseURL: cb.ResponseURL, triggerID: cb.TriggerID})
	}
}

// dispatch calls the Handler and sends its answer (or the error's user-safe
// message) to the caller. The Handler logs internal errors and recovers its
// own panics (bot.Engine.Handle does both); a panic in the adapter's own
// code is recovered by the job runner.
func (a *Adapter) dispatch(ctx context.Context, ev *bot.Event, to replyTo) {
	resp, err := a.h.Handle(ctx, ev)
	if err != nil {
		resp = &bot.Response{Text: bot.ErrorMessage(err)}
	}
	if resp != nil && resp.Form != nil && to.triggerID != "" {
		if err := a.openForm(ctx, to.triggerID, resp.Form); err != nil {
			a.log.Warn("slack views.open failed", "form", resp.Form.ID, "user", to.user, "err", err)
		} else {
			return
		}
	}
	if resp == nil || (strings.TrimSpace(resp.Text) == "" && len(resp.Buttons) == 0) {
		return
	}
	if err := a.reply(ctx, resp, to); err != nil {
		a.log.Warn("slack reply failed", "kind", ev.Kind, "channel", to.channel, "user", to.user, "err", err)
	}
}

// reply sends resp to the person who caused the event: through the
// response_url when there is one (ephemeral, or in_channel when Public),
// else as an ephemeral message, or a thread reply when Public.
func (a *Adapter) reply(ctx context.Context, resp *bot.Response, to replyTo) error {
	opts := messageOptions(resp.Text, resp.Buttons)
	if to.responseURL != "" {
		typ := slack.ResponseTypeEphemeral
		if resp.Public {
			typ = slack.ResponseTypeInChannel
		}
		_, _, err := a.api.PostMessageContext(ctx, to.channel, append(opts, slack.MsgOptionResponseURL(to.responseURL, typ))...)
		if err == nil {
			return nil
		}
		a.log.Warn("slack response_url failed, answering with chat.postEphemeral", "err", err)
	}
	if resp.Public {
		_, err := a.Post(ctx, bot.OutMessage{Channel: to.channel, ThreadID: to.threadTS, Text: resp.Text, Buttons: resp.Buttons})
		return err
	}
	if to.threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(to.threadTS))
	}
	if _, err := a.api.PostEphemeralContext(ctx, to.channel, to.user, opts...); err != nil {
		return classify("chat.postEphemeral", err)
	}
	return nil
}
