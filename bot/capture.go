package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// ReplyReaction is the reaction the bot adds to a reply that joined a
// captured thread, where the platform supports reactions.
const ReplyReaction = "white_check_mark"

func (e *Engine) onMessage(ctx context.Context, ev *Event) (*Response, error) {
	m := ev.Message
	if m == nil {
		return nil, nil
	}
	if m.ThreadID != "" && m.ThreadID != m.ID {
		return e.joinThread(ctx, m)
	}
	set, err := e.channelSettings(ctx, m.Platform, m.Workspace, m.Channel)
	if err != nil {
		return nil, err
	}
	if set.releases {
		return e.onAnnouncement(ctx, ev)
	}
	if !set.watch {
		return nil, nil
	}
	if strings.TrimSpace(m.Text) == "" {
		return nil, nil
	}
	// The card in the thread confirms an automatic capture; nothing is said
	// to the author alone, and messages it cannot take pass silently.
	_, err = e.capture(ctx, m.Author, m, ViaChannel, true)
	if ErrorCode(err) == ECONFLICT || ErrorCode(err) == EINVALID || ErrorCode(err) == ETOOLARGE {
		return nil, nil
	}
	return nil, err
}

// joinThread adds a reply in an already captured thread to the same request.
func (e *Engine) joinThread(ctx context.Context, m *Message) (*Response, error) {
	root, err := e.store.FindThreadMention(ctx, m.Platform, m.Workspace, m.Channel, m.ThreadID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	text, err := normalizeText(m.Text)
	if err != nil {
		return nil, nil
	}
	mention := e.mentionOf(m, m.Author, ViaThread, text)
	mention.RequestID = root.RequestID
	if err := e.store.AddMention(ctx, mention); err != nil {
		if ErrorCode(err) == ECONFLICT {
			return nil, nil
		}
		return nil, err
	}
	e.metrics.Captured(m.Platform, ViaThread)
	if r, ok := e.platform(m.Platform).(Reactor); ok {
		ref := MessageRef{Platform: m.Platform, Workspace: m.Workspace, Channel: m.Channel, ID: m.ID, ThreadID: m.ThreadID}
		if err := r.React(ctx, ref, ReplyReaction); err != nil {
			e.log.Warn("react to joined reply", "platform", m.Platform, "err", err)
		}
	}
	return nil, nil
}

func (e *Engine) onForumPost(ctx context.Context, ev *Event) (*Response, error) {
	m := ev.Message
	if m == nil {
		return nil, nil
	}
	set, err := e.channelSettings(ctx, m.Platform, m.Workspace, m.Channel)
	if err != nil || !set.watch {
		return nil, err
	}
	text := m.Text
	if m.Title != "" {
		text = m.Title + "\n" + m.Text
	}
	if len(m.Tags) > 0 {
		text += "\nTags: " + strings.Join(m.Tags, ", ")
	}
	mm := *m
	mm.Text = text
	_, err = e.capture(ctx, m.Author, &mm, ViaForum, true)
	if ErrorCode(err) == ECONFLICT || ErrorCode(err) == EINVALID || ErrorCode(err) == ETOOLARGE {
		return nil, nil
	}
	return nil, err
}

func (e *Engine) onMention(ctx context.Context, ev *Event) (*Response, error) {
	m := ev.Message
	if m == nil {
		return nil, nil
	}
	if strings.TrimSpace(m.Text) == "" || strings.EqualFold(strings.TrimSpace(m.Text), "help") {
		return &Response{Text: "Mention me with your idea and I'll put it on the feedback board. Try /feedback help for commands."}, nil
	}
	if m.ThreadID != "" && m.ThreadID != m.ID {
		if _, err := e.store.FindThreadMention(ctx, m.Platform, m.Workspace, m.Channel, m.ThreadID); err == nil {
			return e.joinThread(ctx, m)
		}
	}
	// The card in the thread confirms the capture; only errors (such as
	// "already on the board") are answered.
	_, err := e.CaptureMessage(ctx, ev.User, m, ViaMention)
	return nil, err
}

// CaptureMessage captures an existing chat message on behalf of by.
// Capturing a message twice is a no-op whose answer says where it is.
func (e *Engine) CaptureMessage(ctx context.Context, by User, m *Message, via string) (*Response, error) {
	if m.Bot {
		return nil, Errorf(EINVALID, "Messages from bots are not captured.")
	}
	return e.capture(ctx, by, m, via, true)
}

// CaptureText captures free text from a person (the /feedback command, the
// API). When where has an id the text is linked to that message; otherwise the
// bot's card becomes the message the request's thread hangs on.
func (e *Engine) CaptureText(ctx context.Context, by User, where *Message, text string) (*Response, error) {
	m := *where
	m.Author = by
	m.Text = text
	if m.ID == "" {
		return e.captureWithoutMessage(ctx, by, &m)
	}
	return e.capture(ctx, by, &m, ViaCommand, true)
}

// mentionOf builds a mention for message m captured by `by`.
func (e *Engine) mentionOf(m *Message, by User, via, text string) *Mention {
	thread := m.ThreadID
	if thread == "" {
		thread = m.ID
	}
	return &Mention{
		Platform:   m.Platform,
		Workspace:  m.Workspace,
		Channel:    m.Channel,
		MessageID:  m.ID,
		ThreadID:   thread,
		AuthorID:   m.Author.ID,
		AuthorName: m.Author.Name,
		Org:        m.Author.Org,
		Text:       text,
		Permalink:  m.Permalink,
		CapturedBy: actorName(by),
		Via:        via,
	}
}

// capture creates a request from message m. When the message is in a thread
// whose root is already captured it joins that request instead.
func (e *Engine) capture(ctx context.Context, by User, m *Message, via string, card bool) (*Response, error) {
	text, err := normalizeText(m.Text)
	if err != nil {
		return nil, err
	}
	// A message captured before is not looked up first: CreateRequest and
	// AddMention refuse it with ECONFLICT, writing nothing, and
	// capturedConflict answers where it is. That saves a query on every
	// capture.
	if m.ThreadID != "" && m.ThreadID != m.ID && via != ViaThread {
		if root, err := e.store.FindThreadMention(ctx, m.Platform, m.Workspace, m.Channel, m.ThreadID); err == nil {
			mention := e.mentionOf(m, by, via, text)
			mention.RequestID = root.RequestID
			if err := e.store.AddMention(ctx, mention); err != nil {
				if ErrorCode(err) == ECONFLICT {
					return e.capturedConflict(ctx, m)
				}
				return nil, err
			}
			e.metrics.Captured(m.Platform, via)
			req, err := e.store.ResolveRequest(ctx, root.RequestID)
			if err != nil {
				return nil, err
			}
			return &Response{Text: fmt.Sprintf("Added to %s: %s (%s).", e.Key(req.ID), req.Title, peopleCount(req.Demand)), RequestID: req.ID}, nil
		}
	}
	mention := e.mentionOf(m, by, via, text)
	req := &Request{Title: titleOf(text), Description: text, Status: StatusOpen}
	if err := e.store.CreateRequest(ctx, req, mention); err != nil {
		if ErrorCode(err) == ECONFLICT {
			return e.capturedConflict(ctx, m)
		}
		return nil, err
	}
	e.metrics.Captured(m.Platform, via)
	return e.afterCreate(ctx, by, req, mention, card)
}

func (e *Engine) capturedConflict(ctx context.Context, m *Message) (*Response, error) {
	existing, err := e.store.FindMentionByMessage(ctx, m.Platform, m.Workspace, m.Channel, m.ID)
	if err != nil {
		return nil, err
	}
	return e.alreadyCaptured(ctx, existing)
}

func (e *Engine) alreadyCaptured(ctx context.Context, existing *Mention) (*Response, error) {
	req, err := e.store.ResolveRequest(ctx, existing.RequestID)
	if err != nil {
		return nil, err
	}
	return nil, Errorf(ECONFLICT, "This message is already on the board as %s: %s.", e.Key(req.ID), req.Title)
}

// captureWithoutMessage handles text that has no chat message of its own
// (a slash command on Slack or Discord): the bot posts the card at the top of
// the channel and the request's thread hangs on that card.
func (e *Engine) captureWithoutMessage(ctx context.Context, by User, m *Message) (*Response, error) {
	text, err := normalizeText(m.Text)
	if err != nil {
		return nil, err
	}
	p := e.platform(m.Platform)
	if p == nil || m.Channel == "" {
		// Nowhere to post (API capture): a mention with no thread.
		mm := *m
		mm.ID = "text-" + randomID()
		mention := e.mentionOf(&mm, by, ViaCommand, text)
		mention.ThreadID = ""
		if m.Platform == PlatformAPI {
			mention.Via = ViaAPI
		}
		req := &Request{Title: titleOf(text), Description: text, Status: StatusOpen}
		if err := e.store.CreateRequest(ctx, req, mention); err != nil {
			return nil, err
		}
		e.metrics.Captured(m.Platform, mention.Via)
		return e.afterCreate(ctx, by, req, mention, false)
	}
	ref, err := e.post(ctx, p, OutMessage{Workspace: m.Workspace, Channel: m.Channel, Text: fmt.Sprintf("📝 New feedback from %s: %s", actorName(by), titleOf(text))})
	if err != nil {
		return nil, fmt.Errorf("post capture card: %w", err)
	}
	mm := *m
	mm.ID = ref.ID
	mm.ThreadID = ""
	return e.capture(ctx, by, &mm, ViaCommand, true)
}

func peopleCount(n int) string {
	if n == 1 {
		return "1 person"
	}
	return fmt.Sprintf("%d people", n)
}

func (e *Engine) onReaction(ctx context.Context, ev *Event, added bool) (*Response, error) {
	m := ev.Message
	if m == nil {
		return nil, nil
	}
	emoji := normalizeEmoji(ev.Emoji)
	switch emoji {
	case normalizeEmoji(e.cfg.CaptureEmoji):
		if !added || m.Bot {
			return nil, nil
		}
		return e.CaptureMessage(ctx, ev.User, m, ViaReaction)
	case normalizeEmoji(e.cfg.VoteEmoji):
		reqID, err := e.requestOfMessage(ctx, m)
		if ErrorCode(err) == ENOTFOUND {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if added {
			_, err = e.store.AddVote(ctx, e.voterOf(reqID, ev.Platform, ev.Workspace, ev.User))
		} else {
			_, err = e.store.RemoveVote(ctx, reqID, ev.Platform, ev.Workspace, ev.User.ID)
		}
		return nil, err
	}
	return nil, nil
}

// normalizeEmoji maps aliases of the same emoji to one name.
func normalizeEmoji(s string) string {
	s = strings.Trim(strings.TrimSpace(s), ":")
	if i := strings.Index(s, "::skin-tone"); i >= 0 {
		s = s[:i]
	}
	switch s {
	case "thumbsup", "+1", "👍":
		return "+1"
	case "bulb", "💡":
		return "bulb"
	}
	return s
}

// requestOfMessage returns the request a chat message belongs to: a
// captured mention, or the bot's card.
func (e *Engine) requestOfMessage(ctx context.Context, m *Message) (int64, error) {
	mention, err := e.store.FindMentionByMessage(ctx, m.Platform, m.Workspace, m.Channel, m.ID)
	if err == nil {
		return mention.RequestID, nil
	}
	if ErrorCode(err) != ENOTFOUND {
		return 0, err
	}
	return e.store.FindCard(ctx, m.Platform, m.Workspace, m.Channel, m.ID)
}

func (e *Engine) voterOf(reqID int64, platform, workspace string, u User) Voter {
	return Voter{RequestID: reqID, Platform: platform, Workspace: workspace, UserID: u.ID, Org: u.Org, Kind: VoteVote}
}

// Vote adds u's vote to request id (resolved through merges).
func (e *Engine) Vote(ctx context.Context, ev *Event, id int64) (*Response, error) {
	req, err := e.resolve(ctx, id)
	if err != nil {
		return nil, err
	}
	added, err := e.store.AddVote(ctx, e.voterOf(req.ID, ev.Platform, ev.Workspace, ev.User))
	if err != nil {
		return nil, err
	}
	req, err = e.store.FindRequestByID(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	if !added {
		return &Response{Text: fmt.Sprintf("You already count for %s: %s (%s).", e.Key(req.ID), req.Title, peopleCount(req.Demand))}, nil
	}
	return &Response{Text: fmt.Sprintf("👍 Voted for %s: %s (%s).", e.Key(req.ID), req.Title, peopleCount(req.Demand))}, nil
}

// Unvote removes u's vote from request id (resolved through merges). An
// authorship is never removed.
func (e *Engine) Unvote(ctx context.Context, ev *Event, id int64) (*Response, error) {
	req, err := e.resolve(ctx, id)
	if err != nil {
		return nil, err
	}
	removed, err := e.store.RemoveVote(ctx, req.ID, ev.Platform, ev.Workspace, ev.User.ID)
	if err != nil {
		return nil, err
	}
	req, err = e.store.FindRequestByID(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	if !removed {
		return &Response{Text: fmt.Sprintf("You had no vote to remove on %s.", e.Key(req.ID))}, nil
	}
	return &Response{Text: fmt.Sprintf("Removed your vote from %s: %s (%s).", e.Key(req.ID), req.Title, peopleCount(req.Demand))}, nil
}

// resolve returns the canonical request for id, or ENOTFOUND with the key.
func (e *Engine) resolve(ctx context.Context, id int64) (*Request, error) {
	req, err := e.store.ResolveRequest(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return nil, Errorf(ENOTFOUND, "There is no request %s.", e.Key(id))
	}
	return req, err
}

// LinkFetcher is implemented by platforms that can load a message from its
// link, for /feedback link.
type LinkFetcher interface {
	FetchByLink(ctx context.Context, link string) (*Message, error)
}

// Link attaches the chat message at link to request id (team only).
func (e *Engine) Link(ctx context.Context, ev *Event, id int64, link string) (*Response, error) {
	if err := RequireTeam(ev.User, "link messages to requests"); err != nil {
		return nil, err
	}
	req, err := e.resolve(ctx, id)
	if err != nil {
		return nil, err
	}
	f, ok := e.platform(ev.Platform).(LinkFetcher)
	if !ok {
		return nil, Errorf(EINVALID, "Linking messages is not supported here.")
	}
	m, err := f.FetchByLink(ctx, link)
	if err != nil {
		if _, ok := err.(*Error); ok {
			return nil, err
		}
		return nil, Errorf(EINVALID, "Could not load the message at %s.", clip(link, 100))
	}
	text, err := normalizeText(m.Text)
	if err != nil {
		return nil, err
	}
	mention := e.mentionOf(m, ev.User, ViaLink, text)
	mention.RequestID = req.ID
	if err := e.store.AddMention(ctx, mention); err != nil {
		if ErrorCode(err) == ECONFLICT {
			return e.capturedConflict(ctx, m)
		}
		return nil, err
	}
	e.metrics.Captured(m.Platform, ViaLink)
	req, err = e.store.FindRequestByID(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	return &Response{Text: fmt.Sprintf("Linked the message to %s: %s (%s).", e.Key(req.ID), req.Title, peopleCount(req.Demand))}, nil
}

// channelTTL is how long the engine trusts what it read about a channel's
// settings (watched, release channel). The replica that runs /feedback
// watch, unwatch or releases forgets its entry at once; other replicas see
// the change within channelTTL, so for a few seconds after a change a
// message may be captured, or not, as before it. Every message the bot can
// see needs these settings, so without the cache each one would cost a
// query (two before the cache).
const channelTTL = 5 * time.Second

// maxCachedChannels bounds the cache; past it, expired entries are dropped,
// and all of them if none has expired.
const maxCachedChannels = 10_000

type channelSet struct {
	watch, releases bool
	at              time.Time
}

// channelCache holds recently read channel settings. The zero value is
// ready to use.
type channelCache struct {
	mu sync.Mutex
	m  map[string]channelSet
}

func settingsKey(platform, workspace, channel string) string {
	return platform + "\x1f" + workspace + "\x1f" + channel
}

func (c *channelCache) get(key string, now time.Time) (channelSet, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	set, ok := c.m[key]
	if !ok || now.Sub(set.at) >= channelTTL || now.Before(set.at) {
		return channelSet{}, false
	}
	return set, true
}

func (c *channelCache) put(key string, set channelSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]channelSet{}
	}
	if len(c.m) >= maxCachedChannels {
		for k, v := range c.m {
			if set.at.Sub(v.at) >= channelTTL {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxCachedChannels {
			clear(c.m)
		}
	}
	c.m[key] = set
}

func (c *channelCache) forget(platform, workspace, channel string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, settingsKey(platform, workspace, channel))
}

// channelKinder is implemented by stores that read all the settings of a
// channel in one query (store.DB).
type channelKinder interface {
	ChannelKinds(ctx context.Context, platform, workspace, channel string) ([]string, error)
}

// channelSettings returns a channel's settings, from the cache when they
// were read less than channelTTL ago.
func (e *Engine) channelSettings(ctx context.Context, platform, workspace, channel string) (channelSet, error) {
	key := settingsKey(platform, workspace, channel)
	now := time.Now()
	if set, ok := e.channels.get(key, now); ok {
		return set, nil
	}
	set := channelSet{at: now}
	if ck, ok := e.store.(channelKinder); ok {
		kinds, err := ck.ChannelKinds(ctx, platform, workspace, channel)
		if err != nil {
			return channelSet{}, err
		}
		for _, k := range kinds {
			set.watch = set.watch || k == ChannelWatch
			set.releases = set.releases || k == ChannelReleases
		}
	} else {
		var err error
		if set.releases, err = e.store.HasChannel(ctx, platform, workspace, channel, ChannelReleases); err != nil {
			return channelSet{}, err
		}
		if set.watch, err = e.store.HasChannel(ctx, platform, workspace, channel, ChannelWatch); err != nil {
			return channelSet{}, err
		}
	}
	e.channels.put(key, set)
	return set, nil
}
