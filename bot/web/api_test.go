package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
)

// keysOf returns the keys of a list answer, in order.
func keysOf(t *testing.T, v map[string]any) []string {
	t.Helper()
	var out []string
	for _, r := range v["requests"].([]any) {
		out = append(out, r.(map[string]any)["key"].(string))
	}
	return out
}

func requestOf(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	r, ok := v["request"].(map[string]any)
	if !ok {
		t.Fatalf("no request in %v", v)
	}
	return r
}

// writeRoutes are every API write with a valid body for a seeded board.
var writeRoutes = []struct{ method, path, body string }{
	{"POST", "/api/v1/feedback", `{"source":"email","author":"zoe@example.com","text":"A new idea"}`},
	{"POST", "/api/v1/requests/FB-1/votes", `{"user":"zoe"}`},
	{"DELETE", "/api/v1/requests/FB-1/votes", `{"user":"bob"}`},
	{"POST", "/api/v1/requests/FB-1/merge", `{"into":"FB-8"}`},
	{"POST", "/api/v1/requests/FB-3/unmerge", ``},
	{"POST", "/api/v1/requests/FB-1/status", `{"status":"planned"}`},
	{"POST", "/api/v1/requests/FB-1/links", `{"url":"https://github.com/acme/app/issues/12"}`},
	{"DELETE", "/api/v1/requests/FB-1/links", `{"url":"https://github.com/acme/app/issues/12"}`},
	{"POST", "/api/v1/releases", `{"action":"shipped","version":"v3","requests":["FB-1"]}`},
}

func TestAPI_WriteAuth(t *testing.T) {
	env := newEnv(t)
	seed(env)
	before := env.getJSON("/api/v1/requests?limit=100")
	for _, rt := range writeRoutes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			for name, opts := range map[string][]reqOpt{
				"Missing":   nil,
				"Wrong":     {withToken("not-the-token")},
				"Prefix":    {withToken(testToken[:5])},
				"NotBearer": {withHeader("Authorization", "Basic "+testToken)},
			} {
				r := env.do(rt.method, rt.path, rt.body, opts...)
				if r.Code != http.StatusUnauthorized || r.ErrorCode(t) != bot.EUNAUTHORIZED {
					t.Errorf("%s: status %d, want 401: %s", name, r.Code, r.Body)
				}
				if r.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: no WWW-Authenticate header", name)
				}
				if strings.Contains(r.Body, testToken) {
					t.Errorf("%s: answer contains the token", name)
				}
			}
			// Auth is checked before the body is read.
			if r := env.do(rt.method, rt.path, `{not json`); r.Code != http.StatusUnauthorized {
				t.Errorf("bad JSON without auth: status %d, want 401", r.Code)
			}
		})
	}
	after := env.getJSON("/api/v1/requests?limit=100")
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("refused writes changed the board:\nbefore %v\nafter  %v", before, after)
	}
	if n := env.plat.threadReplies("Shipped in v3"); n != 0 {
		t.Errorf("refused release notified %d threads", n)
	}

	t.Run("NoTokenConfigured", func(t *testing.T) {
		env := newEnv(t, func(c *Config) { c.APIToken = "" })
		for _, rt := range writeRoutes {
			r := env.do(rt.method, rt.path, rt.body, withToken(""))
			if r.Code != http.StatusServiceUnavailable || r.ErrorCode(t) != bot.EUNAVAILABLE {
				t.Errorf("%s %s: status %d, want 503: %s", rt.method, rt.path, r.Code, r.Body)
			}
			if !strings.Contains(r.Body, "FEEDBACKBOT_API_TOKEN") {
				t.Errorf("the message should say how to enable writes: %s", r.Body)
			}
		}
	})
}

func TestAPI_BadBodies(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.MaxBodyBytes = 1024 })
	seed(env)
	bodied := []struct{ method, path string }{}
	for _, rt := range writeRoutes {
		if rt.body != "" {
			bodied = append(bodied, struct{ method, path string }{rt.method, rt.path})
		}
	}
	cases := []struct {
		name, body string
		status     int
		code       string
	}{
		{"Malformed", `{"source": "email",`, 400, bot.EINVALID},
		{"NotJSON", `hello`, 400, bot.EINVALID},
		{"Empty", ``, 400, bot.EINVALID},
		{"Array", `[1,2]`, 400, bot.EINVALID},
		{"UnknownField", `{"sauce":"email"}`, 400, bot.EINVALID},
		{"Trailing", `{} {}`, 400, bot.EINVALID},
		{"WrongType", `{"user": 12, "into": 3, "status": 1, "action": 2, "text": 5}`, 400, bot.EINVALID},
		{"Oversize", `{"text":"` + strings.Repeat("x", 2000) + `"}`, 413, bot.ETOOLARGE},
	}
	for _, rt := range bodied {
		for _, c := range cases {
			t.Run(rt.method+" "+rt.path+"/"+c.name, func(t *testing.T) {
				r := env.write(rt.method, rt.path, c.body)
				if r.Code != c.status || r.ErrorCode(t) != c.code {
					t.Errorf("status %d, want %d %s: %s", r.Code, c.status, c.code, r.Body)
				}
			})
		}
	}
	t.Run("OversizeWithoutContentLength", func(t *testing.T) {
		body := `{"source":"email","author":"a","text":"` + strings.Repeat("y", 4000) + `"}`
		req := httptest.NewRequest("POST", "/api/v1/feedback", strings.NewReader(body))
		req.ContentLength = -1 // chunked: the limit must hold while reading
		req.Header.Set("Authorization", "Bearer "+testToken)
		w := httptest.NewRecorder()
		env.srv.ServeHTTP(w, req)
		if w.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413: %s", w.Code, w.Body)
		}
	})
	t.Run("OversizeBodilessRoute", func(t *testing.T) {
		r := env.write("POST", "/api/v1/requests/FB-3/unmerge", strings.Repeat("z", 2000))
		if r.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413: %s", r.Code, r.Body)
		}
	})
}

func TestAPI_ListRequests(t *testing.T) {
	env := newEnv(t)
	seed(env)
	t.Run("DemandOrder", func(t *testing.T) {
		v := env.getJSON("/api/v1/requests")
		if got, want := strings.Join(keysOf(t, v), " "), "FB-1 FB-2 FB-5 FB-4 FB-7 FB-8"; got != want {
			t.Errorf("order %s, want %s", got, want)
		}
		if v["total"].(float64) != 6 {
			t.Errorf("total %v, want 6 (merged requests are not listed)", v["total"])
		}
		first := v["requests"].([]any)[0].(map[string]any)
		if first["demand"].(float64) != 4 || first["organisations"].(float64) != 3 || first["url"] != "/requests/FB-1" {
			t.Errorf("first request %v", first)
		}
	})
	t.Run("New", func(t *testing.T) {
		v := env.getJSON("/api/v1/requests?sort=new")
		if got, want := strings.Join(keysOf(t, v), " "), "FB-8 FB-7 FB-5 FB-4 FB-2 FB-1"; got != want {
			t.Errorf("order %s, want %s", got, want)
		}
	})
	t.Run("Status", func(t *testing.T) {
		v := env.getJSON("/api/v1/requests?status=shipped")
		if got := strings.Join(keysOf(t, v), " "); got != "FB-5" {
			t.Errorf("shipped: %s", got)
		}
	})
	t.Run("Search", func(t *testing.T) {
		v := env.getJSON("/api/v1/requests?q=csv+export")
		if keys := keysOf(t, v); len(keys) == 0 || keys[0] != "FB-2" {
			t.Errorf("search csv export: %v, want FB-2 first", keys)
		}
		v = env.getJSON("/api/v1/requests?q=keyboard&status=open")
		if keys := keysOf(t, v); len(keys) != 0 {
			t.Errorf("keyboard among open requests: %v, want none (it is shipped)", keys)
		}
		v = env.getJSON("/api/v1/requests?q=mode&sort=new")
		if got := strings.Join(keysOf(t, v), " "); got != "FB-8 FB-1" {
			t.Errorf("mode by newest: %s, want FB-8 FB-1", got)
		}
	})
	t.Run("Paging", func(t *testing.T) {
		v := env.getJSON("/api/v1/requests?limit=2&offset=2")
		if got := strings.Join(keysOf(t, v), " "); got != "FB-5 FB-4" {
			t.Errorf("page: %s", got)
		}
		if v["total"].(float64) != 6 || v["limit"].(float64) != 2 || v["offset"].(float64) != 2 {
			t.Errorf("paging fields: %v", v)
		}
	})
	for _, q := range []string{"status=done", "sort=votes", "limit=0", "limit=-1", "limit=x", "offset=-3", "q=" + strings.Repeat("a", 201)} {
		t.Run("Invalid/"+q[:min(len(q), 12)], func(t *testing.T) {
			r := env.do("GET", "/api/v1/requests?"+q, "")
			if r.Code != http.StatusBadRequest || r.ErrorCode(t) != bot.EINVALID {
				t.Errorf("%s: status %d: %s", q, r.Code, r.Body)
			}
		})
	}
}

func TestAPI_GetRequest(t *testing.T) {
	env := newEnv(t)
	seed(env)
	t.Run("OK", func(t *testing.T) {
		v := env.getJSON("/api/v1/requests/FB-2")
		req := requestOf(t, v)
		if req["key"] != "FB-2" || req["status"] != "planned" || req["demand"].(float64) != 3 {
			t.Errorf("request %v", req)
		}
		ms := v["mentions"].([]any)
		if len(ms) != 2 {
			t.Fatalf("mentions %v", ms)
		}
		m := ms[1].(map[string]any)
		if m["request"] != "FB-3" || m["permalink"] != "https://acme.slack.com/archives/C01/p1700000000000300" || m["author_name"] != "grace" || m["platform"] != "slack" {
			t.Errorf("merged mention %v", m)
		}
		dups := v["duplicates"].([]any)
		if len(dups) != 1 || dups[0].(map[string]any)["key"] != "FB-3" || dups[0].(map[string]any)["merged_into"] != "FB-2" {
			t.Errorf("duplicates %v", dups)
		}
		h := v["history"].([]any)
		if len(h) != 1 || h[0].(map[string]any)["to"] != "planned" || h[0].(map[string]any)["note"] != "Next quarter" {
			t.Errorf("history %v", h)
		}
	})
	t.Run("MergedKeyAnswersCanonical", func(t *testing.T) {
		v := env.getJSON("/api/v1/requests/fb-3")
		if requestOf(t, v)["key"] != "FB-2" || v["merged_from"] != "FB-3" {
			t.Errorf("FB-3: %v", v)
		}
	})
	t.Run("Deliveries", func(t *testing.T) {
		v := env.getJSON("/api/v1/requests/FB-5")
		d := v["deliveries"].(map[string]any)
		if d["delivered"].(float64) != 1 || d["failed"].(float64) != 1 {
			t.Errorf("deliveries %v", d)
		}
		f := d["failures"].([]any)
		if len(f) != 1 || f[0].(map[string]any)["channel"] != "C-archived" || !strings.Contains(f[0].(map[string]any)["error"].(string), "channel_not_found") {
			t.Errorf("failures %v", f)
		}
		h := v["history"].([]any)[0].(map[string]any)
		if h["version"] != "v2.4" || h["to"] != "shipped" || h["deliveries"].(map[string]any)["total"].(float64) != 2 {
			t.Errorf("ship history %v", h)
		}
	})
	for _, key := range []string{"FB-99", "FB-0", "nope", "XX-1", "FB-99999999999999999999"} {
		t.Run("NotFound/"+key, func(t *testing.T) {
			r := env.do("GET", "/api/v1/requests/"+key, "")
			if r.Code != http.StatusNotFound || r.ErrorCode(t) != bot.ENOTFOUND {
				t.Errorf("status %d: %s", r.Code, r.Body)
			}
		})
	}
}

func TestAPI_Feedback(t *testing.T) {
	env := newEnv(t)
	seed(env)
	t.Run("OK", func(t *testing.T) {
		r := env.write("POST", "/api/v1/feedback", `{"source":"typeform","author":"zoe@example.com","org":"Initech","text":"Webhooks for new comments\nSo our CRM stays in sync.","link":"https://forms.example.com/r/9"}`)
		if r.Code != http.StatusCreated {
			t.Fatalf("status %d: %s", r.Code, r.Body)
		}
		v := r.JSON(t)
		req := requestOf(t, v)
		if req["key"] != "FB-9" || req["title"] != "Webhooks for new comments" || req["demand"].(float64) != 1 || req["organisations"].(float64) != 1 {
			t.Errorf("request %v", req)
		}
		if r.Header.Get("Location") != "/requests/FB-9" {
			t.Errorf("Location %q", r.Header.Get("Location"))
		}
		d := env.getJSON("/api/v1/requests/FB-9")
		m := d["mentions"].([]any)[0].(map[string]any)
		if m["platform"] != "api" || m["workspace"] != "typeform" || m["via"] != "api" || m["thread_id"] != "" || m["channel"] != "" ||
			m["author_name"] != "zoe@example.com" || m["permalink"] != "https://forms.example.com/r/9" || m["organisation"] != "Initech" {
			t.Errorf("mention %v", m)
		}
	})
	t.Run("PossibleDuplicates", func(t *testing.T) {
		v := env.mustWrite(http.StatusCreated, "POST", "/api/v1/feedback", `{"source":"email","author":"yan@example.com","text":"Dark mode for the dashboard please"}`)
		dups := fmt.Sprint(v["possible_duplicates"])
		if !strings.Contains(dups, "FB-1") {
			t.Errorf("possible duplicates %s, want FB-1 (message %q)", dups, v["message"])
		}
	})
	cases := []struct {
		name, body string
		status     int
	}{
		{"NoText", `{"source":"email","author":"a"}`, 400},
		{"BlankText", `{"source":"email","author":"a","text":"   "}`, 400},
		{"NoSource", `{"author":"a","text":"x"}`, 400},
		{"NoAuthor", `{"source":"email","text":"x"}`, 400},
		{"BadLink", `{"source":"email","author":"a","text":"x","link":"javascript:alert(1)"}`, 400},
		{"RelativeLink", `{"source":"email","author":"a","text":"x","link":"/tickets/1"}`, 400},
		{"TextTooLong", `{"source":"email","author":"a","text":"` + strings.Repeat("é", 4001) + `"}`, 413},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if r := env.write("POST", "/api/v1/feedback", c.body); r.Code != c.status {
				t.Errorf("status %d, want %d: %s", r.Code, c.status, r.Body)
			}
		})
	}
}

func TestAPI_Votes(t *testing.T) {
	env := newEnv(t)
	seed(env)
	demand := func() float64 { return requestOf(t, env.getJSON("/api/v1/requests/FB-4"))["demand"].(float64) }
	v := env.mustWrite(200, "POST", "/api/v1/requests/FB-4/votes", `{"user":"zoe","source":"intercom","org":"acme"}`)
	if requestOf(t, v)["demand"].(float64) != 2 || demand() != 2 {
		t.Errorf("after vote: %v", v)
	}
	env.mustWrite(200, "POST", "/api/v1/requests/FB-4/votes", `{"user":"zoe","source":"intercom"}`)
	if demand() != 2 {
		t.Errorf("a repeated vote counted twice")
	}
	// A vote on a merged key counts for the canonical request.
	v = env.mustWrite(200, "POST", "/api/v1/requests/FB-3/votes", `{"user":"zoe"}`)
	if requestOf(t, v)["key"] != "FB-2" || requestOf(t, v)["demand"].(float64) != 4 {
		t.Errorf("vote on merged key: %v", v)
	}
	env.mustWrite(200, "DELETE", "/api/v1/requests/FB-4/votes", `{"user":"zoe","source":"intercom"}`)
	if demand() != 1 {
		t.Errorf("after unvote: demand %v, want 1", demand())
	}
	// The author's own vote is never removed.
	env.mustWrite(200, "DELETE", "/api/v1/requests/FB-4/votes", `{"user":"mallory@example.com","source":"email"}`)
	if demand() != 1 {
		t.Errorf("unvote removed an authorship")
	}
	for _, c := range []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/api/v1/requests/FB-99/votes", `{"user":"zoe"}`, 404},
		{"DELETE", "/api/v1/requests/FB-99/votes", `{"user":"zoe"}`, 404},
		{"POST", "/api/v1/requests/FB-4/votes", `{}`, 400},
		{"POST", "/api/v1/requests/FB-4/votes", `{"user":"zoe","weight":3}`, 400},
	} {
		if r := env.write(c.method, c.path, c.body); r.Code != c.status {
			t.Errorf("%s %s %s: status %d, want %d: %s", c.method, c.path, c.body, r.Code, c.status, r.Body)
		}
	}
}

func TestAPI_MergeUnmerge(t *testing.T) {
	env := newEnv(t)
	seed(env)
	v := env.mustWrite(200, "POST", "/api/v1/requests/FB-8/merge", `{"into":"FB-1"}`)
	if req := requestOf(t, v); req["key"] != "FB-1" || req["demand"].(float64) != 5 {
		t.Errorf("merge answer %v", v)
	}
	if v := env.getJSON("/api/v1/requests/FB-8"); requestOf(t, v)["key"] != "FB-1" {
		t.Errorf("FB-8 does not resolve to FB-1")
	}
	for _, c := range []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"AlreadyMerged", "/api/v1/requests/FB-8/merge", `{"into":"FB-2"}`, 409, bot.ECONFLICT},
		{"Cycle", "/api/v1/requests/FB-1/merge", `{"into":"FB-8"}`, 409, bot.ECONFLICT},
		{"UnknownInto", "/api/v1/requests/FB-4/merge", `{"into":"FB-404"}`, 404, bot.ENOTFOUND},
		{"UnknownKey", "/api/v1/requests/FB-404/merge", `{"into":"FB-4"}`, 404, bot.ENOTFOUND},
		{"MissingInto", "/api/v1/requests/FB-4/merge", `{}`, 400, bot.EINVALID},
		{"BadInto", "/api/v1/requests/FB-4/merge", `{"into":"four"}`, 400, bot.EINVALID},
		{"UnmergeNotMerged", "/api/v1/requests/FB-4/unmerge", ``, 409, bot.ECONFLICT},
		{"UnmergeUnknown", "/api/v1/requests/FB-404/unmerge", ``, 404, bot.ENOTFOUND},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := env.write("POST", c.path, c.body)
			if r.Code != c.status || r.ErrorCode(t) != c.code {
				t.Errorf("status %d, want %d %s: %s", r.Code, c.status, c.code, r.Body)
			}
		})
	}
	v = env.mustWrite(200, "POST", "/api/v1/requests/FB-8/unmerge", ``)
	if req := requestOf(t, v); req["key"] != "FB-8" || req["demand"].(float64) != 1 {
		t.Errorf("unmerge answer %v", v)
	}
	if req := requestOf(t, env.getJSON("/api/v1/requests/FB-1")); req["demand"].(float64) != 4 {
		t.Errorf("FB-1 after unmerge: %v", req)
	}
}

func TestAPI_Status(t *testing.T) {
	env := newEnv(t)
	seed(env)
	v := env.mustWrite(200, "POST", "/api/v1/requests/FB-1/status", `{"status":"in_progress","note":"Design is done."}`)
	if requestOf(t, v)["status"] != "in_progress" {
		t.Errorf("answer %v", v)
	}
	h := env.getJSON("/api/v1/requests/FB-1")["history"].([]any)
	if len(h) != 1 || h[0].(map[string]any)["actor"] != "api" || h[0].(map[string]any)["note"] != "Design is done." {
		t.Errorf("history %v", h)
	}
	for _, c := range []struct {
		body   string
		status int
	}{
		{`{"status":"in_progress"}`, 409},
		{`{"status":"shipped"}`, 400},
		{`{"status":"rolled_back"}`, 400},
		{`{"status":"finished"}`, 400},
		{`{}`, 400},
	} {
		if r := env.write("POST", "/api/v1/requests/FB-1/status", c.body); r.Code != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.body, r.Code, c.status, r.Body)
		}
	}
	if r := env.write("POST", "/api/v1/requests/FB-77/status", `{"status":"planned"}`); r.Code != 404 {
		t.Errorf("unknown key: %d", r.Code)
	}
}

func TestAPI_Links(t *testing.T) {
	env := newEnv(t)
	seed(env)
	if l := env.getJSON("/api/v1/requests/FB-1")["links"].([]any); len(l) != 0 {
		t.Fatalf("links before: %v", l)
	}
	v := env.mustWrite(200, "POST", "/api/v1/requests/FB-1/links", `{"url":"https://github.com/acme/app/pull/7"}`)
	if v["changed"] != true || v["link"].(map[string]any)["kind"] != "github_pull" || requestOf(t, v)["status"] != "planned" {
		t.Errorf("answer %v", v)
	}
	v = env.mustWrite(200, "POST", "/api/v1/requests/FB-1/links", `{"url":"https://github.com/acme/app/issues/7"}`)
	if v["changed"] != false {
		t.Errorf("second link answer %v", v)
	}
	env.mustWrite(200, "POST", "/api/v1/requests/FB-1/links", `{"url":"ENG-3"}`)
	d := env.getJSON("/api/v1/requests/FB-1")
	links := d["links"].([]any)
	want := []map[string]any{{"url": "https://github.com/acme/app/pull/7", "kind": "github_pull", "state": "unknown"}, {"url": "ENG-3", "kind": "linear", "state": "unknown"}}
	if len(links) != 2 {
		t.Fatalf("links %v", links)
	}
	for i, l := range links {
		for k, val := range want[i] {
			if l.(map[string]any)[k] != val {
				t.Errorf("link %d: %v, want %v", i, l, want[i])
			}
		}
	}
	if h := d["history"].([]any); len(h) != 1 || h[0].(map[string]any)["actor"] != "api" || h[0].(map[string]any)["to"] != "planned" {
		t.Errorf("history %v", h)
	}
	for _, c := range []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/api/v1/requests/FB-1/links", `{"url":"https://example.com/x"}`, 400},
		{"POST", "/api/v1/requests/FB-1/links", `{}`, 400},
		{"POST", "/api/v1/requests/FB-1/links", `{"url":"ENG-3","extra":1}`, 400},
		{"POST", "/api/v1/requests/FB-77/links", `{"url":"ENG-3"}`, 404},
		{"DELETE", "/api/v1/requests/FB-1/links", `{"url":"ENG-4"}`, 404},
	} {
		if r := env.write(c.method, c.path, c.body); r.Code != c.status {
			t.Errorf("%s %s %s: %d, want %d: %s", c.method, c.path, c.body, r.Code, c.status, r.Body)
		}
	}
	v = env.mustWrite(200, "DELETE", "/api/v1/requests/FB-1/links", `{"url":"https://linear.app/acme/issue/ENG-3"}`)
	if v["changed"] != true || requestOf(t, v)["status"] != "planned" {
		t.Errorf("delete answer %v", v)
	}
	if links := env.getJSON("/api/v1/requests/FB-1")["links"].([]any); len(links) != 1 {
		t.Errorf("links after delete %v", links)
	}
}

func TestAPI_Release(t *testing.T) {
	env := newEnv(t)
	seed(env)
	ctx := context.Background()
	deliveries := func(eventID float64) int {
		ds, err := env.e.Store().FindDeliveries(ctx, int64(eventID))
		if err != nil {
			t.Fatal(err)
		}
		return len(ds)
	}
	body := `{"action":"shipped","version":"v2.5","requests":["FB-1","FB-404","FB-3","nonsense"],"note":"Thanks all","idempotency_key":"deploy-2.5-1"}`

	var first map[string]any
	t.Run("PartialUnknown", func(t *testing.T) {
		first = env.mustWrite(200, "POST", "/api/v1/releases", body)
		if fmt.Sprint(first["changed"]) != "[FB-1 FB-2]" || fmt.Sprint(first["unknown"]) != "[FB-404 nonsense]" || first["replayed"] != nil {
			t.Errorf("outcome %v", first)
		}
		// FB-1 (one Slack thread) and FB-2 (its Discord thread and FB-3's Slack thread).
		if first["threads"].(float64) != 3 || deliveries(first["event_id"].(float64)) != 3 {
			t.Errorf("threads %v, deliveries %d, want 3", first["threads"], deliveries(first["event_id"].(float64)))
		}
		if !strings.Contains(first["summary"].(string), "Unknown: FB-404, nonsense") {
			t.Errorf("summary %q", first["summary"])
		}
		if st := requestOf(t, env.getJSON("/api/v1/requests/FB-1"))["status"]; st != "shipped" {
			t.Errorf("FB-1 is %v", st)
		}
	})
	t.Run("IdempotentReplay", func(t *testing.T) {
		if err := env.e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		sent := env.plat.threadReplies("Shipped in v2.5")
		if sent != 2 { // the Discord thread has no platform here and waits
			t.Errorf("first release posted %d Slack replies, want 2", sent)
		}
		again := env.mustWrite(200, "POST", "/api/v1/releases", body)
		if again["replayed"] != true || again["event_id"] != first["event_id"] || fmt.Sprint(again["changed"]) != fmt.Sprint(first["changed"]) {
			t.Errorf("replay %v, first %v", again, first)
		}
		// Same key in the header, same body: the first result.
		hdr := env.write("POST", "/api/v1/releases", strings.Replace(body, `,"idempotency_key":"deploy-2.5-1"`, "", 1), withHeader("Idempotency-Key", "deploy-2.5-1"))
		if v := hdr.JSON(t); hdr.Code != 200 || v["replayed"] != true || v["event_id"] != first["event_id"] {
			t.Errorf("header replay: %d %v", hdr.Code, v)
		}
		// Same key, different body: 409, nothing done.
		other := env.write("POST", "/api/v1/releases", `{"action":"shipped","version":"v9","requests":["FB-4"]}`, withHeader("Idempotency-Key", "deploy-2.5-1"))
		if other.Code != http.StatusConflict || other.ErrorCode(t) != bot.ECONFLICT {
			t.Errorf("key reused for another release: %d %s", other.Code, other.Body)
		}
		if err := env.e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if n := env.plat.threadReplies("Shipped in v2.5"); n != sent {
			t.Errorf("replays posted again: %d replies, want %d", n, sent)
		}
		if deliveries(first["event_id"].(float64)) != 3 || deliveries(first["event_id"].(float64)+1) != 0 {
			t.Errorf("replay enqueued deliveries")
		}
		if st := requestOf(t, env.getJSON("/api/v1/requests/FB-4"))["status"]; st != "open" {
			t.Errorf("FB-4 is %v after a replayed key", st)
		}
	})
	t.Run("AllUnknown", func(t *testing.T) {
		v := env.mustWrite(200, "POST", "/api/v1/releases", `{"action":"shipped","requests":["FB-500"]}`)
		if fmt.Sprint(v["unknown"]) != "[FB-500]" || fmt.Sprint(v["changed"]) != "[]" {
			t.Errorf("outcome %v", v)
		}
	})
	t.Run("AlreadyShippedIsSkipped", func(t *testing.T) {
		v := env.mustWrite(200, "POST", "/api/v1/releases", `{"action":"shipped","version":"v2.6","requests":["FB-5"]}`)
		if fmt.Sprint(v["skipped"]) != "[FB-5]" || v["threads"].(float64) != 0 {
			t.Errorf("outcome %v", v)
		}
	})
	t.Run("RollbackByVersion", func(t *testing.T) {
		v := env.mustWrite(200, "POST", "/api/v1/releases", `{"action":"rolled_back","version":"v2.5","reason":"Crash on start","idempotency_key":"rb-2.5"}`)
		if fmt.Sprint(v["changed"]) != "[FB-1 FB-2]" || v["action"] != "rolled_back" {
			t.Errorf("outcome %v", v)
		}
		h := env.getJSON("/api/v1/requests/FB-1")["history"].([]any)
		last := h[len(h)-1].(map[string]any)
		if last["to"] != "rolled_back" || last["note"] != "Crash on start" || last["version"] != "v2.5" {
			t.Errorf("history %v", last)
		}
	})
	for _, c := range []struct {
		name, body string
		status     int
	}{
		{"UnknownAction", `{"action":"deployed","requests":["FB-1"]}`, 400},
		{"NoAction", `{"requests":["FB-1"]}`, 400},
		{"NoKeys", `{"action":"shipped","version":"v1"}`, 400},
		{"RollbackUnknownVersion", `{"action":"rolled_back","version":"v0.0.1"}`, 404},
		{"RequestsNotArray", `{"action":"shipped","requests":"FB-1"}`, 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := env.write("POST", "/api/v1/releases", c.body); r.Code != c.status {
				t.Errorf("status %d, want %d: %s", r.Code, c.status, r.Body)
			}
		})
	}
}

func TestAPI_UnknownRoutes(t *testing.T) {
	env := newEnv(t)
	r := env.do("GET", "/api/v1/nothing", "")
	if r.Code != 404 || r.ErrorCode(t) != bot.ENOTFOUND {
		t.Errorf("unknown path: %d %s", r.Code, r.Body)
	}
	r = env.write("PUT", "/api/v1/releases", `{}`)
	if r.Code != 405 || r.Header.Get("Allow") != "GET, POST" {
		t.Errorf("PUT releases: %d allow=%q %s", r.Code, r.Header.Get("Allow"), r.Body)
	}
	r = env.write("PATCH", "/api/v1/requests/FB-1/votes", `{}`)
	if r.Code != 405 || r.Header.Get("Allow") != "POST, DELETE" {
		t.Errorf("PATCH votes: %d allow=%q", r.Code, r.Header.Get("Allow"))
	}
}

func TestAPI_PrivateBoardReads(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.BoardPublic = false })
	seed(env)
	cookie := env.tokenLogin()
	for _, path := range []string{"/api/v1/requests", "/api/v1/requests/FB-1"} {
		if r := env.do("GET", path, ""); r.Code != 401 || r.ErrorCode(t) != bot.EUNAUTHORIZED {
			t.Errorf("%s without token: %d", path, r.Code)
		}
		if r := env.do("GET", path, "", withToken("wrong")); r.Code != 401 {
			t.Errorf("%s wrong token: %d", path, r.Code)
		}
		if r := env.do("GET", path, "", withToken(testToken)); r.Code != 200 {
			t.Errorf("%s with token: %d", path, r.Code)
		}
		if r := env.do("GET", path, "", withHeader("Cookie", cookie)); r.Code != 200 {
			t.Errorf("%s with the login cookie: %d", path, r.Code)
		}
	}
	// The OpenAPI document stays public.
	if r := env.do("GET", "/api/v1/openapi.json", ""); r.Code != 200 {
		t.Errorf("openapi.json: %d", r.Code)
	}
	// A cookie never authorises writes (no CSRF through the board).
	r := env.do("POST", "/api/v1/requests/FB-1/status", `{"status":"planned"}`, withHeader("Cookie", cookie))
	if r.Code != 401 {
		t.Errorf("write with cookie: %d", r.Code)
	}
}

func TestAPI_TokenNeverLogged(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.BoardPublic = false })
	seed(env)
	env.write("POST", "/api/v1/requests/FB-1/status", `{"status":"planned"}`)
	env.do("POST", "/api/v1/requests/FB-1/status", `{"status":"open"}`, withToken(testToken+"x"))
	env.do("GET", "/", "", withToken(testToken))
	env.do("POST", "/login", "token="+testToken, withHeader("Content-Type", "application/x-www-form-urlencoded"))
	env.do("POST", "/login", "token=wrong-"+testToken, withHeader("Content-Type", "application/x-www-form-urlencoded"))
	logs := env.logs.String()
	if !strings.Contains(logs, `"route":"POST /api/v1/requests/{key}/status"`) {
		t.Fatalf("requests are not logged:\n%s", logs)
	}
	for _, secret := range []string{testToken, "Bearer", "Authorization", sessionCookie + "="} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs)
		}
	}
}
