package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/slack-go/slack"
)

// Block Kit and message limits (Slack's Block Kit reference: section text
// 3000 characters, button text 75, action ids 255, 50 blocks a message).
const (
	maxSectionText = 3000
	maxActions     = 25
	maxBlocks      = 50
	maxButtonText  = 75
	maxActionID    = 255
	// maxFallbackText bounds the top-level text field (notifications and
	// clients without blocks). Slack truncates above 40,000 characters and
	// recommends 4,000.
	maxFallbackText = 4000
)

// Post sends msg with chat.postMessage (in msg.ThreadID's thread when set) as
// Block Kit sections plus one actions block per 25 buttons, with msg.Text as
// the notification fallback. It returns *bot.RetryAfterError when Slack
// answers 429 and *bot.PermanentError when retrying cannot help.
//
// msg.IdempotencyKey is not used: chat.postMessage has no idempotency key
// or nonce, so Slack cannot de-duplicate a repeated post. Residual risk: if
// the process dies (or the post's context times out after Slack accepted
// it) between a successful chat.postMessage and the delivery worker's
// FinishDelivery, the delivery is retried once its worker is taken for dead
// (three missed heartbeats) or its lease lapses, and the reply shows twice
// in the thread (the ref is never Replayed). The window is one HTTP round
// trip plus one store write per post, but a worker killed in the middle of
// a fan-out has one such post in flight in many channels at once (the
// fan-out benchmark re-posts 14-385 of 10,000 after a SIGKILL). Closing it
// would take a read before each retried post (for example: tag posts with
// message metadata carrying the key and look for it with
// conversations.replies), which costs a Tier 3 call per retry.
func (a *Adapter) Post(ctx context.Context, msg bot.OutMessage) (bot.MessageRef, error) {
	opts := messageOptions(msg.Text, msg.Buttons)
	if msg.ThreadID != "" {
		opts = append(opts, slack.MsgOptionTS(msg.ThreadID))
	}
	ch, ts, err := a.api.PostMessageContext(ctx, msg.Channel, opts...)
	if err != nil {
		return bot.MessageRef{}, classify("chat.postMessage", err)
	}
	if ch == "" {
		ch = msg.Channel
	}
	return bot.MessageRef{Platform: bot.PlatformSlack, Workspace: msg.Workspace, Channel: ch, ID: ts, ThreadID: msg.ThreadID}, nil
}

// Update replaces the text and buttons of the bot's message ref
// (chat.update). Errors as Post.
func (a *Adapter) Update(ctx context.Context, ref bot.MessageRef, msg bot.OutMessage) error {
	if _, _, _, err := a.api.UpdateMessageContext(ctx, ref.Channel, ref.ID, messageOptions(msg.Text, msg.Buttons)...); err != nil {
		return classify("chat.update", err)
	}
	return nil
}

// Tell shows text to to.User alone in to's conversation
// (chat.postEphemeral). Errors as Post.
func (a *Adapter) Tell(ctx context.Context, to bot.Recipient, text string) error {
	opts := messageOptions(text, nil)
	if to.ThreadID != "" {
		opts = append(opts, slack.MsgOptionTS(to.ThreadID))
	}
	if _, err := a.api.PostEphemeralContext(ctx, to.Channel, to.User.ID, opts...); err != nil {
		return classify("chat.postEphemeral", err)
	}
	return nil
}

// React adds the emoji (a Slack name such as "eyes") to ref. Reacting twice
// is not an error.
func (a *Adapter) React(ctx context.Context, ref bot.MessageRef, emoji string) error {
	err := a.api.AddReactionContext(ctx, strings.Trim(emoji, ":"), slack.NewRefToMessage(ref.Channel, ref.ID))
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && se.Err == "already_reacted" {
		return nil
	}
	if err != nil {
		return classify("reactions.add", err)
	}
	return nil
}

// permanentErrors are Slack error codes that retrying cannot fix.
var permanentErrors = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true,
	"invalid_auth": true, "not_authed": true, "account_inactive": true,
	"token_revoked": true, "token_expired": true, "no_permission": true,
	"missing_scope": true, "restricted_action": true, "msg_too_long": true,
	"no_text": true, "invalid_blocks": true, "invalid_blocks_format": true,
	"invalid_arguments": true, "message_not_found": true, "cant_update_message": true,
	"edit_window_closed": true, "ekm_access_denied": true, "team_access_not_granted": true,
	"too_many_attachments": true, "invalid_name": true, "bad_timestamp": true,
	"thread_not_found": true, "channel_is_archived": true, "user_not_in_channel": true,
	"not_allowed_token_type": true, "method_deprecated": true, "unknown_method": true,
}

// classify maps a slack-go error to the engine's retry semantics.
func classify(method string, err error) error {
	wrapped := fmt.Errorf("slack %s: %w", method, err)
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return &bot.RetryAfterError{After: rl.RetryAfter, Err: wrapped}
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		switch {
		case sc.Code == http.StatusTooManyRequests:
			return &bot.RetryAfterError{After: channelInterval, Err: wrapped}
		case sc.Code >= 400 && sc.Code < 500 && sc.Code != http.StatusRequestTimeout:
			return &bot.PermanentError{Err: wrapped}
		}
		return wrapped
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		if se.Err == "ratelimited" || se.Err == "rate_limited" {
			return &bot.RetryAfterError{After: channelInterval, Err: wrapped}
		}
		if permanentErrors[se.Err] {
			return &bot.PermanentError{Err: wrapped}
		}
	}
	return wrapped
}

// messageOptions renders text and buttons as a fallback text plus blocks.
func messageOptions(text string, buttons []bot.Button) []slack.MsgOption {
	return []slack.MsgOption{
		slack.MsgOptionText(fallbackText(text), false),
		slack.MsgOptionBlocks(buildBlocks(text, buttons)...),
	}
}

// fallbackText is the top-level text: plain, escaped, at most
// maxFallbackText runes.
func fallbackText(text string) string {
	return truncateRunes(escapeText(text), maxFallbackText)
}

// buildBlocks renders text as mrkdwn sections of at most maxSectionText
// characters and buttons as actions blocks of at most maxActions elements,
// within maxBlocks blocks: buttons are kept first, text that does not fit is
// cut with "…".
func buildBlocks(text string, buttons []bot.Button) []slack.Block {
	var actions []slack.Block
	for i := 0; i < len(buttons) && len(actions) < maxBlocks; i += maxActions {
		end := min(i+maxActions, len(buttons))
		var els []slack.BlockElement
		for _, b := range buttons[i:end] {
			id := truncateBytes(b.ID, maxActionID)
			btn := slack.NewButtonBlockElement(id, id,
				slack.NewTextBlockObject(slack.PlainTextType, truncateRunes(label(b), maxButtonText), true, false))
			switch b.Style {
			case bot.StylePrimary:
				btn = btn.WithStyle(slack.StylePrimary)
			case bot.StyleDanger:
				btn = btn.WithStyle(slack.StyleDanger)
			}
			els = append(els, btn)
		}
		actions = append(actions, slack.NewActionBlock(fmt.Sprintf("actions_%d", len(actions)), els...))
	}
	room := maxBlocks - len(actions)
	chunks := splitText(escapeText(text), maxSectionText)
	if len(chunks) > room {
		chunks = chunks[:room]
		if room > 0 {
			last := chunks[room-1]
			chunks[room-1] = last[:runeOffset(last, maxSectionText-1)] + "…"
		}
	}
	blocks := make([]slack.Block, 0, len(chunks)+len(actions))
	for _, c := range chunks {
		blocks = append(blocks, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, c, false, false), nil, nil))
	}
	return append(blocks, actions...)
}

func label(b bot.Button) string {
	if strings.TrimSpace(b.Label) != "" {
		return b.Label
	}
	return b.ID
}

// escapeText escapes the three characters Slack's mrkdwn reserves.
func escapeText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// splitText cuts s into chunks of at most max runes, at line breaks when it
// can, else at spaces, never inside an escape such as "&amp;". Blank chunks
// are dropped.
func splitText(s string, max int) []string {
	var out []string
	for s != "" {
		if utf8.RuneCountInString(s) <= max {
			out = appendChunk(out, s)
			break
		}
		cut := runeOffset(s, max) // byte offset just past max runes
		head := s[:cut]
		at := strings.LastIndex(head, "\n")
		if at < len(head)/2 {
			at = strings.LastIndex(head, " ")
		}
		if at < len(head)/2 {
			at = cut
			if amp := strings.LastIndex(head, "&"); amp >= 0 && amp > cut-6 && !strings.Contains(head[amp:], ";") {
				at = amp
			}
		}
		if at <= 0 {
			at = cut
		}
		out = appendChunk(out, s[:at])
		s = strings.TrimLeft(s[at:], "\n ")
	}
	return out
}

func appendChunk(out []string, c string) []string {
	if strings.TrimSpace(c) == "" {
		return out
	}
	return append(out, c)
}

// runeOffset returns the byte offset of the n-th rune of s (len(s) if s is
// shorter).
func runeOffset(s string, n int) int {
	i := 0
	for off := range s {
		if i == n {
			return off
		}
		i++
	}
	return len(s)
}

// truncateRunes shortens s to at most n runes, ending with "…" when cut.
func truncateRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return s[:runeOffset(s, n-1)] + "…"
}

// truncateBytes shortens s to at most n bytes at a rune boundary.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
