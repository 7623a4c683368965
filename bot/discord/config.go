package discord

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// DefaultAPIURL is the origin of Discord's REST API and gateway discovery.
const DefaultAPIURL = "https://discord.com"

// Config configures the adapter. cmd/feedbackbot fills it from the
// environment (README "Configuration"): DISCORD_BOT_TOKEN, DISCORD_GUILD_ID,
// DISCORD_API_URL, DISCORD_TEAM_ROLE, DISCORD_RELEASE_ROLE,
// DISCORD_SHARD_ID, DISCORD_SHARD_COUNT, FEEDBACKBOT_CAPTURE_EMOJI and
// FEEDBACKBOT_VOTE_EMOJI.
type Config struct {
	// Token is the bot token, with or without the "Bot " prefix. It is never
	// logged.
	Token string
	// GuildID, when set, registers the application commands in that guild
	// only (instant); otherwise they are registered globally.
	GuildID string
	// APIURL replaces https://discord.com for every REST call and for
	// gateway discovery (tests point it at discordtest). Default DefaultAPIURL.
	APIURL string
	// TeamRole and ReleaseRole are role ids or role names. Members with the
	// Manage Server permission are team members too.
	TeamRole    string
	ReleaseRole string
	// ShardID and ShardCount are passed to the gateway IDENTIFY when
	// ShardCount > 1.
	ShardID    int
	ShardCount int
	// CaptureEmoji and VoteEmoji are Slack-style names ("bulb", "+1" by
	// default); the adapter maps them to the Unicode emoji Discord uses.
	CaptureEmoji string
	VoteEmoji    string
	// Logger receives the adapter's logs; nil discards them.
	Logger *slog.Logger

	// AckAfter is how long an interaction waits for the handler before it is
	// deferred (Discord invalidates interactions not answered within 3 s).
	// Default 2 s.
	AckAfter time.Duration
	// FormAckAfter is AckAfter for a click on a form button (bot.IsFormButton):
	// a modal must be the first answer, so the handler gets longer before
	// the click is deferred (and answered with text instead). Default 2.5 s.
	FormAckAfter time.Duration
	// HandlerTimeout bounds the handling of one event. Default 5 minutes
	// (interaction tokens stay valid for 15).
	HandlerTimeout time.Duration
	// RequestsPerSecond caps REST calls (interaction callbacks excluded)
	// below Discord's global limit of 50/s. Default 45. The delivery worker
	// paces its posts to the same rate (bot.Throttle).
	RequestsPerSecond float64
	// GatewayTimeout is the longest the gateway connection may stay silent
	// before the adapter drops it and resumes on a new one. Discord answers
	// every heartbeat (about every 41 s), so a live connection is never
	// silent that long. It also bounds each step of a (re)connection, which
	// discordgo would otherwise wait for forever. Default 90 s.
	GatewayTimeout time.Duration
}

func (c Config) withDefaults() (Config, error) {
	c.Token = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(c.Token), "Bot "))
	if c.Token == "" {
		return c, fmt.Errorf("discord: missing bot token (DISCORD_BOT_TOKEN)")
	}
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	u, err := url.Parse(c.APIURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("discord: DISCORD_API_URL %q is not an http(s) origin", c.APIURL)
	}
	if c.ShardCount < 0 || c.ShardID < 0 || (c.ShardCount > 1 && c.ShardID >= c.ShardCount) {
		return c, fmt.Errorf("discord: shard %d of %d is out of range", c.ShardID, c.ShardCount)
	}
	if c.CaptureEmoji == "" {
		c.CaptureEmoji = "bulb"
	}
	if c.VoteEmoji == "" {
		c.VoteEmoji = "+1"
	}
	c.CaptureEmoji = emojiName(c.CaptureEmoji)
	c.VoteEmoji = emojiName(c.VoteEmoji)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.AckAfter <= 0 {
		c.AckAfter = 2 * time.Second
	}
	if c.FormAckAfter <= 0 {
		c.FormAckAfter = 2500 * time.Millisecond
	}
	if c.HandlerTimeout <= 0 {
		c.HandlerTimeout = 5 * time.Minute
	}
	if c.RequestsPerSecond <= 0 {
		c.RequestsPerSecond = 45
	}
	if c.GatewayTimeout <= 0 {
		c.GatewayTimeout = 90 * time.Second
	}
	return c, nil
}
