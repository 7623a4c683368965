package store

import "time"

// SetNow replaces the store's clock (tests only).
func (s *DB) SetNow(now func() time.Time) { s.now = now }
