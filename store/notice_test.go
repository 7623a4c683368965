package store_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/migrations"
	"github.com/feedbackbot/feedbackbot/store"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// TestSetStatusNotify: the status, a status event and one delivery per
// subscribed thread in one transaction; the same status again is refused
// and writes nothing.
func TestSetStatusNotify(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, "A", "m1", "u1")
		mustAddMention(t, db, a.ID, newMention("x1", "u2", inChannel("C2")))
		in := bot.StatusNoticeInput{Request: a.ID, Status: bot.StatusPlanned, Actor: "lead", Note: "soon",
			Text: func(rs []*bot.Request) string { return "planned: " + rs[0].Title }}
		c, n, err := db.SetStatusNotify(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 || c.EventID == nil || c.To != bot.StatusPlanned || c.Note != "soon" {
			t.Fatalf("change %+v, %d deliveries", c, n)
		}
		ds, err := db.FindDeliveries(ctx, *c.EventID)
		if err != nil || len(ds) != 2 || ds[0].Text != "planned: A" {
			t.Fatalf("deliveries %+v %v", ds, err)
		}
		_, _, err = db.SetStatusNotify(ctx, in)
		wantCode(t, err, bot.ECONFLICT)
		if q, _ := db.DeliveryQueueDepth(ctx); q != 2 {
			t.Fatalf("queue depth %d after a refused change", q)
		}
	})
}

// TestStatusNoticesMigrationKeepsData runs the SQLite rebuild of
// release_events (migration 00052) again over a database with releases and
// deliveries: the rows stay, the foreign keys still hold, releases still work.
func TestStatusNoticesMigrationKeepsData(t *testing.T) {
	db := MustOpenDB(t, storetest.SQLiteDSN(t))
	ctx := context.Background()
	id := mustEnqueue(t, db, "rel", 3)
	fsys, err := migrations.Dialect(migrations.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(fsys, "00052_status_notices.sql")
	if err != nil {
		t.Fatal(err)
	}
	up := string(b)
	up = up[strings.Index(up, "-- +goose StatementBegin")+len("-- +goose StatementBegin") : strings.Index(up, "-- +goose StatementEnd")]
	conn, err := db.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, up); err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	conn.Close()
	ds, err := db.FindDeliveries(ctx, id)
	if err != nil || len(ds) != 3 {
		t.Fatalf("deliveries after the rebuild: %d %v", len(ds), err)
	}
	if _, err := db.DB().ExecContext(ctx, `INSERT INTO deliveries (event_id, platform, channel, thread_id, next_at, created_at) VALUES (999999, 'x', 'c', 't', '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')`); err == nil {
		t.Fatal("a delivery of a missing event was accepted: foreign keys are off")
	}
	mustEnqueue(t, db, "after", 2)
	var n int
	if err := db.DB().GetContext(ctx, &n, `SELECT COUNT(*) FROM release_events`); err != nil || n != 2 {
		t.Fatalf("release events %d %v", n, err)
	}
}
