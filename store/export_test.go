package store

import (
	"context"
	"time"
)

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

// FinishBatch finishes the deliveries ids leased to worker in one batch, in
// the order given, as a group commit of FinishDelivery calls arriving in
// that order does, and returns each one's answer.
func FinishBatch(s *DB, ctx context.Context, worker string, ids ...int64) ([]error, error) {
	batch := make([]*groupItem[finishing], len(ids))
	for i, id := range ids {
		batch[i] = &groupItem[finishing]{ctx: ctx, in: finishing{id: id, worker: worker, messageID: "m", at: s.now()}}
	}
	if err := s.finishBatch(ctx, batch); err != nil {
		return nil, err
	}
	answers := make([]error, len(ids))
	for i, it := range batch {
		answers[i] = it.err
	}
	return answers, nil
}
