package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/feedbackbot/feedbackbot/bot"
)

// sessionCookie is the name of the cookie that opens a private board.
const sessionCookie = "feedbackbot_session"

// sessionValue is what the login cookie holds: an HMAC of a fixed label keyed
// by the token, so the cookie never contains the token and changing the
// token logs everyone out.
func sessionValue(token string) string {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte("feedbackbot board session v1"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
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

// canRead reports whether r may read the board and the read-only API: the
// board is public, or r carries the token or the login cookie.
func (s *Server) canRead(r *http.Request) bool {
	if s.cfg.BoardPublic {
		return true
	}
	if s.cfg.APIToken == "" {
		return false
	}
	if tok, ok := bearer(r); ok {
		return equalSecret(tok, s.cfg.APIToken)
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		return equalSecret(c.Value, s.session)
	}
	return false
}

// readAuth is canRead as an API error.
func (s *Server) readAuth(r *http.Request) error {
	if s.canRead(r) {
		return nil
	}
	if s.cfg.APIToken == "" {
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

// safeNext returns next when it is a local path, else "/".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}

func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if s.canRead(r) {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, http.StatusOK, "")
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, problem string) {
	if s.cfg.APIToken == "" {
		status = http.StatusServiceUnavailable
		problem = "This board is private and no API token is configured, so nobody can open it. Set FEEDBACKBOT_API_TOKEN, or FEEDBACKBOT_BOARD_PUBLIC=true."
	}
	s.render(w, r, status, "login", &loginView{
		pageBase: s.base(r, "Sign in"),
		Next:     safeNext(r.FormValue("next")),
		Problem:  problem,
		Disabled: s.cfg.APIToken == "",
	})
}

// login checks the token from the form and sets the session cookie.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.renderLogin(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	if s.cfg.APIToken == "" || !equalSecret(r.PostForm.Get("token"), s.cfg.APIToken) {
		s.log.Warn("board login failed", "remote_addr", r.RemoteAddr)
		s.renderLogin(w, r, http.StatusUnauthorized, "That token is not right.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    s.session,
		Path:     "/",
		MaxAge:   30 * 24 * 3600,
		HttpOnly: true,
		Secure:   isHTTPS(r),
		SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, safeNext(r.PostForm.Get("next")), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

type loginView struct {
	pageBase
	Next     string
	Problem  string
	Disabled bool
}
