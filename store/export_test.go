package store

import "time"

// SetNow replaces the store's clock (tests only).
func (s *DB) SetNow(now func() time.Time) { s.now = now }

// SimulateReadOnly makes the SQLite connections the pool opens from now on
// read-only (as when the file could not be written at the time they were
// opened), or stops doing so. Turning it on also drops the idle
// connections, so that the next calls open new (read-only) ones.
func SimulateReadOnly(s *DB, on bool) {
	s.conn.readOnly.Store(on)
	if on {
		s.db.SetMaxIdleConns(0)
		s.db.SetMaxIdleConns(8)
	}
}
