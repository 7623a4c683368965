package tracker_test

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
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/tracker"
	"github.com/feedbackbot/feedbackbot/store"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

const (
	ghSecret  = "It's a Secret to Everybody"
	linSecret = "lin_wh_test_secret"
)

// storeEngine applies transitions straight to the store, as the engine's
// use cases do (same store calls, same idempotency keys), and counts them.
type storeEngine struct {
	db *store.DB
	mu sync.Mutex
	// releases counts Release calls that changed something.
	releases int
	statuses int
}

func (e *storeEngine) Release(ctx context.Context, source, action string, ids []int64, version, note, key string) error {
	res, err := e.db.Release(ctx, bot.ReleaseInput{Action: action, Version: version, Note: note, Actor: source, IdempotencyKey: key, RequestIDs: ids,
		Text: func(reqs []*bot.Request) string { return bot.ReleaseText(action, version, note, reqs) }})
	if bot.ErrorCode(err) == bot.ECONFLICT {
		return nil
	}
	if err != nil {
		return err
	}
	if len(res.Changed) > 0 {
		e.mu.Lock()
		e.releases++
		e.mu.Unlock()
	}
	return nil
}

func (e *storeEngine) SetStatus(ctx context.Context, source string, id int64, to bot.Status, note string) error {
	_, err := e.db.SetStatus(ctx, id, to, source, "", note)
	if bot.ErrorCode(err) == bot.ECONFLICT {
		return nil
	}
	if err == nil {
		e.mu.Lock()
		e.statuses++
		e.mu.Unlock()
	}
	return err
}

type env struct {
	t      *testing.T
	db     *store.DB
	eng    *storeEngine
	srv    *httptest.Server
	now    time.Time
	ctx    context.Context
	nextID int
}

func forEachDB(t *testing.T, cfg tracker.Config, fn func(t *testing.T, e *env)) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		fn(t, newEnv(t, dsn, cfg))
	})
}

func newEnv(t *testing.T, dsn string, cfg tracker.Config) *env {
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &env{t: t, db: db, eng: &storeEngine{db: db}, now: time.UnixMilli(1787220930123), ctx: t.Context()}
	if cfg.GitHubSecret == "-" {
		cfg.GitHubSecret = ""
	} else if cfg.GitHubSecret == "" {
		cfg.GitHubSecret = ghSecret
	}
	if cfg.LinearSecret == "-" {
		cfg.LinearSecret = ""
	} else if cfg.LinearSecret == "" {
		cfg.LinearSecret = linSecret
	}
	cfg.Now = func() time.Time { return e.now }
	svc := tracker.New(cfg, db, e.eng)
	mux := http.NewServeMux()
	svc.Register(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// request creates a request with one Slack mention in its own thread.
func (e *env) request(title string) *bot.Request {
	e.t.Helper()
	e.nextID++
	msg := fmt.Sprintf("17000000%02d.000100", e.nextID)
	r := &bot.Request{Title: title}
	m := &bot.Mention{Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", MessageID: msg, ThreadID: msg,
		AuthorID: "U1", AuthorName: "alice", Org: "T1", Text: title, CapturedBy: "alice", Via: bot.ViaChannel}
	if err := e.db.CreateRequest(e.ctx, r, m); err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) track(id int64, url string) {
	e.t.Helper()
	l, err := bot.ParseItem(url)
	if err != nil {
		e.t.Fatal(err)
	}
	l.RequestID = id
	if _, err := e.db.AddLink(e.ctx, l); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) status(id int64) bot.Status {
	e.t.Helper()
	r, err := e.db.FindRequestByID(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r.Status
}

func (e *env) wantStatus(id int64, want bot.Status) {
	e.t.Helper()
	if got := e.status(id); got != want {
		e.t.Fatalf("status of %d = %s, want %s", id, got, want)
	}
}

func (e *env) history(id int64) []*bot.StatusChange {
	e.t.Helper()
	hs, err := e.db.FindHistory(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return hs
}

func (e *env) linkState(id int64, item string) string {
	e.t.Helper()
	ls, err := e.db.FindLinks(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, l := range ls {
		if l.Item == item {
			return l.State
		}
	}
	return ""
}

type answer struct {
	Code int
	Body string
	Out  tracker.Outcome
}

func (e *env) post(path string, body []byte, headers map[string]string) answer {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{Code: resp.StatusCode, Body: string(b)}
	json.Unmarshal(b, &a.Out)
	return a
}

func ghSign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func linSign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

var deliverySeq atomic.Int64

func newDelivery() string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", deliverySeq.Add(1))
}

// github posts a signed GitHub delivery and wants 200.
func (e *env) github(event string, payload any, delivery ...string) answer {
	e.t.Helper()
	body := mustJSON(e.t, payload)
	id := newDelivery()
	if len(delivery) > 0 {
		id = delivery[0]
	}
	a := e.post("/webhooks/github", body, map[string]string{
		"X-GitHub-Event": event, "X-GitHub-Delivery": id, "X-Hub-Signature-256": ghSign(ghSecret, body),
		"User-Agent": "GitHub-Hookshot/test",
	})
	if a.Code != http.StatusOK {
		e.t.Fatalf("%s: %d %s", event, a.Code, a.Body)
	}
	return a
}

// linear posts a signed, fresh Linear delivery and wants 200.
func (e *env) linear(payload map[string]any, delivery ...string) answer {
	e.t.Helper()
	if _, ok := payload["webhookTimestamp"]; !ok {
		payload["webhookTimestamp"] = e.now.UnixMilli()
	}
	body := mustJSON(e.t, payload)
	id := newDelivery()
	if len(delivery) > 0 {
		id = delivery[0]
	}
	a := e.post("/webhooks/linear", body, map[string]string{"Linear-Signature": linSign(linSecret, body), "Linear-Delivery": id, "Linear-Event": "Issue"})
	if a.Code != http.StatusOK {
		e.t.Fatalf("linear: %d %s", a.Code, a.Body)
	}
	return a
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	if b, ok := v.([]byte); ok {
		return b
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Payload builders, shaped like GitHub's and Linear's published examples
// (only the fields the bot reads, plus a few it must ignore).

var repoJSON = map[string]any{"id": 186853002, "name": "app", "full_name": "acme/app", "private": false,
	"owner": map[string]any{"login": "acme", "id": 21031067, "type": "Organization"}, "html_url": "https://github.com/acme/app"}

var sender = map[string]any{"login": "octocat", "id": 583231, "type": "User"}

type issueOpts struct {
	state, reason, title, body, milestone string
}

func issueEvent(action string, n int, o issueOpts) map[string]any {
	if o.state == "" {
		o.state = "open"
	}
	is := map[string]any{
		"url": fmt.Sprintf("https://api.github.com/repos/acme/app/issues/%d", n), "html_url": fmt.Sprintf("https://github.com/acme/app/issues/%d", n),
		"id": 444500000 + n, "number": n, "title": o.title, "body": o.body, "state": o.state, "locked": false,
		"user": sender, "labels": []any{}, "assignees": []any{}, "comments": 0, "milestone": nil,
		"created_at": "2026-08-01T09:00:00Z", "updated_at": "2026-08-20T10:15:30Z", "author_association": "OWNER",
	}
	if o.reason != "" {
		is["state_reason"] = o.reason
	} else {
		is["state_reason"] = nil
	}
	if o.milestone != "" {
		is["milestone"] = map[string]any{"id": 5064590, "number": 1, "title": o.milestone, "state": "open"}
	}
	return map[string]any{"action": action, "issue": is, "repository": repoJSON, "sender": sender}
}

type pullOpts struct {
	state           string
	draft, merged   bool
	title, body, ms string
}

func pullEvent(action string, n int, o pullOpts) map[string]any {
	if o.state == "" {
		o.state = "open"
	}
	pr := map[string]any{
		"url": fmt.Sprintf("https://api.github.com/repos/acme/app/pulls/%d", n), "html_url": fmt.Sprintf("https://github.com/acme/app/pull/%d", n),
		"id": 279147437 + n, "number": n, "state": o.state, "locked": false, "title": o.title, "body": o.body, "user": sender,
		"draft": o.draft, "merged": o.merged, "merged_at": nil, "merged_by": nil, "milestone": nil,
		"head": map[string]any{"ref": "changes", "sha": "ec26c3e57ca3a959ca5aad62de7213c562f8c821"},
		"base": map[string]any{"ref": "main", "sha": "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"},
	}
	if o.merged {
		pr["merged_at"] = "2026-08-20T10:15:30Z"
		pr["merged_by"] = sender
	}
	if o.ms != "" {
		pr["milestone"] = map[string]any{"id": 1, "number": 1, "title": o.ms, "state": "open"}
	}
	return map[string]any{"action": action, "number": n, "pull_request": pr, "repository": repoJSON, "sender": sender}
}

func releaseEvent(action, tag, name, body string) map[string]any {
	return map[string]any{"action": action, "release": map[string]any{
		"url": "https://api.github.com/repos/acme/app/releases/11248810", "html_url": "https://github.com/acme/app/releases/tag/" + tag,
		"id": 11248810, "tag_name": tag, "target_commitish": "main", "name": name, "body": body, "draft": false, "prerelease": false,
		"author": sender, "created_at": "2026-08-20T10:15:30Z", "published_at": "2026-08-20T10:15:30Z", "assets": []any{},
	}, "repository": repoJSON, "sender": sender}
}

func linearIssue(action, identifier, stateType, title, description string) map[string]any {
	names := map[string]string{"triage": "Triage", "backlog": "Backlog", "unstarted": "Todo", "started": "In Progress",
		"completed": "Done", "canceled": "Canceled", "duplicate": "Duplicate"}
	return map[string]any{
		"action": action, "type": "Issue", "createdAt": "2026-08-20T10:15:30.123Z",
		"actor":          map[string]any{"id": "7f5c9a52-0000-4000-8000-000000000001", "name": "Erin", "type": "user"},
		"organizationId": "5e4d3c2b-0000-4000-8000-000000000002", "webhookId": "c1d2e3f4-0000-4000-8000-000000000003",
		"url": "https://linear.app/acme/issue/" + identifier + "/slug",
		"data": map[string]any{
			"id": "b8e4a6d2-0000-4000-8000-" + fmt.Sprintf("%012d", len(identifier)), "identifier": identifier,
			"number": 7, "title": title, "description": description, "priority": 2,
			"stateId": "3c0f6b7e-0000-4000-8000-000000000004",
			"state":   map[string]any{"id": "3c0f6b7e-0000-4000-8000-000000000004", "color": "#5e6ad2", "name": names[stateType], "type": stateType},
			"team":    map[string]any{"id": "0a9d8c7b-0000-4000-8000-000000000005", "key": strings.SplitN(identifier, "-", 2)[0], "name": "Engineering"},
			"url":     "https://linear.app/acme/issue/" + identifier + "/slug", "previousIdentifiers": []any{}, "labelIds": []any{},
		},
		"updatedFrom": map[string]any{"stateId": "9d2b4e6f-0000-4000-8000-000000000006"},
	}
}
