package discord

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/bwmarrin/discordgo"

	"github.com/feedbackbot/feedbackbot/bot"
)

// Discord limits (Discord API reference: message content 2000 characters,
// button labels 80, custom ids 100, 5 buttons a row, 5 rows).
const (
	maxContent       = 2000 // message content, characters
	maxLabel         = 80   // button label
	maxCustomID      = 100  // button custom_id
	maxButtonsPerRow = 5
	maxRows          = 5
	maxNonce         = 25 // message nonce, characters
)

// noMentions keeps posted text (which quotes users' feedback) from pinging
// anyone, except the author of a message the bot replies to.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}, RepliedUser: true}
}

// Post posts msg. When msg.ThreadID names a thread it posts in the thread;
// when it names a message without a thread it posts in msg.Channel as a
// reply to that message. Text longer than Discord allows is split into
// several messages; the buttons go with the last one, whose reference is
// returned.
//
// When msg.IdempotencyKey is set, each message carries a nonce derived from
// it (and the chunk's index) with enforce_nonce, so that Discord answers a
// repeated post within a few minutes with the message it already created
// instead of posting it twice: a delivery retried after a crash between
// its post and its bookkeeping shows once. When every message of the post
// comes back created well before this attempt (replayTolerance), the
// returned reference is Replayed, with PostedAt the last one's timestamp,
// so that the delivery worker does not spend a slot of the channel on it.
//
// Errors: *bot.RetryAfterError on 429, *bot.PermanentError when the
// channel is unknown or forbidden.
func (a *Adapter) Post(ctx context.Context, msg bot.OutMessage) (bot.MessageRef, error) {
	if msg.Channel == "" && msg.ThreadID == "" {
		return bot.MessageRef{}, &bot.PermanentError{Err: errors.New("discord: post: no channel")}
	}
	target := msg.Channel
	var ref *discordgo.MessageReference
	if msg.ThreadID != "" {
		thread, err := a.isThreadRoot(ctx, msg.Channel, msg.ThreadID)
		if err != nil {
			return bot.MessageRef{}, platformError(err)
		}
		if thread {
			target = msg.ThreadID
		} else {
			no := false
			ref = &discordgo.MessageReference{MessageID: msg.ThreadID, ChannelID: msg.Channel, GuildID: msg.Workspace, FailIfNotExists: &no}
		}
	}
	comps := components(a.log, msg.Buttons)
	chunks := splitContent(neutralizeLinks(msg.Text), maxContent)
	var last *discordgo.Message
	replayed := msg.IdempotencyKey != ""
	for n, chunk := range chunks {
		send := &discordgo.MessageSend{Content: chunk, AllowedMentions: noMentions()}
		if n == 0 {
			send.Reference = ref
		}
		if n == len(chunks)-1 {
			send.Components = comps
		}
		var m *discordgo.Message
		var err error
		if msg.IdempotencyKey != "" {
			sentAt := time.Now()
			m, err = a.sendWithNonce(ctx, target, send, nonce(msg.IdempotencyKey, n))
			if err == nil && !m.Timestamp.Before(sentAt.Add(-replayTolerance)) {
				replayed = false // created by this attempt
			}
		} else {
			m, err = a.api.ChannelMessageSendComplex(target, send, discordgo.WithContext(ctx))
		}
		if err != nil {
			return bot.MessageRef{}, platformError(err)
		}
		last = m
		a.posted.Put(m.ID, target)
		if target == msg.Channel && ref == nil {
			// A new top-level post has no thread (the engine may hang a
			// request's conversation on it).
			a.roots.Put(m.ID, rootInfo{thread: false})
		}
	}
	out := bot.MessageRef{
		Platform:  bot.PlatformDiscord,
		Workspace: msg.Workspace,
		Channel:   msg.Channel,
		ID:        last.ID,
		ThreadID:  msg.ThreadID,
	}
	if replayed {
		out.Replayed, out.PostedAt = true, last.Timestamp
	}
	return out, nil
}

// replayTolerance: a message that Discord returns for a post with a nonce
// is taken for one an earlier attempt created (enforce_nonce) only when its
// timestamp is more than this before the attempt was sent, so that a clock
// of this host running ahead of Discord's never makes a new message look
// old. A replay within it is counted as a new post, which is only slower. A
// crashed worker's deliveries are retried several seconds after it died
// (three missed heartbeats), well past it.
const replayTolerance = time.Second

// maskedLink finds Discord masked links, [text](url), and the
// [text](<url>) form.
var maskedLink = regexp.MustCompile(`\[([^\[\]\n]*)\]\(`)

// neutralizeLinks escapes the brackets of masked links in text the bot
// posts: captured chat text echoed in a card or reply must not show a
// link whose target is hidden behind other words. The bot's own sentences
// have no masked links.
func neutralizeLinks(s string) string {
	if !strings.Contains(s, "](") {
		return s
	}
	return maskedLink.ReplaceAllString(s, `\[$1\](`)
}

// nonceSend is a message create body with a nonce (discordgo v0.29's
// MessageSend has no such fields).
type nonceSend struct {
	*discordgo.MessageSend
	Nonce        string `json:"nonce"`
	EnforceNonce bool   `json:"enforce_nonce"`
}

// sendWithNonce posts send in channel with nonce and enforce_nonce, as
// ChannelMessageSendComplex would post it without (no files, so a JSON
// body).
func (a *Adapter) sendWithNonce(ctx context.Context, channel string, send *discordgo.MessageSend, nonce string) (*discordgo.Message, error) {
	endpoint := discordgo.EndpointChannelMessages(channel)
	body, err := a.api.RequestWithBucketID("POST", endpoint, nonceSend{MessageSend: send, Nonce: nonce, EnforceNonce: true}, endpoint, discordgo.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	var m discordgo.Message
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("discord: decode posted message: %w", err)
	}
	if m.ID == "" {
		return nil, errors.New("discord: posted message has no id")
	}
	return &m, nil
}

// nonce derives the nonce of chunk n of a post from its idempotency key:
// the key itself (with "#n" for chunks after the first) when it fits
// Discord's 25 characters, else a 25-character hash of that.
func nonce(key string, n int) string {
	if n > 0 {
		key += "#" + strconv.Itoa(n)
	}
	if len(key) <= maxNonce {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "fb" + base64.RawURLEncoding.EncodeToString(sum[:])[:maxNonce-2]
}

// messageChannel returns the channel that holds the message ref names:
// the thread for a message posted in a thread, the channel otherwise (a
// thread's starter message lives in the parent channel, except in forums).
// alt is the other candidate, tried when Discord says the message is not in
// channel: a card posted as a reply before someone opened a thread on the
// root keeps living in the channel.
func (a *Adapter) messageChannel(ctx context.Context, ref bot.MessageRef) (channel, alt string, err error) {
	if ch, ok := a.posted.Get(ref.ID); ok {
		return ch, "", nil
	}
	if ref.ThreadID == "" || ref.Channel == "" || ref.ThreadID == ref.Channel {
		if ref.Channel == "" {
			return ref.ThreadID, "", nil
		}
		return ref.Channel, "", nil
	}
	thread, err := a.isThreadRoot(ctx, ref.Channel, ref.ThreadID)
	if err != nil || !thread {
		return ref.Channel, "", err
	}
	if ref.ID == ref.ThreadID {
		if ci, ok := a.channel(ctx, ref.Channel); !ok || !ci.isForum() {
			return ref.Channel, "", nil
		}
	}
	return ref.ThreadID, ref.Channel, nil
}

// onMessage calls fn with the channel holding ref's message, and with the
// alternative channel when the first answers 404.
func (a *Adapter) onMessage(ctx context.Context, ref bot.MessageRef, fn func(channel string) error) error {
	channel, alt, err := a.messageChannel(ctx, ref)
	if err != nil {
		return platformError(err)
	}
	err = fn(channel)
	if err != nil && alt != "" && restStatus(err) == 404 {
		if err = fn(alt); err == nil {
			a.posted.Put(ref.ID, alt)
		}
	}
	return platformError(err)
}

// Update replaces the text and buttons of a message the bot posted (no
// buttons removes them). Errors as for Post.
func (a *Adapter) Update(ctx context.Context, ref bot.MessageRef, msg bot.OutMessage) error {
	if ref.ID == "" {
		return &bot.PermanentError{Err: errors.New("discord: update: no message id")}
	}
	text := truncate(neutralizeLinks(msg.Text), maxContent)
	comps := components(a.log, msg.Buttons)
	if comps == nil {
		comps = []discordgo.MessageComponent{}
	}
	return a.onMessage(ctx, ref, func(channel string) error {
		edit := &discordgo.MessageEdit{ID: ref.ID, Channel: channel, Content: &text, Components: &comps, AllowedMentions: noMentions()}
		_, err := a.api.ChannelMessageEditComplex(edit, discordgo.WithContext(ctx))
		return err
	})
}

// React adds emoji (a Slack-style name such as "eyes", or a custom emoji
// "name:id") to the message ref names. Errors as for Post.
func (a *Adapter) React(ctx context.Context, ref bot.MessageRef, emoji string) error {
	e := url.PathEscape(emojiAPI(emoji))
	return a.onMessage(ctx, ref, func(channel string) error {
		return a.api.MessageReactionAdd(channel, ref.ID, e, discordgo.WithContext(ctx))
	})
}

// components lays buttons out in action rows of up to 5, at most 5 rows.
// Buttons Discord would reject (empty or over-long custom id, duplicate
// id) are dropped and logged; labels are shortened to 80 characters.
func components(log *slog.Logger, buttons []bot.Button) []discordgo.MessageComponent {
	var rows []discordgo.MessageComponent
	var row discordgo.ActionsRow
	seen := make(map[string]bool, len(buttons))
	for _, b := range buttons {
		if b.ID == "" || len(b.ID) > maxCustomID || seen[b.ID] {
			log.Warn("dropping button discord cannot show", "custom_id_len", len(b.ID))
			continue
		}
		if len(rows) == maxRows {
			log.Warn("dropping buttons beyond discord's 25", "buttons", len(buttons))
			break
		}
		seen[b.ID] = true
		style := discordgo.SecondaryButton
		switch b.Style {
		case bot.StylePrimary:
			style = discordgo.PrimaryButton
		case bot.StyleDanger:
			style = discordgo.DangerButton
		}
		label := truncate(strings.TrimSpace(b.Label), maxLabel)
		if label == "" {
			label = truncate(b.ID, maxLabel)
		}
		row.Components = append(row.Components, discordgo.Button{CustomID: b.ID, Label: label, Style: style})
		if len(row.Components) == maxButtonsPerRow {
			rows = append(rows, row)
			row = discordgo.ActionsRow{}
		}
	}
	if len(row.Components) > 0 && len(rows) < maxRows {
		rows = append(rows, row)
	}
	return rows
}

// length counts characters as Discord does (UTF-16 code units, which is
// never less than the number of code points).
func length(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// truncate shortens s to at most max characters, ending with "…" when cut.
func truncate(s string, max int) string {
	if length(s) <= max {
		return s
	}
	n := 0
	for i, r := range s {
		if n+utf16.RuneLen(r) > max-1 {
			return s[:i] + "…"
		}
		n += utf16.RuneLen(r)
	}
	return s
}

// splitContent splits s into pieces of at most max characters, at line
// breaks when it can, else at spaces, else anywhere between runes.
func splitContent(s string, max int) []string {
	if length(s) <= max {
		return []string{s}
	}
	var out []string
	for length(s) > max {
		// Longest prefix within max characters.
		cut, n := 0, 0
		for i, r := range s {
			if n+utf16.RuneLen(r) > max {
				cut = i
				break
			}
			n += utf16.RuneLen(r)
		}
		head := s[:cut]
		if i := strings.LastIndex(head, "\n"); i > max/2 {
			head = head[:i+1]
		} else if i := strings.LastIndex(head, " "); i > max/2 {
			head = head[:i+1]
		}
		out = append(out, strings.TrimRight(head, "\n "))
		s = strings.TrimLeft(s[len(head):], "\n")
	}
	if s = strings.TrimRight(s, "\n "); s != "" {
		out = append(out, s)
	}
	return out
}
