package slack

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/slacktest"
)

// Fuzz targets for the HTTP-mode endpoints: whatever a correctly signed
// body holds, the adapter answers 200, 400 or 413 without panicking, in the
// handler or in the job that translates the payload into a bot.Event after
// the ack. Seed corpora are in testdata/fuzz/<target>/. Run one with
//
//	go test -run '^$' -fuzz '^FuzzSlackEvents$' -fuzztime 15s ./bot/slack

// fuzzSink is a Handler that checks what the adapter made of a payload and
// answers nothing (so no reply, and no response_url request, is sent).
type fuzzSink struct{ events atomic.Int64 }

func (s *fuzzSink) Handle(_ context.Context, ev *bot.Event) (*bot.Response, error) {
	s.events.Add(1)
	if ev.Kind == "" || ev.Platform != bot.PlatformSlack {
		panic("event without kind or platform: " + string(ev.Kind) + " " + ev.Platform)
	}
	if ev.Message != nil && ev.Message.Platform != bot.PlatformSlack {
		panic("message of another platform: " + ev.Message.Platform)
	}
	return nil, nil
}

const fuzzSecret = "fuzz-signing-secret"

// fuzzAdapter is an adapter over the fake Web API, its routes on a mux, and
// the sink as handler. Its clock is the wall clock: slack-go's signature
// verifier checks the timestamp against it.
func fuzzAdapter(f *testing.F) (*Adapter, *http.ServeMux) {
	f.Helper()
	api := newFakeAPI()
	addPeople(api)
	a := newAdapter(Config{SigningSecret: fuzzSecret}, api, &fuzzSink{}, discardLogger())
	f.Cleanup(func() { a.jobs.stop(time.Second) })
	mux := http.NewServeMux()
	a.Routes(mux)
	return a, mux
}

// fuzzPost posts a body correctly signed now to path, waits for the jobs it
// queued and checks the status.
func fuzzPost(t *testing.T, a *Adapter, mux *http.ServeMux, path, contentType string, body []byte) {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("X-Slack-Request-Timestamp", ts)
	r.Header.Set("X-Slack-Signature", slacktest.Sign(fuzzSecret, ts, body))
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	a.jobs.wait()
	switch w.Code {
	case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
	default:
		t.Fatalf("%s answered %d: %s", path, w.Code, w.Body.String())
	}
}

// FuzzSlackEvents posts Events API bodies (JSON) to /slack/events.
func FuzzSlackEvents(f *testing.F) {
	a, mux := fuzzAdapter(f)
	f.Add([]byte(`{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"message","channel":"C1","user":"U1","text":"Dark mode please","ts":"1700000000.000100"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzPost(t, a, mux, "/slack/events", "application/json", body)
	})
}

// FuzzSlackInteractions posts interaction payloads (the JSON in the
// payload form field) to /slack/interactions.
func FuzzSlackInteractions(f *testing.F) {
	a, mux := fuzzAdapter(f)
	f.Add(`{"type":"block_actions","user":{"id":"U1","team_id":"T1"},"team":{"id":"T1"},"container":{"channel_id":"C1","message_ts":"1700000000.000200"},"actions":[{"action_id":"vote:1","value":"vote:1"}]}`)
	f.Fuzz(func(t *testing.T, payload string) {
		body := []byte("payload=" + url.QueryEscape(payload))
		fuzzPost(t, a, mux, "/slack/interactions", "application/x-www-form-urlencoded", body)
	})
}

// FuzzSlackCommands posts slash-command form bodies to /slack/commands.
func FuzzSlackCommands(f *testing.F) {
	a, mux := fuzzAdapter(f)
	f.Add([]byte("command=%2Ffeedback&text=show+FB-1&user_id=U1&team_id=T1&channel_id=C1"))
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzPost(t, a, mux, "/slack/commands", "application/x-www-form-urlencoded", body)
	})
}
