package store

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// cachedStmts returns how many statements c's SQLite connection keeps
// prepared.
func cachedStmts(t *testing.T, c *sql.Conn) int {
	t.Helper()
	n := -1
	if err := c.Raw(func(dc any) error {
		w, ok := dc.(*conn)
		if !ok || w.stmts == nil {
			return fmt.Errorf("driver connection %T keeps no statement cache", dc)
		}
		n = w.stmts.len()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// An SQLite connection keeps each statement text prepared once, and a text
// run again while its own rows are open, or evicted while they are, still
// gives the right rows.
func TestStmtCache_SQLite(t *testing.T) {
	s := openForTest(t, storetest.SQLiteDSN(t))
	ctx := context.Background()
	for i, c := range []newCapture{capture("c1", "u1"), capture("c2", "u2"), capture("c3", "u3")} {
		if err := s.CreateRequest(ctx, c.r, c.m); err != nil {
			t.Fatalf("capture %d: %v", i, err)
		}
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ids := func() []int64 {
		t.Helper()
		var out []int64
		rows, err := c.QueryContext(ctx, `SELECT id FROM requests ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			out = append(out, id)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}

	first := ids()
	if len(first) != 3 {
		t.Fatalf("requests: %v, want 3", first)
	}
	before := cachedStmts(t, c)
	for range 5 {
		if got := ids(); fmt.Sprint(got) != fmt.Sprint(first) {
			t.Fatalf("again: %v, want %v", got, first)
		}
	}
	if after := cachedStmts(t, c); after != before {
		t.Errorf("the same text run 5 times more: %d statements cached, want %d", after, before)
	}

	// The same text inside a loop over its own rows.
	rows, err := c.QueryContext(ctx, `SELECT id FROM requests ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close() // before c.Close, which waits for open rows, on t.Fatal
	var outer []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		outer = append(outer, id)
		if len(outer) > len(first) {
			t.Fatalf("outer rows go on past %v: %v (the inner run reset them)", first, outer)
		}
		if got := ids(); fmt.Sprint(got) != fmt.Sprint(first) {
			t.Fatalf("inside its own rows: %v, want %v", got, first)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if fmt.Sprint(outer) != fmt.Sprint(first) {
		t.Fatalf("outer rows: %v, want %v", outer, first)
	}

	// Evicted while its rows are open: more distinct texts than the cache
	// holds run in the middle of reading them.
	rows2, err := c.QueryContext(ctx, `SELECT id, title FROM requests ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows2.Close()
	rows = rows2
	var read []int64
	for i := 0; rows.Next(); i++ {
		var id int64
		var title string
		if err := rows.Scan(&id, &title); err != nil {
			t.Fatal(err)
		}
		read = append(read, id)
		if len(read) > len(first) {
			t.Fatalf("rows go on past %v: %v", first, read)
		}
		if i == 0 {
			for k := range stmtCacheSize + 10 {
				var n int
				if err := c.QueryRowContext(ctx, fmt.Sprintf(`SELECT COUNT(*) + %d FROM requests`, k)).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 3+k {
					t.Fatalf("distinct text %d: %d, want %d", k, n, 3+k)
				}
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if fmt.Sprint(read) != fmt.Sprint(first) {
		t.Fatalf("rows of an evicted statement: %v, want %v", read, first)
	}
	if n := cachedStmts(t, c); n > stmtCacheSize {
		t.Errorf("%d statements cached, want at most %d", n, stmtCacheSize)
	}

	// A statement that fails still reports the driver's error, and the
	// connection goes on.
	if _, err := c.ExecContext(ctx, `INSERT INTO no_such_table VALUES (1)`); err == nil {
		t.Error("insert into a missing table: no error")
	}
	if got := ids(); fmt.Sprint(got) != fmt.Sprint(first) {
		t.Fatalf("after an error: %v, want %v", got, first)
	}
}
