package web

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// TestDialects runs the main API and board flows on SQLite and PostgreSQL
// (the latter when FEEDBACKBOT_TEST_DATABASE_URL is set; required in CI).
func TestDialects(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		env := newEnvDSN(t, dsn)
		seed(env)
		ctx := context.Background()

		v := env.getJSON("/api/v1/requests")
		if got := strings.Join(keysOf(t, v), " "); got != "FB-1 FB-2 FB-5 FB-4 FB-7 FB-8" {
			t.Errorf("demand order %s", got)
		}
		if got := strings.Join(keysOf(t, env.getJSON("/api/v1/requests?q=csv+export")), " "); !strings.HasPrefix(got, "FB-2") {
			t.Errorf("search: %s", got)
		}
		d := env.getJSON("/api/v1/requests/FB-3")
		if requestOf(t, d)["key"] != "FB-2" || len(d["mentions"].([]any)) != 2 || len(d["duplicates"].([]any)) != 1 {
			t.Errorf("FB-3 detail: %v", d)
		}

		body := `{"action":"shipped","version":"v2.5","requests":["FB-1","FB-404"],"idempotency_key":"k1"}`
		first := env.mustWrite(200, "POST", "/api/v1/releases", body)
		again := env.mustWrite(200, "POST", "/api/v1/releases", body)
		if fmt.Sprint(first["unknown"]) != "[FB-404]" || again["replayed"] != true || again["event_id"] != first["event_id"] {
			t.Errorf("release %v, replay %v", first, again)
		}
		ds, err := env.e.Store().FindDeliveries(ctx, int64(first["event_id"].(float64)))
		if err != nil || len(ds) != 1 {
			t.Errorf("deliveries %d, %v", len(ds), err)
		}

		env.mustWrite(200, "POST", "/api/v1/requests/FB-8/merge", `{"into":"FB-1"}`)
		if r := env.write("POST", "/api/v1/requests/FB-1/merge", `{"into":"FB-8"}`); r.Code != http.StatusConflict {
			t.Errorf("cycle: %d", r.Code)
		}
		env.mustWrite(200, "POST", "/api/v1/requests/FB-8/unmerge", ``)
		env.mustWrite(201, "POST", "/api/v1/feedback", `{"source":"email","author":"x@example.com","text":"Hello <b>there</b>"}`)

		page := env.do("GET", "/", "")
		var keys []string
		for _, m := range regexp.MustCompile(`<span class="key">(FB-\d+)</span>`).FindAllStringSubmatch(page.Body, -1) {
			keys = append(keys, m[1])
		}
		if page.Code != 200 || strings.Join(keys, " ") != "FB-1 FB-2 FB-5 FB-4 FB-7 FB-8 FB-9" {
			t.Errorf("board: %d %v", page.Code, keys)
		}
		if r := env.do("GET", "/requests/FB-5", ""); r.Code != 200 || !strings.Contains(r.Body, "channel_not_found") {
			t.Errorf("request page: %d", r.Code)
		}

		if r := env.do("GET", "/readyz", ""); r.Code != 200 {
			t.Errorf("readyz: %d", r.Code)
		}
		env.db.Close()
		if r := env.do("GET", "/readyz", ""); r.Code != http.StatusServiceUnavailable {
			t.Errorf("readyz with the database closed: %d %s", r.Code, r.Body)
		}
	})
}
