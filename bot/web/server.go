package web

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
)

// DefaultMaxBodyBytes is the request body limit when Config.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 1 << 20

// Config configures the Server.
type Config struct {
	// APIToken authorises API writes (Authorization: Bearer <token>) and
	// opens a private board. "" refuses every API write with 503.
	APIToken string
	// BoardPublic lets anyone read the board and the read-only API. When
	// false they need the token (a bearer header or the login cookie).
	BoardPublic bool
	// Ready reports whether the process can serve (adapters connected and
	// so on); /readyz calls it after pinging the store. nil adds no check.
	Ready func(ctx context.Context) error
	// MaxBodyBytes limits request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// OIDC, when set, lets people sign in to the board with OpenID
	// Connect (GET /auth/login, GET /auth/callback, POST /auth/logout).
	OIDC *OIDCConfig
	// SessionTTL is how long a board session lasts (FEEDBACKBOT_SESSION_TTL);
	// 0 means DefaultSessionTTL.
	SessionTTL time.Duration
	// TeamEmails and TeamDomains give team rights on the web to signed-in
	// people with those verified emails or email domains
	// (FEEDBACKBOT_TEAM_EMAILS, FEEDBACKBOT_TEAM_DOMAINS), lower case.
	TeamEmails  []string
	TeamDomains []string
	// Sessions keeps board sessions; nil means the engine's store when it
	// implements bot.SessionStore, else memory.
	Sessions bot.SessionStore
	// PublicURL is the board's address as people reach it
	// (FEEDBACKBOT_PUBLIC_URL), used in the Atom feed and link previews;
	// "" means the address each request came to.
	PublicURL string
	// Now is the clock of sessions, sign-ins and the roadmap; nil means time.Now.
	Now func() time.Time
}

// Server is feedbackbot's HTTP handler: board, API, metrics and health.
type Server struct {
	cfg     Config
	e       *bot.Engine
	m       *Metrics
	log     *slog.Logger
	mux     *http.ServeMux
	pages   map[string]*template.Template
	cssHash string
	api     []apiRoute

	sessions bot.SessionStore
	oidc     *oidcClient
	limiter  loginLimiter
	now      func() time.Time
}

// apiRoute is one documented API operation.
type apiRoute struct {
	method, path string
	h            http.HandlerFunc
}

// New returns a Server over the engine. m may be nil (no /metrics, nothing
// counted); when m has no queue-depth function New gives it one over the
// engine's store. logger may be nil.
func New(cfg Config, e *bot.Engine, m *Metrics, logger *slog.Logger) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	for i, v := range cfg.TeamEmails {
		cfg.TeamEmails[i] = strings.ToLower(strings.TrimSpace(v))
	}
	for i, v := range cfg.TeamDomains {
		cfg.TeamDomains[i] = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(v)), "@")
	}
	s := &Server{cfg: cfg, e: e, m: m, log: logger, mux: http.NewServeMux(), sessions: cfg.Sessions, now: cfg.Now}
	if s.now == nil {
		s.now = time.Now
	}
	if s.sessions == nil {
		if ss, ok := e.Store().(bot.SessionStore); ok {
			s.sessions = ss
		} else {
			s.sessions = newMemorySessions()
		}
	}
	if cfg.OIDC != nil && cfg.OIDC.Issuer != "" {
		s.oidc = &oidcClient{cfg: *cfg.OIDC}
	}
	if m != nil && !m.hasQueueDepth() {
		m.SetQueueDepth(StoreQueueDepth(e.Store()))
	}
	if m != nil {
		m.SetPendingCaptures(func() float64 { return float64(e.PendingCaptures()) })
	}
	s.loadTemplates()
	s.routes()
	return s
}

func (s *Server) routes() {
	s.api = []apiRoute{
		{"GET", "/api/v1/requests", s.apiListRequests},
		{"GET", "/api/v1/requests/{key}", s.apiGetRequest},
		{"POST", "/api/v1/feedback", s.apiCaptureFeedback},
		{"POST", "/api/v1/requests/{key}/votes", s.apiVote},
		{"DELETE", "/api/v1/requests/{key}/votes", s.apiUnvote},
		{"POST", "/api/v1/requests/{key}/merge", s.apiMerge},
		{"POST", "/api/v1/requests/{key}/unmerge", s.apiUnmerge},
		{"POST", "/api/v1/requests/{key}/status", s.apiSetStatus},
		{"PATCH", "/api/v1/requests/{key}", s.apiEditRequest},
		{"POST", "/api/v1/requests/{key}/remove", s.apiRemoveRequest},
		{"POST", "/api/v1/requests/{key}/restore", s.apiRestoreRequest},
		{"POST", "/api/v1/requests/{key}/links", s.apiTrack},
		{"DELETE", "/api/v1/requests/{key}/links", s.apiUntrack},
		{"POST", "/api/v1/releases", s.apiRelease},
		{"GET", "/api/v1/releases", s.apiListReleases},
		{"GET", "/api/v1/companies", s.apiListCompanies},
		{"POST", "/api/v1/companies", s.apiUpsertCompany},
		{"GET", "/api/v1/openapi.json", s.apiOpenAPI},
	}
	for _, rt := range s.api {
		s.mux.HandleFunc(rt.method+" "+rt.path, rt.h)
	}
	s.mux.HandleFunc("/api/", s.apiFallback)

	s.mux.HandleFunc("GET /{$}", s.boardPage)
	s.mux.HandleFunc("GET /requests/{key}", s.requestPage)
	s.mux.HandleFunc("GET /roadmap", s.roadmapPage)
	s.mux.HandleFunc("GET /changelog", s.changelogPage)
	s.mux.HandleFunc("GET /changelog.atom", s.changelogAtom)
	s.mux.HandleFunc("GET /login", s.loginPage)
	s.mux.HandleFunc("POST /login", s.login)
	s.mux.HandleFunc("POST /logout", s.logout)
	s.mux.HandleFunc("GET /auth/login", s.authLogin)
	s.mux.HandleFunc("GET /auth/callback", s.authCallback)
	s.mux.HandleFunc("POST /auth/logout", s.logout)
	s.actionRoutes()
	s.mux.Handle("GET /static/", staticHandler())
	s.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	if s.m != nil {
		s.mux.Handle("GET /metrics", s.m.Handler())
	}
	s.mux.HandleFunc("/", s.notFoundPage)
}

// ServeHTTP serves the board, the API, /metrics, /healthz and /readyz.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	h := sw.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	r.Pattern = ""
	ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
	defer cancel()
	r = r.WithContext(ctx)
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic serving http", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			if !sw.wrote {
				writeJSON(sw, http.StatusInternalServerError, errorBody{Error: errorDetail{Code: bot.EINTERNAL, Message: "Internal error."}})
			}
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		s.m.observeHTTP(route, sw.code(), d)
		level := slog.LevelInfo
		if quietRoute(route) && sw.code() < 500 {
			level = slog.LevelDebug
		}
		s.log.Log(r.Context(), level, "http request",
			"method", r.Method, "path", r.URL.Path, "route", route,
			"status", sw.code(), "bytes", sw.n, "duration_ms", float64(d.Microseconds())/1000)
	}()
	s.mux.ServeHTTP(sw, r)
}

func quietRoute(route string) bool {
	switch route {
	case "GET /metrics", "GET /healthz", "GET /readyz", "GET /static/", "GET /favicon.ico":
		return true
	}
	return false
}

func routeOf(r *http.Request) string {
	if r.Pattern == "" {
		return "unmatched"
	}
	return r.Pattern
}

// apiFallback answers API paths no route matches: 405 with Allow when the
// path exists for other methods, else 404, both as JSON errors.
func (s *Server) apiFallback(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		rr := r.Clone(r.Context())
		rr.Method = m
		if _, p := s.mux.Handler(rr); p != "" && p != "/api/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: errorDetail{Code: bot.EINVALID,
			Message: r.Method + " is not allowed here; use " + strings.Join(allow, " or ") + "."}})
		return
	}
	writeJSON(w, http.StatusNotFound, errorBody{Error: errorDetail{Code: bot.ENOTFOUND, Message: "There is no such API endpoint."}})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
}

// readyz pings the store, checks that it takes writes when it can tell
// (a SQLite file that turned read-only), then runs Config.Ready; 503 with
// the reason when any fails. It answers within readyzTimeout.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyzTimeout)
	defer cancel()
	err := s.e.Store().Ping(ctx)
	if err == nil {
		if wc, ok := s.e.Store().(writeChecker); ok {
			err = wc.CheckWritable(ctx)
		}
	}
	if err == nil && s.cfg.Ready != nil {
		err = s.cfg.Ready(ctx)
	}
	if err != nil {
		reason := err.Error()
		var be *bot.Error
		if errors.As(err, &be) {
			reason = be.Message
		}
		s.log.Warn("not ready", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": reason})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyzTimeout bounds /readyz's checks (it must answer within 5 s).
const readyzTimeout = 3 * time.Second

// readTimeout bounds the store calls of one board page or API read, so
// that a database that stops answering gives a 503 instead of a hang.
const readTimeout = 10 * time.Second

// writeChecker is a store that can tell whether it takes writes
// (*store.DB).
type writeChecker interface {
	CheckWritable(ctx context.Context) error
}

// NewHTTPServer returns an *http.Server for h on addr with timeouts that
// protect against slow clients: 10 s to read headers, 30 s to read a
// request, 60 s to write a response, 120 s idle keep-alive, 1 MiB of headers.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20,
	}
}

// statusWriter records the status code and byte count of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	n      int64
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status = code
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush implements http.Flusher when the underlying writer does.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if !w.wrote {
			w.WriteHeader(http.StatusOK)
		}
		f.Flush()
	}
}
