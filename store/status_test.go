package store_test

import (
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
)

func TestSetStatus(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, "A", "m1", "u1")
		t.Run("OK", func(t *testing.T) {
			c, err := db.SetStatus(ctx, a.ID, bot.StatusPlanned, "lead", "", "soon")
			if err != nil {
				t.Fatal(err)
			}
			if c.ID == 0 || c.From != bot.StatusOpen || c.To != bot.StatusPlanned || c.Actor != "lead" || c.Note != "soon" || c.EventID != nil {
				t.Fatalf("change %+v", c)
			}
			if _, err := db.SetStatus(ctx, a.ID, bot.StatusInProgress, "lead", "", ""); err != nil {
				t.Fatal(err)
			}
			if r := mustFind(t, db, a.ID); r.Status != bot.StatusInProgress {
				t.Fatalf("status %q", r.Status)
			}
		})
		t.Run("ErrConflict", func(t *testing.T) {
			_, err := db.SetStatus(ctx, a.ID, bot.StatusInProgress, "lead", "", "")
			wantCode(t, err, bot.ECONFLICT)
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			_, err := db.SetStatus(ctx, a.ID, "sideways", "lead", "", "")
			wantCode(t, err, bot.EINVALID)
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			_, err := db.SetStatus(ctx, 999, bot.StatusPlanned, "lead", "", "")
			wantCode(t, err, bot.ENOTFOUND)
		})
		t.Run("HistoryAppendOnly", func(t *testing.T) {
			hs, err := db.FindHistory(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(hs) != 2 || hs[0].To != bot.StatusPlanned || hs[1].From != bot.StatusPlanned || hs[1].To != bot.StatusInProgress {
				t.Fatalf("history %+v", hs)
			}
			if _, err := db.DB().Exec(db.DB().Rebind(`UPDATE status_history SET note = 'x' WHERE id = ?`), hs[0].ID); err == nil {
				t.Fatal("status history row updated")
			}
			if _, err := db.DB().Exec(db.DB().Rebind(`DELETE FROM status_history WHERE id = ?`), hs[0].ID); err == nil {
				t.Fatal("status history row deleted")
			}
		})
	})
}

func TestChannels(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		c := bot.ChannelSetting{Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", Kind: bot.ChannelWatch, SetBy: "lead"}
		has := func() bool {
			ok, err := db.HasChannel(ctx, c.Platform, c.Workspace, c.Channel, c.Kind)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		set := func(on bool) bool {
			ok, err := db.SetChannel(ctx, c, on)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if has() {
			t.Fatal("watched before set")
		}
		if !set(true) || set(true) || !has() {
			t.Fatal("set on")
		}
		if ok, _ := db.HasChannel(ctx, c.Platform, c.Workspace, c.Channel, bot.ChannelReleases); ok {
			t.Fatal("kinds are separate")
		}
		if !set(false) || set(false) || has() {
			t.Fatal("set off")
		}
		_, err := db.SetChannel(ctx, bot.ChannelSetting{Platform: "slack", Channel: "C1", Kind: "other"}, true)
		wantCode(t, err, bot.EINVALID)
	})
}

func TestCards(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, "A", "m1", "u1")
		b := mustCreate(t, db, "B", "m2", "u2")
		ref := bot.MessageRef{Platform: bot.PlatformSlack, Workspace: "T1", Channel: "C1", ID: "card1", ThreadID: "m1"}
		if err := db.SaveCard(ctx, a.ID, ref); err != nil {
			t.Fatal(err)
		}
		id, err := db.FindCard(ctx, ref.Platform, ref.Workspace, ref.Channel, ref.ID)
		if err != nil || id != a.ID {
			t.Fatalf("card %d, %v", id, err)
		}
		if err := db.SaveCard(ctx, b.ID, ref); err != nil {
			t.Fatal(err)
		}
		if id, _ := db.FindCard(ctx, ref.Platform, ref.Workspace, ref.Channel, ref.ID); id != b.ID {
			t.Fatalf("card %d after resave", id)
		}
		_, err = db.FindCard(ctx, ref.Platform, ref.Workspace, ref.Channel, "nope")
		wantCode(t, err, bot.ENOTFOUND)
		wantCode(t, db.SaveCard(ctx, 999, bot.MessageRef{Platform: "slack", ID: "x"}), bot.ENOTFOUND)
	})
}
