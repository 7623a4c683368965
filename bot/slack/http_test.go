package slack

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/slacktest"
)

// Slack's worked example from "Verifying requests from Slack"
// (api.slack.com/authentication/verifying-requests-from-slack).
const (
	exampleSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	exampleTimestamp = "1531420618"
	exampleBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	exampleSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

// TestSignWorkedExample: the fake's signer matches Slack's worked example,
// and the verifier accepts the example's signature scheme (signed now: the
// example's own 2018 timestamp is outside the replay window of the wall
// clock, which slack-go's verifier reads) and refuses the example as sent.
func TestSignWorkedExample(t *testing.T) {
	if got := slacktest.Sign(exampleSecret, exampleTimestamp, []byte(exampleBody)); got != exampleSignature {
		t.Fatalf("slacktest.Sign = %s", got)
	}
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", slacktest.Sign(exampleSecret, ts, []byte(exampleBody)))
	if err := checkSignature(exampleSecret, h, []byte(exampleBody), now); err != nil {
		t.Fatalf("worked example signed now: %v", err)
	}
	h.Set("X-Slack-Request-Timestamp", exampleTimestamp)
	h.Set("X-Slack-Signature", exampleSignature)
	if err := checkSignature(exampleSecret, h, []byte(exampleBody), now); err != errStale {
		t.Fatalf("worked example replayed years later: %v, want %v", err, errStale)
	}
}

// TestSignSharedFixture checks the worked example as saved in
// ../shared/fixtures (skips outside CI when absent).
func TestSignSharedFixture(t *testing.T) {
	b, err := os.ReadFile(sharedFile(t, "fixtures/slack/signing_test_vector_slash_command.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Secret  string            `json:"signing_secret"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for k, val := range v.Headers {
		h.Set(k, val)
	}
	ts := v.Headers["X-Slack-Request-Timestamp"]
	if got := slacktest.Sign(v.Secret, ts, []byte(v.Body)); got != h.Get("X-Slack-Signature") {
		t.Fatalf("slacktest.Sign = %s, fixture %s", got, h.Get("X-Slack-Signature"))
	}
	// The verifier accepts the fixture's body and secret signed now.
	now := time.Now()
	h.Set("X-Slack-Request-Timestamp", strconv.FormatInt(now.Unix(), 10))
	h.Set("X-Slack-Signature", slacktest.Sign(v.Secret, h.Get("X-Slack-Request-Timestamp"), []byte(v.Body)))
	if err := checkSignature(v.Secret, h, []byte(v.Body), now); err != nil {
		t.Fatal(err)
	}
}

// httpAdapter serves an adapter's Routes with the clock at now.
func httpAdapter(t *testing.T, secret string, now time.Time) (*Adapter, *fakeAPI, *recorder, *httptest.Server) {
	t.Helper()
	rec := newRecorder()
	a, api := newTestAdapter(t, Config{SigningSecret: secret}, rec)
	addPeople(api)
	a.now = func() time.Time { return now }
	mux := http.NewServeMux()
	a.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return a, api, rec, srv
}

func post(t *testing.T, url, contentType, body string, hdr map[string]string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func TestHTTPSignature(t *testing.T) {
	// The wall clock: slack-go's verifier checks the timestamp against it
	// (and the adapter's clock, fixed here, against the same window).
	exampleNow := time.Now()
	form := "application/x-www-form-urlencoded"
	t.Run("WorkedExampleAccepted", func(t *testing.T) {
		a, _, rec, srv := httpAdapter(t, exampleSecret, exampleNow)
		ts := strconv.FormatInt(exampleNow.Unix(), 10)
		code := post(t, srv.URL+"/slack/commands", form, exampleBody, map[string]string{
			"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": slacktest.Sign(exampleSecret, ts, []byte(exampleBody)),
		})
		if code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		ev := rec.next(t)
		if ev.Kind != bot.EventCommand || ev.Channel != "G8PSS9T3V" || ev.User.ID != "U2CERLKJA" || ev.Text != "" {
			t.Fatalf("event = %+v", ev)
		}
		waitJobs(t, a)
	})
	rejects := []struct {
		name   string
		path   string
		ctype  string
		body   string
		ts     string
		sig    string // "" = sign correctly, "-" = none, "original" = sign exampleBody
		status int
	}{
		{"BadSignature", "/slack/commands", form, exampleBody, "", "v0=" + strings.Repeat("0", 64), http.StatusUnauthorized},
		{"TamperedBody", "/slack/commands", form, strings.Replace(exampleBody, "roadrunner", "coyote", 1), "", "original", http.StatusUnauthorized},
		{"ReplayedYearsLater", "/slack/commands", form, exampleBody, exampleTimestamp, exampleSignature, http.StatusUnauthorized},
		{"MissingSignature", "/slack/commands", form, exampleBody, exampleTimestamp, "-", http.StatusUnauthorized},
		{"StaleTimestamp", "/slack/commands", form, exampleBody, strconv.FormatInt(exampleNow.Add(-6*time.Minute).Unix(), 10), "", http.StatusUnauthorized},
		{"FutureTimestamp", "/slack/events", "application/json", `{"type":"url_verification","challenge":"c"}`, strconv.FormatInt(exampleNow.Add(6*time.Minute).Unix(), 10), "", http.StatusUnauthorized},
		{"MalformedJSON", "/slack/events", "application/json", `{"type":"event_callback",`, "", "", http.StatusBadRequest},
		{"NotAnEvent", "/slack/events", "application/json", `[1,2]`, "", "", http.StatusBadRequest},
		{"MalformedInteraction", "/slack/interactions", form, "payload=%7Bnot-json", "", "", http.StatusBadRequest},
		{"CommandWithoutUser", "/slack/commands", form, "command=%2Ffeedback&text=x", "", "", http.StatusBadRequest},
		{"Oversize", "/slack/events", "application/json", `{"type":"event_callback","event":{"type":"message","text":"` + strings.Repeat("a", maxBodyLen) + `"}}`, "", "", http.StatusRequestEntityTooLarge},
	}
	for _, tt := range rejects {
		t.Run(tt.name, func(t *testing.T) {
			_, api, rec, srv := httpAdapter(t, exampleSecret, exampleNow)
			ts := tt.ts
			if ts == "" {
				ts = strconv.FormatInt(exampleNow.Unix(), 10)
			}
			hdr := map[string]string{"X-Slack-Request-Timestamp": ts}
			switch tt.sig {
			case "":
				hdr["X-Slack-Signature"] = slacktest.Sign(exampleSecret, ts, []byte(tt.body))
			case "-":
			case "original": // signed before the body was changed
				hdr["X-Slack-Signature"] = slacktest.Sign(exampleSecret, ts, []byte(exampleBody))
			default:
				hdr["X-Slack-Signature"] = tt.sig
			}
			if code := post(t, srv.URL+tt.path, tt.ctype, tt.body, hdr); code != tt.status {
				t.Fatalf("status %d, want %d", code, tt.status)
			}
			rec.none(t, 50*time.Millisecond)
			if n := len(api.sent()); n != 0 {
				t.Fatalf("%d messages sent", n)
			}
		})
	}
	t.Run("NoSecretConfigured", func(t *testing.T) {
		_, _, rec, srv := httpAdapter(t, "", exampleNow)
		ts := strconv.FormatInt(exampleNow.Unix(), 10)
		code := post(t, srv.URL+"/slack/commands", form, exampleBody, map[string]string{
			"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": slacktest.Sign("", ts, []byte(exampleBody)),
		})
		if code != http.StatusUnauthorized {
			t.Fatalf("status %d", code)
		}
		rec.none(t, 50*time.Millisecond)
	})
	t.Run("GetNotAllowed", func(t *testing.T) {
		_, _, _, srv := httpAdapter(t, exampleSecret, exampleNow)
		resp, err := http.Get(srv.URL + "/slack/events")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

func TestHTTPEvents(t *testing.T) {
	now := time.Now()
	sender := func(srv *httptest.Server) *slacktest.HTTPSender {
		return &slacktest.HTTPSender{BaseURL: srv.URL, Secret: "s3cret", Now: func() time.Time { return now }}
	}
	t.Run("URLVerification", func(t *testing.T) {
		_, _, rec, srv := httpAdapter(t, "s3cret", now)
		body := `{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
		ts := strconv.FormatInt(now.Unix(), 10)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/slack/events", strings.NewReader(body))
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", slacktest.Sign("s3cret", ts, []byte(body)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(got) != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
			t.Fatalf("%d %q", resp.StatusCode, got)
		}
		rec.none(t, 20*time.Millisecond)
	})
	t.Run("RetryProcessedOnce", func(t *testing.T) {
		a, _, rec, srv := httpAdapter(t, "s3cret", now)
		s := sender(srv)
		body := []byte(wrap(`{"type":"message","channel":"C1","user":"U1","text":"dark mode","ts":"10.1"}`))
		for i := range 3 {
			var code int
			var err error
			if i == 0 {
				code, err = s.Event(context.Background(), body)
			} else {
				code, err = s.EventRetry(context.Background(), body, i)
			}
			if err != nil || code != 200 {
				t.Fatalf("delivery %d: %d %v", i, code, err)
			}
		}
		if ev := rec.next(t); ev.Message.ID != "10.1" {
			t.Fatalf("event = %+v", ev)
		}
		rec.none(t, 100*time.Millisecond)
		waitJobs(t, a)
	})
	t.Run("UnknownEventAcked", func(t *testing.T) {
		_, _, rec, srv := httpAdapter(t, "s3cret", now)
		code, err := sender(srv).Event(context.Background(), []byte(`{"type":"event_callback","event_id":"Ev9","event":{"type":"brand_new_event"}}`))
		if err != nil || code != 200 {
			t.Fatalf("%d %v", code, err)
		}
		rec.none(t, 50*time.Millisecond)
	})
	t.Run("AppRateLimited", func(t *testing.T) {
		_, _, rec, srv := httpAdapter(t, "s3cret", now)
		code, err := sender(srv).Event(context.Background(), []byte(`{"token":"x","type":"app_rate_limited","team_id":"T1","minute_rate_limited":1518467820,"api_app_id":"A1"}`))
		if err != nil || code != 200 {
			t.Fatalf("%d %v", code, err)
		}
		rec.none(t, 50*time.Millisecond)
	})
	t.Run("AckBeforeWork", func(t *testing.T) {
		release := make(chan struct{})
		var once sync.Once
		t.Cleanup(func() { once.Do(func() { close(release) }) })
		a, _, _, srv := httpAdapter(t, "s3cret", now)
		var returned atomic.Bool
		a.h = HandlerFunc(func(ctx context.Context, ev *bot.Event) (*bot.Response, error) {
			defer returned.Store(true)
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil, nil
		})
		// The 200 arrives while the handler is still blocked: the ack does
		// not wait for the work (checked by order, not by a deadline).
		code, err := sender(srv).Event(context.Background(), []byte(wrap(`{"type":"message","channel":"C1","user":"U1","text":"x","ts":"10.1"}`)))
		if err != nil || code != 200 || returned.Load() {
			t.Fatalf("%d %v (handler had returned: %v)", code, err, returned.Load())
		}
		once.Do(func() { close(release) })
		waitJobs(t, a)
	})
	t.Run("Interaction", func(t *testing.T) {
		_, _, rec, srv := httpAdapter(t, "s3cret", now)
		payload := `{"type":"block_actions","team":{"id":"T1"},"user":{"id":"U1"},"container":{"type":"message","message_ts":"40.1","channel_id":"C1"},"message":{"ts":"40.1","bot_id":"BBOT","text":"x"},"actions":[{"action_id":"vote:1","block_id":"actions_0","type":"button"}]}`
		code, err := sender(srv).Interaction(context.Background(), []byte(payload))
		if err != nil || code != 200 {
			t.Fatalf("%d %v", code, err)
		}
		if ev := rec.next(t); ev.Kind != bot.EventButton || ev.ActionID != "vote:1" {
			t.Fatalf("event = %+v", ev)
		}
	})
	t.Run("StoppedRefuses", func(t *testing.T) {
		a, _, rec, srv := httpAdapter(t, "s3cret", now)
		a.jobs.stop(time.Second)
		form := url.Values{"command": {"/feedback"}, "user_id": {"U1"}, "channel_id": {"C1"}, "text": {"list"}}
		code, err := sender(srv).Post(context.Background(), "/slack/commands", "application/x-www-form-urlencoded", []byte(form.Encode()), nil)
		if err != nil || code != http.StatusServiceUnavailable {
			t.Fatalf("%d %v", code, err)
		}
		rec.none(t, 20*time.Millisecond)
	})
}
