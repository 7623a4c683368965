package tracker

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
)

// nothingLinked is a Store about which no request follows anything.
type nothingLinked struct{ bot.LinkStore }

func (nothingLinked) RecordTrackerDelivery(ctx context.Context, in bot.TrackerDeliveryInput) (*bot.TrackerDelivery, error) {
	d := &bot.TrackerDelivery{Unrecorded: len(in.Items) > 0}
	for _, u := range in.Items {
		if u.Item == "" || u.State == "" {
			panic("item update without item or state: " + u.Item + "/" + u.State)
		}
		d.Items = append(d.Items, bot.ItemResult{Item: u.Item})
	}
	return d, nil
}
func (nothingLinked) FinishTrackerDelivery(context.Context, string, string) error { return nil }
func (nothingLinked) FindLinkedRequests(context.Context, string) ([]int64, error) { return nil, nil }
func (nothingLinked) ResolveRequest(context.Context, int64) (*bot.Request, error) {
	return nil, bot.Errorf(bot.ENOTFOUND, "none")
}
func (nothingLinked) FindShippedIn(context.Context, string) ([]int64, error) { return nil, nil }

type noEngine struct{}

func (noEngine) Release(context.Context, string, string, []int64, string, string, string) error {
	return nil
}
func (noEngine) SetStatus(context.Context, string, int64, bot.Status, string) error { return nil }

// FuzzWebhooks sends correctly signed, arbitrary bodies to both routes: the
// decoding never panics and the answer is 200, 400 or 401 (a stale Linear
// timestamp).
func FuzzWebhooks(f *testing.F) {
	for _, seed := range []string{
		`{"action":"closed","issue":{"number":1,"state":"closed","state_reason":"completed","title":"FB-1","body":null,"milestone":{"title":"v1"}},"repository":{"full_name":"a/b"}}`,
		`{"action":"closed","number":2,"pull_request":{"number":2,"state":"closed","merged":true,"body":"Reverts a/b#1\nReverts #3"},"repository":{"full_name":"a/b"}}`,
		`{"action":"published","release":{"tag_name":"v1","name":"x","body":"FB-2"},"repository":{"full_name":"a/b"}}`,
		`{"action":"update","type":"Issue","webhookTimestamp":1787220930123,"data":{"identifier":"ENG-1","state":{"type":"completed"},"previousIdentifiers":["OLD-1"]}}`,
		`{"zen":"x"}`, `[]`, `null`, ``,
	} {
		for _, ev := range []string{"issues", "pull_request", "release", "ping", ""} {
			f.Add(ev, []byte(seed))
		}
	}
	now := time.UnixMilli(1787220930123)
	s := New(Config{GitHubSecret: "g", LinearSecret: "l", ShipOn: ShipOnRelease, Now: func() time.Time { return now }}, nothingLinked{}, noEngine{})
	mux := http.NewServeMux()
	s.Register(mux)
	sign := func(secret string, b []byte) string {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(b)
		return hex.EncodeToString(m.Sum(nil))
	}
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/webhooks/github", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-GitHub-Event", event)
		r.Header.Set("X-GitHub-Delivery", "d")
		r.Header.Set("X-Hub-Signature-256", "sha256="+sign("g", body))
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code != 200 && w.Code != 400 {
			t.Fatalf("github %q: %d %s", event, w.Code, w.Body)
		}
		r = httptest.NewRequest(http.MethodPost, "/webhooks/linear", bytes.NewReader(body))
		r.Header.Set("Linear-Signature", sign("l", body))
		w = httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code != 200 && w.Code != 400 && w.Code != 401 {
			t.Fatalf("linear: %d %s", w.Code, w.Body)
		}
	})
}
