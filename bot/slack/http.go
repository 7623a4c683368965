package slack

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// replayWindow is how far a request timestamp may be from now.
const replayWindow = 5 * time.Minute

// Routes registers the HTTP-mode endpoints on mux: POST /slack/events (Events
// API), /slack/interactions (buttons, shortcuts) and /slack/commands (slash
// commands). Every request must carry a valid Slack signature made with
// Config.SigningSecret within the 5-minute replay window (else 401), a body
// of at most 1 MiB (else 413) and well-formed content (else 400). Requests
// are acknowledged at once with 200 and handled afterwards; the adapter
// answers 503 once Run has stopped.
func (a *Adapter) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /slack/events", a.serveEvents)
	mux.HandleFunc("POST /slack/interactions", a.serveInteractions)
	mux.HandleFunc("POST /slack/commands", a.serveCommands)
}

// verify reads the body and checks the request signature. On failure it has
// written the error response and returns false.
func (a *Adapter) verify(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyLen))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "cannot read body", http.StatusBadRequest)
		}
		return nil, false
	}
	if err := checkSignature(a.cfg.SigningSecret, r.Header, body, a.now()); err != nil {
		a.log.Warn("slack request rejected", "path", r.URL.Path, "reason", err.Error())
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

// Signature errors.
var (
	errNoSecret     = errors.New("no signing secret configured")
	errNoSignature  = errors.New("missing signature headers")
	errStale        = errors.New("timestamp outside the replay window")
	errBadSignature = errors.New("signature mismatch")
)

// checkSignature verifies Slack's request signature with slack-go's
// SecretsVerifier ("v0=" + hex of HMAC-SHA256(secret, "v0:" + timestamp +
// ":" + body), compared in constant time). The timestamp must be within
// replayWindow of now; the adapter's clock is checked first so the window
// follows it (tests set it), and slack-go checks the same five minutes
// against the wall clock.
func checkSignature(secret string, h http.Header, body []byte, now time.Time) error {
	if secret == "" {
		return errNoSecret
	}
	tsHeader := h.Get("X-Slack-Request-Timestamp")
	if tsHeader == "" || h.Get("X-Slack-Signature") == "" {
		return errNoSignature
	}
	ts, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return errNoSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > replayWindow || d < -replayWindow {
		return errStale
	}
	sv, err := slack.NewSecretsVerifier(h, secret)
	switch {
	case errors.Is(err, slack.ErrExpiredTimestamp):
		return errStale
	case err != nil:
		return errBadSignature // not "v0=" and 64 hex digits
	}
	if _, err := sv.Write(body); err != nil {
		return errBadSignature
	}
	if err := sv.Ensure(); err != nil {
		return errBadSignature
	}
	return nil
}

func (a *Adapter) serveEvents(w http.ResponseWriter, r *http.Request) {
	body, ok := a.verify(w, r)
	if !ok {
		return
	}
	var outer struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
		EventID   string `json:"event_id"`
	}
	if err := json.Unmarshal(body, &outer); err != nil || outer.Type == "" {
		http.Error(w, "malformed event", http.StatusBadRequest)
		return
	}
	if outer.Type == slackevents.URLVerification {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, outer.Challenge)
		return
	}
	ev, err := slackevents.ParseEvent(body, slackevents.OptionNoVerifyToken())
	if err != nil {
		// Well-formed but not an event the adapter knows: acknowledge, or
		// Slack retries it and eventually disables the subscription.
		a.log.Debug("slack event ignored", "event_id", outer.EventID, "err", err)
		w.WriteHeader(http.StatusOK)
		return
	}
	if n := r.Header.Get("X-Slack-Retry-Num"); n != "" {
		a.log.Debug("slack event retry", "event_id", outer.EventID, "retry_num", n, "reason", r.Header.Get("X-Slack-Retry-Reason"))
	}
	if !a.acceptEvent(outer.EventID, ev) {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (a *Adapter) serveCommands(w http.ResponseWriter, r *http.Request) {
	body, ok := a.verify(w, r)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("command") == "" || form.Get("user_id") == "" {
		http.Error(w, "malformed command", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	cmd, err := slack.SlashCommandParse(r)
	if err != nil {
		http.Error(w, "malformed command", http.StatusBadRequest)
		return
	}
	if !a.acceptCommand(cmd) {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (a *Adapter) serveInteractions(w http.ResponseWriter, r *http.Request) {
	body, ok := a.verify(w, r)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "malformed interaction", http.StatusBadRequest)
		return
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil || cb.Type == "" {
		http.Error(w, "malformed interaction", http.StatusBadRequest)
		return
	}
	if isViewSubmission(cb) {
		// Answered in the response itself: Slack shows field errors from it.
		if body := a.submitForm(r.Context(), cb); body != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(body)
			return
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	if !a.acceptInteraction(cb) {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}
