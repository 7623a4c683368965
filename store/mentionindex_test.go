package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// The lookups of a capture use the index made for them even on a board
// PostgreSQL has no statistics about (a new board; autovacuum off): a
// message through the unique key, a thread through the thread index, never
// one index with the other's column as a filter over the whole channel.
func TestMentionLookupsUseTheirIndex(t *testing.T) {
	s := openForTest(t, storetest.PostgresDSN(t))
	ctx := context.Background()
	c := capture("ix0", "u")
	if err := s.CreateRequest(ctx, c.r, c.m); err != nil {
		t.Fatal(err)
	}
	// A channel with 20,000 mentions, as a busy channel has.
	if _, err := s.db.Exec(`INSERT INTO mentions (request_id, platform, workspace, channel, message_id, thread_id, created_at)
		SELECT $1, 'slack', 'T1', 'C1', 'ix' || g, 'ix' || g, now() FROM generate_series(1, 20000) g`, c.r.ID); err != nil {
		t.Fatal(err)
	}
	plan := func(q string, args ...any) string {
		var lines []string
		if err := s.db.Select(&lines, `EXPLAIN `+q, args...); err != nil {
			t.Fatal(err)
		}
		return strings.Join(lines, "\n")
	}
	for _, c := range []struct{ query, index, column string }{
		{`SELECT 1 FROM mentions WHERE platform = 'slack' AND workspace = 'T1' AND channel = 'C1' AND message_id = 'ix7'`, "mentions_message_key", "message_id"},
		{`SELECT MIN(id) FROM mentions WHERE platform = 'slack' AND workspace = 'T1' AND channel = 'C1' AND thread_id = 'ix7'`, "mentions_thread_idx", "thread_id"},
	} {
		p := plan(c.query)
		if !strings.Contains(p, c.index) || strings.Contains(p, "Filter: ("+c.column) {
			t.Errorf("%s:\n%s\nwant %s with %s in the index condition", c.query, p, c.index, c.column)

		}
	}
	// The capture's batch statement, planned for a batch of three.
	var args []any
	for c := range 17 {
		switch c {
		case 6:
			args = append(args, pq.Array([]int64{1, 1, 1}))
		case 16:
			now := time.Now().UTC().Format(time.RFC3339Nano)
			args = append(args, pq.Array([]string{now, now, now}))
		default:
			args = append(args, pq.Array([]string{"ix1", "new1", "new2"}))
		}
	}
	p := plan(createRequestsPostgresSQL, args...)
	if !strings.Contains(p, "mentions_message_key") || strings.Contains(p, "Filter: (x.message_id") {
		t.Errorf("batch capture statement:\n%s\nwant mentions_message_key with message_id in the index condition", p)
	}
}

// The batch statements are planned for their arguments every time: on a
// board that grows after the first batches, a batch never reads the whole
// mentions table (PostgreSQL's cached generic plan, made while the table
// was small, hashed all of it for the "already captured?" check).
func TestBatchStatementsFollowTheBoard(t *testing.T) {
	s := openForTest(t, storetest.PostgresDSN(t))
	ctx := context.Background()
	// One connection, so that every batch meets the same plan cache.
	s.db.SetMaxOpenConns(1)
	n := 0
	batches := func(k int) {
		t.Helper()
		for range k {
			var cs []newCapture
			for range 3 {
				n++
				cs = append(cs, capture(fmt.Sprintf("grow%d", n), fmt.Sprintf("u%d", n)))
			}
			b := batchOf(cs...)
			s.createRequests(ctx, b)
			var saves []*groupItem[cardSave]
			for i, it := range b {
				if it.err != nil {
					t.Fatal(it.err)
				}
				in := cardSave{requestID: it.in.r.ID, ref: cardRef(fmt.Sprintf("card%d-%d", n, i)), at: time.Now().UTC(), shown: "h", withShown: true, out: &newCard{}}
				saves = append(saves, &groupItem[cardSave]{ctx: ctx, in: in, done: make(chan struct{})})
			}
			s.saveCards(ctx, saves)
			for _, it := range saves {
				if it.err != nil {
					t.Fatal(it.err)
				}
			}
		}
	}
	seqScans := func() int64 {
		t.Helper()
		// This session's counters, flushed, read afresh.
		if _, err := s.db.Exec(`SELECT pg_stat_force_next_flush()`); err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.Exec(`SELECT pg_stat_clear_snapshot()`); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := s.db.Get(&n, `SELECT seq_scan FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = 'mentions'`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	batches(10)
	c := capture("grow0", "u")
	if err := s.CreateRequest(ctx, c.r, c.m); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`INSERT INTO mentions (request_id, platform, workspace, channel, message_id, thread_id, created_at)
		SELECT $1, 'slack', 'T1', 'C1', 'bulk' || g, 'bulk' || g, now() FROM generate_series(1, 20000) g`, c.r.ID); err != nil {
		t.Fatal(err)
	}
	before := seqScans()
	batches(5)
	if after := seqScans(); after != before {
		t.Fatalf("5 batches on the grown board read mentions in full %d times", after-before)
	}
}
