package store_test

import (
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
)

func TestSessions(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		now := time.Now().UTC()
		ws := &bot.WebSession{IDHash: "h1", Kind: bot.SessionOIDC, Identity: bot.Identity{Platform: bot.PlatformWeb, Workspace: "https://idp", UserID: "sub1"},
			Name: "Jane", Email: "jane@acme.com", Team: true, CSRF: "c1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := db.CreateSession(ctx, ws); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindSession(ctx, "h1", now)
		if err != nil || got.Identity != ws.Identity || !got.Team || got.CSRF != "c1" || got.Email != "jane@acme.com" {
			t.Fatalf("find: %+v %v", got, err)
		}
		if _, err := db.FindSession(ctx, "h1", now.Add(2*time.Hour)); bot.ErrorCode(err) != bot.ENOTFOUND {
			t.Fatalf("expired session found: %v", err)
		}
		if err := db.DeleteSession(ctx, "h1"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.FindSession(ctx, "h1", now); bot.ErrorCode(err) != bot.ENOTFOUND {
			t.Fatalf("revoked session found: %v", err)
		}

		st := &bot.AuthState{StateHash: "s1", Nonce: "n", Verifier: "v", Next: "/requests/FB-1", ExpiresAt: now.Add(10 * time.Minute)}
		if err := db.CreateAuthState(ctx, st); err != nil {
			t.Fatal(err)
		}
		got2, err := db.TakeAuthState(ctx, "s1", now)
		if err != nil || got2.Nonce != "n" || got2.Verifier != "v" || got2.Next != "/requests/FB-1" {
			t.Fatalf("take: %+v %v", got2, err)
		}
		if _, err := db.TakeAuthState(ctx, "s1", now); bot.ErrorCode(err) != bot.ENOTFOUND {
			t.Fatalf("state used twice: %v", err)
		}
		st.StateHash = "s2"
		if err := db.CreateAuthState(ctx, st); err != nil {
			t.Fatal(err)
		}
		if _, err := db.TakeAuthState(ctx, "s2", now.Add(11*time.Minute)); bot.ErrorCode(err) != bot.ENOTFOUND {
			t.Fatalf("expired state accepted: %v", err)
		}
	})
}
