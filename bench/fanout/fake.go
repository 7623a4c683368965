package fanout

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// FakeConfig shapes the fake chat API.
type FakeConfig struct {
	// Interval is the shortest time between two accepted posts in one
	// channel (1s, like Slack's chat.postMessage); a post sooner is answered
	// 429 with the time left as Retry-After.
	Interval time.Duration
	// MinLatency and MaxLatency bound the uniformly random time each call
	// takes to answer.
	MinLatency, MaxLatency time.Duration
	// StormRate is the fraction of calls answered 429 whatever the pace (a
	// "429 storm"), with StormRetryAfter as Retry-After.
	StormRate       float64
	StormRetryAfter time.Duration
	// ErrorRate is the fraction of calls answered 503.
	ErrorRate float64
}

// Fake is the fake chat API. POST /api/chat.post takes
// {"channel","thread","text","idempotency_key"} and answers
// {"ok":true,"id","ts"} (ts: when the message was posted, Unix seconds with
// microseconds) or, rate limited, HTTP 429 with a Retry-After header (whole
// seconds, rounded up) and {"ok":false,"error":"ratelimited","retry_after":seconds}.
// A post repeating an accepted idempotency key is answered with the first
// message (its id and ts, and "replayed":true), shows nothing new and does
// not count against the channel's limit (it is counted as a replay), as
// Discord answers a message create repeating a nonce sent with
// enforce_nonce with the message it already created.
type Fake struct {
	cfg FakeConfig
	srv *httptest.Server

	mu      sync.Mutex
	last    map[string]time.Time // channel → last accepted post
	keys    map[string]posted    // idempotency key → the message posted with it
	threads map[string]int       // channel/thread → messages shown
	workers map[string]int       // X-Worker → accepted posts
	stats   FakeStats
}

// FakeStats counts what the fake saw.
type FakeStats struct {
	Calls       int // every post call
	Accepted    int // messages shown
	Replays     int // posts repeating an accepted idempotency key (not shown again)
	RateLimited int // 429 answers for posting too fast in a channel
	Stormed     int // 429 answers of the storm
	Errors      int // 503 answers
	Threads     int // distinct threads with at least one message
	Duplicates  int // messages beyond the first in a thread
	TooFast     int // accepted posts closer than Interval (must stay 0)
	First, Last time.Time
}

// NewFake starts the fake API on a loopback port.
func NewFake(cfg FakeConfig) *Fake {
	f := &Fake{cfg: cfg, last: map[string]time.Time{}, keys: map[string]posted{}, threads: map[string]int{}, workers: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/chat.post", f.post)
	f.srv = httptest.NewServer(mux)
	return f
}

// URL is the API's base URL.
func (f *Fake) URL() string { return f.srv.URL }

// Close stops the server.
func (f *Fake) Close() { f.srv.Close() }

type postBody struct {
	Channel        string `json:"channel"`
	Thread         string `json:"thread"`
	Text           string `json:"text"`
	IdempotencyKey string `json:"idempotency_key"`
}

func (f *Fake) post(w http.ResponseWriter, r *http.Request) {
	var b postBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil || b.Channel == "" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"ok":false,"error":"invalid_arguments"}`)
		return
	}
	now := time.Now()
	status, retry, msg, replayed := f.decide(now, b, r.Header.Get("X-Worker"))
	if lat := f.cfg.MaxLatency - f.cfg.MinLatency; f.cfg.MaxLatency > 0 {
		d := f.cfg.MinLatency
		if lat > 0 {
			d += time.Duration(rand.Int64N(int64(lat)))
		}
		time.Sleep(d)
	}
	w.Header().Set("Content-Type", "application/json")
	switch status {
	case http.StatusOK:
		fmt.Fprintf(w, `{"ok":true,"id":%q,"ts":"%d.%06d","replayed":%t}`, msg.id, msg.at.Unix(), msg.at.Nanosecond()/1000, replayed)
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"ok":false,"error":"ratelimited","retry_after":%.6f}`, max(retry, time.Microsecond).Seconds())
	default:
		w.WriteHeader(status)
		fmt.Fprint(w, `{"ok":false,"error":"unavailable"}`)
	}
}

// posted is a message the fake showed.
type posted struct {
	id string
	at time.Time
}

// decide applies the API's rules to one post arriving at now: its answer's
// status, Retry-After, the message and whether it was posted before.
func (f *Fake) decide(now time.Time, b postBody, worker string) (int, time.Duration, posted, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stats.Calls++
	if m, ok := f.keys[b.IdempotencyKey]; ok && b.IdempotencyKey != "" {
		f.stats.Replays++
		return http.StatusOK, 0, m, true
	}
	if f.cfg.ErrorRate > 0 && rand.Float64() < f.cfg.ErrorRate {
		f.stats.Errors++
		return http.StatusServiceUnavailable, 0, posted{}, false
	}
	if f.cfg.StormRate > 0 && rand.Float64() < f.cfg.StormRate {
		f.stats.Stormed++
		return http.StatusTooManyRequests, f.cfg.StormRetryAfter, posted{}, false
	}
	if last, ok := f.last[b.Channel]; ok {
		if wait := f.cfg.Interval - now.Sub(last); wait > 0 {
			f.stats.RateLimited++
			return http.StatusTooManyRequests, wait, posted{}, false
		}
	}
	f.last[b.Channel] = now
	f.stats.Accepted++
	m := posted{id: strconv.Itoa(f.stats.Accepted), at: now}
	if b.IdempotencyKey != "" {
		f.keys[b.IdempotencyKey] = m
	}
	t := b.Channel + "/" + b.Thread
	f.threads[t]++
	if f.threads[t] == 1 {
		f.stats.Threads++
	} else {
		f.stats.Duplicates++
	}
	f.workers[worker]++
	if f.stats.First.IsZero() {
		f.stats.First = now
	}
	f.stats.Last = now
	return http.StatusOK, 0, m, false
}

// Stats returns the counts so far.
func (f *Fake) Stats() FakeStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Workers returns the accepted posts per worker (X-Worker header).
func (f *Fake) Workers() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.workers))
	for k, v := range f.workers {
		out[k] = v
	}
	return out
}
