package bot

import (
	"context"
	"errors"
	"time"
)

// Button is an action the bot offers under a message. ID is the action id the
// adapter sends back in EventButton; it identifies the action and carries no
// secret. IDs are short (≤ 64 bytes) so they fit Slack action ids and Discord
// custom ids.
type Button struct {
	ID    string
	Label string
	Style string // "primary", "danger" or ""
}

// Button styles.
const (
	StylePrimary = "primary"
	StyleDanger  = "danger"
)

// OutMessage is a message the bot posts.
type OutMessage struct {
	Workspace string
	Channel   string
	// ThreadID is the root message of the conversation to reply in; "" posts
	// at the top level of the channel.
	ThreadID string
	Text     string
	Buttons  []Button
	// IdempotencyKey, when set, is the same for every attempt at posting one
	// delivery ("feedbackbot-delivery-<id>"). Platforms that can de-duplicate
	// posts (Discord's nonce with enforce_nonce) may pass it on, so that a
	// retry after a crash between the post and its bookkeeping shows once.
	IdempotencyKey string
}

// MessageRef identifies a posted message.
type MessageRef struct {
	Platform  string
	Workspace string
	Channel   string
	ID        string
	ThreadID  string
	// Replayed, set by Post, says that the platform recognised the
	// message's IdempotencyKey and answered with the message an earlier
	// attempt had posted, at PostedAt, instead of posting it again (Discord
	// with a nonce and enforce_nonce; a delivery re-posted after a crash
	// between its post and its bookkeeping). The delivery worker then
	// counts the channel's pace from PostedAt rather than from this
	// attempt, so that a re-post absorbed by the platform does not take a
	// slot of its channel. PostedAt is zero when the platform did not say.
	Replayed bool
	PostedAt time.Time
}

// Platform is what the engine needs from a chat adapter to speak. Post and
// Update return *RetryAfterError when rate limited and *PermanentError when
// retrying cannot help.
type Platform interface {
	Name() string
	Post(ctx context.Context, msg OutMessage) (MessageRef, error)
	Update(ctx context.Context, ref MessageRef, msg OutMessage) error
}

// Reactor is implemented by platforms that can add a reaction to a message
// (used to acknowledge a reply joined to a captured thread).
type Reactor interface {
	React(ctx context.Context, ref MessageRef, emoji string) error
}

// Pacer is implemented by platforms that limit how fast the bot may post in
// one channel. The delivery worker waits at least ChannelInterval between two
// posts in the same channel.
type Pacer interface {
	ChannelInterval() time.Duration
}

// Throttle is implemented by platforms with a platform-wide posting limit
// (Discord: 50 requests per second per bot; Slack: a workspace-wide limit on
// chat.postMessage). The delivery worker keeps its posts to the platform at
// or under PostRate per second, with bursts of at most PostBurst, so that a
// fan-out never gets the bot limited globally. Config.DeliveryRate overrides
// it.
type Throttle interface {
	PostRate() (perSecond float64, burst int)
}

// CallObserver is implemented by Metrics that also record platform API
// calls: latency and outcome ("ok", "429" or "error").
type CallObserver interface {
	PlatformCall(platform, method string, d time.Duration, status string)
}

// post calls p.Post and reports it to the metrics.
func (e *Engine) post(ctx context.Context, p Platform, msg OutMessage) (MessageRef, error) {
	start := time.Now()
	ref, err := p.Post(ctx, msg)
	e.observeCall(p.Name(), "post", start, err)
	return ref, err
}

// update calls p.Update and reports it to the metrics.
func (e *Engine) update(ctx context.Context, p Platform, ref MessageRef, msg OutMessage) error {
	start := time.Now()
	err := p.Update(ctx, ref, msg)
	e.observeCall(p.Name(), "update", start, err)
	return err
}

func (e *Engine) observeCall(platform, method string, start time.Time, err error) {
	o, ok := e.metrics.(CallObserver)
	if !ok {
		return
	}
	status := "ok"
	var ra *RetryAfterError
	switch {
	case errors.As(err, &ra):
		status = "429"
	case err != nil:
		status = "error"
	}
	o.PlatformCall(platform, method, time.Since(start), status)
}
