package tracker_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
	"github.com/feedbackbot/feedbackbot/bot/tracker"
	"github.com/feedbackbot/feedbackbot/store"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// replica is one process: its own store connection pool, engine and
// webhook routes, over the shared database.
func replica(t *testing.T, dsn string, wrap func(tracker.Engine) tracker.Engine) (*store.DB, *httptest.Server) {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	eng := bot.NewEngine(db, dedup.New(dedup.DefaultConfig()), bot.DefaultConfig(), nil)
	actions := tracker.ForEngine(eng)
	if wrap != nil {
		actions = wrap(actions)
	}
	mux := http.NewServeMux()
	tracker.New(tracker.Config{GitHubSecret: ghSecret, LinearSecret: linSecret}, db, actions).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return db, srv
}

// threads adds two more mentions in their own threads to request id, so a
// ship has three threads to notify.
func threads(t *testing.T, db *store.DB, id int64, tag string) {
	t.Helper()
	for _, msg := range []string{tag + ".1", tag + ".2"} {
		m := &bot.Mention{RequestID: id, Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C2", MessageID: msg, ThreadID: msg,
			AuthorID: "U" + msg, AuthorName: "x", Org: "T1", Text: "me too", Via: bot.ViaChannel}
		if err := db.AddMention(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}

func shipDeliveries(t *testing.T, db *store.DB, id int64) (events, deliveries int) {
	t.Helper()
	hs, err := db.FindHistory(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if h.EventID == nil || h.To != bot.StatusShipped {
			continue
		}
		events++
		ds, err := db.FindDeliveries(context.Background(), *h.EventID)
		if err != nil {
			t.Fatal(err)
		}
		deliveries += len(ds)
	}
	return events, deliveries
}

// TestReplicasWithTheEngine: two processes with real engines receive the
// same deliveries at once; each thread gets one reply.
func TestReplicasWithTheEngine(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		dbA, a := replica(t, dsn, nil)
		_, b := replica(t, dsn, nil)
		e := &env{t: t, db: dbA, ctx: t.Context()}
		r := e.request("Dark mode")
		threads(t, dbA, r.ID, "dark")
		e.track(r.ID, "https://github.com/acme/app/pull/9")
		merged := mustJSON(t, pullEvent("closed", 9, pullOpts{state: "closed", merged: true, ms: "v7"}))
		id := newDelivery()
		var wg sync.WaitGroup
		codes := make(chan int, 6)
		for i := range 6 {
			srv := a
			if i%2 == 1 {
				srv = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				e := &env{t: t, srv: srv}
				codes <- e.post("/webhooks/github", merged, map[string]string{"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": id, "X-Hub-Signature-256": ghSign(ghSecret, merged)}).Code
			}()
		}
		wg.Wait()
		close(codes)
		for c := range codes {
			if c != http.StatusOK {
				t.Fatalf("answer %d", c)
			}
		}
		e.wantStatus(r.ID, bot.StatusShipped)
		if ev, ds := shipDeliveries(t, dbA, r.ID); ev != 1 || ds != 3 {
			t.Fatalf("%d ship events, %d deliveries; want 1 and 3", ev, ds)
		}
		// GitHub then sends the same merge under another id (a second hook on
		// the organisation, say): the request is shipped already, nothing more.
		e.srv = b
		e.github("pull_request", mustJSON(t, pullEvent("closed", 9, pullOpts{state: "closed", merged: true, ms: "v7"})))
		if ev, ds := shipDeliveries(t, dbA, r.ID); ev != 1 || ds != 3 {
			t.Fatalf("after another id: %d ship events, %d deliveries", ev, ds)
		}
	})
}

// crashAfter lets the first Release through and then reports a failure, as
// a process that died between the ship and the end of the delivery.
type crashAfter struct {
	tracker.Engine
	mu      sync.Mutex
	crashed bool
}

func (c *crashAfter) Release(ctx context.Context, source, action string, ids []int64, version, note, key string) error {
	err := c.Engine.Release(ctx, source, action, ids, version, note, key)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil && !c.crashed {
		c.crashed = true
		return errors.New("crash after the ship")
	}
	return err
}

// TestRedeliveryAfterCrash: the delivery was recorded and its ship made,
// but the process died before finishing it. GitHub's redelivery (same id)
// resumes it: nothing is shipped or posted twice, and it is then finished.
func TestRedeliveryAfterCrash(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		db, srv := replica(t, dsn, func(e tracker.Engine) tracker.Engine { return &crashAfter{Engine: e} })
		e := &env{t: t, db: db, srv: srv, ctx: t.Context()}
		r := e.request("Export")
		threads(t, db, r.ID, "export")
		e.track(r.ID, "https://github.com/acme/app/issues/3")
		e.track(r.ID, "https://github.com/acme/app/issues/4")
		e.github("issues", issueEvent("closed", 3, issueOpts{state: "closed", reason: "completed"}))
		body := mustJSON(t, issueEvent("closed", 4, issueOpts{state: "closed", reason: "completed", milestone: "v8"}))
		id := newDelivery()
		h := map[string]string{"X-GitHub-Event": "issues", "X-GitHub-Delivery": id, "X-Hub-Signature-256": ghSign(ghSecret, body)}
		if a := e.post("/webhooks/github", body, h); a.Code != http.StatusInternalServerError {
			t.Fatalf("crashed attempt: %d %s", a.Code, a.Body)
		}
		e.wantStatus(r.ID, bot.StatusShipped)
		a := e.post("/webhooks/github", body, h)
		if a.Code != http.StatusOK || !a.Out.Replayed {
			t.Fatalf("redelivery: %d %s", a.Code, a.Body)
		}
		if ev, ds := shipDeliveries(t, db, r.ID); ev != 1 || ds != 3 {
			t.Fatalf("%d ship events, %d deliveries; want 1 and 3", ev, ds)
		}
		if hs := e.history(r.ID); len(hs) != 2 || hs[1].Version != "v8" || hs[1].Actor != "github" {
			t.Fatalf("history %+v", hs)
		}
		// Finished now: a third copy is Done.
		if a := e.post("/webhooks/github", body, h); a.Code != http.StatusOK || !a.Out.Replayed || len(a.Out.Changes) != 0 {
			t.Fatalf("third copy: %d %s", a.Code, a.Body)
		}
	})
}
