package bot

import (
	"context"
	"time"
)

// Session kinds.
const (
	SessionToken = "token" // an operator who logged in with the API token
	SessionOIDC  = "oidc"  // a person who signed in with OpenID Connect
)

// WebSession is one signed-in browser on the board. The cookie holds a
// random id; the store keeps only its hash (IDHash).
type WebSession struct {
	IDHash   string
	Kind     string
	Identity Identity // who votes and submits from this browser
	Name     string
	Email    string // verified email, "" if none
	Team     bool   // team rights on the web
	// CSRF is the token every form of this session carries.
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// AuthState is one OpenID Connect sign-in in progress: single use, valid
// until ExpiresAt.
type AuthState struct {
	StateHash string
	Nonce     string
	Verifier  string // PKCE code verifier
	Next      string // local path to return to
	ExpiresAt time.Time
}

// SessionStore keeps web sessions and sign-in states (server-side, so that
// logout revokes and every replica sees the same sessions). *store.DB
// implements it.
type SessionStore interface {
	CreateSession(ctx context.Context, s *WebSession) error
	// FindSession returns the session with that id hash if it has not
	// expired at now; ENOTFOUND otherwise.
	FindSession(ctx context.Context, idHash string, now time.Time) (*WebSession, error)
	DeleteSession(ctx context.Context, idHash string) error
	CreateAuthState(ctx context.Context, st *AuthState) error
	// TakeAuthState deletes and returns the state if it has not expired at
	// now (single use); ENOTFOUND otherwise.
	TakeAuthState(ctx context.Context, stateHash string, now time.Time) (*AuthState, error)
}
