package slacktest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/slack-go/slack"
)

// Sign returns the X-Slack-Signature Slack computes for body sent at
// timestamp (Unix seconds): "v0=" + hex(HMAC-SHA256(secret, "v0:ts:body")).
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// HTTPSender delivers payloads to an app's HTTP-mode endpoints the way
// Slack does: signed, form-encoded or JSON, with retry headers on demand.
type HTTPSender struct {
	// BaseURL is where the app serves /slack/events, /slack/interactions
	// and /slack/commands.
	BaseURL string
	Secret  string
	// Client defaults to a client with a 10 s timeout.
	Client *http.Client
	// Now defaults to time.Now; set it to sign with another clock.
	Now func() time.Time
}

// Post signs body and POSTs it to path with extra headers; it returns the
// HTTP status.
func (h *HTTPSender) Post(ctx context.Context, path, contentType string, body []byte, header http.Header) (int, error) {
	status, _, err := h.PostResponse(ctx, path, contentType, body, header)
	return status, err
}

// PostResponse is Post that also returns the response body (at most 1 MiB).
func (h *HTTPSender) PostResponse(ctx context.Context, path, contentType string, body []byte, header http.Header) (int, []byte, error) {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	ts := strconv.FormatInt(now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	if req.Header.Get("X-Slack-Signature") == "" {
		req.Header.Set("X-Slack-Signature", Sign(h.Secret, ts, body))
	}
	c := h.Client
	if c == nil {
		c = &http.Client{Timeout: 60 * time.Second} // generous: a loaded test machine is slow, and the bound is only against a hang
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

// Event delivers an Events API payload to /slack/events.
func (h *HTTPSender) Event(ctx context.Context, payload []byte) (int, error) {
	return h.Post(ctx, "/slack/events", "application/json", payload, nil)
}

// EventRetry delivers payload again as Slack's retry number n
// (X-Slack-Retry-Num, X-Slack-Retry-Reason: http_timeout).
func (h *HTTPSender) EventRetry(ctx context.Context, payload []byte, n int) (int, error) {
	hdr := http.Header{}
	hdr.Set("X-Slack-Retry-Num", strconv.Itoa(n))
	hdr.Set("X-Slack-Retry-Reason", "http_timeout")
	return h.Post(ctx, "/slack/events", "application/json", payload, hdr)
}

// Command delivers a slash command to /slack/commands, form-encoded.
func (h *HTTPSender) Command(ctx context.Context, cmd slack.SlashCommand) (int, error) {
	return h.Post(ctx, "/slack/commands", "application/x-www-form-urlencoded", []byte(CommandForm(cmd).Encode()), nil)
}

// Interaction delivers an interaction payload to /slack/interactions as the
// form field payload.
func (h *HTTPSender) Interaction(ctx context.Context, payload []byte) (int, error) {
	body := url.Values{"payload": {string(payload)}}.Encode()
	return h.Post(ctx, "/slack/interactions", "application/x-www-form-urlencoded", []byte(body), nil)
}

// InteractionResponse is Interaction that also returns the body of the
// bot's answer (a view_submission's response_action, for example).
func (h *HTTPSender) InteractionResponse(ctx context.Context, payload []byte) (int, []byte, error) {
	body := url.Values{"payload": {string(payload)}}.Encode()
	return h.PostResponse(ctx, "/slack/interactions", "application/x-www-form-urlencoded", []byte(body), nil)
}

// CommandForm is a slash command as the form Slack posts.
func CommandForm(c slack.SlashCommand) url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set("token", c.Token)
	set("team_id", c.TeamID)
	set("team_domain", c.TeamDomain)
	set("enterprise_id", c.EnterpriseID)
	set("channel_id", c.ChannelID)
	set("channel_name", c.ChannelName)
	set("user_id", c.UserID)
	set("user_name", c.UserName)
	set("command", c.Command)
	v.Set("text", c.Text)
	set("response_url", c.ResponseURL)
	set("trigger_id", c.TriggerID)
	set("api_app_id", c.APIAppID)
	return v
}
