package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
)

func TestCreateRequest(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		t.Run("OK", func(t *testing.T) {
			before := time.Now().Add(-time.Second)
			r := &bot.Request{Title: "Dark mode", Description: "Please add dark mode"}
			m := newMention("m1", "alice")
			if err := db.CreateRequest(ctx, r, m); err != nil {
				t.Fatal(err)
			}
			if r.ID == 0 || r.RootID != r.ID || r.Status != bot.StatusOpen || r.MergedInto != nil {
				t.Fatalf("request %+v", r)
			}
			if m.ID == 0 || m.RequestID != r.ID || m.CreatedAt.IsZero() {
				t.Fatalf("mention %+v", m)
			}
			if r.CreatedAt.Before(before) || r.CreatedAt.Location() != time.UTC {
				t.Fatalf("created at %v", r.CreatedAt)
			}
			if r.Demand != 1 || r.Orgs != 1 || r.Mentions != 1 {
				t.Fatalf("counts %d %d %d", r.Demand, r.Orgs, r.Mentions)
			}
			got := mustFind(t, db, r.ID)
			if got.Title != "Dark mode" || got.Description != "Please add dark mode" || got.Demand != 1 || !got.CreatedAt.Equal(r.CreatedAt) {
				t.Fatalf("found %+v", got)
			}
		})
		t.Run("ErrConflict", func(t *testing.T) {
			_, total, err := db.FindRequests(ctx, bot.RequestFilter{IncludeMerged: true})
			if err != nil {
				t.Fatal(err)
			}
			r := &bot.Request{Title: "Same message again"}
			err = db.CreateRequest(ctx, r, newMention("m1", "bob"))
			wantCode(t, err, bot.ECONFLICT)
			_, total2, err := db.FindRequests(ctx, bot.RequestFilter{IncludeMerged: true})
			if err != nil {
				t.Fatal(err)
			}
			if total2 != total {
				t.Fatalf("requests %d after conflict, want %d (nothing written)", total2, total)
			}
			m, err := db.FindMentionByMessage(ctx, bot.PlatformSlack, "T1", "C1", "m1")
			if err != nil || m.AuthorID != "alice" {
				t.Fatalf("mention %+v, %v", m, err)
			}
			// The same message id in another channel is another message.
			mustCreate(t, db, "other channel", "m1", "bob", inChannel("C2"))
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			_, err := db.FindRequestByID(ctx, 999)
			wantCode(t, err, bot.ENOTFOUND)
			_, err = db.ResolveRequest(ctx, 999)
			wantCode(t, err, bot.ENOTFOUND)
		})
	})
}

func TestFindRequests(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, "Dark mode", "m1", "u1")
		b := mustCreate(t, db, "Export to CSV", "m2", "u2")
		c := mustCreate(t, db, "100% faster search_box", "m3", "u3")
		d := mustCreate(t, db, "Dark theme", "m4", "u4")
		for _, u := range []string{"v1", "v2", "v3"} {
			mustVote(t, db, b.ID, u, "T1")
		}
		mustVote(t, db, c.ID, "v1", "T1")
		mustMerge(t, db, d.ID, a.ID) // a: u1 + u4 = 2
		if _, err := db.SetStatus(ctx, c.ID, bot.StatusPlanned, "lead", "", ""); err != nil {
			t.Fatal(err)
		}

		ids := func(rs []*bot.Request) []int64 {
			var out []int64
			for _, r := range rs {
				out = append(out, r.ID)
			}
			return out
		}
		for _, tt := range []struct {
			name  string
			f     bot.RequestFilter
			want  []int64
			total int
		}{
			{"demand", bot.RequestFilter{}, []int64{b.ID, a.ID, c.ID}, 3},
			{"new", bot.RequestFilter{Sort: bot.SortNew}, []int64{c.ID, b.ID, a.ID}, 3},
			{"merged", bot.RequestFilter{Sort: bot.SortNew, IncludeMerged: true}, []int64{d.ID, c.ID, b.ID, a.ID}, 4},
			{"status", bot.RequestFilter{Status: bot.StatusPlanned}, []int64{c.ID}, 1},
			{"query", bot.RequestFilter{Query: "DARK"}, []int64{a.ID}, 1},
			{"query merged", bot.RequestFilter{Query: "dark", IncludeMerged: true}, []int64{a.ID, d.ID}, 2},
			{"query escapes %", bot.RequestFilter{Query: "0% f"}, []int64{c.ID}, 1},
			{"query escapes _", bot.RequestFilter{Query: "r_s"}, nil, 0},
			{"ids", bot.RequestFilter{IDs: []int64{a.ID, c.ID, d.ID}}, []int64{a.ID, c.ID}, 2},
			{"limit", bot.RequestFilter{Limit: 1, Offset: 1}, []int64{a.ID}, 3},
		} {
			t.Run(tt.name, func(t *testing.T) {
				rs, total, err := db.FindRequests(ctx, tt.f)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(ids(rs)) != fmt.Sprint(tt.want) || total != tt.total {
					t.Fatalf("got %v (total %d), want %v (total %d)", ids(rs), total, tt.want, tt.total)
				}
			})
		}
		rs, _, err := db.FindRequests(ctx, bot.RequestFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if rs[0].Demand != 4 || rs[1].Demand != 2 || rs[1].Mentions != 2 {
			t.Fatalf("counts in list: %+v %+v", rs[0], rs[1])
		}
		_, _, err = db.FindRequests(ctx, bot.RequestFilter{Sort: "sideways"})
		wantCode(t, err, bot.EINVALID)
	})
}

func TestDocs(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, "Dark mode", "m1", "u1")
		mustAddMention(t, db, a.ID, newMention("m2", "u2", func(m *bot.Mention) { m.Text = "night theme please" }))
		b := mustCreate(t, db, "Night mode", "m3", "u3")
		c := mustCreate(t, db, "Declined idea", "m4", "u4")
		mustMerge(t, db, b.ID, a.ID)
		if _, err := db.SetStatus(ctx, c.ID, bot.StatusDeclined, "lead", "", ""); err != nil {
			t.Fatal(err)
		}
		var docs []bot.Doc
		if err := db.EachDoc(ctx, func(d bot.Doc) error { docs = append(docs, d); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(docs) != 3 {
			t.Fatalf("docs %+v", docs)
		}
		if !docs[0].Active || docs[1].Active || docs[2].Active {
			t.Fatalf("active flags %+v", docs)
		}
		// Mention texts are not read (EachDoc explains why).
		if docs[0].Title != "Dark mode" || len(docs[0].Extra) != 0 {
			t.Fatalf("doc %+v", docs[0])
		}
		stop := fmt.Errorf("stop")
		n := 0
		if err := db.EachDoc(ctx, func(bot.Doc) error { n++; return stop }); err != stop || n != 1 {
			t.Fatalf("EachDoc stop: %v after %d", err, n)
		}

		since := time.Now().Add(time.Hour)
		got, err := db.DocsChangedSince(ctx, since)
		if err != nil || len(got) != 0 {
			t.Fatalf("future: %+v, %v", got, err)
		}
		time.Sleep(5 * time.Millisecond)
		mark := time.Now()
		d := mustCreate(t, db, "Fresh", "m5", "u5")
		got, err = db.DocsChangedSince(ctx, mark)
		if err != nil || len(got) != 1 || got[0].ID != d.ID {
			t.Fatalf("changed since: %+v, %v", got, err)
		}
	})
}

func TestMentions(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, "Dark mode", "m1", "u1")
		mustAddMention(t, db, a.ID, newMention("r1", "u2", inThread("m1")))
		b := mustCreate(t, db, "Night mode", "m2", "u3")
		mustMerge(t, db, b.ID, a.ID)

		t.Run("AddMention", func(t *testing.T) {
			err := db.AddMention(ctx, &bot.Mention{RequestID: a.ID, Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", MessageID: "r1"})
			wantCode(t, err, bot.ECONFLICT)
			err = db.AddMention(ctx, &bot.Mention{RequestID: 999, Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", MessageID: "x"})
			wantCode(t, err, bot.ENOTFOUND)
		})
		t.Run("FindMentionByMessage", func(t *testing.T) {
			m, err := db.FindMentionByMessage(ctx, bot.PlatformSlack, "T1", "C1", "r1")
			if err != nil || m.RequestID != a.ID || m.ThreadID != "m1" || m.AuthorName != "U2" {
				t.Fatalf("%+v, %v", m, err)
			}
			_, err = db.FindMentionByMessage(ctx, bot.PlatformSlack, "T1", "C1", "nope")
			wantCode(t, err, bot.ENOTFOUND)
		})
		t.Run("FindThreadMention", func(t *testing.T) {
			m, err := db.FindThreadMention(ctx, bot.PlatformSlack, "T1", "C1", "m1")
			if err != nil || m.MessageID != "m1" {
				t.Fatalf("%+v, %v", m, err)
			}
			// A thread whose root is not captured but a reply is.
			mustAddMention(t, db, a.ID, newMention("r2", "u4", inThread("root-x")))
			m, err = db.FindThreadMention(ctx, bot.PlatformSlack, "T1", "C1", "root-x")
			if err != nil || m.MessageID != "r2" {
				t.Fatalf("%+v, %v", m, err)
			}
			_, err = db.FindThreadMention(ctx, bot.PlatformSlack, "T1", "C2", "m1")
			wantCode(t, err, bot.ENOTFOUND)
		})
		t.Run("FindMentions", func(t *testing.T) {
			ms, err := db.FindMentions(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range ms {
				got = append(got, m.MessageID)
			}
			if fmt.Sprint(got) != "[m1 r1 m2 r2]" {
				t.Fatalf("mentions %v", got)
			}
			ms, err = db.FindMentions(ctx, b.ID)
			if err != nil || len(ms) != 1 {
				t.Fatalf("mentions of merged %d: %v", len(ms), err)
			}
		})
		t.Run("MarkMentionDeleted", func(t *testing.T) {
			if err := db.MarkMentionDeleted(ctx, bot.PlatformSlack, "T1", "C1", "r1"); err != nil {
				t.Fatal(err)
			}
			m, err := db.FindMentionByMessage(ctx, bot.PlatformSlack, "T1", "C1", "r1")
			if err != nil || !m.Deleted {
				t.Fatalf("%+v, %v", m, err)
			}
			if c := counts(t, db, a.ID); c[2] != 4 {
				t.Fatalf("mentions %d after delete, want 4 (deleted mentions keep counting)", c[2])
			}
			wantCode(t, db.MarkMentionDeleted(ctx, bot.PlatformSlack, "T1", "C1", "nope"), bot.ENOTFOUND)
		})
	})
}

func TestVotes(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, "Dark mode", "m1", "alice")
		if mustVote(t, db, a.ID, "alice", "T1") {
			t.Fatal("the author's vote was added; the author already counts")
		}
		if !mustVote(t, db, a.ID, "bob", "T2") {
			t.Fatal("bob's vote was not added")
		}
		if mustVote(t, db, a.ID, "bob", "T2") {
			t.Fatal("bob's second vote was added")
		}
		if c := counts(t, db, a.ID); c != [3]int{2, 2, 1} {
			t.Fatalf("counts %v, want [2 2 1]", c)
		}
		// Same user id on another platform is another person.
		ok, err := db.AddVote(ctx, bot.Voter{RequestID: a.ID, Platform: bot.PlatformDiscord, Workspace: "G1", UserID: "bob"})
		if err != nil || !ok {
			t.Fatalf("discord bob: %v %v", ok, err)
		}
		if c := counts(t, db, a.ID); c != [3]int{3, 2, 1} {
			t.Fatalf("counts %v, want [3 2 1] (empty org not counted)", c)
		}
		// Unvote never removes an authorship.
		ok, err = db.RemoveVote(ctx, a.ID, bot.PlatformSlack, "T1", "alice")
		if err != nil || ok {
			t.Fatalf("remove author: %v %v", ok, err)
		}
		ok, err = db.RemoveVote(ctx, a.ID, bot.PlatformSlack, "T1", "bob")
		if err != nil || !ok {
			t.Fatalf("remove bob: %v %v", ok, err)
		}
		ok, err = db.RemoveVote(ctx, a.ID, bot.PlatformSlack, "T1", "bob")
		if err != nil || ok {
			t.Fatalf("remove bob twice: %v %v", ok, err)
		}
		if c := counts(t, db, a.ID); c != [3]int{2, 1, 1} {
			t.Fatalf("counts %v, want [2 1 1]", c)
		}
		_, err = db.AddVote(ctx, bot.Voter{RequestID: 999, Platform: bot.PlatformSlack, Workspace: "T1", UserID: "x"})
		wantCode(t, err, bot.ENOTFOUND)
	})
}

func TestDemand_DistinctPersons(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		// alice asks twice (two mentions) and votes: she counts once.
		a := mustCreate(t, db, "Dark mode", "m1", "alice")
		mustAddMention(t, db, a.ID, newMention("m2", "alice"))
		mustVote(t, db, a.ID, "carol", "T2")
		if c := counts(t, db, a.ID); c != [3]int{2, 2, 2} {
			t.Fatalf("a counts %v, want [2 2 2]", c)
		}
		// bob and carol on the duplicate; carol also voted on a.
		b := mustCreate(t, db, "Night mode", "m3", "bob", withOrg("T3"))
		mustVote(t, db, b.ID, "carol", "T2")
		mustVote(t, db, b.ID, "alice", "T1")
		if c := counts(t, db, b.ID); c != [3]int{3, 3, 1} {
			t.Fatalf("b counts %v, want [3 3 1]", c)
		}
		got := mustMerge(t, db, b.ID, a.ID)
		// persons: alice, carol, bob = 3; orgs T1, T2, T3; mentions 3.
		if c := [3]int{got.Demand, got.Orgs, got.Mentions}; c != [3]int{3, 3, 3} {
			t.Fatalf("merged counts %v, want [3 3 3]", c)
		}
		if c := counts(t, db, a.ID); c != [3]int{3, 3, 3} {
			t.Fatalf("a counts %v, want [3 3 3]", c)
		}
		// FindRequestByID of the duplicate shows its own subtree.
		if c := counts(t, db, b.ID); c != [3]int{3, 3, 1} {
			t.Fatalf("b counts %v after merge, want [3 3 1]", c)
		}
		// A vote on the canonical by someone counted through the duplicate does not change demand.
		mustVote(t, db, a.ID, "bob", "T3")
		if c := counts(t, db, a.ID); c[0] != 3 {
			t.Fatalf("demand %d, want 3", c[0])
		}
		_ = ctx
	})
}

func TestResolveRequest(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, "A", "m1", "u1")
		b := mustCreate(t, db, "B", "m2", "u2")
		c := mustCreate(t, db, "C", "m3", "u3")
		mustMerge(t, db, a.ID, b.ID)
		mustMerge(t, db, b.ID, c.ID) // A→B→C
		for _, id := range []int64{a.ID, b.ID, c.ID} {
			r, err := db.ResolveRequest(ctx, id)
			if err != nil || r.ID != c.ID {
				t.Fatalf("resolve %d = %+v, %v; want %d", id, r, err, c.ID)
			}
		}
		ra := mustFind(t, db, a.ID)
		if ra.MergedInto == nil || *ra.MergedInto != b.ID || ra.RootID != c.ID {
			t.Fatalf("a = %+v", ra)
		}
		if got := counts(t, db, c.ID); got != [3]int{3, 1, 3} {
			t.Fatalf("c counts %v", got)
		}
		if got := counts(t, db, b.ID); got != [3]int{2, 1, 2} {
			t.Fatalf("b counts %v", got)
		}
		ms, err := db.FindMergedInto(ctx, c.ID)
		if err != nil || len(ms) != 1 || ms[0].ID != b.ID {
			t.Fatalf("merged into c: %+v, %v", ms, err)
		}
	})
}

// TestConcurrentCapture adds mentions and votes to one group from several
// goroutines; the counters must match the rows.
func TestConcurrentCapture(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		a := mustCreate(t, db, "A", "m0", "u0")
		b := mustCreate(t, db, "B", "n0", "w0")
		mustMerge(t, db, b.ID, a.ID)
		const workers, each = 4, 10
		errs := make(chan error, workers)
		for w := range workers {
			go func() {
				for i := range each {
					target := a.ID
					if i%2 == 1 {
						target = b.ID
					}
					m := newMention(fmt.Sprintf("c%d-%d", w, i), fmt.Sprintf("p%d-%d", w, i))
					m.RequestID = target
					if err := db.AddMention(context.Background(), m); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
		for range workers {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if c := counts(t, db, a.ID); c != [3]int{2 + workers*each, 1, 2 + workers*each} {
			t.Fatalf("counts %v", c)
		}
	})
}
