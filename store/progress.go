package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/feedbackbot/feedbackbot/bot"
)

const progressColumns = `event_id, platform, workspace, channel, thread_id, message_id, outcome, shown, state,
	failures, retry_at, edited_at, locked_by, locked_until, created_at`

// CreateProgress stores the progress message p of a release event, leased
// to worker until now+lease (for its first post) and due at once. It sets
// p's timestamps and state. EINVALID without an event, channel or worker;
// ECONFLICT when the event has a progress message already.
func (s *DB) CreateProgress(ctx context.Context, p *bot.ProgressMessage, worker string, lease time.Duration) error {
	if p.EventID == 0 || p.Platform == "" || p.Channel == "" || worker == "" {
		return bot.Errorf(bot.EINVALID, "A progress message needs an event, a channel and a worker.")
	}
	tx, err := s.beginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.now()
	until := now.Add(lease)
	p.State, p.RetryAt, p.CreatedAt, p.LockedBy, p.LockedUntil = bot.ProgressOpen, now, now, worker, &until
	_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO progress_messages
		(event_id, platform, workspace, channel, thread_id, message_id, outcome, shown, state, failures, retry_at, locked_by, locked_until, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)`),
		p.EventID, p.Platform, p.Workspace, p.Channel, p.ThreadID, p.MessageID, p.Outcome, p.Shown, p.State, now, worker, until, now)
	if err != nil {
		if isUniqueViolation(err) {
			return bot.Errorf(bot.ECONFLICT, "Event %d already has a progress message.", p.EventID)
		}
		if isForeignKeyViolation(err) {
			return bot.Errorf(bot.ENOTFOUND, "Event %d does not exist.", p.EventID)
		}
		return fmt.Errorf("create progress message: %w", err)
	}
	return tx.Commit()
}

// progressFree is the condition, on a progress_messages row, that it may be
// taken: nobody holds it, or its holder's lease ran out or the holder
// stopped beating (see Heartbeat). A worker's own hold counts too, so two
// goroutines of one process never take it together. Its arguments are now,
// the worker that takes it ("" to list) and now.
const progressFree = `(locked_by = '' OR locked_until < ?
	OR (locked_by <> ? AND locked_by IN (SELECT worker FROM delivery_workers WHERE expires_at < ?)))`

// OpenProgress returns up to limit open progress messages whose retry_at
// has passed and that nobody holds, oldest event first.
func (s *DB) OpenProgress(ctx context.Context, limit int) ([]*bot.ProgressMessage, error) {
	if limit <= 0 {
		limit = 100
	}
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := s.now()
	var ps []*bot.ProgressMessage
	if err := tx.SelectContext(ctx, &ps, tx.Rebind(`SELECT `+progressColumns+` FROM progress_messages
		WHERE state = ? AND retry_at <= ? AND `+progressFree+` ORDER BY event_id LIMIT ?`),
		bot.ProgressOpen, now, now, "", now, limit); err != nil {
		return nil, fmt.Errorf("open progress messages: %w", err)
	}
	for _, p := range ps {
		fixProgress(p)
	}
	return ps, nil
}

// ClaimProgress leases the open progress message of eventID to worker until
// now+lease and returns it. ECONFLICT when another worker holds it or it is
// no longer open; ENOTFOUND when the event has none.
func (s *DB) ClaimProgress(ctx context.Context, eventID int64, worker string, lease time.Duration) (*bot.ProgressMessage, error) {
	if worker == "" {
		return nil, bot.Errorf(bot.EINVALID, "A progress message worker needs a name.")
	}
	tx, err := s.beginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := s.now()
	var p bot.ProgressMessage
	err = tx.GetContext(ctx, &p, tx.Rebind(`UPDATE progress_messages SET locked_by = ?, locked_until = ?
		WHERE event_id = ? AND state = ? AND `+progressFree+` RETURNING `+progressColumns),
		worker, now.Add(lease), eventID, bot.ProgressOpen, now, worker, now)
	if errors.Is(err, sql.ErrNoRows) {
		var n int
		if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM progress_messages WHERE event_id = ?`), eventID); err != nil {
			return nil, fmt.Errorf("claim progress message %d: %w", eventID, err)
		}
		if n == 0 {
			return nil, bot.Errorf(bot.ENOTFOUND, "Event %d has no progress message.", eventID)
		}
		return nil, bot.Errorf(bot.ECONFLICT, "The progress message of event %d is taken or settled.", eventID)
	}
	if err != nil {
		return nil, fmt.Errorf("claim progress message %d: %w", eventID, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	fixProgress(&p)
	return &p, nil
}

// SettleProgress records what worker's post or edit of p did (MessageID,
// Shown, State, Failures, RetryAt, EditedAt) and ends its lease. ECONFLICT
// when worker no longer holds it (its lease ran out and another worker took
// it, or it is settled).
func (s *DB) SettleProgress(ctx context.Context, p *bot.ProgressMessage, worker string) error {
	switch p.State {
	case bot.ProgressOpen, bot.ProgressDone, bot.ProgressGivenUp:
	default:
		return bot.Errorf(bot.EINVALID, "Unknown progress message state %q.", p.State)
	}
	tx, err := s.beginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var edited any
	if p.EditedAt != nil {
		edited = p.EditedAt.UTC()
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE progress_messages
		SET message_id = ?, shown = ?, state = ?, failures = ?, retry_at = ?, edited_at = ?, locked_by = '', locked_until = NULL
		WHERE event_id = ? AND locked_by = ? AND state = ?`),
		p.MessageID, p.Shown, p.State, p.Failures, p.RetryAt.UTC(), edited, p.EventID, worker, bot.ProgressOpen)
	if err != nil {
		return fmt.Errorf("settle progress message %d: %w", p.EventID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return bot.Errorf(bot.ECONFLICT, "The progress message of event %d is no longer held by %s.", p.EventID, worker)
	}
	p.LockedBy, p.LockedUntil = "", nil
	return tx.Commit()
}

func fixProgress(p *bot.ProgressMessage) {
	p.RetryAt = p.RetryAt.UTC()
	p.CreatedAt = p.CreatedAt.UTC()
	for _, t := range []**time.Time{&p.EditedAt, &p.LockedUntil} {
		if *t != nil {
			u := (**t).UTC()
			*t = &u
		}
	}
}

// StartWorker registers worker as a running delivery worker, alive until
// now+ttl (Heartbeat keeps it so). The deliveries and progress messages
// still leased to worker belong to an earlier process of the same name
// that did not stop gracefully: they are handed back at once, deliveries
// due at their old time without counting the attempt. Heartbeats that
// expired more than a day ago are forgotten.
func (s *DB) StartWorker(ctx context.Context, worker string, ttl time.Duration) error {
	if worker == "" {
		return bot.Errorf(bot.EINVALID, "A delivery worker needs a name.")
	}
	tx, err := s.beginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.now()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE deliveries SET state = ?, locked_by = '', locked_until = NULL,
			attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
			WHERE state = ? AND locked_by = ?`, []any{bot.DeliveryPending, bot.DeliveryRunning, worker}},
		{`UPDATE progress_messages SET locked_by = '', locked_until = NULL WHERE locked_by = ?`, []any{worker}},
		{`DELETE FROM delivery_workers WHERE expires_at < ?`, []any{now.Add(-24 * time.Hour)}},
	} {
		if _, err := tx.ExecContext(ctx, tx.Rebind(q.sql), q.args...); err != nil {
			return fmt.Errorf("start worker %s: %w", worker, err)
		}
	}
	if err := s.beat(ctx, tx, worker, now, ttl); err != nil {
		return err
	}
	return tx.Commit()
}

// Heartbeat keeps worker alive until now+ttl. It reports whether its
// previous heartbeat had expired (or there was none): other workers may
// have taken its leases meanwhile, so it should check them.
func (s *DB) Heartbeat(ctx context.Context, worker string, ttl time.Duration) (lapsed bool, err error) {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	now := s.now()
	var n int
	if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM delivery_workers WHERE worker = ? AND expires_at >= ?`), worker, now); err != nil {
		return false, fmt.Errorf("heartbeat of %s: %w", worker, err)
	}
	if err := s.beat(ctx, tx, worker, now, ttl); err != nil {
		return false, err
	}
	return n == 0, tx.Commit()
}

// StopWorker ends worker's heartbeat (a graceful stop): whatever it still
// holds may be taken over at once.
func (s *DB) StopWorker(ctx context.Context, worker string) error {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE delivery_workers SET expires_at = ? WHERE worker = ?`), s.now().Add(-time.Microsecond), worker); err != nil {
		return fmt.Errorf("stop worker %s: %w", worker, err)
	}
	return tx.Commit()
}

func (s *DB) beat(ctx context.Context, tx *sqlx.Tx, worker string, now time.Time, ttl time.Duration) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO delivery_workers (worker, seen_at, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (worker) DO UPDATE SET seen_at = excluded.seen_at, expires_at = excluded.expires_at`), worker, now, now.Add(ttl))
	if err != nil {
		return fmt.Errorf("heartbeat of %s: %w", worker, err)
	}
	return nil
}

// FindProgress returns the progress message of a release event as stored.
// ENOTFOUND.
func (s *DB) FindProgress(ctx context.Context, eventID int64) (*bot.ProgressMessage, error) {
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var p bot.ProgressMessage
	err = tx.GetContext(ctx, &p, tx.Rebind(`SELECT `+progressColumns+` FROM progress_messages WHERE event_id = ?`), eventID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bot.Errorf(bot.ENOTFOUND, "Event %d has no progress message.", eventID)
	}
	if err != nil {
		return nil, fmt.Errorf("find progress message %d: %w", eventID, err)
	}
	fixProgress(&p)
	return &p, nil
}
