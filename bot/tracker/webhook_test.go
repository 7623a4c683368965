package tracker_test

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/tracker"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

func TestGitHubSignature(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), tracker.Config{})
	r := e.request("Dark mode")
	e.track(r.ID, "https://github.com/acme/app/issues/1")
	closed := mustJSON(t, issueEvent("closed", 1, issueOpts{state: "closed", reason: "completed", title: "Dark mode"}))
	hdr := func(sig string) map[string]string {
		return map[string]string{"X-GitHub-Event": "issues", "X-GitHub-Delivery": newDelivery(), "X-Hub-Signature-256": sig}
	}
	for _, tt := range []struct {
		name string
		h    map[string]string
		body []byte
		want int
	}{
		{"missing", hdr(""), closed, http.StatusUnauthorized},
		{"wrong secret", hdr(ghSign("other", closed)), closed, http.StatusUnauthorized},
		{"other body", hdr(ghSign(ghSecret, []byte("{}"))), closed, http.StatusUnauthorized},
		{"no prefix", hdr(strings.TrimPrefix(ghSign(ghSecret, closed), "sha256=")), closed, http.StatusUnauthorized},
		{"sha1 only", map[string]string{"X-GitHub-Event": "issues", "X-GitHub-Delivery": newDelivery(), "X-Hub-Signature": "sha1=0000"}, closed, http.StatusUnauthorized},
		{"not hex", hdr("sha256=zz"), closed, http.StatusUnauthorized},
		{"oversize", hdr(ghSign(ghSecret, bytes.Repeat([]byte(" "), tracker.MaxBody+1))), bytes.Repeat([]byte(" "), tracker.MaxBody+1), http.StatusRequestEntityTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := e.post("/webhooks/github", tt.body, tt.h)
			if a.Code != tt.want {
				t.Fatalf("%d %s, want %d", a.Code, a.Body, tt.want)
			}
			e.wantStatus(r.ID, bot.StatusOpen)
			if s := e.linkState(r.ID, "github:acme/app#1"); s != bot.ItemUnknown {
				t.Fatalf("link state %s after a refused delivery", s)
			}
		})
	}
	t.Run("exactly 1 MiB", func(t *testing.T) {
		body := append([]byte(`{"zen":"x"}`), bytes.Repeat([]byte(" "), tracker.MaxBody-11)...)
		a := e.post("/webhooks/github", body, map[string]string{"X-GitHub-Event": "ping", "X-GitHub-Delivery": newDelivery(), "X-Hub-Signature-256": ghSign(ghSecret, body)})
		if a.Code != http.StatusOK {
			t.Fatalf("%d %s", a.Code, a.Body)
		}
	})
	t.Run("GitHub's test vector", func(t *testing.T) {
		// The example of GitHub's "Validating webhook deliveries" page.
		body := []byte("Hello, World!")
		a := e.post("/webhooks/github", body, map[string]string{"X-GitHub-Event": "ping", "X-GitHub-Delivery": newDelivery(),
			"X-Hub-Signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"})
		if a.Code != http.StatusOK {
			t.Fatalf("%d %s", a.Code, a.Body)
		}
	})
	t.Run("no delivery id", func(t *testing.T) {
		a := e.post("/webhooks/github", closed, map[string]string{"X-GitHub-Event": "issues", "X-Hub-Signature-256": ghSign(ghSecret, closed)})
		if a.Code != http.StatusBadRequest {
			t.Fatalf("%d %s", a.Code, a.Body)
		}
		e.wantStatus(r.ID, bot.StatusOpen)
	})
	t.Run("not that event", func(t *testing.T) {
		body := []byte(`{"action":"closed","issue":"twelve"}`)
		a := e.post("/webhooks/github", body, map[string]string{"X-GitHub-Event": "issues", "X-GitHub-Delivery": newDelivery(), "X-Hub-Signature-256": ghSign(ghSecret, body)})
		if a.Code != http.StatusBadRequest {
			t.Fatalf("%d %s", a.Code, a.Body)
		}
	})
	t.Run("no event header", func(t *testing.T) {
		a := e.post("/webhooks/github", closed, map[string]string{"X-GitHub-Delivery": newDelivery(), "X-Hub-Signature-256": ghSign(ghSecret, closed)})
		if a.Code != http.StatusOK || !a.Out.Ignored {
			t.Fatalf("%d %s", a.Code, a.Body)
		}
		e.wantStatus(r.ID, bot.StatusOpen)
	})
	t.Run("unknown event", func(t *testing.T) {
		a := e.github("star", closed)
		if !a.Out.Ignored {
			t.Fatalf("answer %s", a.Body)
		}
		e.wantStatus(r.ID, bot.StatusOpen)
	})
	t.Run("ignored action", func(t *testing.T) {
		a := e.github("release", releaseEvent("created", "v1", "", ""))
		if !a.Out.Ignored {
			t.Fatalf("answer %s", a.Body)
		}
	})
	t.Run("valid", func(t *testing.T) {
		e.github("issues", closed)
		e.wantStatus(r.ID, bot.StatusShipped)
	})
	t.Run("form encoded", func(t *testing.T) {
		// A webhook created with content type application/x-www-form-urlencoded.
		r2 := e.request("Export")
		e.track(r2.ID, "https://github.com/acme/app/issues/2")
		payload := mustJSON(t, issueEvent("closed", 2, issueOpts{state: "closed", reason: "not_planned"}))
		body := []byte("payload=" + strings.ReplaceAll(strings.ReplaceAll(string(payload), "%", "%25"), "&", "%26"))
		body = bytes.ReplaceAll(body, []byte("+"), []byte("%2B"))
		a := e.post("/webhooks/github", body, map[string]string{"Content-Type": "application/x-www-form-urlencoded",
			"X-GitHub-Event": "issues", "X-GitHub-Delivery": newDelivery(), "X-Hub-Signature-256": ghSign(ghSecret, body)})
		if a.Code != http.StatusOK {
			t.Fatalf("%d %s", a.Code, a.Body)
		}
		e.wantStatus(r2.ID, bot.StatusDeclined)
	})
}

func TestSecretUnset(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), tracker.Config{GitHubSecret: "-", LinearSecret: "-"})
	body := []byte(`{"zen":"x"}`)
	if a := e.post("/webhooks/github", body, map[string]string{"X-GitHub-Event": "ping", "X-Hub-Signature-256": ghSign("", body)}); a.Code != http.StatusNotFound {
		t.Fatalf("github: %d", a.Code)
	}
	if a := e.post("/webhooks/linear", body, map[string]string{"Linear-Signature": linSign("", body)}); a.Code != http.StatusNotFound {
		t.Fatalf("linear: %d", a.Code)
	}
}

func TestLinearSignatureAndFreshness(t *testing.T) {
	e := newEnv(t, storetest.SQLiteDSN(t), tracker.Config{})
	r := e.request("Shortcuts")
	e.track(r.ID, "ENG-7")
	e.wantStatus(r.ID, bot.StatusOpen)
	send := func(ts int64, sig func([]byte) string, extra ...string) answer {
		p := linearIssue("update", "ENG-7", "started", "Shortcuts", "")
		if ts != 0 {
			p["webhookTimestamp"] = ts
		}
		body := mustJSON(t, p)
		if len(extra) > 0 {
			body = []byte(extra[0])
		}
		return e.post("/webhooks/linear", body, map[string]string{"Linear-Signature": sig(body), "Linear-Delivery": newDelivery()})
	}
	good := func(b []byte) string { return linSign(linSecret, b) }
	now := e.now.UnixMilli()
	for _, tt := range []struct {
		name string
		ts   int64
		sig  func([]byte) string
		want int
	}{
		{"missing", now, func([]byte) string { return "" }, http.StatusUnauthorized},
		{"wrong secret", now, func(b []byte) string { return linSign("other", b) }, http.StatusUnauthorized},
		{"github style", now, func(b []byte) string { return "sha256=" + linSign(linSecret, b) }, http.StatusUnauthorized},
		{"truncated", now, func(b []byte) string { return linSign(linSecret, b)[:40] }, http.StatusUnauthorized},
		{"stale", now - 61_000, good, http.StatusUnauthorized},
		{"from the future", now + 61_000, good, http.StatusUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if a := send(tt.ts, tt.sig); a.Code != tt.want {
				t.Fatalf("%d %s, want %d", a.Code, a.Body, tt.want)
			}
			e.wantStatus(r.ID, bot.StatusOpen)
		})
	}
	t.Run("no timestamp", func(t *testing.T) {
		p := linearIssue("update", "ENG-7", "started", "Shortcuts", "")
		body := mustJSON(t, p)
		if a := e.post("/webhooks/linear", body, map[string]string{"Linear-Signature": good(body), "Linear-Delivery": newDelivery()}); a.Code != http.StatusUnauthorized {
			t.Fatalf("%d %s", a.Code, a.Body)
		}
	})
	t.Run("oversize", func(t *testing.T) {
		body := bytes.Repeat([]byte(" "), tracker.MaxBody+1)
		if a := e.post("/webhooks/linear", body, map[string]string{"Linear-Signature": good(body)}); a.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("%d", a.Code)
		}
	})
	t.Run("other type", func(t *testing.T) {
		a := e.linear(map[string]any{"action": "create", "type": "Comment", "data": map[string]any{"body": "FB-1"}})
		if !a.Out.Ignored {
			t.Fatalf("answer %s", a.Body)
		}
		e.wantStatus(r.ID, bot.StatusOpen)
	})
	t.Run("within 60 s", func(t *testing.T) {
		if a := send(now-59_000, good); a.Code != http.StatusOK {
			t.Fatalf("%d %s", a.Code, a.Body)
		}
		e.wantStatus(r.ID, bot.StatusInProgress)
	})
}

func TestRedeliveryProcessedOnce(t *testing.T) {
	forEachDB(t, tracker.Config{}, func(t *testing.T, e *env) {
		r := e.request("Dark mode")
		e.track(r.ID, "https://github.com/acme/app/pull/3")
		id := newDelivery()
		merged := pullEvent("closed", 3, pullOpts{state: "closed", merged: true, ms: "v2.4"})
		first := e.github("pull_request", merged, id)
		if first.Out.Replayed || len(first.Out.Changes) != 1 || first.Out.Changes[0].To != bot.StatusShipped {
			t.Fatalf("first: %s", first.Body)
		}
		again := e.github("pull_request", merged, id)
		if !again.Out.Replayed || len(again.Out.Changes) != 0 {
			t.Fatalf("redelivery: %s", again.Body)
		}
		if e.eng.releases != 1 || len(e.history(r.ID)) != 1 {
			t.Fatalf("releases %d, history %+v", e.eng.releases, e.history(r.ID))
		}
		if h := e.history(r.ID)[0]; h.Actor != "github" || h.Version != "v2.4" || h.To != bot.StatusShipped {
			t.Fatalf("history %+v", h)
		}
		ds, err := e.db.FindDeliveries(e.ctx, *e.history(r.ID)[0].EventID)
		if err != nil || len(ds) != 1 {
			t.Fatalf("deliveries %v %v", ds, err)
		}
	})
}

func TestTwoReplicasPostOnce(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		a := newEnv(t, dsn, tracker.Config{})
		b := newEnv(t, dsn, tracker.Config{}) // a second process on the same database
		r := a.request("Dark mode")
		a.track(r.ID, "https://github.com/acme/app/issues/4")
		a.track(r.ID, "ENG-4")
		for round, send := range []func(e *env, id string){
			func(e *env, id string) {
				e.github("issues", issueEvent("closed", 4, issueOpts{state: "closed", reason: "completed"}), id)
			},
			func(e *env, id string) { e.linear(linearIssue("update", "ENG-4", "completed", "x", ""), id) },
		} {
			id := newDelivery()
			var wg sync.WaitGroup
			for _, e := range []*env{a, b, a, b} {
				wg.Add(1)
				go func() { defer wg.Done(); send(e, id) }()
			}
			wg.Wait()
			if round == 0 {
				a.wantStatus(r.ID, bot.StatusPlanned)
			}
		}
		a.wantStatus(r.ID, bot.StatusShipped)
		if n := a.eng.releases + b.eng.releases; n != 1 {
			t.Fatalf("%d releases", n)
		}
		hs := a.history(r.ID)
		if len(hs) != 2 || hs[0].To != bot.StatusPlanned || hs[1].To != bot.StatusShipped || hs[1].Actor != "linear" {
			t.Fatalf("history %+v", hs)
		}
		ds, err := a.db.FindDeliveries(a.ctx, *hs[1].EventID)
		if err != nil || len(ds) != 1 {
			t.Fatalf("deliveries %v %v", ds, err)
		}
	})
}

func TestTwoLinkedIssuesShipWhenBothDone(t *testing.T) {
	forEachDB(t, tracker.Config{}, func(t *testing.T, e *env) {
		r := e.request("Dark mode")
		e.track(r.ID, "https://github.com/acme/app/issues/5")
		e.track(r.ID, "https://github.com/acme/app/issues/6")
		e.github("issues", issueEvent("opened", 5, issueOpts{}))
		e.wantStatus(r.ID, bot.StatusPlanned)
		e.github("issues", issueEvent("closed", 5, issueOpts{state: "closed", reason: "completed", milestone: "v1"}))
		e.wantStatus(r.ID, bot.StatusPlanned)
		e.github("issues", issueEvent("closed", 6, issueOpts{state: "closed", reason: "completed", milestone: "v2"}))
		e.wantStatus(r.ID, bot.StatusShipped)
		hs := e.history(r.ID)
		if last := hs[len(hs)-1]; last.Version != "v2" {
			t.Fatalf("version %q", last.Version)
		}
		// Reopening either rolls it back.
		e.github("issues", issueEvent("reopened", 5, issueOpts{reason: "reopened"}))
		e.wantStatus(r.ID, bot.StatusRolledBack)
		if last := e.history(r.ID)[len(e.history(r.ID))-1]; last.Note != "reopened" || last.Actor != "github" {
			t.Fatalf("rollback %+v", last)
		}
	})
}

func TestAutomaticLinks(t *testing.T) {
	forEachDB(t, tracker.Config{}, func(t *testing.T, e *env) {
		r := e.request("Dark mode")
		other := e.request("Export")
		// "Fixes #101" names an issue, not a request: no link.
		a := e.github("pull_request", pullEvent("opened", 101, pullOpts{title: "Fixes #101", body: "Closes #1, see acme/app#2"}))
		if len(a.Out.Linked) != 0 {
			t.Fatalf("linked %v", a.Out.Linked)
		}
		e.wantStatus(r.ID, bot.StatusOpen)
		a = e.github("issues", issueEvent("opened", 7, issueOpts{title: "Dark theme", body: "Asked for on the board as fb-1."}))
		if len(a.Out.Linked) != 1 || a.Out.Linked[0] != "FB-1" {
			t.Fatalf("linked %v", a.Out.Linked)
		}
		e.wantStatus(r.ID, bot.StatusPlanned)
		if s := e.linkState(r.ID, "github:acme/app#7"); s != bot.ItemOpen {
			t.Fatalf("link state %q", s)
		}
		// A pull request opened for review mentioning both keys.
		e.github("pull_request", pullEvent("opened", 8, pullOpts{title: "Dark mode (FB-1)", body: "Also FB-2. Unknown FB-99."}))
		e.wantStatus(r.ID, bot.StatusInProgress)
		e.wantStatus(other.ID, bot.StatusInProgress)
		// A Linear issue mentioning the key in its description.
		e.linear(linearIssue("create", "ENG-9", "backlog", "Export to CSV", "From FB-2"))
		if s := e.linkState(other.ID, "linear:ENG-9"); s != bot.ItemBacklog {
			t.Fatalf("linear link %q", s)
		}
		e.wantStatus(other.ID, bot.StatusInProgress)
	})
}

func TestLinearFreshnessUsesClock(t *testing.T) {
	// The clock decides: the same payload is fresh at one instant and stale
	// 61 s later.
	e := newEnv(t, storetest.SQLiteDSN(t), tracker.Config{})
	p := linearIssue("create", "ENG-1", "backlog", "x", "")
	p["webhookTimestamp"] = e.now.UnixMilli()
	body := mustJSON(t, p)
	e.now = e.now.Add(61 * time.Second)
	if a := e.post("/webhooks/linear", body, map[string]string{"Linear-Signature": linSign(linSecret, body)}); a.Code != http.StatusUnauthorized {
		t.Fatalf("%d", a.Code)
	}
	e.now = e.now.Add(-60 * time.Second)
	if a := e.post("/webhooks/linear", body, map[string]string{"Linear-Signature": linSign(linSecret, body)}); a.Code != http.StatusOK {
		t.Fatalf("%d %s", a.Code, a.Body)
	}
}
