package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
)

func TestDecisionsSince(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		clock := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		db.SetNow(func() time.Time { return clock })
		tick := func() { clock = clock.Add(time.Second) }
		a := mustCreate(t, db, "Dark mode", "m1", "u1")
		b := mustCreate(t, db, "Night theme", "m2", "u2")
		c := mustCreate(t, db, "CSV export", "m3", "u3")
		d := mustCreate(t, db, "Keyboard shortcuts", "m4", "u4")
		start := clock
		tick()
		if _, err := db.Merge(ctx, b.ID, a.ID, "ann"); err != nil {
			t.Fatal(err)
		}
		tick()
		s := mustSuggest(t, db, d.ID, c.ID, a.ID)
		if _, _, err := db.DecideSuggestion(ctx, s.ID, bot.SuggestionDismissed, 0, "bob"); err != nil {
			t.Fatal(err)
		}
		tick()
		mustAddMention(t, db, a.ID, newMention("m5", "u5", func(m *bot.Mention) { m.Text = "black background at night please" }))
		mustAddMention(t, db, a.ID, newMention("m6", "u6", func(m *bot.Mention) { m.Text = "deleted one" }))
		if err := db.MarkMentionDeleted(ctx, bot.PlatformSlack, "T1", "C1", "m6"); err != nil {
			t.Fatal(err)
		}
		tick()
		if _, err := db.Unmerge(ctx, b.ID, "ann"); err != nil {
			t.Fatal(err)
		}
		merge := bot.MergeDecisionKey(b.ID, a.ID)
		want := []bot.Decision{
			{Key: merge, A: b.ID, B: a.ID, Same: true},
			{Key: bot.DismissDecisionKey(s.ID, c.ID), A: d.ID, B: c.ID},
			{Key: bot.DismissDecisionKey(s.ID, a.ID), A: d.ID, B: a.ID},
			{Key: "mention:" + fmt.Sprint(mentionID(t, db, "m5")), B: a.ID, Text: "black background at night please", Same: true},
			{Key: merge, A: b.ID, B: a.ID, Same: true, Undo: true},
		}
		got, err := db.DecisionsSince(ctx, start, 100)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("decisions\n got %+v\nwant %+v", got, want)
		}
		// The newest limit, still oldest first.
		got, err = db.DecisionsSince(ctx, start, 2)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want[3:]) {
			t.Errorf("limit 2: %+v", got)
		}
		// Since the last second: the unmerge only.
		got, err = db.DecisionsSince(ctx, clock, 100)
		if err != nil || len(got) != 1 || !got[0].Undo {
			t.Errorf("since the unmerge: %+v %v", got, err)
		}
		if got, err := db.DecisionsSince(ctx, clock.Add(time.Second), 100); err != nil || len(got) != 0 {
			t.Errorf("since later: %+v %v", got, err)
		}
	})
}

func mentionID(t *testing.T, db *store.DB, msgID string) int64 {
	t.Helper()
	var id int64
	if err := db.DB().GetContext(t.Context(), &id, db.DB().Rebind(`SELECT id FROM mentions WHERE message_id = ?`), msgID); err != nil {
		t.Fatal(err)
	}
	return id
}
