package store

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// TestPreparedFollowsTheBoard: a hot-path statement prepared on a board of
// a few requests is prepared again once the board has grown, so PostgreSQL
// chooses its plan again: ResolveRequests' statement, run often enough on
// 40 requests that PostgreSQL keeps a generic plan, reads the requests by
// key after the board has grown to 20,000 (with no ANALYZE in between, as
// on a board that grows faster than autovacuum looks). Before, the plan
// kept from the small board read all requests in every call.
func TestPreparedFollowsTheBoard(t *testing.T) {
	s := openForTest(t, storetest.PostgresDSN(t))
	ctx := context.Background()
	// One connection: the statements it prepares are the ones
	// pg_prepared_statements shows.
	s.db.SetMaxOpenConns(1)
	var ids []int64
	for k := range 5 {
		var cs []newCapture
		for i := range 8 {
			cs = append(cs, capture(fmt.Sprintf("prep%d-%d", k, i), "u"))
		}
		b := batchOf(cs...)
		s.createRequests(ctx, b)
		for _, it := range b {
			if it.err != nil {
				t.Fatal(it.err)
			}
			ids = append(ids, it.in.r.ID)
		}
	}
	if _, err := s.db.Exec(`ANALYZE`); err != nil {
		t.Fatal(err)
	}
	resolve := func() {
		t.Helper()
		for range 8 {
			got, err := s.ResolveRequests(ctx, ids[1:4])
			if err != nil || len(got) != 3 {
				t.Fatalf("ResolveRequests: %v, %d of 3", err, len(got))
			}
		}
	}
	resolve()
	first := resolveStatement(t, s)

	// The board grows to 20,000 requests, the statement is not analysed.
	if _, err := s.db.Exec(`INSERT INTO requests (id, title, description, status, root_id, demand, orgs, mentions, created_at, updated_at)
		SELECT n, 'grown ' || n, 'grown', 'open', n, 1, 0, 1, now(), now()
		FROM (SELECT nextval('requests_id_seq'::regclass) AS n FROM generate_series(1, 20000)) g`); err != nil {
		t.Fatal(err)
	}
	s.grew(20000)
	resolve()
	now := resolveStatement(t, s)
	if now == first {
		t.Fatalf("the statement was not prepared again after the board grew (%s)", now)
	}
	plan := explainPrepared(t, s, now, ids[1:4])
	index := map[string]string{}
	if bad := fullScans(plan, index, nil, false); len(bad) > 0 {
		t.Errorf("after the board grew, ResolveRequests reads %s without a key:\n%s", strings.Join(bad, ", "), plan)
	}
	// The statement it replaced stays usable a while (a call may have
	// loaded it just before), until retired.
	s.retireMu.Lock()
	n := len(s.retired)
	s.retireMu.Unlock()
	if n != 1 {
		t.Fatalf("%d statements retired, want 1", n)
	}
}

// resolveStatement is the name of the prepared statement of
// ResolveRequests on the store's one connection, the latest if several.
func resolveStatement(t *testing.T, s *DB) string {
	t.Helper()
	var names []string
	if err := s.db.Select(&names, `SELECT name FROM pg_prepared_statements
		WHERE statement LIKE '%AS asked%' ORDER BY prepare_time DESC`); err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no prepared statement for ResolveRequests")
	}
	return names[0]
}

// explainPrepared is the plan PostgreSQL would run the prepared statement
// name with for ids, on the store's one connection.
func explainPrepared(t *testing.T, s *DB, name string, ids []int64) string {
	t.Helper()
	ps := make([]string, len(ids))
	for i, id := range ids {
		ps[i] = fmt.Sprint(id)
	}
	var lines []string
	if err := s.db.Select(&lines, fmt.Sprintf(`EXPLAIN (COSTS OFF) EXECUTE %q(%s)`, name, strings.Join(ps, ", "))); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
