package discord

import (
	"context"

	"github.com/bwmarrin/discordgo"
)

// chanInfo is what the adapter remembers about a channel or thread.
type chanInfo struct {
	ID       string
	GuildID  string
	Type     discordgo.ChannelType
	ParentID string
	Name     string
	// AppliedTags are tag ids of a forum post; AvailableTags map a forum's
	// tag ids to names.
	AppliedTags   []string
	AvailableTags map[string]string
}

func (c chanInfo) isThread() bool {
	switch c.Type {
	case discordgo.ChannelTypeGuildPublicThread, discordgo.ChannelTypeGuildPrivateThread, discordgo.ChannelTypeGuildNewsThread:
		return true
	}
	return false
}

func (c chanInfo) isForum() bool {
	return c.Type == discordgo.ChannelTypeGuildForum || c.Type == discordgo.ChannelTypeGuildMedia
}

func infoOf(ch *discordgo.Channel) chanInfo {
	ci := chanInfo{ID: ch.ID, GuildID: ch.GuildID, Type: ch.Type, ParentID: ch.ParentID, Name: ch.Name, AppliedTags: ch.AppliedTags}
	if len(ch.AvailableTags) > 0 {
		ci.AvailableTags = make(map[string]string, len(ch.AvailableTags))
		for _, t := range ch.AvailableTags {
			ci.AvailableTags[t.ID] = t.Name
		}
	}
	return ci
}

// rememberChannel caches ch. A thread also settles the question whether its
// id, as a root message id, names a thread.
func (a *Adapter) rememberChannel(ch *discordgo.Channel) {
	if ch == nil || ch.ID == "" {
		return
	}
	ci := infoOf(ch)
	a.channels.Put(ch.ID, ci)
	if ci.isThread() {
		a.roots.Put(ch.ID, rootInfo{thread: true})
	}
}

func (a *Adapter) forgetChannel(id string) {
	a.channels.Delete(id)
	a.roots.Delete(id)
}

// channel returns what is known about channel id, fetching it when unknown.
// ok is false when it cannot be found out.
func (a *Adapter) channel(ctx context.Context, id string) (chanInfo, bool) {
	if id == "" {
		return chanInfo{}, false
	}
	if ci, ok := a.channels.Get(id); ok {
		return ci, true
	}
	ch, err := callRetry(ctx, func(opts ...discordgo.RequestOption) (*discordgo.Channel, error) {
		return a.api.Channel(id, opts...)
	})
	if err != nil || ch == nil {
		a.log.Warn("fetch channel", "channel", id, "err", err)
		return chanInfo{ID: id}, false
	}
	a.rememberChannel(ch)
	return infoOf(ch), true
}

// location returns the channel and thread of a message posted in channel
// id: for a thread, its parent and the thread id; otherwise id and "".
func (a *Adapter) location(ctx context.Context, id string) (channel, thread string, ci chanInfo) {
	ci, _ = a.channel(ctx, id)
	if ci.isThread() && ci.ParentID != "" {
		return ci.ParentID, id, ci
	}
	return id, "", ci
}

// rootInfo records whether a root message id (bot.Message.ThreadID, or an
// OutMessage.ThreadID) names a thread channel.
type rootInfo struct{ thread bool }

// isThreadRoot reports whether root, the root of a conversation in channel,
// is a thread channel (post in it) or a message without a thread (reply to
// it). It asks Discord at most once per root: a message started a thread
// when it carries one, and every post in a forum is a thread.
func (a *Adapter) isThreadRoot(ctx context.Context, channel, root string) (bool, error) {
	if ri, ok := a.roots.Get(root); ok {
		return ri.thread, nil
	}
	if ci, ok := a.channels.Get(root); ok {
		return ci.isThread(), nil
	}
	if channel == "" || channel == root {
		ci, ok := a.channel(ctx, root)
		return ok && ci.isThread(), nil
	}
	if ci, ok := a.channel(ctx, channel); ok && ci.isForum() {
		a.roots.Put(root, rootInfo{thread: true})
		return true, nil
	}
	m, err := callRetry(ctx, func(opts ...discordgo.RequestOption) (*discordgo.Message, error) {
		return a.api.ChannelMessage(channel, root, opts...)
	})
	switch {
	case err == nil && m != nil && m.Thread != nil && m.Thread.ID != "":
		if m.Thread.ParentID == "" {
			m.Thread.ParentID = channel
		}
		a.rememberChannel(m.Thread)
		return true, nil
	case err == nil:
		a.roots.Put(root, rootInfo{thread: false})
		return false, nil
	case restStatus(err) == 404:
		// No such message in the channel: a thread not started from a
		// message, or a deleted root (then post in the channel without a
		// reference).
		if ci, ok := a.channel(ctx, root); ok && ci.isThread() {
			return true, nil
		}
		a.roots.Put(root, rootInfo{thread: false})
		return false, nil
	}
	return false, err
}
