package bot

import (
	"context"
	"sync"
	"time"
)

// SetChannelInput turns a channel setting on or off: Kind ChannelWatch
// (capture every new top-level message) or ChannelReleases (read release
// announcements).
type SetChannelInput struct {
	Platform  string
	Workspace string
	Channel   string
	Kind      string
	On        bool
}

// SetChannelResult says whether the setting changed, with the channel as
// people write it on its platform ("#ideas", "<#C123>").
type SetChannelResult struct {
	Setting     ChannelSetting
	Kind        string
	On          bool
	Changed     bool
	ChannelName string
}

// SetChannel marks or unmarks a channel as watched or as a release channel
// (team only). EFORBIDDEN; EINVALID without a channel.
func (e *Engine) SetChannel(ctx context.Context, a Actor, in SetChannelInput) (*SetChannelResult, error) {
	if err := RequireTeam(a, doChannels); err != nil {
		return nil, err
	}
	if in.Channel == "" {
		return nil, errNoChannel
	}
	set := ChannelSetting{Platform: in.Platform, Workspace: in.Workspace, Channel: in.Channel, Kind: in.Kind, SetBy: a.DisplayName()}
	changed, err := e.store.SetChannel(ctx, set, in.On)
	e.channels.forget(in.Platform, in.Workspace, in.Channel)
	if err != nil {
		return nil, err
	}
	return &SetChannelResult{Setting: set, Kind: in.Kind, On: in.On, Changed: changed, ChannelName: e.channelName(in.Platform, in.Channel)}, nil
}

// ChannelNamer is implemented by platforms that can show a channel id the way
// people write it ("#ideas", "<#C123>").
type ChannelNamer interface {
	ChannelName(id string) string
}

func (e *Engine) channelName(platform, id string) string {
	if n, ok := e.platform(platform).(ChannelNamer); ok {
		return n.ChannelName(id)
	}
	return id
}

// channelTTL is how long the engine trusts what it read about a channel's
// settings (watched, release channel). The replica that runs /feedback
// watch, unwatch or releases forgets its entry at once; other replicas see
// the change within channelTTL, so for a few seconds after a change a
// message may be captured, or not, as before it. Every message the bot can
// see needs these settings, so without the cache each one would cost a
// query.
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

// last returns what was last read about the channel, however old.
func (c *channelCache) last(key string) (channelSet, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	set, ok := c.m[key]
	return set, ok
}

// knownWatched reports whether the channel was known to be watched when last
// read.
func (e *Engine) knownWatched(platform, workspace, channel string) bool {
	set, ok := e.channels.last(settingsKey(platform, workspace, channel))
	return ok && set.watch
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

// channelSettings returns a channel's settings (one query), from the cache
// when they were read less than channelTTL ago.
func (e *Engine) channelSettings(ctx context.Context, platform, workspace, channel string) (channelSet, error) {
	key := settingsKey(platform, workspace, channel)
	now := time.Now()
	if set, ok := e.channels.get(key, now); ok {
		return set, nil
	}
	set := channelSet{at: now}
	kinds, err := e.store.ChannelKinds(ctx, platform, workspace, channel)
	if err != nil {
		// While the database is unavailable, what was last read about
		// the channel, however old, is better than nothing: a message in
		// a channel known not to be watched is not kept for a retry.
		if old, ok := e.channels.last(key); ok && ErrorCode(err) == EUNAVAILABLE {
			return old, nil
		}
		return channelSet{}, err
	}
	for _, k := range kinds {
		set.watch = set.watch || k == ChannelWatch
		set.releases = set.releases || k == ChannelReleases
	}
	e.channels.put(key, set)
	return set, nil
}
