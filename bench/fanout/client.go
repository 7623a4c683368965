package fanout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
)

// Platform is the name of the fake chat platform in mentions and deliveries.
const Platform = "fakechat"

// Client is a bot.Platform that posts to a Fake over HTTP. Its
// ChannelInterval (bot.Pacer) is the fake's per-channel interval.
type Client struct {
	base     string
	worker   string
	interval time.Duration
	hc       *http.Client
}

var (
	_ bot.Platform = (*Client)(nil)
	_ bot.Pacer    = (*Client)(nil)
)

// NewClient returns a client of the fake API at base; worker is sent as
// X-Worker so the fake can tell replicas apart.
func NewClient(base, worker string, interval time.Duration) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 2048
	tr.MaxIdleConnsPerHost = 2048
	return &Client{base: base, worker: worker, interval: interval, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// Name returns Platform.
func (c *Client) Name() string { return Platform }

// ChannelInterval is the fake's per-channel interval.
func (c *Client) ChannelInterval() time.Duration { return c.interval }

// Post posts m. *bot.RetryAfterError on 429, *bot.PermanentError on other 4xx.
func (c *Client) Post(ctx context.Context, m bot.OutMessage) (bot.MessageRef, error) {
	body, _ := json.Marshal(postBody{Channel: m.Channel, Thread: m.ThreadID, Text: m.Text, IdempotencyKey: m.IdempotencyKey})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/chat.post", bytes.NewReader(body))
	if err != nil {
		return bot.MessageRef{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Worker", c.worker)
	resp, err := c.hc.Do(req)
	if err != nil {
		return bot.MessageRef{}, fmt.Errorf("chat.post: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		OK         bool    `json:"ok"`
		ID         string  `json:"id"`
		TS         string  `json:"ts"`
		Replayed   bool    `json:"replayed"`
		Error      string  `json:"error"`
		RetryAfter float64 `json:"retry_after"`
	}
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		after := time.Duration(out.RetryAfter * float64(time.Second))
		if out.RetryAfter <= 0 { // no precise value: the header's whole seconds
			s, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			after = time.Duration(max(s, 1)) * time.Second
		}
		return bot.MessageRef{}, &bot.RetryAfterError{After: after, Err: errors.New("ratelimited")}
	case resp.StatusCode >= 500:
		return bot.MessageRef{}, fmt.Errorf("chat.post: HTTP %d", resp.StatusCode)
	case resp.StatusCode != http.StatusOK || !out.OK:
		return bot.MessageRef{}, &bot.PermanentError{Err: fmt.Errorf("chat.post: HTTP %d %s", resp.StatusCode, out.Error)}
	}
	ref := bot.MessageRef{Platform: Platform, Workspace: m.Workspace, Channel: m.Channel, ID: out.ID, ThreadID: m.ThreadID, Replayed: out.Replayed}
	if ref.Replayed {
		ref.PostedAt = parseTS(out.TS)
	}
	return ref, nil
}

// parseTS reads the fake's message time, Unix seconds with microseconds
// ("1700000000.123456"); zero when it is not one.
func parseTS(ts string) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}
	}
	var us int64
	if frac != "" {
		if us, err = strconv.ParseInt((frac + "000000")[:6], 10, 64); err != nil {
			return time.Time{}
		}
	}
	return time.Unix(s, us*1000)
}

// Update does nothing: the harness posts no progress message.
func (c *Client) Update(ctx context.Context, ref bot.MessageRef, m bot.OutMessage) error { return nil }
