package web

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// concurrently runs n copies of fn at once and returns their responses.
func concurrently(n int, fn func(i int) response) []response {
	out := make([]response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// Ten concurrent release webhooks with one idempotency key make one event;
// every call answers the first answer (same event, same changed list), all
// but one with "replayed": true, never "changed": []. The same key with a
// different release answers 409.
func TestAPI_ReleaseIdempotentConcurrent(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		env := newEnvDSN(t, dsn)
		seed(env)
		body := `{"action":"shipped","version":"v3","requests":["FB-1","FB-3"],"idempotency_key":"ci-run-77"}`
		rs := concurrently(10, func(int) response { return env.write("POST", "/api/v1/releases", body) })
		replayed := 0
		var event any
		for _, r := range rs {
			if r.Code != http.StatusOK {
				t.Fatalf("release: %d %s", r.Code, r.Body)
			}
			v := r.JSON(t)
			if fmt.Sprint(v["changed"]) != "[FB-1 FB-2]" {
				t.Errorf("answer %v, want changed [FB-1 FB-2]", v)
			}
			if event == nil {
				event = v["event_id"]
			} else if v["event_id"] != event {
				t.Errorf("event %v and %v for one key", event, v["event_id"])
			}
			if v["replayed"] == true {
				replayed++
			}
		}
		if replayed != 9 {
			t.Errorf("%d of 10 answers replayed, want 9", replayed)
		}
		r := env.write("POST", "/api/v1/releases", `{"action":"shipped","version":"v4","requests":["FB-4"],"idempotency_key":"ci-run-77"}`)
		if r.Code != http.StatusConflict {
			t.Errorf("key reused for another release: %d %s", r.Code, r.Body)
		}
		if st := requestOf(t, env.getJSON("/api/v1/requests/FB-4"))["status"]; st != "open" {
			t.Errorf("FB-4 is %v after the refused reuse", st)
		}
	})
}

// POST /api/v1/feedback with an idempotency key (header or field): a retry,
// also ten at once, captures one request and answers the first answer with
// "replayed": true; the key with a different body answers 409.
func TestAPI_FeedbackIdempotent(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		env := newEnvDSN(t, dsn)
		ctx := context.Background()
		total := func() int {
			_, n, err := env.e.Store().FindRequests(ctx, bot.RequestFilter{})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		body := `{"source":"zendesk","author":"jane@example.com","text":"Bulk export of tickets\nWe need CSV."}`
		first := env.write("POST", "/api/v1/feedback", body, withHeader("Idempotency-Key", "ticket-1"))
		if first.Code != http.StatusCreated {
			t.Fatalf("capture: %d %s", first.Code, first.Body)
		}
		fv := first.JSON(t)
		if fv["replayed"] != nil {
			t.Errorf("first answer marked replayed: %v", fv)
		}
		again := env.write("POST", "/api/v1/feedback", body, withHeader("Idempotency-Key", "ticket-1"))
		av := again.JSON(t)
		if again.Code != http.StatusCreated || av["replayed"] != true || requestOf(t, av)["key"] != requestOf(t, fv)["key"] || av["message"] != fv["message"] {
			t.Errorf("retry: %d %v, first %v", again.Code, av, fv)
		}
		if again.Header.Get("Location") != first.Header.Get("Location") {
			t.Errorf("retry Location %q, first %q", again.Header.Get("Location"), first.Header.Get("Location"))
		}
		if n := total(); n != 1 {
			t.Fatalf("%d requests after a retry, want 1", n)
		}
		// The key in the body field is the same key.
		field := env.write("POST", "/api/v1/feedback", `{"source":"zendesk","author":"jane@example.com","text":"Bulk export of tickets\nWe need CSV.","idempotency_key":"ticket-1"}`)
		if field.Code != http.StatusCreated || field.JSON(t)["replayed"] != true {
			t.Errorf("retry with the field: %d %s", field.Code, field.Body)
		}
		// Same key, different text.
		other := env.write("POST", "/api/v1/feedback", `{"source":"zendesk","author":"jane@example.com","text":"Something else"}`, withHeader("Idempotency-Key", "ticket-1"))
		if other.Code != http.StatusConflict || other.ErrorCode(t) != bot.ECONFLICT {
			t.Errorf("key reused: %d %s", other.Code, other.Body)
		}
		// Header and field that disagree.
		if r := env.write("POST", "/api/v1/feedback", `{"source":"z","author":"a","text":"t","idempotency_key":"x"}`, withHeader("Idempotency-Key", "y")); r.Code != http.StatusBadRequest {
			t.Errorf("header and field differ: %d %s", r.Code, r.Body)
		}
		// Ten at once with a new key: one request.
		body2 := `{"source":"zendesk","author":"joe@example.com","text":"Dark mode for agents"}`
		rs := concurrently(10, func(int) response {
			return env.write("POST", "/api/v1/feedback", body2, withHeader("Idempotency-Key", "ticket-2"))
		})
		keys := map[any]bool{}
		replayed := 0
		for _, r := range rs {
			if r.Code != http.StatusCreated {
				t.Fatalf("concurrent capture: %d %s", r.Code, r.Body)
			}
			v := r.JSON(t)
			keys[requestOf(t, v)["key"]] = true
			if v["replayed"] == true {
				replayed++
			}
		}
		if len(keys) != 1 || replayed != 9 {
			t.Errorf("10 concurrent retries: requests %v, %d replayed (want one request, 9 replayed)", keys, replayed)
		}
		if n := total(); n != 2 {
			t.Fatalf("%d requests, want 2", n)
		}
		// Without a key every call captures.
		env.mustWrite(http.StatusCreated, "POST", "/api/v1/feedback", body2)
		if n := total(); n != 3 {
			t.Fatalf("%d requests, want 3", n)
		}
	})
}
