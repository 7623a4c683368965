package storetest

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"
)

// AwaitLockWait waits until at least n sessions of db's database wait for a
// lock in a statement whose text contains each of likes (PostgreSQL's
// pg_stat_activity). It fails the test with what after a minute, or at once
// if stop is closed first (the statement finished without waiting); stop
// may be nil.
func AwaitLockWait(tb testing.TB, db *sql.DB, n int, what string, stop <-chan struct{}, likes ...string) {
	tb.Helper()
	var q strings.Builder
	q.WriteString(`SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)
	args := make([]any, len(likes))
	for i, l := range likes {
		fmt.Fprintf(&q, " AND query LIKE $%d", i+1)
		args[i] = "%" + l + "%"
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var got int
		if err := db.QueryRow(q.String(), args...).Scan(&got); err != nil {
			tb.Fatal(err)
		}
		if got >= n {
			return
		}
		select {
		case <-stop:
			tb.Fatalf("finished without waiting: %s", what)
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d sessions waiting for a lock, want %d: %s", got, n, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
