package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// fuzzRoutes are the JSON API routes FuzzAPI drives; "{key}" takes the
// fuzzed key.
var fuzzRoutes = []struct{ method, path string }{
	{"POST", "/api/v1/feedback"},
	{"POST", "/api/v1/requests/{key}/votes"},
	{"DELETE", "/api/v1/requests/{key}/votes"},
	{"POST", "/api/v1/requests/{key}/merge"},
	{"POST", "/api/v1/requests/{key}/unmerge"},
	{"POST", "/api/v1/requests/{key}/status"},
	{"POST", "/api/v1/releases"},
	{"GET", "/api/v1/requests/{key}"},
}

// FuzzAPI sends any body, with any request key, to each write route of the
// JSON API (and the request read route), authorised, through a real engine
// on an SQLite store with the seeded board. The API never panics, never
// answers 5xx, and answers JSON: errors in the {"error": {"code",
// "message"}} shape. Seeds are in testdata/fuzz/FuzzAPI/. Run it with
//
//	go test -run '^$' -fuzz '^FuzzAPI$' -fuzztime 15s ./bot/web
func FuzzAPI(f *testing.F) {
	env := newEnv(f)
	seed(env)
	f.Add(uint8(0), "FB-1", []byte(`{"source":"email","author":"ann@example.com","text":"Dark mode please"}`))
	f.Fuzz(func(t *testing.T, route uint8, key string, body []byte) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		path := strings.ReplaceAll(rt.path, "{key}", url.PathEscape(key))
		r := httptest.NewRequest(rt.method, "http://board.test"+path, bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+testToken)
		w := httptest.NewRecorder()
		env.srv.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s answered %d: %s", rt.method, path, w.Code, w.Body.String())
		}
		if (w.Code == http.StatusNotFound || w.Code == http.StatusTemporaryRedirect || w.Code == http.StatusMovedPermanently) &&
			!strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			// An empty key or one with dot segments never reaches the API:
			// the mux redirects to the cleaned path, or the board's 404
			// page answers.
			return
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("%s %s: content type %q (status %d): %s", rt.method, path, ct, w.Code, w.Body.String())
		}
		var v map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s %s: not a JSON object (status %d): %v: %s", rt.method, path, w.Code, err, w.Body.String())
		}
		if w.Code >= 400 {
			e, ok := v["error"].(map[string]any)
			if !ok {
				t.Fatalf("%s %s: status %d without an error object: %s", rt.method, path, w.Code, w.Body.String())
			}
			if code, _ := e["code"].(string); code == "" {
				t.Fatalf("%s %s: error without a code: %s", rt.method, path, w.Body.String())
			}
			if msg, _ := e["message"].(string); msg == "" {
				t.Fatalf("%s %s: error without a message: %s", rt.method, path, w.Body.String())
			}
		}
	})
}
