// Package oidctest is a fake OpenID Connect provider for tests, speaking the
// wire format on 127.0.0.1: discovery, an authorisation endpoint that signs
// the configured user in at once, a token endpoint that checks the client,
// the code, the redirect URI and the PKCE verifier, and a JWKS.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Provider is a running fake provider.
type Provider struct {
	URL          string // issuer
	ClientID     string
	ClientSecret string

	srv   *httptest.Server
	key   *rsa.PrivateKey
	wrong *rsa.PrivateKey

	mu sync.Mutex
	// Claims are the ID token claims of the next sign-in (sub, email,
	// email_verified, name, …); iss, aud, exp, iat and nonce are added.
	claims map[string]any
	// badSignature signs ID tokens with a key the JWKS does not have.
	badSignature bool
	codes        map[string]grant
	// Authorize records the query of the last authorisation request.
	authorize url.Values
	now       func() time.Time
}

type grant struct {
	redirect, nonce, challenge string
	claims                     map[string]any
}

// New starts a provider for one client; Close it when done.
func New(clientID, clientSecret string) *Provider {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	wrong, _ := rsa.GenerateKey(rand.Reader, 2048)
	p := &Provider{ClientID: clientID, ClientSecret: clientSecret, key: key, wrong: wrong,
		codes: map[string]grant{}, now: time.Now,
		claims: map[string]any{"sub": "user-1", "email": "jane@example.com", "email_verified": true, "name": "Jane"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /authorize", p.authorizeEndpoint)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /keys", p.keys)
	p.srv = httptest.NewServer(mux)
	p.URL = p.srv.URL
	return p
}

// Close stops the provider.
func (p *Provider) Close() { p.srv.Close() }

// SetClaims sets the claims of the next sign-ins.
func (p *Provider) SetClaims(c map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.claims = c
}

// SetBadSignature makes the provider sign ID tokens with an unknown key.
func (p *Provider) SetBadSignature(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.badSignature = on
}

// SetNow sets the provider's clock (iat and exp of ID tokens).
func (p *Provider) SetNow(now func() time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.now = now
}

// LastAuthorize returns the query of the last authorisation request.
func (p *Provider) LastAuthorize() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.authorize
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"issuer":                                p.URL,
		"authorization_endpoint":                p.URL + "/authorize",
		"token_endpoint":                        p.URL + "/token",
		"jwks_uri":                              p.URL + "/keys",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

func (p *Provider) keys(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: p.key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}

func random() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authorizeEndpoint signs the configured user in: it requires the code
// flow with a state, a nonce and an S256 PKCE challenge, and redirects back
// with a code.
func (p *Provider) authorizeEndpoint(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	p.authorize = q
	claims := p.claims
	p.mu.Unlock()
	if q.Get("response_type") != "code" || q.Get("client_id") != p.ClientID || q.Get("state") == "" || q.Get("nonce") == "" ||
		q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" || q.Get("redirect_uri") == "" {
		http.Error(w, "invalid_request: need response_type=code, client_id, state, nonce, redirect_uri and an S256 code_challenge", http.StatusBadRequest)
		return
	}
	code := random()
	p.mu.Lock()
	p.codes[code] = grant{redirect: q.Get("redirect_uri"), nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), claims: claims}
	p.mu.Unlock()
	u, _ := url.Parse(q.Get("redirect_uri"))
	v := u.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func tokenError(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": code})
}

// token exchanges a code once, checking the client, the redirect URI and
// the PKCE verifier.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, "invalid_request")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.ClientID || secret != p.ClientSecret {
		tokenError(w, "invalid_client")
		return
	}
	p.mu.Lock()
	g, found := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code"))
	bad, now := p.badSignature, p.now()
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !found || r.PostForm.Get("grant_type") != "authorization_code" || r.PostForm.Get("redirect_uri") != g.redirect ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		tokenError(w, "invalid_grant")
		return
	}
	claims := map[string]any{}
	for k, v := range g.claims {
		claims[k] = v
	}
	claims["iss"], claims["aud"], claims["nonce"] = p.URL, p.ClientID, g.nonce
	claims["iat"], claims["exp"] = now.Unix(), now.Add(time.Hour).Unix()
	key := p.key
	if bad {
		key = p.wrong
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	payload, _ := json.Marshal(claims)
	sig, err := signer.Sign(payload)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	idt, _ := sig.CompactSerialize()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": random(), "token_type": "Bearer", "expires_in": 3600, "id_token": idt})
}
