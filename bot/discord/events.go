package discord

import (
	"context"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/feedbackbot/feedbackbot/bot"
)

// onGatewayEvent runs on discordgo's reader goroutine (SyncEvents), in
// gateway order. It updates the caches synchronously, so a THREAD_CREATE is
// known before the thread's first MESSAGE_CREATE, drops events already
// handled (a RESUME replays what the bot may have seen), and hands the rest
// to a goroutine so the reader never waits for the engine.
func (a *Adapter) onGatewayEvent(ctx context.Context, e *discordgo.Event) {
	if e == nil {
		return
	}
	switch ev := e.Struct.(type) {
	case *discordgo.Ready:
		a.onReady(ev)
	case *discordgo.GuildCreate:
		if ev.Guild != nil {
			a.onGuild(ev.Guild)
		}
	case *discordgo.GuildUpdate:
		if ev.Guild != nil && len(ev.Roles) > 0 {
			a.roles.Put(ev.ID, rolesOf(ev.Roles))
		}
	case *discordgo.GuildRoleCreate:
		if ev.GuildRole != nil {
			a.rememberRole(ev.GuildID, ev.Role, false)
		}
	case *discordgo.GuildRoleUpdate:
		if ev.GuildRole != nil {
			a.rememberRole(ev.GuildID, ev.Role, false)
		}
	case *discordgo.GuildRoleDelete:
		a.rememberRole(ev.GuildID, &discordgo.Role{ID: ev.RoleID}, true)
	case *discordgo.ChannelCreate:
		a.rememberChannel(ev.Channel)
	case *discordgo.ChannelUpdate:
		a.rememberChannel(ev.Channel)
	case *discordgo.ChannelDelete:
		if ev.Channel != nil {
			a.forgetChannel(ev.ID)
		}
	case *discordgo.ThreadCreate:
		a.rememberChannel(ev.Channel)
	case *discordgo.ThreadUpdate:
		a.rememberChannel(ev.Channel)
	case *discordgo.ThreadDelete:
		if ev.Channel != nil {
			a.channels.Delete(ev.ID)
		}
	case *discordgo.ThreadListSync:
		for _, t := range ev.Threads {
			a.rememberChannel(t)
		}
	case *discordgo.MessageCreate:
		if ev.Message == nil || ev.ID == "" || ev.ChannelID == "" {
			a.log.Warn("ignoring malformed gateway event", "type", e.Type, "seq", e.Sequence)
			return
		}
		a.spawn(ctx, "m:"+ev.ID, func(ctx context.Context) { a.onMessageCreate(ctx, ev.Message) })
	case *discordgo.MessageDelete:
		if ev.Message == nil || ev.ID == "" || ev.ChannelID == "" {
			a.log.Warn("ignoring malformed gateway event", "type", e.Type, "seq", e.Sequence)
			return
		}
		a.spawn(ctx, "d:"+ev.ID, func(ctx context.Context) { a.onMessageDelete(ctx, ev.Message) })
	case *discordgo.MessageReactionAdd:
		if ev.MessageReaction == nil || ev.MessageID == "" || ev.ChannelID == "" || ev.UserID == "" {
			a.log.Warn("ignoring malformed gateway event", "type", e.Type, "seq", e.Sequence)
			return
		}
		a.spawn(ctx, a.seqKey(e), func(ctx context.Context) { a.onReaction(ctx, ev.MessageReaction, ev.Member, true) })
	case *discordgo.MessageReactionRemove:
		if ev.MessageReaction == nil || ev.MessageID == "" || ev.ChannelID == "" || ev.UserID == "" {
			a.log.Warn("ignoring malformed gateway event", "type", e.Type, "seq", e.Sequence)
			return
		}
		a.spawn(ctx, a.seqKey(e), func(ctx context.Context) { a.onReaction(ctx, ev.MessageReaction, nil, false) })
	case *discordgo.InteractionCreate:
		if ev.Interaction == nil || ev.ID == "" || ev.Token == "" {
			a.log.Warn("ignoring malformed gateway event", "type", e.Type, "seq", e.Sequence)
			return
		}
		a.spawn(ctx, "i:"+ev.ID, func(ctx context.Context) { a.onInteraction(ctx, ev.Interaction) })
	}
}

// seqKey identifies an event without an id of its own (reactions) by its
// gateway session and sequence number, which a RESUME replays unchanged.
func (a *Adapter) seqKey(e *discordgo.Event) string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return "s:" + a.sessionID + ":" + strconv.FormatInt(e.Sequence, 10)
}

// spawn runs fn in a goroutine owned by the adapter, unless key was already
// handled. It blocks while too many events are in flight, which slows the
// gateway reader instead of piling up goroutines.
func (a *Adapter) spawn(ctx context.Context, key string, fn func(ctx context.Context)) {
	if a.seen.Seen(key) {
		a.log.Debug("dropping duplicate gateway event", "key", key)
		return
	}
	a.slots <- struct{}{}
	a.wg.Add(1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				a.log.Error("panic handling discord event", "key", key, "panic", r, "stack", string(debug.Stack()))
			}
			<-a.slots
			a.wg.Done()
		}()
		ctx, cancel := context.WithTimeout(ctx, a.cfg.HandlerTimeout)
		defer cancel()
		fn(ctx)
	}()
}

func (a *Adapter) onReady(r *discordgo.Ready) {
	a.mu.Lock()
	if r.Application != nil && r.Application.ID != "" {
		a.appID = r.Application.ID
	}
	if r.User != nil {
		a.botID = r.User.ID
	}
	a.sessionID = r.SessionID
	a.mu.Unlock()
	for _, g := range r.Guilds {
		if g != nil && !g.Unavailable {
			a.onGuild(g)
		}
	}
}

func (a *Adapter) onGuild(g *discordgo.Guild) {
	if len(g.Roles) > 0 {
		a.roles.Put(g.ID, rolesOf(g.Roles))
	}
	for _, ch := range g.Channels {
		if ch.GuildID == "" {
			ch.GuildID = g.ID
		}
		a.rememberChannel(ch)
	}
	for _, ch := range g.Threads {
		if ch.GuildID == "" {
			ch.GuildID = g.ID
		}
		a.rememberChannel(ch)
	}
}

// permalink is the jump link of a message.
func permalink(guild, channel, id string) string {
	return "https://discord.com/channels/" + guild + "/" + channel + "/" + id
}

// message translates a Discord message in guild. member, when known,
// carries the author's nick and roles.
func (a *Adapter) message(ctx context.Context, guild string, m *discordgo.Message, member *discordgo.Member) *bot.Message {
	if m.GuildID != "" {
		guild = m.GuildID
	}
	channel, thread, _ := a.location(ctx, m.ChannelID)
	msg := &bot.Message{
		Platform:  bot.PlatformDiscord,
		Workspace: guild,
		Channel:   channel,
		ID:        m.ID,
		ThreadID:  thread,
		Text:      m.Content,
		Permalink: permalink(guild, m.ChannelID, m.ID),
		Bot:       m.WebhookID != "" || (m.Author != nil && m.Author.Bot),
	}
	if member == nil {
		member = m.Member
	}
	msg.Author = a.user(ctx, guild, m.Author, member, -1)
	return msg
}

// mentionsBot reports whether m mentions the bot user.
func (a *Adapter) mentionsBot(m *discordgo.Message) bool {
	id := a.botUserID()
	if id == "" {
		return false
	}
	for _, u := range m.Mentions {
		if u != nil && u.ID == id {
			return true
		}
	}
	return strings.Contains(m.Content, "<@"+id+">") || strings.Contains(m.Content, "<@!"+id+">")
}

// stripMention removes the bot's mention markup from text.
func stripMention(text, botID string) string {
	text = strings.ReplaceAll(text, "<@!"+botID+">", "")
	text = strings.ReplaceAll(text, "<@"+botID+">", "")
	return strings.Join(strings.Fields(text), " ")
}

func (a *Adapter) onMessageCreate(ctx context.Context, m *discordgo.Message) {
	if m.GuildID == "" {
		return // direct messages: not subscribed, not handled
	}
	if m.Author != nil && m.Author.ID == a.botUserID() {
		return // our own posts
	}
	if m.Type != discordgo.MessageTypeDefault && m.Type != discordgo.MessageTypeReply {
		return // system messages: thread created, pins, joins, command echoes
	}
	msg := a.message(ctx, m.GuildID, m, nil)
	if msg.ThreadID == "" {
		// A new top-level message has no thread yet: replies to it go in
		// the channel, until a THREAD_CREATE with its id says otherwise.
		if _, known := a.roots.Get(m.ID); !known {
			a.roots.Put(m.ID, rootInfo{thread: false})
		}
	}
	ev := &bot.Event{
		Kind:      bot.EventMessage,
		Platform:  bot.PlatformDiscord,
		Workspace: msg.Workspace,
		Channel:   msg.Channel,
		User:      msg.Author,
		Message:   msg,
	}
	switch {
	case a.isForumStarter(ctx, m, msg):
		ev.Kind = bot.EventForumPost
	case !msg.Bot && a.mentionsBot(m):
		ev.Kind = bot.EventMention
		msg.Text = stripMention(msg.Text, a.botUserID())
	}
	a.handle(ctx, ev)
}

// isForumStarter reports whether m is the first message of a forum post,
// and fills in the post's title and tags: in a forum, each post is a thread
// whose id is the id of its first message.
func (a *Adapter) isForumStarter(ctx context.Context, m *discordgo.Message, msg *bot.Message) bool {
	if msg.ThreadID == "" || m.ID != m.ChannelID {
		return false
	}
	thread, ok := a.channel(ctx, m.ChannelID)
	if !ok {
		return false
	}
	parent, ok := a.channel(ctx, thread.ParentID)
	if !ok || !parent.isForum() {
		return false
	}
	msg.Title = thread.Name
	for _, id := range thread.AppliedTags {
		if name, ok := parent.AvailableTags[id]; ok {
			msg.Tags = append(msg.Tags, name)
		}
	}
	return true
}

func (a *Adapter) onMessageDelete(ctx context.Context, m *discordgo.Message) {
	if m.GuildID == "" {
		return
	}
	channel, thread, _ := a.location(ctx, m.ChannelID)
	msg := &bot.Message{
		Platform:  bot.PlatformDiscord,
		Workspace: m.GuildID,
		Channel:   channel,
		ID:        m.ID,
		ThreadID:  thread,
		Permalink: permalink(m.GuildID, m.ChannelID, m.ID),
	}
	a.handle(ctx, &bot.Event{
		Kind:      bot.EventMessageDeleted,
		Platform:  bot.PlatformDiscord,
		Workspace: m.GuildID,
		Channel:   channel,
		Message:   msg,
	})
}

func (a *Adapter) onReaction(ctx context.Context, r *discordgo.MessageReaction, member *discordgo.Member, added bool) {
	if r.GuildID == "" || r.UserID == a.botUserID() {
		return
	}
	if member != nil && member.User != nil && member.User.Bot {
		return
	}
	emoji := reactionName(r.Emoji)
	var msg *bot.Message
	if added && emoji == a.cfg.CaptureEmoji {
		// Capture needs the message's text and author.
		m, err := callRetry(ctx, func(opts ...discordgo.RequestOption) (*discordgo.Message, error) {
			return a.api.ChannelMessage(r.ChannelID, r.MessageID, opts...)
		})
		if err != nil {
			a.log.Warn("fetch reacted message", "channel", r.ChannelID, "message", r.MessageID, "err", err)
		} else if m != nil {
			if m.ChannelID == "" {
				m.ChannelID = r.ChannelID
			}
			msg = a.message(ctx, r.GuildID, m, nil)
		}
	}
	if msg == nil {
		channel, thread, _ := a.location(ctx, r.ChannelID)
		msg = &bot.Message{
			Platform:  bot.PlatformDiscord,
			Workspace: r.GuildID,
			Channel:   channel,
			ID:        r.MessageID,
			ThreadID:  thread,
			Permalink: permalink(r.GuildID, r.ChannelID, r.MessageID),
		}
	}
	var u *discordgo.User
	if member == nil || member.User == nil {
		u = &discordgo.User{ID: r.UserID}
	}
	user := a.user(ctx, r.GuildID, u, member, -1)
	user.ID = r.UserID
	kind := bot.EventReactionAdded
	if !added {
		kind = bot.EventReactionRemoved
	}
	a.handle(ctx, &bot.Event{
		Kind:      kind,
		Platform:  bot.PlatformDiscord,
		Workspace: r.GuildID,
		Channel:   msg.Channel,
		User:      user,
		Message:   msg,
		Emoji:     emoji,
	})
}

// handle passes a gateway event to the handler. Discord has no ephemeral
// messages outside interactions, so answers go in the conversation only
// when they are meant for it: a Public response, or the answer to someone
// who mentioned the bot (including a user-safe error). Other responses and
// refusals are logged at debug level. The Handler logs internal errors and
// recovers its own panics (bot.Engine.Handle does both), so they are not
// logged again here.
func (a *Adapter) handle(ctx context.Context, ev *bot.Event) {
	resp, err := a.h.Handle(ctx, ev)
	if err != nil {
		code := bot.ErrorCode(err)
		if code == bot.EINTERNAL {
			return
		}
		a.log.Debug("discord event refused", "kind", ev.Kind, "channel", ev.Channel, "err", err)
		if ev.Kind != bot.EventMention {
			return
		}
		resp = &bot.Response{Text: bot.ErrorMessage(err)}
	}
	if resp == nil || ev.Message == nil || (strings.TrimSpace(resp.Text) == "" && len(resp.Buttons) == 0) {
		return
	}
	if !resp.Public && ev.Kind != bot.EventMention {
		a.log.Debug("dropping private response to a gateway event", "kind", ev.Kind)
		return
	}
	out := bot.OutMessage{
		Workspace: ev.Workspace,
		Channel:   ev.Message.Channel,
		ThreadID:  ev.Message.Root(),
		Text:      resp.Text,
		Buttons:   resp.Buttons,
	}
	if _, err := a.Post(ctx, out); err != nil {
		a.log.Warn("post response", "channel", out.Channel, "err", err)
	}
}
