package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
)

// TestOpenAPI checks the OpenAPI document against the real routes: every
// documented operation is served by the handler registered for exactly that
// method and path, and every API route is documented.
func TestOpenAPI(t *testing.T) {
	env := newEnv(t)
	r := env.do("GET", "/api/v1/openapi.json", "")
	if r.Code != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("openapi.json: %d %s", r.Code, r.Header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
		Comps   struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal([]byte(r.Body), &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi version %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if method == "parameters" {
				continue
			}
			m := strings.ToUpper(method)
			documented[m+" "+path] = true
			var o struct {
				Responses map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(op, &o); err != nil || len(o.Responses) == 0 {
				t.Errorf("%s %s: no responses documented", m, path)
			}
			// The real mux must route this method and path (with a sample
			// key) to the pattern registered for it.
			req := httptest.NewRequest(m, strings.ReplaceAll(path, "{key}", "FB-1"), nil)
			if _, pattern := env.srv.mux.Handler(req); pattern != m+" "+path {
				t.Errorf("documented %s %s is routed to %q", m, path, pattern)
			}
		}
	}
	for _, rt := range env.srv.api {
		if !documented[rt.method+" "+rt.path] {
			t.Errorf("route %s %s is not in openapi.json", rt.method, rt.path)
		}
	}
	if len(documented) != len(env.srv.api) {
		t.Errorf("openapi.json documents %d operations, the server has %d API routes", len(documented), len(env.srv.api))
	}
	// Every $ref points at a schema that exists.
	for _, m := range regexp.MustCompile(`"#/components/schemas/([A-Za-z]+)"`).FindAllStringSubmatch(r.Body, -1) {
		if _, ok := doc.Comps.Schemas[m[1]]; !ok {
			t.Errorf("dangling $ref %s", m[1])
		}
	}
	// Each error code of the table is documented.
	for code := range statusByCode {
		if !strings.Contains(r.Body, `"`+code+`"`) {
			t.Errorf("error code %s is not documented", code)
		}
	}
}

func TestErrorTable(t *testing.T) {
	for code, want := range map[string]int{
		bot.EINVALID: 400, bot.EUNAUTHORIZED: 401, bot.EFORBIDDEN: 403, bot.ENOTFOUND: 404,
		bot.ECONFLICT: 409, bot.ETOOLARGE: 413, bot.EINTERNAL: 500, bot.EUNAVAILABLE: 503, "mystery": 500,
	} {
		if got := HTTPStatus(code); got != want {
			t.Errorf("HTTPStatus(%s) = %d, want %d", code, got, want)
		}
	}
	// Internal errors never leak their text.
	env := newEnv(t)
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/x", nil)
	env.srv.writeError(w, r, errors.New("pq: password authentication failed for user secret"))
	if w.Code != 500 || strings.Contains(w.Body.String(), "secret") || !strings.Contains(w.Body.String(), `"code": "internal"`) {
		t.Errorf("internal error answer: %d %s", w.Code, w.Body)
	}
	if !strings.Contains(env.logs.String(), "password authentication failed") {
		t.Errorf("internal errors are logged in full")
	}
}

func TestHealthz(t *testing.T) {
	env := newEnv(t, func(c *Config) {
		c.Ready = func(context.Context) error { return errors.New("slack: not connected") }
	})
	if r := env.do("GET", "/healthz", ""); r.Code != 200 || r.Body != "ok\n" {
		t.Errorf("healthz: %d %q", r.Code, r.Body)
	}
}

func TestReadyz(t *testing.T) {
	t.Run("Ready", func(t *testing.T) {
		env := newEnv(t)
		if r := env.do("GET", "/readyz", ""); r.Code != 200 {
			t.Errorf("readyz: %d %s", r.Code, r.Body)
		}
	})
	t.Run("ReadyFails", func(t *testing.T) {
		env := newEnv(t, func(c *Config) {
			c.Ready = func(context.Context) error { return errors.New("slack: socket mode not connected") }
		})
		r := env.do("GET", "/readyz", "")
		if r.Code != 503 || r.JSON(t)["reason"] != "slack: socket mode not connected" {
			t.Errorf("readyz: %d %s", r.Code, r.Body)
		}
	})
	t.Run("DatabaseDown", func(t *testing.T) {
		var called bool
		env := newEnv(t, func(c *Config) { c.Ready = func(context.Context) error { called = true; return nil } })
		if r := env.do("GET", "/readyz", ""); r.Code != 200 || !called {
			t.Fatalf("readyz before close: %d", r.Code)
		}
		env.db.Close()
		r := env.do("GET", "/readyz", "")
		if r.Code != 503 || !strings.Contains(r.Body, "database") {
			t.Errorf("readyz with the database closed: %d %s", r.Code, r.Body)
		}
		if r := env.do("GET", "/healthz", ""); r.Code != 200 {
			t.Errorf("healthz with the database closed: %d", r.Code)
		}
	})
}

func TestMetrics(t *testing.T) {
	env := newEnv(t)
	seed(env) // captures, a merge, a release with one delivered and one failed reply
	env.mustWrite(201, "POST", "/api/v1/feedback", `{"source":"email","author":"a@example.com","text":"Dark mode for the dashboard"}`)
	env.mustWrite(200, "POST", "/api/v1/requests/FB-8/merge", `{"into":"FB-1"}`)
	env.mustWrite(200, "POST", "/api/v1/releases", `{"action":"shipped","version":"v3","requests":["FB-1"]}`)
	env.write("POST", "/api/v1/releases", `{bad`)
	env.do("GET", "/", "")
	env.do("GET", "/requests/FB-1", "")
	env.m.PlatformCall("slack", "chat.postMessage", 120*time.Millisecond, "ok")
	env.m.PlatformCall("slack", "chat.postMessage", 30*time.Millisecond, "429")
	env.m.PlatformCall("discord", "POST /channels/{id}/messages", 80*time.Millisecond, "429")

	r := env.do("GET", "/metrics", "")
	if r.Code != 200 {
		t.Fatalf("metrics: %d", r.Code)
	}
	for _, want := range []string{
		`feedbackbot_captures_total{platform="slack",via="reaction"} 5`,
		`feedbackbot_captures_total{platform="discord",via="reaction"} 2`,
		`feedbackbot_captures_total{platform="api",via="api"} 2`,
		`feedbackbot_merges_total 3`,
		`feedbackbot_suggestions_total `,
		`feedbackbot_deliveries_total{outcome="delivered",platform="slack"} 1`,
		`feedbackbot_deliveries_total{outcome="failed",platform="slack"} 1`,
		// FB-1 and FB-8 (merged in) each have one thread waiting for its reply.
		`feedbackbot_delivery_queue_depth 2`,
		`feedbackbot_platform_api_duration_seconds_count{method="chat.postMessage",platform="slack"} 2`,
		`feedbackbot_platform_api_requests_total{method="chat.postMessage",platform="slack",status="429"} 1`,
		`feedbackbot_platform_rate_limited_total{method="chat.postMessage",platform="slack"} 1`,
		`feedbackbot_platform_rate_limited_total{method="POST /channels/{id}/messages",platform="discord"} 1`,
		`feedbackbot_http_requests_total{code="201",route="POST /api/v1/feedback"} 1`,
		`feedbackbot_http_requests_total{code="200",route="POST /api/v1/releases"} 1`,
		`feedbackbot_http_requests_total{code="400",route="POST /api/v1/releases"} 1`,
		`feedbackbot_http_requests_total{code="200",route="GET /{$}"} 1`,
		`feedbackbot_http_requests_total{code="200",route="GET /requests/{key}"} 1`,
		`feedbackbot_http_request_duration_seconds_count{route="POST /api/v1/feedback"} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", grepLines(r.Body, "feedbackbot_"))
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestMetrics_Middleware(t *testing.T) {
	env := newEnv(t)
	h := env.m.Middleware("POST /slack/events", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/slack/events", nil))
	r := env.do("GET", "/metrics", "")
	if !strings.Contains(r.Body, `feedbackbot_http_requests_total{code="202",route="POST /slack/events"} 1`) {
		t.Errorf("middleware did not count:\n%s", grepLines(r.Body, "http_requests_total"))
	}
	var nilMetrics *Metrics // a nil *Metrics counts nothing and does not panic
	nilMetrics.Captured("slack", "reaction")
	nilMetrics.PlatformCall("slack", "x", time.Second, "429")
}

func TestNewHTTPServer(t *testing.T) {
	s := NewHTTPServer(":0", http.NotFoundHandler())
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= 0 || s.IdleTimeout <= 0 || s.MaxHeaderBytes <= 0 {
		t.Errorf("timeouts not set: %+v", s)
	}
}

func TestSecurityHeaders(t *testing.T) {
	env := newEnv(t)
	r := env.do("GET", "/", "")
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
		if r.Header.Get(h) == "" {
			t.Errorf("board lacks %s", h)
		}
	}
	if !strings.Contains(r.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("CSP %q", r.Header.Get("Content-Security-Policy"))
	}
	// The board works without JavaScript: no script at all.
	if strings.Contains(r.Body, "<script") {
		t.Errorf("the board page carries a script")
	}
	css := env.do("GET", "/static/style.css", "")
	if css.Code != 200 || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Errorf("style.css: %d %s", css.Code, css.Header.Get("Content-Type"))
	}
	if r := env.do("GET", "/static/", ""); r.Code != 404 {
		t.Errorf("static directory listing: %d", r.Code)
	}
	if r := env.do("GET", "/no/such/page", ""); r.Code != 404 || !strings.Contains(r.Body, "There is no page at this address.") {
		t.Errorf("404 page: %d", r.Code)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/requests/FB-1?x=1": "/requests/FB-1?x=1",
		"":                   "/",
		"//evil.example":     "/",
		"/\\evil.example":    "/",
		"https://evil":       "/",
		"/ok\r\nSet-Cookie:": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
