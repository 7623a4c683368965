package web

import (
	"net/http"
	"strings"
	"testing"
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
