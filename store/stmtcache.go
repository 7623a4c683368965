package store

import (
	"context"
	"database/sql/driver"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// stmtCacheSize bounds the prepared statements one SQLite connection keeps.
// The hot paths use a few dozen distinct texts; the rest (sqlx.In lists of
// varying length, one-off admin queries) are evicted least recently used.
const stmtCacheSize = 128

// stmtCache keeps SQLite statements prepared per connection, keyed by their
// text: SQLite parses and plans a statement at every prepare, and a capture
// on SQLite ran about ten statements, the long recount among them, so
// parsing was over a third of the process's CPU (bench capture --cpuprofile). A
// connection is used by one goroutine at a time (database/sql), so the cache
// needs no lock. A statement whose rows are still open is busy: the same text
// run again meanwhile (a query inside a loop over its own rows) goes
// unprepared, and a busy statement the cache evicts is closed when its rows
// close. PostgreSQL connections keep no cache (their hot statements are
// prepared by the batch pool).
type stmtCache struct {
	lru *simplelru.LRU[string, *cachedStmt]
}

type cachedStmt struct {
	st      driver.Stmt
	busy    bool // rows of it are open
	evicted bool // out of the cache: close once not busy
}

func newStmtCache() *stmtCache {
	c := &stmtCache{}
	c.lru, _ = simplelru.NewLRU(stmtCacheSize, func(_ string, cs *cachedStmt) {
		cs.evicted = true
		if !cs.busy {
			cs.st.Close()
		}
	})
	return c
}

// get returns the prepared statement for query, preparing it on first use,
// or nil when it is busy or cannot be prepared here (the caller then runs the
// text unprepared and sees the driver's own error, if any).
func (c *stmtCache) get(ctx context.Context, inner driver.Conn, query string) *cachedStmt {
	if cs, ok := c.lru.Get(query); ok {
		if cs.busy {
			return nil
		}
		return cs
	}
	p, ok := inner.(driver.ConnPrepareContext)
	if !ok {
		return nil
	}
	st, err := p.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if _, ok := st.(driver.StmtExecContext); !ok {
		st.Close()
		return nil
	}
	if _, ok := st.(driver.StmtQueryContext); !ok {
		st.Close()
		return nil
	}
	cs := &cachedStmt{st: st}
	c.lru.Add(query, cs)
	return cs
}

// done marks cs no longer busy, closing it if the cache evicted it.
func (cs *cachedStmt) done() {
	cs.busy = false
	if cs.evicted {
		cs.st.Close()
	}
}

// close closes every cached statement that is not busy (the connection is
// closing; database/sql closes rows before their connection).
func (c *stmtCache) close() {
	c.lru.Purge()
}

func (c *stmtCache) len() int { return c.lru.Len() }
