package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
)

const deliveryColumns = `id, event_id, platform, workspace, channel, thread_id, text, state, attempts, next_at,
	locked_by, locked_until, last_error, message_id, created_at, done_at`

// ClaimDeliveries leases up to limit due deliveries (pending with next_at
// passed, or running with an expired lease) to worker until now+lease,
// counting an attempt, and returns them oldest due first. On PostgreSQL
// concurrent claimers skip each other's rows (FOR UPDATE SKIP LOCKED); on
// SQLite the write transaction serialises them.
func (s *DB) ClaimDeliveries(ctx context.Context, worker string, limit int, lease time.Duration) ([]*bot.Delivery, error) {
	if worker == "" {
		return nil, bot.Errorf(bot.EINVALID, "A delivery worker needs a name.")
	}
	if limit <= 0 {
		return nil, nil
	}
	tx, err := s.beginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := s.now()
	skip := ""
	if s.dialect == DialectPostgres {
		skip = " FOR UPDATE SKIP LOCKED"
	}
	var ds []*bot.Delivery
	err = tx.SelectContext(ctx, &ds, tx.Rebind(`
		UPDATE deliveries SET state = ?, locked_by = ?, locked_until = ?, attempts = attempts + 1
		WHERE id IN (
			SELECT id FROM deliveries
			WHERE (state = ? AND next_at <= ?) OR (state = ? AND locked_until < ?)
			ORDER BY next_at, id LIMIT ?`+skip+`
		)
		RETURNING `+deliveryColumns),
		bot.DeliveryRunning, worker, now.Add(lease), bot.DeliveryPending, now, bot.DeliveryRunning, now, limit)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	sort.Slice(ds, func(i, j int) bool {
		if !ds[i].NextAt.Equal(ds[j].NextAt) {
			return ds[i].NextAt.Before(ds[j].NextAt)
		}
		return ds[i].ID < ds[j].ID
	})
	for _, d := range ds {
		fixDelivery(d)
	}
	return ds, nil
}

// FinishDelivery marks a delivery leased to worker done, with the id of the
// posted message. ENOTFOUND; ECONFLICT when the delivery is not leased to
// worker any more (its lease expired and another worker took it, or it is
// finished).
func (s *DB) FinishDelivery(ctx context.Context, id int64, worker, messageID string) error {
	now := s.now()
	return s.settleDelivery(ctx, id, worker,
		`state = ?, message_id = ?, locked_until = NULL, done_at = ?`,
		bot.DeliveryDone, messageID, now)
}

// RetryDelivery releases a delivery leased to worker to be tried again at
// next. ENOTFOUND; ECONFLICT when the lease was lost.
func (s *DB) RetryDelivery(ctx context.Context, id int64, worker, lastErr string, next time.Time) error {
	return s.settleDelivery(ctx, id, worker,
		`state = ?, last_error = ?, next_at = ?, locked_by = '', locked_until = NULL`,
		bot.DeliveryPending, lastErr, next.UTC())
}

// FailDelivery marks a delivery leased to worker failed for good.
// ENOTFOUND; ECONFLICT when the lease was lost.
func (s *DB) FailDelivery(ctx context.Context, id int64, worker, lastErr string) error {
	now := s.now()
	return s.settleDelivery(ctx, id, worker,
		`state = ?, last_error = ?, locked_until = NULL, done_at = ?`,
		bot.DeliveryFailed, lastErr, now)
}

// settleDelivery applies set to delivery id if it is running and leased to
// worker.
func (s *DB) settleDelivery(ctx context.Context, id int64, worker, set string, args ...any) error {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	args = append(args, id, worker, bot.DeliveryRunning)
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE deliveries SET `+set+` WHERE id = ? AND locked_by = ? AND state = ?`), args...)
	if err != nil {
		return fmt.Errorf("settle delivery %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var n int
		if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM deliveries WHERE id = ?`), id); err != nil {
			return fmt.Errorf("settle delivery %d: %w", id, err)
		}
		if n == 0 {
			return bot.Errorf(bot.ENOTFOUND, "Delivery %d does not exist.", id)
		}
		return bot.Errorf(bot.ECONFLICT, "Delivery %d is no longer leased to %s.", id, worker)
	}
	return tx.Commit()
}

// FindDeliveries returns the deliveries of an event in id order.
func (s *DB) FindDeliveries(ctx context.Context, eventID int64) ([]*bot.Delivery, error) {
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var ds []*bot.Delivery
	if err := tx.SelectContext(ctx, &ds, tx.Rebind(`SELECT `+deliveryColumns+` FROM deliveries WHERE event_id = ? ORDER BY id`), eventID); err != nil {
		return nil, fmt.Errorf("find deliveries of %d: %w", eventID, err)
	}
	for _, d := range ds {
		fixDelivery(d)
	}
	return ds, nil
}

// EventDeliveryStats counts an event's deliveries by state.
func (s *DB) EventDeliveryStats(ctx context.Context, eventID int64) (bot.DeliveryStats, error) {
	var st bot.DeliveryStats
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return st, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, tx.Rebind(`SELECT state, COUNT(*) FROM deliveries WHERE event_id = ? GROUP BY state`), eventID)
	if err != nil {
		return st, fmt.Errorf("delivery stats of %d: %w", eventID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return st, fmt.Errorf("delivery stats of %d: %w", eventID, err)
		}
		switch state {
		case bot.DeliveryPending:
			st.Pending = n
		case bot.DeliveryRunning:
			st.Running = n
		case bot.DeliveryDone:
			st.Done = n
		case bot.DeliveryFailed:
			st.Failed = n
		}
	}
	return st, rows.Err()
}

// DeliveryQueueDepth counts deliveries not yet done or failed.
func (s *DB) DeliveryQueueDepth(ctx context.Context) (int, error) {
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM deliveries WHERE state IN (?, ?)`), bot.DeliveryPending, bot.DeliveryRunning); err != nil {
		return 0, fmt.Errorf("delivery queue depth: %w", err)
	}
	return n, nil
}

func fixDelivery(d *bot.Delivery) {
	d.NextAt = d.NextAt.UTC()
	d.CreatedAt = d.CreatedAt.UTC()
	if d.LockedUntil != nil {
		t := d.LockedUntil.UTC()
		d.LockedUntil = &t
	}
	if d.DoneAt != nil {
		t := d.DoneAt.UTC()
		d.DoneAt = &t
	}
}
