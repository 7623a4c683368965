package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestLogin_Hardening(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	env := newEnv(t, func(c *Config) { c.BoardPublic = false; c.Now = clock.Now })
	seed(env)
	post := func(token string, opts ...reqOpt) response {
		body, o := formBody(url.Values{"token": {token}, "next": {"/"}})
		return env.do("POST", "/login", body, append(o, opts...)...)
	}
	// Cross-site login forms are refused, even with the right token.
	if r := post(testToken, withHeader("Sec-Fetch-Site", "cross-site")); r.Code != http.StatusForbidden || r.Header.Get("Set-Cookie") != "" {
		t.Errorf("cross-site login: %d", r.Code)
	}
	if r := post(testToken, withHeader("Origin", "https://evil.example")); r.Code != http.StatusForbidden {
		t.Errorf("login from another origin: %d", r.Code)
	}
	if r := post(testToken, withHeader("Origin", "http://example.com")); r.Code != http.StatusSeeOther {
		t.Errorf("same-origin login: %d", r.Code)
	}
	// Each login gets its own session.
	a := strings.Split(post(testToken).Header.Get("Set-Cookie"), ";")[0]
	b := strings.Split(post(testToken).Header.Get("Set-Cookie"), ";")[0]
	if a == b || !strings.Contains(post(testToken).Header.Get("Set-Cookie"), "Max-Age=") {
		t.Errorf("sessions are not per login or do not expire: %q %q", a, b)
	}
	// Failures are rate limited per address: after the burst even the right
	// token waits, until the limiter refills.
	for i := range loginBurst {
		if r := post("wrong"); r.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, r.Code)
		}
	}
	if r := post(testToken); r.Code != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Errorf("after %d failures: %d", loginBurst, r.Code)
	}
	clock.Add(loginEvery + time.Second)
	if r := post(testToken); r.Code != http.StatusSeeOther {
		t.Errorf("after waiting: %d", r.Code)
	}
}

func TestSafeNext_ControlAndSpace(t *testing.T) {
	for _, in := range []string{"/\t/evil.example", "/\n/evil.example", "/ /evil.example", "/\u00a0/evil", "/\u200b/evil", "/a\\b", "/%09/evil.example"} {
		got := safeNext(in)
		if in == "/%09/evil.example" {
			// Still encoded: harmless, kept.
			if got != in {
				t.Errorf("safeNext(%q) = %q", in, got)
			}
			continue
		}
		if got != "/" {
			t.Errorf("safeNext(%q) = %q, want /", in, got)
		}
	}
	env := newEnv(t, func(c *Config) { c.BoardPublic = false })
	cookie := env.tokenLogin()
	r := env.do("GET", "/login?next=/%09/evil.example", "", withHeader("Cookie", cookie))
	if r.Code != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Errorf("/login?next=/%%09/evil.example: %d Location %q", r.Code, r.Header.Get("Location"))
	}
}

func TestAPI_Companies(t *testing.T) {
	env := newEnv(t)
	seed(env) // FB-1 is from acme (alice, bob), globex (carol) and initech (dave)
	if r := env.do("GET", "/api/v1/companies", ""); r.Code != http.StatusUnauthorized {
		t.Errorf("companies without token: %d", r.Code)
	}
	if r := env.do("POST", "/api/v1/companies", `{"name":"Acme"}`); r.Code != http.StatusUnauthorized {
		t.Errorf("create without token: %d", r.Code)
	}
	j := env.mustWrite(201, "POST", "/api/v1/companies", `{"name":"Acme","organisations":["acme"],"domains":["acme.com"],"plan":"enterprise","mrr":1200.5}`)
	if c := j["company"].(map[string]any); c["mrr"] != 1200.5 || c["plan"] != "enterprise" {
		t.Errorf("created %v", j)
	}
	env.mustWrite(200, "POST", "/api/v1/companies", `{"name":"acme","mrr":1500}`)
	env.mustWrite(201, "POST", "/api/v1/companies", `{"name":"Globex","organisations":["globex"],"mrr":300}`)
	if r := env.write("POST", "/api/v1/companies", `{"name":"Other","organisations":["acme"]}`); r.Code != http.StatusConflict {
		t.Errorf("organisation of another company: %d %s", r.Code, r.Body)
	}
	if r := env.write("POST", "/api/v1/companies", `{"name":"Neg","mrr":-1}`); r.Code != http.StatusBadRequest {
		t.Errorf("negative mrr: %d", r.Code)
	}
	list := env.getJSON("/api/v1/companies", withToken(testToken))
	if cs := list["companies"].([]any); len(cs) != 2 || cs[0].(map[string]any)["name"] != "acme" {
		t.Errorf("companies %v", list)
	}
	// Companies and value on requests; value for the token only.
	req := env.getJSON("/api/v1/requests/FB-1", withToken(testToken))["request"].(map[string]any)
	if req["companies"] != 2.0 || req["value"] != 1800.0 {
		t.Errorf("FB-1 with the token: %v", req)
	}
	pub := env.getJSON("/api/v1/requests/FB-1")["request"].(map[string]any)
	if pub["companies"] != 2.0 || pub["value"] != nil {
		t.Errorf("FB-1 on the public board: %v", pub)
	}
	// sort=value puts FB-1 (acme + globex) first.
	l := env.getJSON("/api/v1/requests?sort=value", withToken(testToken))
	if first := l["requests"].([]any)[0].(map[string]any); first["key"] != "FB-1" {
		t.Errorf("sort=value first %v", first["key"])
	}
	if r := env.do("GET", "/api/v1/requests?sort=bogus", ""); r.Code != http.StatusBadRequest || !strings.Contains(r.Body, "value") {
		t.Errorf("bad sort: %d %s", r.Code, r.Body)
	}
	// The board: the team gets a "Top value" order and the value on the
	// request page; the public board neither.
	cookie := env.tokenLogin()
	if r := env.do("GET", "/?sort=value", "", withHeader("Cookie", cookie)); !strings.Contains(r.Body, "Top value") {
		t.Errorf("team board lacks the value order")
	}
	if r := env.do("GET", "/", ""); strings.Contains(r.Body, "Top value") {
		t.Errorf("public board offers the value order")
	}
	if r := env.do("GET", "/requests/FB-1", "", withHeader("Cookie", cookie)); !strings.Contains(r.Body, "value 1800.00 a month") || !strings.Contains(r.Body, "Globex") {
		t.Errorf("team request page lacks value or companies")
	}
	if r := env.do("GET", "/requests/FB-1", ""); strings.Contains(r.Body, "1800") || strings.Contains(r.Body, "Globex") {
		t.Errorf("public request page shows value or company names")
	}
}

func TestAPI_FeedbackAuthorEmailLinks(t *testing.T) {
	env := newEnv(t)
	seed(env)
	// The same person through two sources counts once; the org defaults to
	// the email's domain.
	j := env.mustWrite(201, "POST", "/api/v1/feedback", `{"source":"zendesk","author":"Kim@Example.org","text":"Bulk edit for tags please"}`)
	key := j["request"].(map[string]any)["key"].(string)
	if o := j["request"].(map[string]any)["organisations"]; o != 1.0 {
		t.Errorf("organisations %v", o)
	}
	env.mustWrite(200, "POST", "/api/v1/requests/"+key+"/votes", `{"user":"kim@example.org","source":"intercom"}`)
	got := env.getJSON("/api/v1/requests/"+key, withToken(testToken))["request"].(map[string]any)
	if got["demand"] != 1.0 {
		t.Errorf("demand %v: the vote of the same email from another source counted twice", got["demand"])
	}
}
