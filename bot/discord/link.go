package discord

import (
	"context"
	"net/url"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/feedbackbot/feedbackbot/bot"
)

// parseLink splits a message jump link
// (https://discord.com/channels/{guild}/{channel}/{message}, also on
// discordapp.com and the ptb. and canary. hosts) into its ids.
func parseLink(link string) (guild, channel, message string, ok bool) {
	u, err := url.Parse(strings.Trim(strings.TrimSpace(link), "<>"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return "", "", "", false
	}
	host := strings.TrimPrefix(strings.TrimPrefix(u.Hostname(), "ptb."), "canary.")
	if host != "discord.com" && host != "discordapp.com" {
		return "", "", "", false
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 4 || parts[0] != "channels" || !isSnowflake(parts[2]) || !isSnowflake(parts[3]) || (parts[1] != "@me" && !isSnowflake(parts[1])) {
		return "", "", "", false
	}
	return parts[1], parts[2], parts[3], true
}

// FetchByLink loads the message a Discord jump link points at, for
// /feedback link. Errors: EINVALID for a link that is not a Discord message
// link (or points outside a server), ENOTFOUND when the message cannot be
// read.
func (a *Adapter) FetchByLink(ctx context.Context, link string) (*bot.Message, error) {
	guild, channel, id, ok := parseLink(link)
	if !ok || guild == "@me" {
		return nil, bot.Errorf(bot.EINVALID, "That is not a link to a Discord server message (Copy Message Link gives one).")
	}
	m, err := callRetry(ctx, func(opts ...discordgo.RequestOption) (*discordgo.Message, error) {
		return a.api.ChannelMessage(channel, id, opts...)
	})
	if err != nil {
		if s := restStatus(err); s == 403 || s == 404 {
			return nil, bot.Errorf(bot.ENOTFOUND, "I cannot read that message (is it in a channel I can see?).")
		}
		return nil, err
	}
	if m.ChannelID == "" {
		m.ChannelID = channel
	}
	return a.message(ctx, guild, m, nil), nil
}

// ChannelName shows a channel the way Discord renders a mention of it.
func (a *Adapter) ChannelName(id string) string { return "<#" + id + ">" }
