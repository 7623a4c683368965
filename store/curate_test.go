package store_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
)

func ptr[T any](v T) *T { return &v }

func mustUpdate(tb testing.TB, db *store.DB, id int64, u bot.RequestUpdate) *bot.UpdateResult {
	tb.Helper()
	res, err := db.UpdateRequest(context.Background(), id, u, "alice")
	if err != nil {
		tb.Fatalf("update %d: %v", id, err)
	}
	return res
}

func editKinds(es []*bot.Edit) string {
	var k []string
	for _, e := range es {
		k = append(k, e.Kind)
	}
	return strings.Join(k, ",")
}

func TestUpdateRequest(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		r := mustCreate(t, db, "hey team, quick question", "m1", "u1")
		t.Run("Rename", func(t *testing.T) {
			before := mustFind(t, db, r.ID).UpdatedAt
			res := mustUpdate(t, db, r.ID, bot.RequestUpdate{Title: ptr("  Dark mode  ")})
			if res.Request.Title != "Dark mode" || len(res.Edits) != 1 {
				t.Fatalf("result %+v %v", res.Request, editKinds(res.Edits))
			}
			e := res.Edits[0]
			if e.Kind != bot.EditRename || e.From != "hey team, quick question" || e.To != "Dark mode" || e.Actor != "alice" {
				t.Fatalf("edit %+v", e)
			}
			got := mustFind(t, db, r.ID)
			if got.Title != "Dark mode" || got.UpdatedAt.Before(before) {
				t.Fatalf("found %+v", got)
			}
			// The same title again changes nothing.
			if res := mustUpdate(t, db, r.ID, bot.RequestUpdate{Title: ptr("Dark mode")}); len(res.Edits) != 0 {
				t.Fatalf("edits %v for an unchanged title", editKinds(res.Edits))
			}
		})
		t.Run("ErrTitle", func(t *testing.T) {
			for _, title := range []string{"", "   ", strings.Repeat("é", bot.MaxTitleRunes+1), "two\nlines"} {
				_, err := db.UpdateRequest(ctx, r.ID, bot.RequestUpdate{Title: ptr(title), Description: ptr("changed")}, "alice")
				wantCode(t, err, bot.EINVALID)
			}
			// 120 runes is fine.
			mustUpdate(t, db, r.ID, bot.RequestUpdate{Title: ptr(strings.Repeat("é", bot.MaxTitleRunes))})
			mustUpdate(t, db, r.ID, bot.RequestUpdate{Title: ptr("Dark mode")})
			if got := mustFind(t, db, r.ID); got.Description == "changed" {
				t.Fatalf("description %q written by a refused update", got.Description)
			}
		})
		t.Run("Describe", func(t *testing.T) {
			old := mustFind(t, db, r.ID).Description
			res := mustUpdate(t, db, r.ID, bot.RequestUpdate{Description: ptr("For the dashboard, at night.")})
			if len(res.Edits) != 1 || res.Edits[0].Kind != bot.EditDescribe || res.Edits[0].From != old || res.Edits[0].To != "For the dashboard, at night." {
				t.Fatalf("edits %+v", res.Edits)
			}
			if got := mustFind(t, db, r.ID); got.Description != "For the dashboard, at night." {
				t.Fatalf("description %q", got.Description)
			}
		})
		t.Run("Tags", func(t *testing.T) {
			res := mustUpdate(t, db, r.ID, bot.RequestUpdate{AddTags: []string{"Mobile", "ui", "mobile"}})
			if got := res.Request.Tags; !slices.Equal(got, bot.Tags{"mobile", "ui"}) {
				t.Fatalf("tags %v", got)
			}
			if len(res.Edits) != 1 || res.Edits[0].Kind != bot.EditTags || res.Edits[0].From != "" || res.Edits[0].To != "mobile ui" {
				t.Fatalf("edits %+v", res.Edits)
			}
			res = mustUpdate(t, db, r.ID, bot.RequestUpdate{RemoveTags: []string{"ui"}, AddTags: []string{"ios"}})
			if got := res.Request.Tags; !slices.Equal(got, bot.Tags{"ios", "mobile"}) {
				t.Fatalf("tags %v", got)
			}
			if e := res.Edits[0]; e.From != "mobile ui" || e.To != "ios mobile" {
				t.Fatalf("edit %+v", e)
			}
			if got := mustFind(t, db, r.ID).Tags; !slices.Equal(got, bot.Tags{"ios", "mobile"}) {
				t.Fatalf("found tags %v", got)
			}
			// Replace.
			res = mustUpdate(t, db, r.ID, bot.RequestUpdate{Tags: &[]string{"mobile", "night"}})
			if got := res.Request.Tags; !slices.Equal(got, bot.Tags{"mobile", "night"}) {
				t.Fatalf("tags %v", got)
			}
			// Adding tags it has changes nothing.
			if res := mustUpdate(t, db, r.ID, bot.RequestUpdate{AddTags: []string{"night"}}); len(res.Edits) != 0 {
				t.Fatalf("edits %v", editKinds(res.Edits))
			}
		})
		t.Run("ErrTags", func(t *testing.T) {
			for _, bad := range [][]string{{"ok", "not ok"}, {"ok", "under_score"}, {strings.Repeat("a", 33)}, {"ok", "émoji"}, {""}} {
				_, err := db.UpdateRequest(ctx, r.ID, bot.RequestUpdate{AddTags: bad, Title: ptr("Changed")}, "alice")
				wantCode(t, err, bot.EINVALID)
			}
			// 32 characters is fine; 11 tags in all are not.
			var many []string
			for i := range 9 {
				many = append(many, "t"+strings.Repeat("x", i))
			}
			_, err := db.UpdateRequest(ctx, r.ID, bot.RequestUpdate{AddTags: many, Title: ptr("Changed")}, "alice")
			wantCode(t, err, bot.EINVALID)
			got := mustFind(t, db, r.ID)
			if got.Title != "Dark mode" || !slices.Equal(got.Tags, bot.Tags{"mobile", "night"}) {
				t.Fatalf("refused updates changed %+v", got)
			}
			mustUpdate(t, db, r.ID, bot.RequestUpdate{AddTags: append(many[:7], strings.Repeat("a", 32))})
			if got := mustFind(t, db, r.ID); len(got.Tags) != bot.MaxTags {
				t.Fatalf("tags %v", got.Tags)
			}
			mustUpdate(t, db, r.ID, bot.RequestUpdate{Tags: &[]string{"mobile", "night"}})
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			_, err := db.UpdateRequest(ctx, 999, bot.RequestUpdate{Title: ptr("x")}, "alice")
			wantCode(t, err, bot.ENOTFOUND)
		})
		t.Run("History", func(t *testing.T) {
			es, err := db.FindEdits(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := editKinds(es); got != "rename,rename,rename,describe,tag,tag,tag,tag,tag" {
				t.Fatalf("history %s", got)
			}
			for i := 1; i < len(es); i++ {
				if es[i].ID <= es[i-1].ID || es[i].CreatedAt.Location() != time.UTC {
					t.Fatalf("history order %+v", es[i])
				}
			}
			// Append-only.
			if _, err := db.DB().ExecContext(ctx, db.DB().Rebind(`UPDATE request_edits SET actor = 'mallory'`)); err == nil {
				t.Fatal("request_edits accepted an UPDATE")
			}
		})
		t.Run("FilterByTag", func(t *testing.T) {
			other := mustCreate(t, db, "Offline sync", "m2", "u2")
			mustUpdate(t, db, other.ID, bot.RequestUpdate{AddTags: []string{"mobile"}})
			third := mustCreate(t, db, "CSV export", "m3", "u3")
			mustVote(t, db, other.ID, "v1", "T1")
			rs, total, err := db.FindRequests(ctx, bot.RequestFilter{Tag: "MOBILE"})
			if err != nil {
				t.Fatal(err)
			}
			if total != 2 || len(rs) != 2 || rs[0].ID != other.ID || rs[1].ID != r.ID {
				t.Fatalf("tag mobile: %d %v", total, titles(rs))
			}
			rs, total, err = db.FindRequests(ctx, bot.RequestFilter{Tag: "night", Status: bot.StatusOpen})
			if err != nil || total != 1 || rs[0].ID != r.ID {
				t.Fatalf("tag night open: %d %v %v", total, titles(rs), err)
			}
			if _, err := db.SetStatus(ctx, other.ID, bot.StatusPlanned, "alice", "", ""); err != nil {
				t.Fatal(err)
			}
			rs, _, err = db.FindRequests(ctx, bot.RequestFilter{Tag: "mobile", Status: bot.StatusPlanned})
			if err != nil || len(rs) != 1 || rs[0].ID != other.ID {
				t.Fatalf("tag mobile planned: %v %v", titles(rs), err)
			}
			if _, total, _ := db.FindRequests(ctx, bot.RequestFilter{Tag: "nothing"}); total != 0 {
				t.Fatalf("unknown tag matched %d", total)
			}
			_ = third
		})
	})
}

func TestRemoveRestore(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, "Dark mode", "m1", "u1")
		b := mustCreate(t, db, "Dark theme please", "m2", "u2", withOrg("T2"))
		c := mustCreate(t, db, "Buy cheap watches", "m3", "spammer", withOrg("T3"))
		mustMerge(t, db, b.ID, a.ID)
		mustVote(t, db, a.ID, "v1", "T1")
		mustUpdate(t, db, a.ID, bot.RequestUpdate{AddTags: []string{"ui"}})
		before := mustFind(t, db, a.ID)

		t.Run("Remove", func(t *testing.T) {
			e, err := db.RemoveRequest(ctx, a.ID, "alice", "noise")
			if err != nil {
				t.Fatal(err)
			}
			if e.Kind != bot.EditRemove || e.Note != "noise" || e.Actor != "alice" {
				t.Fatalf("edit %+v", e)
			}
			got := mustFind(t, db, a.ID)
			if !got.Removed() || got.Demand != before.Demand || got.Mentions != before.Mentions || !slices.Equal(got.Tags, before.Tags) {
				t.Fatalf("removed %+v, before %+v", got, before)
			}
			// Off the board, tag lists and search.
			for _, f := range []bot.RequestFilter{{}, {Tag: "ui"}, {Query: "dark"}, {Status: bot.StatusOpen}, {IncludeMerged: true}} {
				rs, total, err := db.FindRequests(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rs {
					if r.ID == a.ID {
						t.Fatalf("filter %+v lists the removed request (%d in all)", f, total)
					}
				}
			}
			rs, _, err := db.FindRequests(ctx, bot.RequestFilter{IncludeRemoved: true})
			if err != nil || !slices.ContainsFunc(rs, func(r *bot.Request) bool { return r.ID == a.ID }) {
				t.Fatalf("IncludeRemoved: %v %v", titles(rs), err)
			}
			// Off the duplicate index.
			var active []int64
			if err := db.EachDoc(ctx, func(d bot.Doc) error {
				if d.Active {
					active = append(active, d.ID)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(active, []int64{c.ID}) {
				t.Fatalf("active docs %v, want only %d", active, c.ID)
			}
			docs, err := db.DocsChangedSince(ctx, e.CreatedAt)
			if err != nil || !slices.ContainsFunc(docs, func(d bot.Doc) bool { return d.ID == a.ID && !d.Active }) {
				t.Fatalf("changed docs %+v %v", docs, err)
			}
			// The merged key still resolves to it, and it still answers by id.
			if r, err := db.ResolveRequest(ctx, b.ID); err != nil || r.ID != a.ID || !r.Removed() {
				t.Fatalf("resolve %+v %v", r, err)
			}
			_, err = db.RemoveRequest(ctx, a.ID, "alice", "")
			wantCode(t, err, bot.ECONFLICT)
		})
		t.Run("Restore", func(t *testing.T) {
			e, err := db.RestoreRequest(ctx, a.ID, "bob")
			if err != nil {
				t.Fatal(err)
			}
			if e.Kind != bot.EditRestore || e.Actor != "bob" {
				t.Fatalf("edit %+v", e)
			}
			got := mustFind(t, db, a.ID)
			if got.Removed() || got.Demand != before.Demand || got.Orgs != before.Orgs || got.Mentions != before.Mentions ||
				got.Title != before.Title || got.Status != before.Status || !slices.Equal(got.Tags, before.Tags) {
				t.Fatalf("restored %+v, before %+v", got, before)
			}
			merged, err := db.FindMergedInto(ctx, a.ID)
			if err != nil || len(merged) != 1 || merged[0].ID != b.ID {
				t.Fatalf("merged into %v %v", merged, err)
			}
			rs, _, err := db.FindRequests(ctx, bot.RequestFilter{Tag: "ui"})
			if err != nil || len(rs) != 1 || rs[0].ID != a.ID {
				t.Fatalf("tag ui after restore: %v %v", titles(rs), err)
			}
			_, err = db.RestoreRequest(ctx, a.ID, "bob")
			wantCode(t, err, bot.ECONFLICT)
			// Unmerge after a remove and restore is exact too.
			if _, err := db.Unmerge(ctx, b.ID, "alice"); err != nil {
				t.Fatal(err)
			}
			if got := mustFind(t, db, b.ID); got.Demand != 1 || got.Removed() {
				t.Fatalf("unmerged %+v", got)
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			_, err := db.RemoveRequest(ctx, 999, "alice", "")
			wantCode(t, err, bot.ENOTFOUND)
			_, err = db.RestoreRequest(ctx, 999, "alice")
			wantCode(t, err, bot.ENOTFOUND)
		})
		t.Run("History", func(t *testing.T) {
			es, err := db.FindEdits(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := editKinds(es); got != "tag,remove,restore" {
				t.Fatalf("history %s", got)
			}
		})
	})
}

func TestCardRefreshes(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		var mu sync.Mutex
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		db.SetNow(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		pending := func() int {
			t.Helper()
			n, err := db.PendingCardRefreshes(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		claim := func(worker string) []*bot.CardRefresh {
			t.Helper()
			cs, err := db.ClaimCardRefreshes(ctx, worker, 10, time.Second, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return cs
		}

		a := mustCreate(t, db, "Dark mode", "m1", "u1")
		b := mustCreate(t, db, "Dark theme", "m2", "u2")
		noCard := mustCreate(t, db, "No card", "m3", "u3")
		mustVote(t, db, noCard.ID, "v1", "T1")
		mustUpdate(t, db, noCard.ID, bot.RequestUpdate{Title: ptr("Still no card")})
		if n := pending(); n != 0 {
			t.Fatalf("%d refreshes queued for requests without cards", n)
		}
		for i, id := range []int64{a.ID, b.ID} {
			if err := db.SaveCard(ctx, id, bot.MessageRef{Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", ID: "card" + string(rune('a'+i))}); err != nil {
				t.Fatal(err)
			}
		}
		if n := pending(); n != 0 {
			t.Fatalf("%d refreshes queued by saving cards", n)
		}

		t.Run("Coalesced", func(t *testing.T) {
			for i := range 10 {
				mustVote(t, db, a.ID, "burst"+string(rune('0'+i)), "T1")
			}
			if n := pending(); n != 1 {
				t.Fatalf("%d refreshes queued for a burst of votes on one request, want 1", n)
			}
			// Not settled yet: seen now, claimable a second later.
			if cs := claim("w1"); len(cs) != 0 {
				t.Fatalf("claimed %+v before it settled", cs)
			}
			advance(2 * time.Second)
			cs := claim("w1")
			if len(cs) != 1 || cs[0].RootID != a.ID {
				t.Fatalf("claimed %+v", cs)
			}
			if again := claim("w2"); len(again) != 0 {
				t.Fatalf("a second worker claimed %+v", again)
			}
			cards, err := db.FindGroupCards(ctx, a.ID)
			if err != nil || len(cards) != 1 || cards[0].ID != "carda" || cards[0].RequestID != a.ID {
				t.Fatalf("cards %+v %v", cards, err)
			}
			if err := db.FinishCardRefresh(ctx, "w1", cs[0]); err != nil {
				t.Fatal(err)
			}
			if n := pending(); n != 0 {
				t.Fatalf("%d refreshes left after finishing", n)
			}
		})
		t.Run("ChangedWhileRunning", func(t *testing.T) {
			if _, err := db.SetStatus(ctx, a.ID, bot.StatusPlanned, "alice", "", ""); err != nil {
				t.Fatal(err)
			}
			claim("w1")
			advance(2 * time.Second)
			cs := claim("w1")
			if len(cs) != 1 {
				t.Fatalf("claimed %+v", cs)
			}
			mustUpdate(t, db, a.ID, bot.RequestUpdate{AddTags: []string{"ui"}})
			if err := db.FinishCardRefresh(ctx, "w1", cs[0]); err != nil {
				t.Fatal(err)
			}
			if n := pending(); n != 1 {
				t.Fatalf("a change during the refresh left %d queued, want 1", n)
			}
			advance(2 * time.Second)
			cs = claim("w1")
			if len(cs) != 1 || cs[0].RootID != a.ID {
				t.Fatalf("claimed %+v", cs)
			}
			if err := db.FinishCardRefresh(ctx, "w1", cs[0]); err != nil {
				t.Fatal(err)
			}
			if n := pending(); n != 0 {
				t.Fatalf("%d left", n)
			}
		})
		t.Run("Merge", func(t *testing.T) {
			mustMerge(t, db, b.ID, a.ID)
			advance(2 * time.Second)
			claim("w1")
			advance(2 * time.Second)
			cs := claim("w1")
			i := slices.IndexFunc(cs, func(c *bot.CardRefresh) bool { return c.RootID == a.ID })
			if i < 0 {
				t.Fatalf("claimed %+v after a merge, want group %d", cs, a.ID)
			}
			cards, err := db.FindGroupCards(ctx, a.ID)
			if err != nil || len(cards) != 2 || cards[1].RequestID != b.ID {
				t.Fatalf("group cards %+v %v", cards, err)
			}
			for _, c := range cs {
				if err := db.FinishCardRefresh(ctx, "w1", c); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Unmerge(ctx, b.ID, "alice"); err != nil {
				t.Fatal(err)
			}
			advance(2 * time.Second)
			claim("w1")
			advance(2 * time.Second)
			cs = claim("w1")
			if len(cs) != 2 || cs[0].RootID != a.ID || cs[1].RootID != b.ID {
				t.Fatalf("claimed %+v after an unmerge, want both groups", cs)
			}
		})
		t.Run("RetryAndLease", func(t *testing.T) {
			if _, err := db.RemoveRequest(ctx, noCard.ID, "alice", ""); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SetStatus(ctx, b.ID, bot.StatusDeclined, "alice", "", ""); err != nil {
				t.Fatal(err)
			}
			advance(2 * time.Second)
			cs := claim("w2") // b's previous claim by w1 has not expired yet
			if len(cs) != 0 {
				t.Fatalf("claimed %+v under a live lease", cs)
			}
			advance(2 * time.Minute)
			cs = claim("w2")
			if len(cs) != 2 {
				t.Fatalf("claimed %+v after the lease expired", cs)
			}
			if err := db.FinishCardRefresh(ctx, "w2", cs[0]); err != nil {
				t.Fatal(err)
			}
			if err := db.RetryCardRefresh(ctx, "w2", cs[1], now.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if again := claim("w2"); len(again) != 0 {
				t.Fatalf("claimed %+v before its retry time", again)
			}
			advance(2 * time.Minute)
			again := claim("w2")
			if len(again) != 1 || again[0].RootID != cs[1].RootID || again[0].Attempts < 2 {
				t.Fatalf("claimed %+v after the retry time", again)
			}
		})
	})
}
