package store_test

import (
	"fmt"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
)

// The capture hot path: CreateRequest in one statement on PostgreSQL, the
// counters set without counting, and a message captured twice refused
// without using up a key.
func TestCreateRequest_HotPath(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, "Dark mode", "m1", "u1")
		if a.Demand != 1 || a.Orgs != 1 || a.Mentions != 1 || a.RootID != a.ID || a.Status != bot.StatusOpen {
			t.Fatalf("created %+v", a)
		}
		if got := mustFind(t, db, a.ID); got.Demand != 1 || got.Orgs != 1 || got.Mentions != 1 || !got.CreatedAt.Equal(a.CreatedAt) {
			t.Fatalf("stored %+v, returned %+v", got, a)
		}
		err := db.CreateRequest(ctx, &bot.Request{Title: "again"}, newMention("m1", "u2"))
		wantCode(t, err, bot.ECONFLICT)
		b := mustCreate(t, db, "Light mode", "m2", "", withOrg(""))
		if b.ID != a.ID+1 {
			t.Fatalf("id after a refused capture = %d, want %d (no gap)", b.ID, a.ID+1)
		}
		if b.Demand != 0 || b.Orgs != 0 || b.Mentions != 1 {
			t.Fatalf("anonymous capture counts %+v", b)
		}
		c := mustCreate(t, db, "No org", "m3", "u3", withOrg(""))
		if c.Demand != 1 || c.Orgs != 0 {
			t.Fatalf("capture without org counts %+v", c)
		}
		// A vote recounts from the rows: the counters set at capture agree.
		mustVote(t, db, c.ID, "u9", "T9")
		if got := counts(t, db, c.ID); got != [3]int{2, 1, 1} {
			t.Fatalf("recounted %v", got)
		}
	})
}

func TestResolveRequests(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, "A", "m1", "u1")
		b := mustCreate(t, db, "B", "m2", "u2")
		c := mustCreate(t, db, "C", "m3", "u3")
		mustMerge(t, db, b.ID, a.ID)
		got, err := db.ResolveRequests(ctx, []int64{a.ID, b.ID, c.ID, 999})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[a.ID].ID != a.ID || got[b.ID].ID != a.ID || got[c.ID].ID != c.ID {
			t.Fatalf("resolved %v", got)
		}
		if got[b.ID].Demand != 2 {
			t.Fatalf("canonical counts %+v", got[b.ID])
		}
		var many []int64
		for i := range 40 {
			many = append(many, int64(i+1))
		}
		if got, err := db.ResolveRequests(ctx, many); err != nil || len(got) != 3 {
			t.Fatalf("40 ids: %v, %v", got, err)
		}
		one, err := db.ResolveRequest(ctx, b.ID)
		if err != nil || one.ID != a.ID {
			t.Fatalf("ResolveRequest: %+v, %v", one, err)
		}
		_, err = db.ResolveRequest(ctx, 999)
		wantCode(t, err, bot.ENOTFOUND)
	})
}

func TestChannelKinds(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		for _, k := range []string{bot.ChannelWatch, bot.ChannelReleases} {
			if _, err := db.SetChannel(ctx, bot.ChannelSetting{Platform: "slack", Workspace: "T1", Channel: "C1", Kind: k}, true); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.ChannelKinds(ctx, "slack", "T1", "C1")
		if err != nil || fmt.Sprint(got) != "[releases watch]" {
			t.Fatalf("kinds %v, %v", got, err)
		}
		if got, err := db.ChannelKinds(ctx, "slack", "T1", "C2"); err != nil || len(got) != 0 {
			t.Fatalf("kinds of an unknown channel %v, %v", got, err)
		}
	})
}

// SeedBulk writes requests, mentions and author votes with their counters.
func TestSeedBulk(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		first := mustCreate(t, db, "before", "m0", "u0")
		err := db.SeedBulk(ctx, store.SeedSpec{
			Requests: 25, MentionsPerRequest: 4, Channels: 3,
			Text:  func(i int) string { return fmt.Sprintf("title %d\nbody %d", i, i) },
			Reply: func(i, j int) string { return fmt.Sprintf("reply %d.%d", i, j) },
		})
		if err != nil {
			t.Fatal(err)
		}
		r := mustFind(t, db, first.ID+1)
		if r.Title != "title 0" || r.Description != "title 0\nbody 0" || r.Mentions != 4 {
			t.Fatalf("seeded %+v", r)
		}
		// A vote recounts from the rows: the seeded counters agree.
		mustVote(t, db, r.ID, "new-voter", "new-org")
		if got := counts(t, db, r.ID); got != [3]int{r.Demand + 1, r.Orgs + 1, r.Mentions} {
			t.Fatalf("seeded counters %v, recounted after a vote %v", [3]int{r.Demand, r.Orgs, r.Mentions}, got)
		}
		// The sequences continue after the seeded rows.
		next := mustCreate(t, db, "after", "m-after", "u1")
		if next.ID != first.ID+26 {
			t.Fatalf("id after seeding %d, want %d", next.ID, first.ID+26)
		}
		ms, err := db.FindMentions(ctx, r.ID)
		if err != nil || len(ms) != 4 || ms[1].ThreadID != ms[0].MessageID {
			t.Fatalf("mentions %+v, %v", ms, err)
		}
	})
}
