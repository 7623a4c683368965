package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
)

// Idempotent API writes: POST /api/v1/feedback (here) and POST
// /api/v1/releases (the engine keeps a release's answer with its event)
// take an idempotency key, in the Idempotency-Key header or the
// idempotency_key field. A retry with the same key and the same request
// gets the first answer again with "replayed": true; the same key with a
// different request answers 409.

// idempotencyStore keeps the first answer per key (*store.DB does).
type idempotencyStore interface {
	ClaimIdempotencyKey(ctx context.Context, scope, key, fingerprint string) (storedFingerprint string, status int, body string, err error)
	SaveIdempotentAnswer(ctx context.Context, scope, key string, status int, body string) (bool, error)
}

// maxIdempotencyKey is the longest idempotency key accepted, in runes.
const maxIdempotencyKey = 200

// idempotencyKey returns the request's idempotency key: the header, else
// the body field. EINVALID when both are given and differ, or it is too
// long.
func idempotencyKey(r *http.Request, bodyField string) (string, error) {
	h := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	f := strings.TrimSpace(bodyField)
	if h != "" && f != "" && h != f {
		return "", bot.Errorf(bot.EINVALID, "The Idempotency-Key header and the idempotency_key field differ; send one of them.")
	}
	key := h
	if key == "" {
		key = f
	}
	return field("idempotency_key", key, false, maxIdempotencyKey)
}

// fingerprint identifies a request by the values that define it.
func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		io.WriteString(h, p)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// errKeyReused is the 409 for a key used before with another request.
var errKeyReused = bot.Errorf(bot.ECONFLICT, "This idempotency key was already used for a different request; use a new key.")

// idempotentWrite is one write made with an idempotency key.
type idempotentWrite struct {
	scope, key, fingerprint string
	st                      idempotencyStore
}

// claim records the key (see idempotencyStore). It returns a stored
// answer to replay, or "" to go on with the write; errKeyReused when the
// key was used for something else.
func (iw *idempotentWrite) claim(ctx context.Context) (int, string, error) {
	fp, status, body, err := iw.st.ClaimIdempotencyKey(ctx, iw.scope, iw.key, iw.fingerprint)
	if err != nil {
		return 0, "", err
	}
	if fp != iw.fingerprint {
		return 0, "", errKeyReused
	}
	return status, body, nil
}

// save stores the first answer and returns the answer to give: this one,
// or the one another request with the key stored first (replayed).
func (iw *idempotentWrite) save(ctx context.Context, status int, v any) (int, []byte, bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return status, nil, false
	}
	if ok, err := iw.st.SaveIdempotentAnswer(ctx, iw.scope, iw.key, status, string(b)); err == nil && !ok {
		if st, body, err := iw.claim(ctx); err == nil && body != "" {
			return st, []byte(body), true
		}
	}
	return status, b, false
}

// waitAnswer waits (a few seconds at most) for the answer of a concurrent
// first request with the key.
func (iw *idempotentWrite) waitAnswer(ctx context.Context) (int, string) {
	for range 20 {
		if st, body, err := iw.claim(ctx); err != nil || body != "" {
			return st, body
		}
		select {
		case <-ctx.Done():
			return 0, ""
		case <-time.After(100 * time.Millisecond):
		}
	}
	return 0, ""
}

// writeReplay answers with a stored answer marked "replayed": true.
func writeReplay(w http.ResponseWriter, status int, body []byte) {
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: errorDetail{Code: bot.EINTERNAL, Message: "Internal error."}})
		return
	}
	v["replayed"] = true
	if u, ok := v["request"].(map[string]any); ok {
		if loc, ok := u["url"].(string); ok && loc != "" {
			w.Header().Set("Location", loc)
		}
	}
	writeJSON(w, status, v)
}

// textID is the message id an API capture made with key is stored under,
// so that the capture happens once per key whatever the timing of retries.
func textID(key string) string {
	return "idem-" + fingerprint("feedback", key)[:32]
}
