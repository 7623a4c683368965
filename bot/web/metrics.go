package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/feedbackbot/feedbackbot/bot"
)

// Metrics holds feedbackbot's Prometheus metrics. It implements bot.Metrics
// (pass it to Engine.SetMetrics); adapters report platform API calls with
// PlatformCall. A nil *Metrics counts nothing. Every method is safe for
// concurrent use.
//
// Metric names (all prefixed feedbackbot_):
//
//	captures_total{platform,via}                counter
//	suggestions_total                           counter
//	merges_total                                counter
//	deliveries_total{platform,outcome}          counter (delivered, failed, rate_limited)
//	delivery_queue_depth                        gauge (deliveries not yet done or failed)
//	pending_captures                            gauge (chat captures kept while the database is unavailable)
//	platform_api_duration_seconds{platform,method}   histogram
//	platform_api_requests_total{platform,method,status} counter
//	platform_rate_limited_total{platform,method}      counter (HTTP 429 answers)
//	http_requests_total{route,code}             counter
//	http_request_duration_seconds{route}        histogram
type Metrics struct {
	captures      *prometheus.CounterVec
	suggestions   prometheus.Counter
	merges        prometheus.Counter
	deliveries    *prometheus.CounterVec
	platformDur   *prometheus.HistogramVec
	platformCalls *prometheus.CounterVec
	rateLimited   *prometheus.CounterVec
	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec

	gatherer prometheus.Gatherer

	mu         sync.Mutex
	queueDepth func() float64
	pending    func() float64
}

var _ bot.Metrics = (*Metrics)(nil)

// NewMetrics creates the metrics and registers them with reg (a new registry
// when reg is nil). /metrics serves reg when it is also a prometheus.Gatherer
// (a *prometheus.Registry is), else the default gatherer. Go runtime and
// process collectors are registered too unless reg already has them. It
// panics if reg already holds feedbackbot's metrics: call it once per
// registry.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &Metrics{
		captures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedbackbot_captures_total",
			Help: "Chat messages and texts captured as feedback, by platform and capture path.",
		}, []string{"platform", "via"}),
		suggestions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "feedbackbot_suggestions_total",
			Help: "Duplicate suggestions posted.",
		}),
		merges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "feedbackbot_merges_total",
			Help: "Requests merged into another (by people or auto-merge).",
		}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedbackbot_deliveries_total",
			Help: "Release reply delivery attempts, by platform and outcome (delivered, failed, rate_limited).",
		}, []string{"platform", "outcome"}),
		platformDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "feedbackbot_platform_api_duration_seconds",
			Help:    "Latency of chat platform API calls, by platform and method.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"platform", "method"}),
		platformCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedbackbot_platform_api_requests_total",
			Help: "Chat platform API calls, by platform, method and status.",
		}, []string{"platform", "method", "status"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedbackbot_platform_rate_limited_total",
			Help: "Chat platform API calls answered with HTTP 429, by platform and method.",
		}, []string{"platform", "method"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "feedbackbot_http_requests_total",
			Help: "HTTP requests served, by route pattern and status code.",
		}, []string{"route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "feedbackbot_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "feedbackbot_delivery_queue_depth",
		Help: "Release replies waiting to be delivered (pending or running).",
	}, m.depth)
	pending := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "feedbackbot_pending_captures",
		Help: "Chat captures that met an unavailable database, kept to be stored when it is back.",
	}, m.pendingCaptures)
	reg.MustRegister(m.captures, m.suggestions, m.merges, m.deliveries, depth, pending,
		m.platformDur, m.platformCalls, m.rateLimited, m.httpRequests, m.httpDuration)
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				panic(err)
			}
		}
	}
	if g, ok := reg.(prometheus.Gatherer); ok {
		m.gatherer = g
	} else {
		m.gatherer = prometheus.DefaultGatherer
	}
	return m
}

// Captured counts a capture (bot.Metrics).
func (m *Metrics) Captured(platform, via string) {
	if m != nil {
		m.captures.WithLabelValues(platform, via).Inc()
	}
}

// Suggested counts a duplicate suggestion (bot.Metrics).
func (m *Metrics) Suggested() {
	if m != nil {
		m.suggestions.Inc()
	}
}

// Merged counts a merge (bot.Metrics).
func (m *Metrics) Merged() {
	if m != nil {
		m.merges.Inc()
	}
}

// Delivered counts a delivery attempt's outcome (bot.Metrics).
func (m *Metrics) Delivered(platform, outcome string) {
	if m != nil {
		m.deliveries.WithLabelValues(platform, outcome).Inc()
	}
}

// PlatformCall records one chat platform API call: its latency, and its
// status ("ok", an HTTP status such as "429", or a platform error name). A
// status of "429" also counts as rate limited.
func (m *Metrics) PlatformCall(platform, method string, d time.Duration, status string) {
	if m == nil {
		return
	}
	m.platformDur.WithLabelValues(platform, method).Observe(d.Seconds())
	m.platformCalls.WithLabelValues(platform, method, status).Inc()
	if status == "429" {
		m.rateLimited.WithLabelValues(platform, method).Inc()
	}
}

// SetQueueDepth sets the function that reports the delivery queue depth when
// /metrics is scraped. New sets it to StoreQueueDepth(e.Store()) when it is
// unset.
func (m *Metrics) SetQueueDepth(f func() float64) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.queueDepth = f
	m.mu.Unlock()
}

// SetPendingCaptures sets the function that reports the chat captures kept
// while the database is unavailable (Engine.PendingCaptures); New sets it.
func (m *Metrics) SetPendingCaptures(f func() float64) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.pending = f
	m.mu.Unlock()
}

func (m *Metrics) pendingCaptures() float64 {
	m.mu.Lock()
	f := m.pending
	m.mu.Unlock()
	if f == nil {
		return 0
	}
	return f()
}

func (m *Metrics) hasQueueDepth() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.queueDepth != nil
}

func (m *Metrics) depth() float64 {
	m.mu.Lock()
	f := m.queueDepth
	m.mu.Unlock()
	if f == nil {
		return 0
	}
	return f()
}

// StoreQueueDepth returns a queue-depth function over s.DeliveryQueueDepth
// that never holds a scrape for more than a second: it asks the store in
// the background (one question at a time, bounded to five seconds) and,
// when no fresh answer comes in time or the store fails, reports the last
// value it read.
func StoreQueueDepth(s bot.Store) func() float64 {
	var mu sync.Mutex
	var last float64
	var inflight chan struct{}
	return func() float64 {
		mu.Lock()
		ch := inflight
		if ch == nil {
			ch = make(chan struct{})
			inflight = ch
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				n, err := s.DeliveryQueueDepth(ctx)
				mu.Lock()
				if err == nil {
					last = float64(n)
				}
				inflight = nil
				mu.Unlock()
				close(ch)
			}()
		}
		mu.Unlock()
		t := time.NewTimer(time.Second)
		defer t.Stop()
		select {
		case <-ch:
		case <-t.C:
		}
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
}

// observeHTTP counts one served HTTP request.
func (m *Metrics) observeHTTP(route string, code int, d time.Duration) {
	if m == nil {
		return
	}
	m.httpRequests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(d.Seconds())
}

// Middleware counts the requests h serves by code under the given route
// label, for handlers mounted beside the Server (such as Slack's endpoints).
func (m *Metrics) Middleware(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		m.observeHTTP(route, sw.code(), time.Since(start))
	})
}
