package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/internal/slacktest"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

const (
	e2eGitHubSecret = "gh-e2e-secret"
	e2eLinearSecret = "lin-e2e-secret"
)

// trackerConsole is `feedbackbot console` with its HTTP listener, fed line
// by line, for the tracker's end-to-end tests.
type trackerConsole struct {
	t    *testing.T
	in   *io.PipeWriter
	out  *syncBuffer
	base string
	seq  int
}

func startTrackerConsole(t *testing.T, dsn string, env map[string]string, args ...string) *trackerConsole {
	t.Helper()
	pr, pw := io.Pipe()
	addrc := make(chan string, 1)
	out := &syncBuffer{}
	m := &Main{Stdin: pr, Stdout: out, Stderr: out, Getenv: func(k string) string { return env[k] },
		Listening: func(a string) { addrc <- a }}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	done := make(chan error, 1)
	argv := append([]string{"console", "--database-url", dsn, "--http-addr", "127.0.0.1:0"}, args...)
	go func() { done <- m.Execute(ctx, argv) }()
	t.Cleanup(func() {
		pw.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("console: %v\n%s", err, out.String())
			}
		case <-time.After(60 * time.Second):
			t.Errorf("console did not stop\n%s", out.String())
		}
		cancel()
	})
	select {
	case a := <-addrc:
		return &trackerConsole{t: t, in: pw, out: out, base: "http://" + a}
	case err := <-done:
		t.Fatalf("console exited: %v\n%s", err, out.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("console did not listen\n%s", out.String())
	}
	return nil
}

// eventually waits (generously: CI machines are busy) for cond.
func (c *trackerConsole) eventually(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	c.t.Fatalf("timed out waiting for %s\n--- console ---\n%s", what, c.out.String())
}

// say types a line and waits until the console has echoed it (and, for a
// command, answered it).
func (c *trackerConsole) say(line string) {
	c.t.Helper()
	before := strings.Count(c.out.String(), "\n")
	if _, err := io.WriteString(c.in, line+"\n"); err != nil {
		c.t.Fatal(err)
	}
	who, text, _ := strings.Cut(line, ": ")
	c.eventually("the console to take "+line, func() bool {
		out := c.out.String()
		if strings.Count(out, "\n") <= before {
			return false
		}
		if strings.HasPrefix(text, "/feedback") {
			return strings.Contains(out[lastLineStart(out, before):], "→ "+who+":")
		}
		return strings.Contains(out, who+": "+text)
	})
}

func lastLineStart(out string, lines int) int {
	i := 0
	for n := 0; n < lines; n++ {
		j := strings.IndexByte(out[i:], '\n')
		if j < 0 {
			return len(out)
		}
		i += j + 1
	}
	return i
}

// capture posts text as alice in #general (watched) and returns its message
// number, after its card was posted.
func (c *trackerConsole) capture(text string) int {
	c.t.Helper()
	c.say("alice: " + text)
	re := regexp.MustCompile(`(?m)^\[(\d+)\] #general alice: ` + regexp.QuoteMeta(text) + `$`)
	var n int
	c.eventually("the card of "+text, func() bool {
		m := re.FindStringSubmatch(c.out.String())
		if m == nil {
			return false
		}
		fmt.Sscan(m[1], &n)
		return botPostsIn(c.out.String(), n, "📌") > 0
	})
	return n
}

func (c *trackerConsole) post(path string, body []byte, h map[string]string) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func hmacHex(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// github sends a signed GitHub delivery; id "" makes a new one. It returns
// the answer body.
func (c *trackerConsole) github(event, id string, payload any) string {
	c.t.Helper()
	if id == "" {
		c.seq++
		id = fmt.Sprintf("gh-%d-%d", time.Now().UnixNano(), c.seq)
	}
	body, _ := json.Marshal(payload)
	code, ans := c.post("/webhooks/github", body, map[string]string{"X-GitHub-Event": event, "X-GitHub-Delivery": id,
		"X-Hub-Signature-256": "sha256=" + hmacHex(e2eGitHubSecret, body)})
	if code != http.StatusOK {
		c.t.Fatalf("%s: %d %s", event, code, ans)
	}
	return ans
}

func (c *trackerConsole) linear(action, identifier, stateType, title, description string) string {
	c.t.Helper()
	c.seq++
	body, _ := json.Marshal(map[string]any{
		"action": action, "type": "Issue", "webhookTimestamp": time.Now().UnixMilli(),
		"url": "https://linear.app/acme/issue/" + identifier,
		"data": map[string]any{"identifier": identifier, "title": title, "description": description,
			"url": "https://linear.app/acme/issue/" + identifier, "state": map[string]any{"name": stateType, "type": stateType}},
	})
	code, ans := c.post("/webhooks/linear", body, map[string]string{"Linear-Signature": hmacHex(e2eLinearSecret, body),
		"Linear-Delivery": fmt.Sprintf("lin-%d-%d", time.Now().UnixNano(), c.seq)})
	if code != http.StatusOK {
		c.t.Fatalf("linear: %d %s", code, ans)
	}
	return ans
}

type e2eDetail struct {
	Request struct {
		Status string `json:"status"`
	} `json:"request"`
	History []struct {
		Actor, From, To, Version, Note string
	} `json:"history"`
	Links []struct {
		URL, Kind, State string
	} `json:"links"`
}

func (c *trackerConsole) detail(key string) e2eDetail {
	c.t.Helper()
	resp, err := http.Get(c.base + "/api/v1/requests/" + key)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var d e2eDetail
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		c.t.Fatal(err)
	}
	return d
}

// wantStatus checks the request's status and that its last history row is
// that change by actor (with version and note when given).
func (c *trackerConsole) wantStatus(key, status, actor string, versionNote ...string) {
	c.t.Helper()
	d := c.detail(key)
	if d.Request.Status != status {
		c.t.Fatalf("%s is %s, want %s; history %+v\n--- console ---\n%s", key, d.Request.Status, status, d.History, c.out.String())
	}
	if len(d.History) == 0 {
		c.t.Fatalf("%s has no history", key)
	}
	h := d.History[len(d.History)-1]
	if h.To != status || h.Actor != actor {
		c.t.Fatalf("%s last history %+v, want → %s by %s", key, h, status, actor)
	}
	if len(versionNote) > 0 && h.Version != versionNote[0] {
		c.t.Fatalf("%s version %q, want %q", key, h.Version, versionNote[0])
	}
	if len(versionNote) > 1 && h.Note != versionNote[1] {
		c.t.Fatalf("%s note %q, want %q", key, h.Note, versionNote[1])
	}
}

// replies waits until the thread of message root has n bot posts containing
// substr, and checks that it does not get more (the delivery queue is
// drained first by waiting for a later reply elsewhere, see callers).
func (c *trackerConsole) replies(root int, substr string, n int) {
	c.t.Helper()
	c.eventually(fmt.Sprintf("%d replies %q in the thread of %d", n, substr, root), func() bool {
		return botPostsIn(c.out.String(), root, substr) >= n
	})
	if got := botPostsIn(c.out.String(), root, substr); got != n {
		c.t.Fatalf("%d replies %q in the thread of %d, want %d\n%s", got, substr, root, n, c.out.String())
	}
}

func issue(action string, n int, state, reason, title, body, milestone string) map[string]any {
	is := map[string]any{"number": n, "title": title, "body": body, "state": state,
		"html_url": fmt.Sprintf("https://github.com/acme/app/issues/%d", n)}
	if reason != "" {
		is["state_reason"] = reason
	}
	if milestone != "" {
		is["milestone"] = map[string]any{"title": milestone}
	}
	return map[string]any{"action": action, "issue": is, "repository": map[string]any{"full_name": "acme/app"}}
}

func pull(action string, n int, state string, draft, merged bool, title, body, milestone string) map[string]any {
	pr := map[string]any{"number": n, "title": title, "body": body, "state": state, "draft": draft, "merged": merged,
		"html_url": fmt.Sprintf("https://github.com/acme/app/pull/%d", n)}
	if merged {
		pr["merged_at"] = "2026-08-20T10:15:30Z"
	}
	if milestone != "" {
		pr["milestone"] = map[string]any{"title": milestone}
	}
	return map[string]any{"action": action, "number": n, "pull_request": pr, "repository": map[string]any{"full_name": "acme/app"}}
}

func release(action, tag, name, body string) map[string]any {
	return map[string]any{"action": action, "release": map[string]any{"tag_name": tag, "name": name, "body": body},
		"repository": map[string]any{"full_name": "acme/app"}}
}

var trackerEnv = map[string]string{
	"FEEDBACKBOT_GITHUB_WEBHOOK_SECRET": e2eGitHubSecret,
	"FEEDBACKBOT_LINEAR_WEBHOOK_SECRET": e2eLinearSecret,
}

// TestTrackerTransitionsEndToEnd drives every row of the transition table
// through the binary: webhooks in, status and history on the API, replies
// in the console threads, on SQLite and PostgreSQL.
func TestTrackerTransitionsEndToEnd(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		c := startTrackerConsole(t, dsn, trackerEnv)
		c.say("alice: /feedback watch")
		dark := c.capture("Dark mode for the dashboard")    // FB-1
		export := c.capture("Export the board to CSV")      // FB-2
		saml := c.capture("SAML single sign-on")            // FB-3
		cal := c.capture("Calendar sync with Outlook")      // FB-4
		digest := c.capture("A weekly digest in Slack")     // FB-5
		c.capture("Offline mode for the mobile app")        // FB-6
		audit := c.capture("An audit log of admin actions") // FB-7
		auditDup := c.capture("Audit trail for admins")     // FB-8

		// Linked by command: an open request becomes planned (actor: the person).
		c.say("alice: /feedback track FB-1 https://github.com/acme/app/issues/12")
		c.wantStatus("FB-1", "planned", "alice")
		// A pull request opened (not draft) that mentions the key links
		// itself and makes the request in progress.
		opened := pull("opened", 20, "open", false, false, "Dark theme (FB-1)", "Fixes #12", "")
		ans := c.github("pull_request", "delivery-20-opened", opened)
		if !strings.Contains(ans, `"linked":["FB-1"]`) {
			t.Fatalf("answer %s", ans)
		}
		c.github("pull_request", "delivery-20-opened", opened) // redelivered
		c.wantStatus("FB-1", "in_progress", "github")
		// Status notices (FEEDBACKBOT_NOTIFY_STATUSES, default planned and
		// in_progress), once each.
		c.replies(dark, "🗓️ FB-1 is planned", 1)
		c.replies(dark, "🚧 FB-1 is in progress", 1)
		// Two linked items: the merged pull request alone does not ship.
		c.github("pull_request", "", pull("closed", 20, "closed", false, true, "Dark theme (FB-1)", "Fixes #12", "v2.3"))
		c.wantStatus("FB-1", "in_progress", "github")
		// The issue closed as completed is the last one: shipped, version =
		// its milestone, a reply in the thread. Redelivered: processed once.
		closed := issue("closed", 12, "closed", "completed", "Dark mode", "", "v2.4")
		c.github("issues", "delivery-12-closed", closed)
		if ans := c.github("issues", "delivery-12-closed", closed); !strings.Contains(ans, `"replayed":true`) {
			t.Fatalf("redelivery answer %s", ans)
		}
		c.wantStatus("FB-1", "shipped", "github", "v2.4")
		c.replies(dark, "🚀 Shipped in v2.4: Dark mode for the dashboard", 1)
		// Reopened after it shipped: rolled back in the same thread.
		c.github("issues", "", issue("reopened", 12, "open", "reopened", "Dark mode", "", "v2.4"))
		c.wantStatus("FB-1", "rolled_back", "github", "", "reopened")
		c.replies(dark, "↩️", 1)

		// Draft pull request → planned; ready_for_review → in progress;
		// merged → shipped with the pull request's milestone.
		c.github("pull_request", "", pull("opened", 30, "open", true, false, "CSV export", "For FB-2", ""))
		c.wantStatus("FB-2", "planned", "github")
		c.github("pull_request", "", pull("ready_for_review", 30, "open", false, false, "CSV export", "For FB-2", ""))
		c.wantStatus("FB-2", "in_progress", "github")
		c.github("pull_request", "", pull("closed", 30, "closed", false, true, "CSV export", "For FB-2", "v3.0"))
		c.wantStatus("FB-2", "shipped", "github", "v3.0")
		c.replies(export, "🚀 Shipped in v3.0: Export the board to CSV", 1)
		// A merged revert of #30 rolls it back.
		c.github("pull_request", "", pull("closed", 31, "closed", false, true, `Revert "CSV export"`, "Reverts acme/app#30", ""))
		c.wantStatus("FB-2", "rolled_back", "github", "", "reverted in #31")
		c.replies(export, "↩️", 1)

		// Linear: backlog → planned, started → in progress, completed →
		// shipped, leaving completed → rolled back.
		c.linear("create", "ENG-7", "backlog", "SAML", "Asked for as FB-3")
		c.wantStatus("FB-3", "planned", "linear")
		c.linear("update", "ENG-7", "started", "SAML", "Asked for as FB-3")
		c.wantStatus("FB-3", "in_progress", "linear")
		c.linear("update", "ENG-7", "completed", "SAML", "Asked for as FB-3")
		c.wantStatus("FB-3", "shipped", "linear")
		c.replies(saml, "🚀 Shipped: SAML single sign-on", 1)
		c.linear("update", "ENG-7", "started", "SAML", "Asked for as FB-3")
		c.wantStatus("FB-3", "rolled_back", "linear", "", "reopened")
		c.replies(saml, "↩️", 1)

		// not_planned and canceled → declined.
		c.say("alice: /feedback track FB-4 https://github.com/acme/app/issues/40")
		c.github("issues", "", issue("closed", 40, "closed", "not_planned", "Calendar", "", ""))
		c.wantStatus("FB-4", "declined", "github")
		c.say("alice: /feedback track FB-5 ENG-8")
		c.linear("update", "ENG-8", "canceled", "Digest", "")
		c.wantStatus("FB-5", "declined", "linear")

		// A duplicate changes nothing.
		c.say("alice: /feedback track FB-6 https://github.com/acme/app/issues/50")
		c.github("issues", "", issue("closed", 50, "closed", "duplicate", "Offline", "", ""))
		c.wantStatus("FB-6", "planned", "alice")
		if d := c.detail("FB-6"); len(d.Links) != 1 || d.Links[0].State != "duplicate" || d.Links[0].Kind != "github_issue" {
			t.Fatalf("links %+v", d.Links)
		}

		// A merged duplicate's thread hears the ship too; a withdrawn
		// release (unpublished, then deleted) rolls back once.
		c.say("alice: /feedback merge FB-8 into FB-7")
		c.say("alice: /feedback track FB-7 https://github.com/acme/app/issues/60")
		c.github("issues", "", issue("closed", 60, "closed", "completed", "Audit", "", "v4"))
		c.wantStatus("FB-7", "shipped", "github", "v4")
		c.replies(audit, "🚀 Shipped in v4", 1)
		c.replies(auditDup, "🚀 Shipped in v4", 1)
		c.github("release", "", release("unpublished", "v4", "", ""))
		c.github("release", "", release("deleted", "v4", "", ""))
		c.wantStatus("FB-7", "rolled_back", "github", "v4", "release v4 withdrawn")
		c.replies(audit, "↩️ v4 was rolled back", 1)
		c.replies(auditDup, "↩️ v4 was rolled back", 1)

		// The rest got no replies at all, and nothing was posted twice.
		for _, root := range []int{cal, digest} {
			if n := botPostsIn(c.out.String(), root, "Shipped") + botPostsIn(c.out.String(), root, "↩️"); n != 0 {
				t.Fatalf("%d release replies in the thread of %d", n, root)
			}
		}
		c.replies(dark, "🚀", 1)

		// /feedback show lists the links with their state.
		c.say("alice: /feedback show FB-1")
		c.eventually("links in show", func() bool {
			out := c.out.String()
			return strings.Contains(out, "https://github.com/acme/app/issues/12 (open)") && strings.Contains(out, "https://github.com/acme/app/pull/20 (merged)")
		})
		// The request page lists them too.
		resp, err := http.Get(c.base + "/requests/FB-1")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(page), `href="https://github.com/acme/app/pull/20"`) || !strings.Contains(string(page), ">merged<") {
			t.Fatalf("request page lacks the links:\n%s", page)
		}
	})
}

// TestTrackerShipOnRelease: with FEEDBACKBOT_GITHUB_SHIP_ON=release closing
// ships nothing until a release is published, which ships every request
// whose items are done and every request named in its body.
func TestTrackerShipOnRelease(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		env := map[string]string{"FEEDBACKBOT_GITHUB_SHIP_ON": "release"}
		for k, v := range trackerEnv {
			env[k] = v
		}
		c := startTrackerConsole(t, dsn, env)
		c.say("alice: /feedback watch")
		a := c.capture("Dark mode for the dashboard")
		b := c.capture("Export the board to CSV")
		open := c.capture("Calendar sync with Outlook")
		c.say("alice: /feedback track FB-1 https://github.com/acme/app/pull/5")
		c.say("alice: /feedback track FB-3 https://github.com/acme/app/issues/6")
		c.github("pull_request", "", pull("closed", 5, "closed", false, true, "Dark theme", "", "v9"))
		c.wantStatus("FB-1", "planned", "alice")
		c.github("release", "", release("published", "v5.0", "Spring release", "Also FB-2 and FB-99."))
		c.wantStatus("FB-1", "shipped", "github", "v5.0", "Spring release")
		c.wantStatus("FB-2", "shipped", "github", "v5.0", "Spring release")
		c.wantStatus("FB-3", "planned", "alice")
		c.replies(a, "🚀 Shipped in v5.0", 1)
		c.replies(b, "🚀 Shipped in v5.0", 1)
		if n := botPostsIn(c.out.String(), open, "Shipped"); n != 0 {
			t.Fatalf("%d ship replies for the open one", n)
		}
	})
}

// TestTrackerREADMEExample runs the README's worked example through the
// console: the typed lines, then its curl request (body, headers and
// signature as printed).
func TestTrackerREADMEExample(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, "<!-- tracker-example:begin -->"), strings.Index(doc, "<!-- tracker-example:end -->")
	if i < 0 || j < i {
		t.Fatal("README has no tracker example")
	}
	ex := doc[i:j]
	get := func(re string) string {
		t.Helper()
		m := regexp.MustCompile(re).FindStringSubmatch(ex)
		if m == nil {
			t.Fatalf("README example: nothing matches %s", re)
		}
		return m[1]
	}
	secret := get(`FEEDBACKBOT_GITHUB_WEBHOOK_SECRET=(\S+) feedbackbot console`)
	body := get(`(?m)^BODY='([^']*)'$`)
	sig := get(`(?m)^# (sha256=[0-9a-f]{64})$`)
	delivery := get(`X-GitHub-Delivery: ([0-9a-f-]+)'`)
	answer := get(`(?m)^# (\{"delivery".*\})$`)
	c := startTrackerConsole(t, storetest.SQLiteDSN(t), map[string]string{"FEEDBACKBOT_GITHUB_WEBHOOK_SECRET": secret})
	for _, l := range regexp.MustCompile(`(?m)^(alice: .*)$`).FindAllString(ex, -1) {
		c.say(l)
	}
	code, got := c.post("/webhooks/github", []byte(body), map[string]string{"X-GitHub-Event": "issues", "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": sig})
	if code != 200 || strings.TrimSpace(got) != answer {
		t.Fatalf("answer %d %s\nREADME: %s", code, got, answer)
	}
	m := regexp.MustCompile(`reply in alice's thread\s+\("([^"]+)"\)`).FindStringSubmatch(doc)
	if m == nil {
		t.Fatal("README does not quote the reply")
	}
	want := m[1]
	c.eventually("the ship reply", func() bool { return strings.Contains(strings.ReplaceAll(c.out.String(), "\n", " "), want) })
	if os.Getenv("TRACKER_DUMP") != "" {
		t.Log(c.out.String())
	}
}

// TestTrackerSlackEndToEnd: the binary in Slack HTTP mode with a GitHub
// webhook secret. A request captured in Slack, tracked with the slash
// command (Slack's <url> markup), ships when GitHub says the pull request
// merged: the fake Slack receives the reply in the original thread, once,
// also when GitHub redelivers.
func TestTrackerSlackEndToEnd(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		f := slacktest.New(slacktest.Options{})
		t.Cleanup(f.Close)
		f.AddUser(slacktest.User{ID: "ULEAD", Name: "lead", DisplayName: "Lea"})
		f.AddUser(slacktest.User{ID: "UCUST", Name: "cust", DisplayName: "Cus"})
		const secret = "signing-secret"
		base := startBot(t, map[string]string{
			"DATABASE_URL": dsn, "FEEDBACKBOT_HTTP_ADDR": "127.0.0.1:0",
			"SLACK_BOT_TOKEN": f.Options().BotToken, "SLACK_SIGNING_SECRET": secret, "SLACK_API_URL": f.APIURL(),
			"SLACK_RELEASE_LEADS": "ULEAD", "FEEDBACKBOT_GITHUB_WEBHOOK_SECRET": e2eGitHubSecret, "FEEDBACKBOT_BOARD_PUBLIC": "true",
		})
		c := &trackerConsole{t: t, base: base, out: &syncBuffer{}}
		c.eventually("/readyz", func() bool {
			resp, err := http.Get(base + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
		send := &slacktest.HTTPSender{BaseURL: base, Secret: secret}
		ctx := context.Background()
		if code, err := send.Command(ctx, f.SlashCommand("ULEAD", "CIDEAS", "watch")); err != nil || code != 200 {
			t.Fatalf("watch: %d %v", code, err)
		}
		c.eventually("watch reply", func() bool { return len(f.Responses()) == 1 })
		m := f.NewMessage("CIDEAS", "UCUST", "Please support SAML single sign-on", "")
		if code, err := send.Event(ctx, f.MessageEvent(m)); err != nil || code != 200 {
			t.Fatalf("event: %d %v", code, err)
		}
		inThread := func(substr string) int {
			n := 0
			for _, p := range f.Posts() {
				if p.ThreadTS == m.TS && strings.Contains(p.Text, substr) {
					n++
				}
			}
			return n
		}
		c.eventually("request card in the thread", func() bool { return inThread("FB-1") > 0 })
		if code, err := send.Command(ctx, f.SlashCommand("ULEAD", "CIDEAS", "track FB-1 <https://github.com/acme/app/pull/44>")); err != nil || code != 200 {
			t.Fatalf("track: %d %v", code, err)
		}
		c.eventually("track reply", func() bool { return len(f.Responses()) == 2 })
		c.wantStatus("FB-1", "planned", "Lea")
		merged := pull("closed", 44, "closed", false, true, "SAML", "", "v3.1")
		c.github("pull_request", "gh-slack-44", merged)
		c.github("pull_request", "gh-slack-44", merged)
		c.wantStatus("FB-1", "shipped", "github", "v3.1")
		c.eventually("ship reply in the thread", func() bool { return inThread("Shipped in v3.1") > 0 })
		// A later status read finds the delivery done; nothing was posted twice.
		c.eventually("the delivery done", func() bool {
			resp, err := http.Get(base + "/api/v1/requests/FB-1")
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			var d struct {
				Deliveries struct{ Delivered, Total int } `json:"deliveries"`
			}
			json.NewDecoder(resp.Body).Decode(&d)
			// The planned notice (FEEDBACKBOT_NOTIFY_STATUSES' default) and the ship.
			return d.Deliveries.Total == 2 && d.Deliveries.Delivered == 2
		})
		if n := inThread("Shipped in v3.1"); n != 1 {
			t.Fatalf("%d ship replies in the thread", n)
		}
		if n := inThread("is planned"); n != 1 {
			t.Fatalf("%d planned notices in the thread", n)
		}
		if v := f.Violations(); len(v) > 0 {
			t.Fatalf("fake Slack saw protocol violations: %v", v)
		}
	})
}
