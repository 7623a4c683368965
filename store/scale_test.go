package store_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
)

// seed bulk-inserts nreq requests and nment mentions (each with an author
// vote) straight in SQL, spread over 500 channels, and sets the counters.
func seed(tb testing.TB, db *store.DB, nreq, nment int) {
	tb.Helper()
	ts := "'2025-01-01 00:00:00+00:00'"
	series := `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) `
	stmts := []struct {
		q    string
		args []any
	}{
		{series + `INSERT INTO requests (title, description, status, root_id, created_at, updated_at)
			SELECT 'request ' || i, 'description', CASE WHEN i % 7 = 0 THEN 'planned' ELSE 'open' END, 0, ` + ts + `, ` + ts + ` FROM n`, []any{nreq}},
		{`UPDATE requests SET root_id = id`, nil},
		{series + `INSERT INTO mentions (request_id, platform, workspace, channel, message_id, thread_id, author_id, text, created_at)
			SELECT (i % ?) + 1, 'slack', 'T1', 'C' || (i % 500), 'm' || i, 'm' || i, 'u' || (i % 49999), 'some text', ` + ts + ` FROM n`, []any{nment, nreq}},
		{series + `INSERT INTO voters (request_id, platform, workspace, user_id, person, org, kind, created_at)
			SELECT (i % ?) + 1, 'slack', 'T1', 'u' || (i % 49999), 'slack T1 u' || (i % 49999), 'T' || (i % 30), 'author', ` + ts + ` FROM n`, []any{nment, nreq}},
		{`UPDATE requests SET
			demand = (SELECT COUNT(DISTINCT person) FROM voters v WHERE v.request_id = requests.id),
			orgs = (SELECT COUNT(DISTINCT org) FROM voters v WHERE v.request_id = requests.id),
			mentions = (SELECT COUNT(*) FROM mentions m WHERE m.request_id = requests.id)`, nil},
		{`ANALYZE`, nil},
	}
	for _, s := range stmts {
		if _, err := db.DB().Exec(db.DB().Rebind(s.q), s.args...); err != nil {
			tb.Fatalf("seed: %v", err)
		}
	}
}

// TestScale times the hot store calls with 100,000 requests and 1,000,000
// mentions and logs each beside its target (run with -v). It is a
// measurement, not a pass/fail test of speed: it fails only when a call
// fails. It takes about a minute; set FEEDBACKBOT_TEST_SCALE=1 to run it.
func TestScale(t *testing.T) {
	if os.Getenv("FEEDBACKBOT_TEST_SCALE") == "" {
		t.Skip("set FEEDBACKBOT_TEST_SCALE=1 to run")
	}
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		start := time.Now()
		seed(t, db, 100_000, 1_000_000)
		t.Logf("seeded in %v", time.Since(start))
		n := 0
		for _, tt := range []struct {
			name string
			max  time.Duration
			fn   func() error
		}{
			{"FindRequests by demand", 50 * time.Millisecond, func() error {
				_, _, err := db.FindRequests(ctx, bot.RequestFilter{})
				return err
			}},
			{"FindRequests planned by demand", 50 * time.Millisecond, func() error {
				_, _, err := db.FindRequests(ctx, bot.RequestFilter{Status: bot.StatusPlanned})
				return err
			}},
			{"FindRequests new", 50 * time.Millisecond, func() error {
				_, _, err := db.FindRequests(ctx, bot.RequestFilter{Sort: bot.SortNew})
				return err
			}},
			{"FindThreadMention", 5 * time.Millisecond, func() error {
				_, err := db.FindThreadMention(ctx, "slack", "T1", "C7", "m507")
				return err
			}},
			{"FindRequestByID", 5 * time.Millisecond, func() error {
				_, err := db.FindRequestByID(ctx, 5000)
				return err
			}},
			{"AddMention", 20 * time.Millisecond, func() error {
				n++
				return db.AddMention(ctx, &bot.Mention{RequestID: 5001, Platform: "slack", Workspace: "T1", Channel: "C1", MessageID: fmt.Sprint("new", n), ThreadID: "x", AuthorID: fmt.Sprint("a", n)})
			}},
			{"CreateRequest", 20 * time.Millisecond, func() error {
				n++
				return db.CreateRequest(ctx, &bot.Request{Title: "x"}, &bot.Mention{Platform: "slack", Workspace: "T1", Channel: "C1", MessageID: fmt.Sprint("new", n), ThreadID: "x", AuthorID: "u1"})
			}},
			{"Merge and Unmerge", 40 * time.Millisecond, func() error {
				if _, err := db.Merge(ctx, 7000, 7001, "x"); err != nil {
					return err
				}
				_, err := db.Unmerge(ctx, 7000, "x")
				return err
			}},
		} {
			const runs = 20
			start := time.Now()
			for range runs {
				if err := tt.fn(); err != nil {
					t.Fatalf("%s: %v", tt.name, err)
				}
			}
			per := time.Since(start) / runs
			verdict := "within"
			if per > tt.max {
				verdict = "OVER"
			}
			t.Logf("%s: %v (%s the target of %v)", tt.name, per, verdict, tt.max)
		}
		start = time.Now()
		docs := 0
		if err := db.EachDoc(ctx, func(bot.Doc) error { docs++; return nil }); err != nil {
			t.Fatal(err)
		}
		t.Logf("EachDoc: %d docs in %v", docs, time.Since(start))
	})
}
