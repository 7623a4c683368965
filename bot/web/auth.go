package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/time/rate"

	"github.com/feedbackbot/feedbackbot/bot"
)

// sessionCookie is the name of the cookie that holds a board session's
// random id (the store keeps its SHA-256, see bot.WebSession).
const sessionCookie = "feedbackbot_session"

// DefaultSessionTTL is how long a board session lasts when
// Config.SessionTTL is 0 (FEEDBACKBOT_SESSION_TTL).
const DefaultSessionTTL = 7 * 24 * time.Hour

// csrfField is the hidden form field carrying the session's CSRF token.
const csrfField = "csrf"

// Login failures allowed per client address: a burst of loginBurst, then
// one per loginEvery.
const (
	loginBurst = 5
	loginEvery = 12 * time.Second
)

// randomToken returns n random bytes, base64url.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is what the store keeps of a cookie or state value.
func hashToken(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// equalSecret compares two secrets in constant time (over their hashes, so
// the length of the expected one does not leak either).
func equalSecret(got, want string) bool {
	g := sha256.Sum256([]byte(got))
	w := sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1 && want != ""
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// writeAuth checks an API write's bearer token. It returns a *bot.Error with
// EUNAVAILABLE when no token is configured, EUNAUTHORIZED when the header is
// missing or wrong.
func (s *Server) writeAuth(r *http.Request) error {
	if s.cfg.APIToken == "" {
		return bot.Errorf(bot.EUNAVAILABLE, "API writes are disabled: set FEEDBACKBOT_API_TOKEN to enable them.")
	}
	tok, ok := bearer(r)
	if !ok {
		return bot.Errorf(bot.EUNAUTHORIZED, "This endpoint needs an \"Authorization: Bearer <token>\" header with the API token.")
	}
	if !equalSecret(tok, s.cfg.APIToken) {
		return bot.Errorf(bot.EUNAUTHORIZED, "The API token is wrong.")
	}
	return nil
}

// memoKey keys the per-request session memo in the request context.
type memoKey struct{}

// sessionMemo remembers the session looked up for one request.
type sessionMemo struct {
	once sync.Once
	s    *bot.WebSession
}

// withSessionMemo gives r a memo so the session is looked up once.
func withSessionMemo(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), memoKey{}, &sessionMemo{}))
}

// session returns r's unexpired board session, or nil.
func (s *Server) session(r *http.Request) *bot.WebSession {
	find := func() *bot.WebSession {
		c, err := r.Cookie(sessionCookie)
		if err != nil || c.Value == "" || len(c.Value) > 200 {
			return nil
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		sess, err := s.sessions.FindSession(ctx, hashToken(c.Value), s.now())
		if err != nil {
			if bot.ErrorCode(err) != bot.ENOTFOUND {
				s.log.Warn("session lookup failed", "err", err)
			}
			return nil
		}
		return sess
	}
	m, ok := r.Context().Value(memoKey{}).(*sessionMemo)
	if !ok {
		return find()
	}
	m.once.Do(func() { m.s = find() })
	return m.s
}

// canRead reports whether r may read the board and the read-only API: the
// board is public, or r carries the token or a board session.
func (s *Server) canRead(r *http.Request) bool {
	if s.cfg.BoardPublic {
		return true
	}
	if tok, ok := bearer(r); ok {
		return s.cfg.APIToken != "" && equalSecret(tok, s.cfg.APIToken)
	}
	return s.session(r) != nil
}

// isTeam reports whether r comes from the team: the API token, or a
// session of an operator (token login) or of a team member (sign-in with
// an email in FEEDBACKBOT_TEAM_EMAILS or FEEDBACKBOT_TEAM_DOMAINS). Only
// the team sees values and company names.
func (s *Server) isTeam(r *http.Request) bool {
	if tok, ok := bearer(r); ok {
		return s.cfg.APIToken != "" && equalSecret(tok, s.cfg.APIToken)
	}
	if sess := s.session(r); sess != nil {
		return sess.Team
	}
	return false
}

// signInConfigured reports whether anyone can get a session.
func (s *Server) signInConfigured() bool { return s.cfg.APIToken != "" || s.oidc != nil }

// readAuth is canRead as an API error.
func (s *Server) readAuth(r *http.Request) error {
	if s.canRead(r) {
		return nil
	}
	if s.cfg.APIToken == "" && s.oidc == nil {
		return bot.Errorf(bot.EUNAVAILABLE, "The board is private and no API token is configured (set FEEDBACKBOT_API_TOKEN or FEEDBACKBOT_BOARD_PUBLIC).")
	}
	return bot.Errorf(bot.EUNAUTHORIZED, "The board is private: send \"Authorization: Bearer <token>\" with the API token.")
}

// authError writes an auth failure, with WWW-Authenticate on 401.
func (s *Server) authError(w http.ResponseWriter, r *http.Request, err error) {
	if bot.ErrorCode(err) == bot.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", `Bearer realm="feedbackbot"`)
	}
	s.writeError(w, r, err)
}

// safeNext returns next when it is a local path, else "/". Control
// characters, whitespace and backslashes anywhere are refused: browsers
// drop tabs and newlines from URLs, so "/\t/evil.example" would leave the
// site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || len(next) > 2000 {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f || c == '\\' || unicode.IsSpace(c) || unicode.Is(unicode.Cf, c) || c == unicode.ReplacementChar {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// sameOrigin reports whether a state-changing browser request comes from
// the board itself: Sec-Fetch-Site, when the browser sends it, must be
// same-origin or none (typed or bookmarked); an Origin header must name
// this host. Requests with neither (curl, old browsers) pass: forms also
// carry a CSRF token where a session exists.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if o == "null" || err != nil || !strings.EqualFold(u.Host, r.Host) {
			return false
		}
	}
	return true
}

// checkForm parses a POSTed form of a signed-in page and checks that it
// comes from the board: same origin and the session's CSRF token. It
// returns the session, or nil after answering 403 (or sending people who
// are not signed in to the sign-in page).
func (s *Server) checkForm(w http.ResponseWriter, r *http.Request) *bot.WebSession {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, bot.Errorf(bot.EINVALID, "The form could not be read."))
		return nil
	}
	if !sameOrigin(r) {
		s.renderError(w, r, bot.Errorf(bot.EFORBIDDEN, "This form was sent from another site, so it was refused."))
		return nil
	}
	sess := s.session(r)
	if sess == nil {
		s.renderError(w, r, bot.Errorf(bot.EFORBIDDEN, "Sign in first: your session is missing or has expired."))
		return nil
	}
	if !equalSecret(r.PostForm.Get(csrfField), sess.CSRF) {
		s.renderError(w, r, bot.Errorf(bot.EFORBIDDEN, "This form is missing its security token (reload the page and try again)."))
		return nil
	}
	return sess
}

// newSession stores a session and sets its cookie.
func (s *Server) newSession(w http.ResponseWriter, r *http.Request, sess *bot.WebSession) error {
	id := randomToken(32)
	now := s.now()
	sess.IDHash = hashToken(id)
	sess.CSRF = randomToken(24)
	sess.CreatedAt = now
	sess.ExpiresAt = now.Add(s.cfg.SessionTTL)
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.sessions.CreateSession(ctx, sess); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    id,
		Path:     "/",
		MaxAge:   int(s.cfg.SessionTTL / time.Second),
		HttpOnly: true,
		Secure:   isHTTPS(r),
		SameSite: http.SameSiteLaxMode,
	})
	return nil
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if s.canRead(r) && s.session(r) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, http.StatusOK, "")
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, problem string) {
	if !s.signInConfigured() {
		status = http.StatusServiceUnavailable
		problem = "This board is private and no API token is configured, so nobody can open it. Set FEEDBACKBOT_API_TOKEN, or FEEDBACKBOT_BOARD_PUBLIC=true."
	}
	s.render(w, r, status, "login", &loginView{
		pageBase: s.base(r, "Sign in"),
		Next:     safeNext(r.FormValue("next")),
		Problem:  problem,
		Disabled: s.cfg.APIToken == "",
		OIDC:     s.oidc != nil,
		Private:  !s.cfg.BoardPublic,
	})
}

// clientAddr is the address login failures are counted by.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loginLimiter limits token login failures per client address.
type loginLimiter struct {
	mu   sync.Mutex
	byIP map[string]*rate.Limiter
}

// blocked reports whether addr has used up its failures at now.
func (l *loginLimiter) blocked(addr string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.byIP[addr]
	return ok && lim.TokensAt(now) < 1
}

// fail counts one failure of addr at now.
func (l *loginLimiter) fail(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byIP == nil || len(l.byIP) > 10000 {
		l.byIP = map[string]*rate.Limiter{}
	}
	lim, ok := l.byIP[addr]
	if !ok {
		lim = rate.NewLimiter(rate.Every(loginEvery), loginBurst)
		l.byIP[addr] = lim
	}
	lim.AllowN(now, 1)
}

// login checks the token from the form and starts an operator session.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.renderLogin(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	if !sameOrigin(r) {
		s.renderLogin(w, r, http.StatusForbidden, "This sign-in was sent from another site, so it was refused.")
		return
	}
	addr := clientAddr(r)
	if s.cfg.APIToken != "" && s.limiter.blocked(addr, s.now()) {
		w.Header().Set("Retry-After", "60")
		s.renderLogin(w, r, http.StatusTooManyRequests, "Too many wrong tokens from your address; wait a minute and try again.")
		return
	}
	if s.cfg.APIToken == "" || !equalSecret(r.PostForm.Get("token"), s.cfg.APIToken) {
		s.log.Warn("board login failed", "remote_addr", r.RemoteAddr)
		if s.cfg.APIToken != "" {
			s.limiter.fail(addr, s.now())
		}
		s.renderLogin(w, r, http.StatusUnauthorized, "That token is not right.")
		return
	}
	sess := &bot.WebSession{Kind: bot.SessionToken, Identity: bot.Identity{Platform: bot.PlatformWeb, Workspace: "token", UserID: "operator"},
		Name: "operator", Team: true}
	if err := s.newSession(w, r, sess); err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, safeNext(r.PostForm.Get("next")), http.StatusSeeOther)
}

// logout revokes the session (POST /logout and POST /auth/logout): it needs
// the session's CSRF token and the same origin, 403 without.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	sess := s.checkForm(w, r)
	if sess == nil {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.sessions.DeleteSession(ctx, sess.IDHash); err != nil {
		s.renderError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode})
	to := "/login"
	if s.cfg.BoardPublic {
		to = "/"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

type loginView struct {
	pageBase
	Next     string
	Problem  string
	Disabled bool // no token login
	OIDC     bool // "Sign in" with the OpenID Connect provider
	Private  bool
}

// memorySessions is a SessionStore in memory, for a store that keeps none.
type memorySessions struct {
	mu       sync.Mutex
	sessions map[string]bot.WebSession
	states   map[string]bot.AuthState
}

func newMemorySessions() *memorySessions {
	return &memorySessions{sessions: map[string]bot.WebSession{}, states: map[string]bot.AuthState{}}
}

func (m *memorySessions) CreateSession(ctx context.Context, s *bot.WebSession) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions[s.IDHash] = *s
	return nil
}

func (m *memorySessions) FindSession(ctx context.Context, idHash string, now time.Time) (*bot.WebSession, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[idHash]
	if !ok || !s.ExpiresAt.After(now) {
		return nil, bot.Errorf(bot.ENOTFOUND, "There is no such session.")
	}
	return &s, nil
}

func (m *memorySessions) DeleteSession(ctx context.Context, idHash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, idHash)
	return nil
}

func (m *memorySessions) CreateAuthState(ctx context.Context, st *bot.AuthState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states[st.StateHash] = *st
	return nil
}

func (m *memorySessions) TakeAuthState(ctx context.Context, h string, now time.Time) (*bot.AuthState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.states[h]
	delete(m.states, h)
	if !ok || !st.ExpiresAt.After(now) {
		return nil, bot.Errorf(bot.ENOTFOUND, "This sign-in is unknown, used or expired; start again.")
	}
	return &st, nil
}
