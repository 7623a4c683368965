package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/feedbackbot/feedbackbot/bot"
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

// The batch statements run with generic plans made once per connection
// (queryGeneric), yet on a board that grows after the first batches a
// batch never reads a whole table: the plan, made while the tables were
// empty, finds each row through its key (a join would have hashed a
// sequential scan of mentions, requests or suggestions, as PostgreSQL's
// generic plan once did for the "already captured?" check). And the
// statements are not planned again at each batch.
func TestBatchStatementsFollowTheBoard(t *testing.T) {
	s := openForTest(t, storetest.PostgresDSN(t))
	ctx := context.Background()
	// One connection, so that every batch meets the same plan cache.
	s.db.SetMaxOpenConns(1)
	s.gen.SetMaxOpenConns(1)
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
				sg := &bot.Suggestion{RequestID: it.in.r.ID, Platform: "slack", Workspace: "T1", Channel: "C1", ThreadID: "t",
					Candidates: []bot.Candidate{{RequestID: it.in.r.ID, Score: 0.5}}}
				if err := s.CreateSuggestion(ctx, sg); err != nil {
					t.Fatal(err)
				}
				// A capture's suggestion, its candidates resolved in
				// the same statement.
				from := &bot.Suggestion{RequestID: it.in.r.ID, Platform: "slack", Workspace: "T1", Channel: "C1", ThreadID: "t"}
				if _, err := s.CreateSuggestionFrom(ctx, from, []bot.Candidate{{RequestID: b[(i+1)%len(b)].in.r.ID, Score: 0.5}}, 3); err != nil || from.ID == 0 {
					t.Fatalf("suggestion from the index: %v, id %d", err, from.ID)
				}
				in := cardSave{requestID: it.in.r.ID, ref: cardRef(fmt.Sprintf("card%d-%d", n, i)), at: time.Now().UTC(), shown: "h", withShown: true, suggestion: sg.ID, out: &newCard{}}
				saves = append(saves, &groupItem[cardSave]{ctx: ctx, in: in, done: make(chan struct{})})
			}
			s.saveCards(ctx, saves)
			for _, it := range saves {
				if it.err != nil {
					t.Fatal(it.err)
				}
				if !it.in.out.suggested {
					t.Fatalf("suggestion %d not pointed at its card", it.in.suggestion)
				}
			}
		}
	}
	seqScans := func() map[string]int64 {
		t.Helper()
		// The batch connection's counters, flushed, read afresh.
		for _, q := range []string{`SELECT pg_stat_force_next_flush()`, `SELECT pg_stat_clear_snapshot()`} {
			if _, err := s.gen.Exec(q); err != nil {
				t.Fatal(err)
			}
			if _, err := s.db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		var rows []struct {
			Table string `db:"relname"`
			Scans int64  `db:"seq_scan"`
		}
		if err := s.db.Select(&rows, `SELECT relname, seq_scan FROM pg_stat_user_tables WHERE schemaname = current_schema()
			AND relname IN ('mentions', 'requests', 'suggestions', 'cards')`); err != nil {
			t.Fatal(err)
		}
		m := map[string]int64{}
		for _, r := range rows {
			m[r.Table] = r.Scans
		}
		return m
	}
	c := capture("grow0", "u")
	if err := s.CreateRequest(ctx, c.r, c.m); err != nil {
		t.Fatal(err)
	}
	// Rows written as another replica would, unseen by this store until
	// a batch of its own gets an id after them.
	grow := func(rows int) {
		t.Helper()
		for _, q := range []string{
			`INSERT INTO requests (title, description, status, root_id, created_at, updated_at)
				SELECT 'bulk', '', 'open', 0, now(), now() FROM generate_series(1, $1::int)`,
			`INSERT INTO mentions (request_id, platform, workspace, channel, message_id, thread_id, created_at)
				SELECT $2, 'slack', 'T1', 'C1', 'bulk' || g || '-' || $1::int, 'bulk' || g, now() FROM generate_series(1, $1::int) g`,
			`INSERT INTO suggestions (request_id, platform, workspace, channel, message_id, thread_id, state, decided_by, created_at)
				SELECT $2, 'slack', 'T1', 'C1', '', 't', 'pending', '', now() FROM generate_series(1, $1::int)`,
		} {
			args := []any{rows, c.r.ID}
			if !strings.Contains(q, "$2") {
				args = args[:1]
			}
			if _, err := s.db.Exec(q, args...); err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func(what string, k int) {
		t.Helper()
		before := seqScans()
		batches(k)
		after := seqScans()
		for table, n := range after {
			if n != before[table] {
				t.Errorf("%s: %d batches read %s in full %d times", what, k, table, n-before[table])
			}
		}
	}
	// A small board, just over genericFrom: the plans are made for it.
	grow(genericFrom)
	batches(3)
	if s.grown.Load() < genericFrom {
		t.Fatalf("store saw mention ids up to %d, want more than %d", s.grown.Load(), genericFrom)
	}
	// Tables 40 times as large: the next batch still runs the plans made
	// for the small board, the ones after it plans made again.
	grow(40 * genericFrom)
	check("plans made for a board 40 times smaller", 1)
	check("the grown board", 4)
	// The grown board's plans: made once on the batch connection (the
	// first batch on the grown board told the store), generic, and run
	// at each batch.
	type plan struct {
		Name      string `db:"name"`
		Statement string `db:"statement"`
		Generic   int64  `db:"generic_plans"`
		Custom    int64  `db:"custom_plans"`
	}
	prepared := func() []plan {
		t.Helper()
		var plans []plan
		if err := s.gen.Select(&plans, `SELECT name, statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%unnest%' ORDER BY name`); err != nil {
			t.Fatal(err)
		}
		if len(plans) != 3 {
			t.Fatalf("%d batch statements prepared on the batch connection, want 3 (captures, cards, suggestions from the index)", len(plans))
		}
		return plans
	}
	plans := prepared()
	for _, p := range plans {
		// Four batches, or five for the cards (the first batch's captures
		// told the store before its cards were saved).
		if p.Custom != 0 || p.Generic < 4 {
			t.Errorf("a batch statement ran %d generic plans and %d custom ones, want at least 4 generic, none custom", p.Generic, p.Custom)
		}
	}
	// A capture alone runs the batch statement too, its plan made already:
	// written, and a message captured before is ECONFLICT.
	lone := capture("lone", "u")
	if err := s.CreateRequest(ctx, lone.r, lone.m); err != nil || lone.r.ID == 0 {
		t.Fatalf("lone capture: %v, id %d", err, lone.r.ID)
	}
	twice := capture("lone", "u2")
	if err := s.CreateRequest(ctx, twice.r, twice.m); bot.ErrorCode(err) != bot.ECONFLICT {
		t.Fatalf("lone capture of a message already captured: %v, want ECONFLICT", err)
	}
	var lonePlans int64
	if err := s.gen.Get(&lonePlans, `SELECT generic_plans FROM pg_prepared_statements WHERE statement LIKE '%INSERT INTO requests%'`); err != nil {
		t.Fatal(err)
	}
	if lonePlans != 4+2 {
		t.Errorf("the capture statement ran %d generic plans after two lone captures, want 6", lonePlans)
	}
	plans = prepared()
	// The board doubled: prepared (and planned) again.
	s.grew(s.grown.Load() * 2)
	batches(1)
	again := prepared()
	for i, p := range again {
		// One batch, and three suggestions in it.
		want := int64(1)
		if strings.Contains(p.Statement, "INSERT INTO suggestions") {
			want = 3
		}
		if p.Name == plans[i].Name || p.Generic != want {
			t.Errorf("after the board doubled: statement %s ran %d generic plans, want a new statement (was %s) with %d", p.Name, p.Generic, plans[i].Name, want)
		}
	}
}

// A server without plan_cache_mode (PostgreSQL before 12) refuses the
// batch pool's connections: the store opens without that pool, and the
// batch statements are planned at each batch on the bot's pool, whatever
// the board's size.
func TestBatchStatementsWithoutGenericPlans(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	genericPlanSetting = "feedbackbot_no_such_setting"
	s, err := Open(context.Background(), dsn)
	genericPlanSetting = "plan_cache_mode"
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.gen != nil {
		t.Fatal("batch pool opened on a server that refuses its setting")
	}
	ctx := context.Background()
	s.grew(1 << 20) // as on a board of a million mentions
	b := batchOf(capture("old1", "u1"), capture("old2", "u2"), capture("old1", "u3"))
	s.createRequests(ctx, b)
	if b[0].err != nil || b[1].err != nil || bot.ErrorCode(b[2].err) != bot.ECONFLICT || b[0].in.r.ID == 0 {
		t.Fatalf("batch: %v / %v / %v, ids %d", b[0].err, b[1].err, b[2].err, b[0].in.r.ID)
	}
	lone := capture("old3", "u4")
	if err := s.CreateRequest(ctx, lone.r, lone.m); err != nil || lone.r.ID == 0 {
		t.Fatalf("lone capture: %v", err)
	}
}
