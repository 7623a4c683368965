package web

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// timed runs fn and fails the test when it has not returned after limit.
func timed(t *testing.T, limit time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("%s: no answer after %v", what, limit)
	}
}

// A PostgreSQL server that accepts connections but stops answering:
// /readyz answers 503 (its checks are bounded to 3 s), writes answer 503
// (bounded to 8 s), reads 503 (10 s), /metrics answers (its store gauge
// waits at most 1 s), and all is well again by itself once the server
// answers. The limits checked here are twice the product's bounds, so that
// a busy machine does not fail the test while a hang still does.
func TestFault_DatabaseStopsAnswering(t *testing.T) {
	dsn, proxy := storetest.ViaFreezeProxy(t, storetest.PostgresDSN(t))
	env := newEnvDSN(t, dsn)
	env.mustWrite(http.StatusCreated, "POST", "/api/v1/feedback", `{"source":"web","author":"ann","text":"Before the freeze"}`)
	proxy.Freeze()
	defer proxy.Thaw()

	timed(t, 10*time.Second, "GET /readyz", func() {
		if r := env.do("GET", "/readyz", ""); r.Code != http.StatusServiceUnavailable {
			t.Errorf("readyz: %d %s", r.Code, r.Body)
		}
	})
	timed(t, 20*time.Second, "POST /api/v1/feedback", func() {
		r := env.write("POST", "/api/v1/feedback", `{"source":"web","author":"bob","text":"During the freeze"}`)
		if r.Code != http.StatusServiceUnavailable {
			t.Errorf("capture: %d %s", r.Code, r.Body)
		}
	})
	timed(t, 20*time.Second, "GET /api/v1/requests", func() {
		if r := env.do("GET", "/api/v1/requests", ""); r.Code != http.StatusServiceUnavailable {
			t.Errorf("list: %d %s", r.Code, r.Body)
		}
	})
	timed(t, 10*time.Second, "GET /metrics", func() {
		if r := env.do("GET", "/metrics", ""); r.Code != http.StatusOK || !strings.Contains(r.Body, "feedbackbot_delivery_queue_depth") {
			t.Errorf("metrics: %d", r.Code)
		}
	})

	proxy.Thaw()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := env.do("GET", "/readyz", "")
		if r.Code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz once the server answers again: %d %s", r.Code, r.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	env.mustWrite(http.StatusCreated, "POST", "/api/v1/feedback", `{"source":"web","author":"cat","text":"After the freeze"}`)
}

// A SQLite file the process cannot write: /readyz says so (503, "read-only")
// rather than 200 while every write fails.
func TestReadyz_SQLiteReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feedbackbot.db")
	rw, err := store.Open(t.Context(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	rw.Close()
	env := newEnvDSN(t, "sqlite:file:"+path+"?mode=ro")
	r := env.do("GET", "/readyz", "")
	if r.Code != http.StatusServiceUnavailable || !strings.Contains(r.Body, "read-only") {
		t.Fatalf("readyz on a read-only file: %d %s", r.Code, r.Body)
	}
}

// During a database outage (the server cut off, or not answering) the API
// keeps answering 503 to a capture; the client retries with the same
// Idempotency-Key once the database is back and the feedback is captured
// once, also when the attempt that answered 503 was committed all the same
// (a frozen server runs what it received when it thaws).
func TestFault_APICaptureRetriedAfterOutage(t *testing.T) {
	for _, mode := range []string{"cut", "frozen"} {
		t.Run(mode, func(t *testing.T) {
			dsn, proxy := storetest.ViaFreezeProxy(t, storetest.PostgresDSN(t))
			env := newEnvDSN(t, dsn)
			body := `{"source":"zendesk","author":"jane@example.com","text":"Bulk export of tickets during an outage"}`
			key := withHeader("Idempotency-Key", "ticket-outage-"+mode)
			if mode == "cut" {
				proxy.Cut()
			} else {
				proxy.Freeze()
			}
			for range 2 {
				timed(t, 20*time.Second, "POST /api/v1/feedback", func() {
					if r := env.write("POST", "/api/v1/feedback", body, key); r.Code != http.StatusServiceUnavailable {
						t.Errorf("capture during the outage: %d %s", r.Code, r.Body)
					}
				})
			}
			proxy.Restore()
			proxy.Thaw()
			var first response
			deadline := time.Now().Add(60 * time.Second)
			for {
				first = env.write("POST", "/api/v1/feedback", body, key)
				if first.Code != http.StatusServiceUnavailable || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if first.Code != http.StatusCreated {
				t.Fatalf("retry after the outage: %d %s", first.Code, first.Body)
			}
			again := env.write("POST", "/api/v1/feedback", body, key)
			if again.Code != http.StatusCreated || again.JSON(t)["replayed"] != true || requestOf(t, again.JSON(t))["key"] != requestOf(t, first.JSON(t))["key"] {
				t.Fatalf("second retry: %d %s (first %s)", again.Code, again.Body, first.Body)
			}
			_, n, err := env.e.Store().FindRequests(t.Context(), bot.RequestFilter{})
			if err != nil || n != 1 {
				t.Fatalf("%d requests (%v), want 1", n, err)
			}
		})
	}
}
