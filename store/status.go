package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/feedbackbot/feedbackbot/bot"
)

const historyColumns = `id, request_id, actor, from_status, to_status, version, note, event_id, created_at`

// SetStatus changes the status of request id and appends a history row.
// EINVALID for an unknown status; ENOTFOUND; ECONFLICT when the request
// already has that status.
func (s *DB) SetStatus(ctx context.Context, id int64, to bot.Status, actor, version, note string) (*bot.StatusChange, error) {
	if !to.Valid() {
		return nil, bot.Errorf(bot.EINVALID, "%q is not a status.", string(to))
	}
	tx, r, err := s.beginRequestTx(ctx, id)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if r.Status == to {
		return nil, storeError(bot.ECONFLICT, bot.ReasonSameStatus, fmt.Sprintf("Request %d is already %s.", id, statusWords(to)), id)
	}
	c, err := setStatus(ctx, tx, r, to, actor, version, note, nil, s.now())
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return c, nil
}

// beginRequestTx opens a write transaction with the group of request id
// locked (lockGroups) and reads the request in it. The caller commits or
// rolls back tx; on an error nothing is left open.
func (s *DB) beginRequestTx(ctx context.Context, id int64) (*sqlx.Tx, *bot.Request, error) {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return nil, nil, err
	}
	r, err := lockedRequest(ctx, tx, id)
	if err != nil {
		tx.Rollback()
		return nil, nil, err
	}
	return tx, r, nil
}

func lockedRequest(ctx context.Context, tx *sqlx.Tx, id int64) (*bot.Request, error) {
	if _, err := lockGroups(ctx, tx, id); err != nil {
		return nil, err
	}
	return findRequestByID(ctx, tx, id)
}

func statusWords(s bot.Status) string {
	switch s {
	case bot.StatusInProgress:
		return "in progress"
	case bot.StatusRolledBack:
		return "rolled back"
	}
	return string(s)
}

// setStatus moves r to status to and appends the history row.
func setStatus(ctx context.Context, tx *sqlx.Tx, r *bot.Request, to bot.Status, actor, version, note string, eventID *int64, now time.Time) (*bot.StatusChange, error) {
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE requests SET status = ?, updated_at = ? WHERE id = ?`), string(to), now, r.ID); err != nil {
		return nil, fmt.Errorf("set status of %d: %w", r.ID, err)
	}
	c := &bot.StatusChange{
		RequestID: r.ID,
		Actor:     actor,
		From:      r.Status,
		To:        to,
		Version:   version,
		Note:      note,
		EventID:   eventID,
		CreatedAt: now,
	}
	err := tx.GetContext(ctx, &c.ID, tx.Rebind(`
		INSERT INTO status_history (request_id, actor, from_status, to_status, version, note, event_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		c.RequestID, c.Actor, string(c.From), string(c.To), c.Version, c.Note, c.EventID, c.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("insert status history: %w", err)
	}
	r.Status = to
	r.UpdatedAt = now
	return c, nil
}

// FindHistory returns the status history of a request, oldest first.
func (s *DB) FindHistory(ctx context.Context, requestID int64) ([]*bot.StatusChange, error) {
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var cs []*bot.StatusChange
	if err := tx.SelectContext(ctx, &cs, tx.Rebind(`SELECT `+historyColumns+` FROM status_history WHERE request_id = ? ORDER BY id`), requestID); err != nil {
		return nil, fmt.Errorf("find history of %d: %w", requestID, err)
	}
	for _, c := range cs {
		c.CreatedAt = c.CreatedAt.UTC()
	}
	return cs, nil
}
