package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
	"github.com/feedbackbot/feedbackbot/bot/discord"
	"github.com/feedbackbot/feedbackbot/bot/slack"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// TestDefaultsHaveOneSource: the binary's defaults for engine settings
// and platform URLs are the packages' own, and an unset suggestion
// threshold reaches the engine as the duplicate index's calibrated one.
func TestDefaultsHaveOneSource(t *testing.T) {
	c, b := DefaultConfig(), bot.DefaultConfig()
	if c.KeyPrefix != b.KeyPrefix || c.CaptureEmoji != b.CaptureEmoji || c.VoteEmoji != b.VoteEmoji ||
		c.SuggestThreshold != b.SuggestThreshold || c.AutoMergeThreshold != b.AutoMergeThreshold {
		t.Errorf("cmd defaults %+v differ from bot.DefaultConfig %+v", c, b)
	}
	if c.SlackAPIURL != slack.DefaultAPIURL || c.DiscordAPIURL != discord.DefaultAPIURL {
		t.Errorf("platform URLs %q, %q", c.SlackAPIURL, c.DiscordAPIURL)
	}
	m := &Main{Getenv: func(string) string { return "" }}
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	if got := m.engineConfig(m.Config).SuggestThreshold; got != dedup.DefaultSuggestThreshold {
		t.Errorf("engine suggest threshold %v, want dedup.DefaultSuggestThreshold %v", got, dedup.DefaultSuggestThreshold)
	}
	m = &Main{Getenv: func(k string) string { return map[string]string{"FEEDBACKBOT_SUGGEST_THRESHOLD": "0.5"}[k] }}
	if err := m.ParseFlags([]string{"console"}); err != nil {
		t.Fatal(err)
	}
	if got := m.engineConfig(m.Config).SuggestThreshold; got != 0.5 {
		t.Errorf("FEEDBACKBOT_SUGGEST_THRESHOLD=0.5 gave %v", got)
	}
}

// TestCloseAfterFailedStart: when Run fails half-way (here: the HTTP
// listener is up, then the Slack settings are refused), Close releases
// everything it started, once, and may be called again.
func TestCloseAfterFailedStart(t *testing.T) {
	var stderr bytes.Buffer
	env := map[string]string{"SLACK_BOT_TOKEN": "xoxb-test"} // no app token, no signing secret
	var addr string
	m := &Main{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &stderr,
		Getenv: func(k string) string { return env[k] }, Listening: func(a string) { addr = a }}
	if err := m.ParseFlags([]string{"--database-url", storetest.SQLiteDSN(t), "--http-addr", "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	err := m.Run(context.Background())
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "SLACK_APP_TOKEN") {
		t.Fatalf("Run = %v, want the Slack settings refused", err)
	}
	if addr == "" {
		t.Fatal("the HTTP listener did not start before the failure")
	}
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ln, err := net.Listen("tcp", addr) // the listener is gone
	if err != nil {
		t.Fatalf("the HTTP listener still holds %s after Close: %v", addr, err)
	}
	ln.Close()
	if err := m.db.Ping(context.Background()); err == nil {
		t.Error("the database is still open after Close")
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
