package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
)

// NUL characters anywhere in the text the store is given (captured text,
// names, votes, notes, versions, idempotency keys, searches) are removed,
// the same on both databases: PostgreSQL refuses NUL in text and used to
// fail each such call with an internal error; SQLite stored it.
func TestNULRemoved(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := &bot.Request{Title: "Dark\x00 mode", Description: "Please\x00 add dark mode"}
		m := newMention("m\x001", "u\x001", func(m *bot.Mention) {
			m.Text = "Dark\x00 mode please"
			m.AuthorName = "Al\x00ice"
			m.Permalink = "https://x.example/\x00p"
		})
		if err := db.CreateRequest(ctx, r, m); err != nil {
			t.Fatalf("capture with NUL: %v", err)
		}
		got := mustFind(t, db, r.ID)
		if got.Title != "Dark mode" || got.Description != "Please add dark mode" {
			t.Fatalf("stored %q / %q", got.Title, got.Description)
		}
		men, err := db.FindMentionByMessage(ctx, "slack", "T1", "C1", "m\x001")
		if err != nil {
			t.Fatalf("find the mention by its id with NUL: %v", err)
		}
		if men.MessageID != "m1" || men.Text != "Dark mode please" || men.AuthorName != "Alice" || strings.Contains(men.Permalink, "\x00") {
			t.Fatalf("mention stored as %+v", men)
		}
		if _, err := db.AddVote(ctx, bot.Voter{RequestID: r.ID, Platform: "slack", Workspace: "T1", UserID: "u\x009", Org: "o\x00rg"}); err != nil {
			t.Fatalf("vote with NUL: %v", err)
		}
		if _, total, err := db.FindRequests(ctx, bot.RequestFilter{Query: "dark\x00"}); err != nil || total != 1 {
			t.Fatalf("search with NUL: %d, %v", total, err)
		}
		if _, err := db.SetStatus(ctx, r.ID, bot.StatusPlanned, "le\x00ad", "", "soon\x00"); err != nil {
			t.Fatalf("status note with NUL: %v", err)
		}
		res, err := db.Release(ctx, bot.ReleaseInput{
			Action: bot.ActionShipped, Version: "v1\x00.2", Note: "n\x00", Actor: "lead", IdempotencyKey: "k\x00ey",
			RequestIDs: []int64{r.ID}, Text: func([]*bot.Request) string { return "shipped\x00" },
		})
		if err != nil {
			t.Fatalf("release with NUL: %v", err)
		}
		if res.Event.ID == 0 {
			t.Fatal("no release event")
		}
		ev, err := db.FindReleaseByIdempotencyKey(ctx, "k\x00ey")
		if err != nil || ev.Version != "v1.2" || ev.IdempotencyKey != "key" {
			t.Fatalf("release stored as %+v (%v)", ev, err)
		}
	})
}
