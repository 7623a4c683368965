package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// A console mention's permalink ("console:3") is not a web address: the
// request page shows no "Open the original" link for it (html/template
// used to turn it into the dead link #ZgotmplZ).
func TestRequestPage_NoLinkWithoutURL(t *testing.T) {
	env := newEnv(t)
	env.capture("console", "local", "general", "3", "alice", "", "Dark mode please", "console:3")
	r := env.do("GET", "/requests/FB-1", "")
	if r.Code != http.StatusOK {
		t.Fatalf("request page: %d", r.Code)
	}
	if strings.Contains(r.Body, "ZgotmplZ") || strings.Contains(r.Body, `class="permalink"`) {
		t.Fatalf("the page links a mention with no URL:\n%s", r.Body)
	}
	env.capture("slack", "T1", "C1", "1.2", "bob", "", "Dark mode please, in Slack", "https://acme.slack.com/archives/C1/p12")
	if r := env.do("GET", "/requests/FB-2", ""); !strings.Contains(r.Body, `href="https://acme.slack.com/archives/C1/p12"`) {
		t.Fatalf("a Slack permalink is not linked:\n%s", r.Body)
	}
}

// Right-to-left overrides in chat text cannot reorder the page around
// them: titles, texts, names and notes are isolated (dir="auto", <bdi>).
func TestBoard_IsolatesBidiText(t *testing.T) {
	env := newEnv(t)
	const rtl = "\u202eevil\u202c title"
	env.capture("slack", "T1", "C1", "1.1", "\u202emallory", "\u202eorg", rtl+"\nbody \u202etext", "")
	board := env.do("GET", "/", "").Body
	if !strings.Contains(board, `dir="auto">`+rtl+`</a>`) {
		t.Errorf("board title not isolated:\n%s", board)
	}
	page := env.do("GET", "/requests/FB-1", "").Body
	for _, want := range []string{
		`<h1 dir="auto">` + rtl + `</h1>`,
		`<bdi class="author">` + "\u202emallory" + `</bdi>`,
		`<bdi class="org">` + "\u202eorg" + `</bdi>`,
		`<blockquote class="text" dir="auto">`,
		`<div class="description" dir="auto">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("request page lacks %q", want)
		}
	}
}

// NUL characters in any field of the API and in searches never make a 500
// (PostgreSQL refuses NUL in text): they are removed, the same on both
// databases.
func TestAPI_NULNeverFails(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		env := newEnvDSN(t, dsn)
		v := env.mustWrite(http.StatusCreated, "POST", "/api/v1/feedback",
			`{"source":"e\u0000mail","author":"ann\u0000@example.com","text":"Dark\u0000 mode","org":"Ac\u0000me","idempotency_key":"k\u00001"}`)
		if requestOf(t, v)["title"] != "Dark mode" {
			t.Errorf("title %v", requestOf(t, v)["title"])
		}
		// A link with NUL is no URL: 400, as any malformed link.
		if r := env.write("POST", "/api/v1/feedback", `{"source":"s","author":"a","text":"t","link":"https://x.example/\u0000"}`); r.Code != http.StatusBadRequest {
			t.Errorf("link with NUL: %d %s", r.Code, r.Body)
		}
		for _, c := range []struct{ method, path, body string }{
			{"POST", "/api/v1/requests/FB-1/votes", `{"user":"b\u0000ob","source":"z\u0000d","org":"o\u0000"}`},
			{"POST", "/api/v1/requests/FB-1/status", `{"status":"planned","note":"soon\u0000"}`},
			{"POST", "/api/v1/releases", `{"action":"shipped","version":"v1\u0000","requests":["FB-1"],"note":"n\u0000","idempotency_key":"r\u0000"}`},
		} {
			if r := env.write(c.method, c.path, c.body); r.Code >= 500 {
				t.Errorf("%s %s: %d %s", c.method, c.path, r.Code, r.Body)
			}
		}
		for _, p := range []string{"/api/v1/requests?q=dark%00", "/?q=dark%00", "/api/v1/requests/FB-1", "/requests/FB-1"} {
			if r := env.do("GET", p, ""); r.Code != http.StatusOK || strings.Contains(r.Body, "\x00") {
				t.Errorf("GET %s: %d", p, r.Code)
			}
		}
	})
}
