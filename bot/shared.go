package bot

import "context"

// SharedChannels is implemented by platforms that know when a channel is
// shared with other organisations (Slack Connect). What the bot posts or
// answers there leaves out organisation and company names, values and
// internal notes.
type SharedChannels interface {
	IsSharedChannel(ctx context.Context, workspace, channel string) bool
}

// TextFor is the presenter for what goes into one channel: Text with
// Shared set when the platform says the channel is shared with other
// organisations.
func (e *Engine) TextFor(ctx context.Context, platform, workspace, channel string) Text {
	t := e.Text()
	if channel == "" {
		return t
	}
	if sc, ok := e.platform(platform).(SharedChannels); ok && sc.IsSharedChannel(ctx, workspace, channel) {
		t.Shared = true
	}
	return t
}
