package web

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/oidctest"
)

// fakeClock is a settable clock for sessions and sign-ins.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const publicURL = "http://board.example"

// oidcEnv is a private board with sign-in against a fake provider on
// 127.0.0.1.
func oidcEnv(t *testing.T) (*testEnv, *oidctest.Provider, *fakeClock) {
	t.Helper()
	p := oidctest.New("board-client", "board-secret")
	t.Cleanup(p.Close)
	clock := &fakeClock{t: time.Now()}
	p.SetNow(clock.Now)
	env := newEnv(t, func(c *Config) {
		c.BoardPublic = false
		c.OIDC = &OIDCConfig{Issuer: p.URL, ClientID: "board-client", ClientSecret: "board-secret", PublicURL: publicURL}
		c.TeamDomains = []string{"ourco.com"}
		c.TeamEmails = []string{"Lead@Partner.io"}
		c.SessionTTL = time.Hour
		c.Now = clock.Now
	})
	seed(env)
	return env, p, clock
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 30 * time.Second}

// startSignIn runs GET /auth/login and the provider's authorisation, and
// returns the callback path with its query and the sign-in cookie.
func startSignIn(t *testing.T, env *testEnv, next string) (callback, cookie string) {
	t.Helper()
	r := env.do("GET", "/auth/login?next="+url.QueryEscape(next), "")
	if r.Code != http.StatusFound {
		t.Fatalf("/auth/login: %d %s", r.Code, r.Body)
	}
	cookie = strings.Split(r.Header.Get("Set-Cookie"), ";")[0]
	resp, err := noRedirect.Get(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("provider authorize: %d", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, publicURL+"/auth/callback?") {
		t.Fatalf("provider redirected to %q", loc)
	}
	return strings.TrimPrefix(loc, publicURL), cookie
}

// signIn signs the provider's current user in and returns the session cookie.
func signIn(t *testing.T, env *testEnv, next string) string {
	t.Helper()
	cb, c := startSignIn(t, env, next)
	r := env.do("GET", cb, "", withHeader("Cookie", c))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("callback: %d %s", r.Code, r.Body)
	}
	if r.Header.Get("Location") != next {
		t.Errorf("callback went to %q, want %q", r.Header.Get("Location"), next)
	}
	sc := strings.Split(r.Header.Get("Set-Cookie"), ";")[0]
	for _, h := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, sessionCookie+"=") {
			sc = strings.Split(h, ";")[0]
		}
	}
	if !strings.HasPrefix(sc, sessionCookie+"=") {
		t.Fatalf("no session cookie: %v", r.Header.Values("Set-Cookie"))
	}
	return sc
}

func formBody(v url.Values) (string, []reqOpt) {
	return v.Encode(), []reqOpt{withHeader("Content-Type", "application/x-www-form-urlencoded")}
}

func TestOIDC_SignInVoteAndTeam(t *testing.T) {
	env, p, _ := oidcEnv(t)
	before := env.getJSON("/api/v1/requests/FB-2", withToken(testToken))["request"].(map[string]any)["demand"].(float64)

	// A customer with a verified email signs in, votes through the form.
	p.SetClaims(map[string]any{"sub": "cust-1", "email": "Jane@Acme.com", "email_verified": true, "name": "Jane"})
	cookie := signIn(t, env, "/requests/FB-2")
	q := p.LastAuthorize()
	if q.Get("nonce") == "" || q.Get("code_challenge_method") != "S256" || q.Get("redirect_uri") != publicURL+"/auth/callback" {
		t.Errorf("authorize request lacks nonce/PKCE/redirect: %v", q)
	}
	page := env.do("GET", "/requests/FB-2", "", withHeader("Cookie", cookie))
	if page.Code != 200 || !strings.Contains(page.Body, "Jane") || !strings.Contains(page.Body, "/requests/FB-2/vote") {
		t.Fatalf("signed-in page: %d\n%s", page.Code, page.Body)
	}
	if strings.Contains(page.Body, "Team actions") || strings.Contains(page.Body, "value ") {
		t.Errorf("a customer sees team actions or the value")
	}
	csrf := csrfOf(t, page.Body)
	body, opts := formBody(url.Values{"csrf": {csrf}})
	r := env.do("POST", "/requests/FB-2/vote", body, append(opts, withHeader("Cookie", cookie))...)
	if r.Code != http.StatusSeeOther || r.Header.Get("Location") != "/requests/FB-2" {
		t.Fatalf("vote form: %d %s", r.Code, r.Body)
	}
	after := env.getJSON("/api/v1/requests/FB-2", withToken(testToken))["request"].(map[string]any)["demand"].(float64)
	if after != before+1 {
		t.Errorf("demand %v after the web vote, want %v", after, before+1)
	}
	// Without the CSRF token, or cross-site, nothing changes: 403.
	body, opts = formBody(url.Values{})
	if r := env.do("POST", "/requests/FB-2/unvote", body, append(opts, withHeader("Cookie", cookie))...); r.Code != http.StatusForbidden {
		t.Errorf("unvote without CSRF: %d", r.Code)
	}
	body, opts = formBody(url.Values{"csrf": {csrf}})
	if r := env.do("POST", "/requests/FB-2/unvote", body, append(opts, withHeader("Cookie", cookie), withHeader("Origin", "https://evil.example"))...); r.Code != http.StatusForbidden {
		t.Errorf("cross-site unvote: %d", r.Code)
	}
	// A customer is not on the team: team actions are refused.
	body, opts = formBody(url.Values{"csrf": {csrf}, "status": {"planned"}})
	if r := env.do("POST", "/requests/FB-2/status", body, append(opts, withHeader("Cookie", cookie))...); r.Code != http.StatusForbidden {
		t.Errorf("customer status change: %d", r.Code)
	}
	// Submitting feedback from the board.
	body, opts = formBody(url.Values{"csrf": {csrf}, "text": {"Please add a dark theme to the mobile app"}})
	if r := env.do("POST", "/feedback", body, append(opts, withHeader("Cookie", cookie))...); r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/requests/FB-") {
		t.Errorf("feedback form: %d %s", r.Code, r.Body)
	}

	// A team member (domain in FEEDBACKBOT_TEAM_DOMAINS) sets the status.
	p.SetClaims(map[string]any{"sub": "team-1", "email": "lee@ourco.com", "email_verified": true, "name": "Lee"})
	team := signIn(t, env, "/requests/FB-2")
	page = env.do("GET", "/requests/FB-2", "", withHeader("Cookie", team))
	if !strings.Contains(page.Body, "Team actions") || !strings.Contains(page.Body, "value ") {
		t.Fatalf("team page lacks team actions or value")
	}
	body, opts = formBody(url.Values{"csrf": {csrfOf(t, page.Body)}, "status": {"in_progress"}})
	if r := env.do("POST", "/requests/FB-2/status", body, append(opts, withHeader("Cookie", team))...); r.Code != http.StatusSeeOther {
		t.Fatalf("team status change: %d %s", r.Code, r.Body)
	}
	if st := env.getJSON("/api/v1/requests/FB-2", withToken(testToken))["request"].(map[string]any)["status"]; st != "in_progress" {
		t.Errorf("status %v after the team form", st)
	}
	// The team's session sees the value in the API; a customer's does not.
	if j := env.getJSON("/api/v1/requests/FB-2", withHeader("Cookie", team)); j["request"].(map[string]any)["value"] == nil {
		t.Errorf("team session: no value in the API")
	}
	if j := env.getJSON("/api/v1/requests/FB-2", withHeader("Cookie", cookie)); j["request"].(map[string]any)["value"] != nil {
		t.Errorf("customer session: value in the API")
	}
	// An unverified email signs in but gets no team rights (and no link).
	p.SetClaims(map[string]any{"sub": "team-2", "email": "lead@partner.io", "email_verified": false, "name": "Mallory"})
	unv := signIn(t, env, "/")
	if page := env.do("GET", "/requests/FB-2", "", withHeader("Cookie", unv)); strings.Contains(page.Body, "Team actions") {
		t.Errorf("unverified email got team rights")
	}
	// A listed email (FEEDBACKBOT_TEAM_EMAILS, any case) is team.
	p.SetClaims(map[string]any{"sub": "team-3", "email": "lead@partner.io", "email_verified": true, "name": "Lead"})
	lead := signIn(t, env, "/")
	if page := env.do("GET", "/requests/FB-2", "", withHeader("Cookie", lead)); !strings.Contains(page.Body, "Team actions") {
		t.Errorf("listed team email got no team rights")
	}
}

func TestOIDC_BadStateAndReplay(t *testing.T) {
	env, _, _ := oidcEnv(t)
	cb, c := startSignIn(t, env, "/")
	u, _ := url.Parse(cb)
	q := u.Query()
	// A state this browser did not start is refused.
	bad := *u
	bq := u.Query()
	bq.Set("state", "forged-state")
	bad.RawQuery = bq.Encode()
	if r := env.do("GET", bad.String(), "", withHeader("Cookie", c)); r.Code != http.StatusBadRequest || strings.Contains(r.Header.Get("Set-Cookie"), sessionCookie+"=") {
		t.Errorf("bad state: %d %v", r.Code, r.Header.Values("Set-Cookie"))
	}
	// Without the browser's sign-in cookie the right state is refused too.
	if r := env.do("GET", cb, ""); r.Code != http.StatusBadRequest {
		t.Errorf("callback without the sign-in cookie: %d", r.Code)
	}
	// The real callback works once; a replay of the same state is refused.
	if r := env.do("GET", cb, "", withHeader("Cookie", c)); r.Code != http.StatusSeeOther {
		t.Fatalf("callback: %d %s", r.Code, r.Body)
	}
	if r := env.do("GET", cb, "", withHeader("Cookie", c)); r.Code != http.StatusBadRequest {
		t.Errorf("replayed state: %d", r.Code)
	}
	_ = q
}

func TestOIDC_StateExpires(t *testing.T) {
	env, _, clock := oidcEnv(t)
	cb, c := startSignIn(t, env, "/")
	clock.Add(11 * time.Minute)
	if r := env.do("GET", cb, "", withHeader("Cookie", c)); r.Code != http.StatusBadRequest {
		t.Errorf("state older than 10 minutes: %d", r.Code)
	}
}

func TestOIDC_BadSignature(t *testing.T) {
	env, p, _ := oidcEnv(t)
	p.SetBadSignature(true)
	cb, c := startSignIn(t, env, "/")
	r := env.do("GET", cb, "", withHeader("Cookie", c))
	if r.Code != http.StatusBadRequest || !strings.Contains(r.Body, "could not be verified") {
		t.Fatalf("badly signed ID token: %d %s", r.Code, r.Body)
	}
	for _, h := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, sessionCookie+"=") && !strings.Contains(h, "Max-Age=0") {
			t.Errorf("session cookie set for a bad signature: %q", h)
		}
	}
}

func TestOIDC_SessionExpiresAndLogoutRevokes(t *testing.T) {
	env, _, clock := oidcEnv(t)
	cookie := signIn(t, env, "/")
	if r := env.do("GET", "/", "", withHeader("Cookie", cookie)); r.Code != 200 {
		t.Fatalf("signed in board: %d", r.Code)
	}
	page := env.do("GET", "/requests/FB-1", "", withHeader("Cookie", cookie))
	csrf := csrfOf(t, page.Body)
	clock.Add(time.Hour + time.Second) // SessionTTL is an hour
	if r := env.do("GET", "/", "", withHeader("Cookie", cookie)); r.Code != http.StatusSeeOther {
		t.Errorf("expired session still opens the private board: %d", r.Code)
	}
	body, opts := formBody(url.Values{"csrf": {csrf}})
	if r := env.do("POST", "/requests/FB-1/vote", body, append(opts, withHeader("Cookie", cookie))...); r.Code != http.StatusForbidden {
		t.Errorf("vote with an expired session: %d", r.Code)
	}

	// POST /auth/logout revokes: the cookie opens nothing afterwards.
	cookie = signIn(t, env, "/")
	page = env.do("GET", "/", "", withHeader("Cookie", cookie))
	body, opts = formBody(url.Values{"csrf": {csrfOf(t, page.Body)}})
	if r := env.do("POST", "/auth/logout", body, append(opts, withHeader("Cookie", cookie))...); r.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.Code)
	}
	if r := env.do("GET", "/", "", withHeader("Cookie", cookie)); r.Code != http.StatusSeeOther {
		t.Errorf("session works after logout: %d", r.Code)
	}
}

func TestSignedInSession_SlackIdentity(t *testing.T) {
	s := &Server{cfg: Config{TeamDomains: []string{"ourco.com"}}}
	sess := s.signedInSession("https://slack.com", idClaims{Subject: "U1", Email: "ann@ourco.com", EmailVerified: true,
		SlackUserID: "U1", SlackTeamID: "T1", Name: "Ann"})
	if sess.Identity != (bot.Identity{Platform: bot.PlatformSlack, Workspace: "T1", UserID: "U1"}) || !sess.Team || sess.Email != "ann@ourco.com" {
		t.Errorf("slack sign-in: %+v", sess)
	}
	a := sessionActor(sess)
	if a.Org != "T1" || !a.Team {
		t.Errorf("slack actor %+v", a)
	}
	sess = s.signedInSession("https://accounts.google.com", idClaims{Subject: "g-1", Email: "bo@acme.com", EmailVerified: "true"})
	if sess.Identity != (bot.Identity{Platform: bot.PlatformWeb, Workspace: "https://accounts.google.com", UserID: "g-1"}) || sess.Team {
		t.Errorf("google sign-in: %+v", sess)
	}
	if a := sessionActor(sess); a.Org != "acme.com" {
		t.Errorf("org of a web sign-in %q", a.Org)
	}
}
