package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/feedbackbot/feedbackbot/bot"
)

// OIDCConfig configures sign-in to the board with OpenID Connect
// (FEEDBACKBOT_OIDC_ISSUER, FEEDBACKBOT_OIDC_CLIENT_ID,
// FEEDBACKBOT_OIDC_CLIENT_SECRET, FEEDBACKBOT_PUBLIC_URL). It works with
// Sign in with Slack (issuer https://slack.com), Google, Okta, Keycloak and
// any provider with discovery.
type OIDCConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// PublicURL is the board's address as browsers reach it; the redirect
	// URI registered with the provider is PublicURL + "/auth/callback".
	PublicURL string
	// HTTPClient talks to the provider; nil means a client with a 15 s
	// timeout.
	HTTPClient *http.Client
}

// authStateTTL is how long a sign-in may take (state single use).
const authStateTTL = 10 * time.Minute

// authCookie binds a sign-in to the browser that started it.
const authCookie = "feedbackbot_signin"

// Slack's OpenID Connect issuer and its claims naming the Slack user.
const (
	slackIssuer      = "https://slack.com"
	slackUserIDClaim = "https://slack.com/user_id"
	slackTeamIDClaim = "https://slack.com/team_id"
)

// oidcClient is the provider, discovered on first use.
type oidcClient struct {
	cfg OIDCConfig

	mu       sync.Mutex
	provider *oidc.Provider
}

func (c *oidcClient) httpClient() *http.Client {
	if c.cfg.HTTPClient != nil {
		return c.cfg.HTTPClient
	}
	return &http.Client{Timeout: 15 * time.Second}
}

func (c *oidcClient) redirectURL() string {
	return strings.TrimSuffix(c.cfg.PublicURL, "/") + "/auth/callback"
}

// setup returns the provider (discovering it once; a failure is retried on
// the next sign-in) and the OAuth2 configuration.
func (c *oidcClient) setup(ctx context.Context) (*oidc.Provider, *oauth2.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider == nil {
		p, err := oidc.NewProvider(oidc.ClientContext(ctx, c.httpClient()), c.cfg.Issuer)
		if err != nil {
			return nil, nil, err
		}
		c.provider = p
	}
	return c.provider, &oauth2.Config{
		ClientID:     c.cfg.ClientID,
		ClientSecret: c.cfg.ClientSecret,
		Endpoint:     c.provider.Endpoint(),
		RedirectURL:  c.redirectURL(),
		Scopes:       []string{oidc.ScopeOpenID, "email", "profile"},
	}, nil
}

// GET /auth/login: start the authorisation code flow with a single-use
// state, a nonce and PKCE.
func (s *Server) authLogin(w http.ResponseWriter, r *http.Request) {
	if s.oidc == nil {
		s.renderError(w, r, bot.Errorf(bot.ENOTFOUND, "Sign-in is not set up on this board (FEEDBACKBOT_OIDC_ISSUER)."))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	_, oc, err := s.oidc.setup(ctx)
	if err != nil {
		s.log.Warn("openid connect discovery failed", "issuer", s.oidc.cfg.Issuer, "err", err)
		s.renderError(w, r, bot.Errorf(bot.EUNAVAILABLE, "The sign-in provider cannot be reached; try again in a moment."))
		return
	}
	state, nonce, verifier := randomToken(32), randomToken(32), oauth2.GenerateVerifier()
	st := &bot.AuthState{StateHash: hashToken(state), Nonce: nonce, Verifier: verifier,
		Next: safeNext(r.URL.Query().Get("next")), ExpiresAt: s.now().Add(authStateTTL)}
	if err := s.sessions.CreateAuthState(ctx, st); err != nil {
		s.renderError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: authCookie, Value: state, Path: "/auth/", MaxAge: int(authStateTTL / time.Second),
		HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, oc.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
}

// idClaims are the ID token claims sign-in reads.
type idClaims struct {
	Subject       string `json:"sub"`
	Email         string `json:"email"`
	EmailVerified any    `json:"email_verified"` // bool, or "true" from some providers
	Name          string `json:"name"`
	SlackUserID   string `json:"https://slack.com/user_id"`
	SlackTeamID   string `json:"https://slack.com/team_id"`
}

func (c idClaims) verified() bool {
	switch v := c.EmailVerified.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// GET /auth/callback: check the state (single use, this browser), exchange
// the code with the PKCE verifier, verify the ID token (signature, issuer,
// audience, expiry) and its nonce, and start a session.
func (s *Server) authCallback(w http.ResponseWriter, r *http.Request) {
	if s.oidc == nil {
		s.renderError(w, r, bot.Errorf(bot.ENOTFOUND, "Sign-in is not set up on this board (FEEDBACKBOT_OIDC_ISSUER)."))
		return
	}
	q := r.URL.Query()
	fail := func(status int, msg string, err error) {
		if err != nil {
			s.log.Warn("sign-in failed", "reason", msg, "err", err)
		} else {
			s.log.Warn("sign-in failed", "reason", msg)
		}
		http.SetCookie(w, &http.Cookie{Name: authCookie, Value: "", Path: "/auth/", MaxAge: -1, HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode})
		s.renderLogin(w, r, status, msg)
	}
	if e := q.Get("error"); e != "" {
		fail(http.StatusForbidden, "The sign-in provider said no ("+clipText(e, 60)+").", nil)
		return
	}
	state := q.Get("state")
	c, err := r.Cookie(authCookie)
	if state == "" || err != nil || !equalSecret(state, c.Value) {
		fail(http.StatusBadRequest, "This sign-in did not start in this browser or has expired; sign in again.", nil)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	st, err := s.sessions.TakeAuthState(ctx, hashToken(state), s.now())
	if err != nil {
		fail(http.StatusBadRequest, "This sign-in is unknown, was already used or has expired; sign in again.", nil)
		return
	}
	provider, oc, err := s.oidc.setup(ctx)
	if err != nil {
		fail(http.StatusServiceUnavailable, "The sign-in provider cannot be reached; try again in a moment.", err)
		return
	}
	pctx := oidc.ClientContext(ctx, s.oidc.httpClient())
	tok, err := oc.Exchange(pctx, q.Get("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		fail(http.StatusBadRequest, "The sign-in provider refused the sign-in code; sign in again.", err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		fail(http.StatusBadGateway, "The sign-in provider sent no ID token.", nil)
		return
	}
	idt, err := provider.VerifierContext(pctx, &oidc.Config{ClientID: s.oidc.cfg.ClientID, Now: s.now}).Verify(pctx, raw)
	if err != nil {
		fail(http.StatusBadRequest, "The sign-in could not be verified; sign in again.", err)
		return
	}
	if !equalSecret(idt.Nonce, st.Nonce) {
		fail(http.StatusBadRequest, "The sign-in could not be verified (nonce); sign in again.", nil)
		return
	}
	var cl idClaims
	if err := idt.Claims(&cl); err != nil || cl.Subject == "" {
		fail(http.StatusBadGateway, "The sign-in provider sent an ID token without a subject.", err)
		return
	}
	sess := s.signedInSession(idt.Issuer, cl)
	if sess.Email != "" {
		if err := s.e.LinkEmail(ctx, sess.Identity, sess.Name, sess.Email); err != nil {
			s.log.Warn("linking a sign-in email failed", "err", bot.ErrorMessage(err))
		}
	}
	if err := s.newSession(w, r, sess); err != nil {
		s.renderError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: authCookie, Value: "", Path: "/auth/", MaxAge: -1, HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, safeNext(st.Next), http.StatusSeeOther)
}

// signedInSession is the session of a verified ID token: a Slack sign-in
// is the Slack identity itself (its votes are the same as in Slack); any
// other is (web, issuer, subject), linked to the person with its email
// when the email is verified. Team rights come only from
// FEEDBACKBOT_TEAM_EMAILS and FEEDBACKBOT_TEAM_DOMAINS, for verified
// emails.
func (s *Server) signedInSession(issuer string, cl idClaims) *bot.WebSession {
	sess := &bot.WebSession{Kind: bot.SessionOIDC, Name: strings.TrimSpace(cl.Name)}
	sess.Identity = bot.Identity{Platform: bot.PlatformWeb, Workspace: issuer, UserID: cl.Subject}
	if strings.TrimSuffix(issuer, "/") == slackIssuer && cl.SlackUserID != "" && cl.SlackTeamID != "" {
		sess.Identity = bot.Identity{Platform: bot.PlatformSlack, Workspace: cl.SlackTeamID, UserID: cl.SlackUserID}
	}
	if email, ok := bot.NormalizeEmail(cl.Email); ok && cl.verified() {
		sess.Email = email
		sess.Team = slices.Contains(s.cfg.TeamEmails, email) || slices.Contains(s.cfg.TeamDomains, bot.EmailDomain(email))
	}
	if sess.Name == "" {
		sess.Name = sess.Email
	}
	if sess.Name == "" {
		sess.Name = "someone"
	}
	return sess
}

// sessionActor is the person behind a board session, with team rights
// from the session. Their organisation is the email's domain (a Slack
// sign-in keeps the Slack team).
func sessionActor(sess *bot.WebSession) bot.Actor {
	a := bot.Actor{Kind: bot.ActorPerson, Identity: sess.Identity, Name: sess.Name, Team: sess.Team}
	if sess.Identity.Platform == bot.PlatformSlack {
		a.Org = sess.Identity.Workspace
	} else if sess.Email != "" {
		a.Org = bot.EmailDomain(sess.Email)
	}
	return a
}

// loginURL is where the sign-in buttons go.
func loginURL(next string) string {
	return "/auth/login?next=" + url.QueryEscape(safeNext(next))
}

// ValidateOIDC checks the configuration: all four settings or none.
func ValidateOIDC(c OIDCConfig) error {
	if c.Issuer == "" && c.ClientID == "" && c.ClientSecret == "" {
		return nil
	}
	if c.Issuer == "" || c.ClientID == "" || c.PublicURL == "" {
		return fmt.Errorf("sign-in needs FEEDBACKBOT_OIDC_ISSUER, FEEDBACKBOT_OIDC_CLIENT_ID and FEEDBACKBOT_PUBLIC_URL together")
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("FEEDBACKBOT_PUBLIC_URL %q is not an http(s) URL", c.PublicURL)
	}
	return nil
}
