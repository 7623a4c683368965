package store

import (
	"context"
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
