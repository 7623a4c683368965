package web

import (
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

var (
	timeRE = regexp.MustCompile(`<time datetime="[^"]*">[^<]*</time>`)
	cssRE  = regexp.MustCompile(`style\.css\?v=[0-9a-f]+`)
	// The demand chart's labels are dates of the run (TestDemandChart checks it).
	chartRE = regexp.MustCompile(`(?s)<figure class="chart">.*?</figure>`)
)

// scrub makes a page deterministic: times come from the store's clock and
// the stylesheet link carries a content hash.
func scrub(s string) string {
	s = timeRE.ReplaceAllString(s, `<time datetime="TIME">TIME</time>`)
	s = chartRE.ReplaceAllString(s, `<figure class="chart">CHART</figure>`)
	return cssRE.ReplaceAllString(s, "style.css?v=HASH")
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	got = scrub(got)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bot/web -run %s -update)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run with -update if the change is intended):\n%s", path, diff(string(want), got))
	}
}

// diff shows the first lines that differ.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\n- " + a + "\n+ " + b
		}
	}
	return ""
}

func TestBoard_Golden(t *testing.T) {
	env := newEnv(t)
	seed(env)
	for _, c := range []struct{ name, path string }{
		{"board", "/"},
		{"board_new", "/?sort=new"},
		{"board_shipped", "/?status=shipped"},
		{"board_search", "/?q=csv"},
		{"board_empty_search", "/?q=nothing+matches+this&status=open"},
		{"board_page2", "/?limit=2&offset=2"},
		{"request", "/requests/FB-2"},
		{"request_merged", "/requests/FB-3"},
		{"request_shipped", "/requests/FB-5"},
		{"request_api", "/requests/FB-4"},
		{"request_not_found", "/requests/FB-404"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := env.do("GET", c.path, "")
			want := http.StatusOK
			if strings.HasSuffix(c.name, "not_found") {
				want = http.StatusNotFound
			}
			if r.Code != want {
				t.Fatalf("GET %s: %d", c.path, r.Code)
			}
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
				t.Errorf("content type %q", r.Header.Get("Content-Type"))
			}
			golden(t, c.name, r.Body)
		})
	}
	t.Run("empty_board", func(t *testing.T) {
		golden(t, "board_empty", newEnv(t).do("GET", "/", "").Body)
	})
}

// TestBoard_Order checks the order of the rows without golden files.
func TestBoard_Order(t *testing.T) {
	env := newEnv(t)
	seed(env)
	keys := func(path string) string {
		body := env.do("GET", path, "").Body
		var out []string
		for _, m := range regexp.MustCompile(`<span class="key">(FB-\d+)</span>`).FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return strings.Join(out, " ")
	}
	for path, want := range map[string]string{
		"/":                      "FB-1 FB-2 FB-5 FB-4 FB-7 FB-8",
		"/?sort=new":             "FB-8 FB-7 FB-5 FB-4 FB-2 FB-1",
		"/?status=declined":      "FB-7",
		"/?q=keyboard":           "FB-5",
		"/?status=bogus&sort=no": "FB-1 FB-2 FB-5 FB-4 FB-7 FB-8", // the board ignores bad filters
	} {
		if got := keys(path); got != want {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
}

func TestBoard_XSS(t *testing.T) {
	env := newEnv(t)
	seed(env)
	for _, path := range []string{"/", "/requests/FB-4", "/?q=" + url.QueryEscape("<script>alert(1)</script>")} {
		body := env.do("GET", path, "").Body
		for _, bad := range []string{"<script", "<img src=x", "<b>SAML"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s: page contains %q unescaped", path, bad)
			}
		}
	}
	body := env.do("GET", "/requests/FB-4", "").Body
	if !strings.Contains(body, `&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; Single sign-on with &lt;b&gt;SAML&lt;/b&gt;`) {
		t.Errorf("the mention is not shown as escaped text:\n%s", body)
	}
	// Permalinks with a script scheme never become links.
	if strings.Contains(body, `href="javascript:`) {
		t.Errorf("javascript: link rendered")
	}
}

func TestBoard_Private(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.BoardPublic = false })
	seed(env)
	form := func(url.Values) []reqOpt {
		return []reqOpt{withHeader("Content-Type", "application/x-www-form-urlencoded")}
	}
	t.Run("RedirectsToLogin", func(t *testing.T) {
		r := env.do("GET", "/requests/FB-1?x=1", "")
		if r.Code != http.StatusSeeOther || r.Header.Get("Location") != "/login?next=%2Frequests%2FFB-1%3Fx%3D1" {
			t.Errorf("status %d location %q", r.Code, r.Header.Get("Location"))
		}
		if strings.Contains(r.Body, "Dark mode") {
			t.Errorf("private content shown")
		}
	})
	t.Run("LoginPage", func(t *testing.T) {
		r := env.do("GET", "/login?next=/requests/FB-1", "")
		if r.Code != 200 || !strings.Contains(r.Body, `name="token"`) || !strings.Contains(r.Body, `value="/requests/FB-1"`) {
			t.Errorf("login page: %d\n%s", r.Code, r.Body)
		}
		golden(t, "login", r.Body)
	})
	t.Run("WrongToken", func(t *testing.T) {
		r := env.do("POST", "/login", url.Values{"token": {"nope"}, "next": {"/"}}.Encode(), form(nil)...)
		if r.Code != http.StatusUnauthorized || r.Header.Get("Set-Cookie") != "" || !strings.Contains(r.Body, "not right") {
			t.Errorf("wrong token: %d cookie=%q", r.Code, r.Header.Get("Set-Cookie"))
		}
	})
	var cookie string
	t.Run("Login", func(t *testing.T) {
		r := env.do("POST", "/login", url.Values{"token": {testToken}, "next": {"/requests/FB-2"}}.Encode(), form(nil)...)
		if r.Code != http.StatusSeeOther || r.Header.Get("Location") != "/requests/FB-2" {
			t.Fatalf("login: %d location %q", r.Code, r.Header.Get("Location"))
		}
		sc := r.Header.Get("Set-Cookie")
		if !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") || strings.Contains(sc, testToken) {
			t.Errorf("cookie %q", sc)
		}
		cookie = strings.Split(sc, ";")[0]
	})
	t.Run("OpenRedirectRefused", func(t *testing.T) {
		r := env.do("POST", "/login", url.Values{"token": {testToken}, "next": {"//evil.example/"}}.Encode(), form(nil)...)
		if r.Header.Get("Location") != "/" {
			t.Errorf("location %q", r.Header.Get("Location"))
		}
	})
	t.Run("CookieOpensBoard", func(t *testing.T) {
		for _, path := range []string{"/", "/requests/FB-2"} {
			r := env.do("GET", path, "", withHeader("Cookie", cookie))
			if r.Code != 200 || !strings.Contains(r.Body, "Sign out") {
				t.Errorf("%s with cookie: %d", path, r.Code)
			}
			if strings.Contains(r.Body, testToken) {
				t.Errorf("%s shows the token", path)
			}
		}
		if r := env.do("GET", "/", "", withHeader("Cookie", sessionCookie+"=forged")); r.Code != http.StatusSeeOther {
			t.Errorf("forged cookie: %d", r.Code)
		}
	})
	t.Run("BearerOpensBoard", func(t *testing.T) {
		if r := env.do("GET", "/", "", withToken(testToken)); r.Code != 200 {
			t.Errorf("bearer: %d", r.Code)
		}
		if r := env.do("GET", "/", "", withToken("wrong")); r.Code != http.StatusUnauthorized {
			t.Errorf("wrong bearer: %d", r.Code)
		}
	})
	t.Run("Logout", func(t *testing.T) {
		page := env.do("GET", "/", "", withHeader("Cookie", cookie))
		csrf := csrfOf(t, page.Body)
		// Without the CSRF token, or from another site, logout is refused.
		if r := env.do("POST", "/logout", "", withHeader("Cookie", cookie)); r.Code != http.StatusForbidden {
			t.Errorf("logout without CSRF token: %d", r.Code)
		}
		if r := env.do("POST", "/logout", "csrf="+csrf, form(nil)[0], withHeader("Cookie", cookie), withHeader("Sec-Fetch-Site", "cross-site")); r.Code != http.StatusForbidden {
			t.Errorf("cross-site logout: %d", r.Code)
		}
		r := env.do("POST", "/logout", "csrf="+csrf, form(nil)[0], withHeader("Cookie", cookie))
		if r.Code != http.StatusSeeOther || !strings.Contains(r.Header.Get("Set-Cookie"), "Max-Age=0") {
			t.Errorf("logout: %d %q", r.Code, r.Header.Get("Set-Cookie"))
		}
		// Logout revoked the session server-side: the old cookie opens nothing.
		if r := env.do("GET", "/", "", withHeader("Cookie", cookie)); r.Code != http.StatusSeeOther {
			t.Errorf("revoked session still opens the board: %d", r.Code)
		}
	})
	t.Run("NoTokenConfigured", func(t *testing.T) {
		env := newEnv(t, func(c *Config) { c.BoardPublic = false; c.APIToken = "" })
		r := env.do("GET", "/login", "")
		if r.Code != http.StatusServiceUnavailable || !strings.Contains(r.Body, "FEEDBACKBOT_API_TOKEN") {
			t.Errorf("login without a configured token: %d", r.Code)
		}
		r = env.do("POST", "/login", "token=", form(nil)...)
		if r.Code != http.StatusServiceUnavailable || r.Header.Get("Set-Cookie") != "" {
			t.Errorf("login post without a configured token: %d", r.Code)
		}
	})
}
