package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/feedbackbot/feedbackbot/bot"
)

// alertEventNote is the note of the event an alert's delivery belongs to.
const alertEventNote = "regression alert"

const regressionColumns = `id, request_id, version, event_id, people, links, platform, workspace, channel, shipped_at, created_at`

// CreateRegressionAlert writes alert a and its delivery d in one transaction;
// false, and nothing written, when (a.Version, a.RequestID) already has an
// alert (the unique index decides, so two replicas never both alert).
//
// The delivery belongs to an event of its own (action 'status', note
// "regression alert"), not to the ship a.EventID: deliveries are unique per
// (event, channel, thread), and two requests of one ship alerting in the
// same release channel would otherwise collide. ('status' because the
// action CHECK cannot gain a value from a migration numbered before 00080,
// whose SQLite rebuild of release_events would drop it again.)
func (s *DB) CreateRegressionAlert(ctx context.Context, a *bot.RegressionAlert, d *bot.Delivery) (bool, error) {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	now := s.now()
	var id int64
	err = tx.GetContext(ctx, &id, tx.Rebind(`INSERT INTO regression_alerts
		(request_id, version, event_id, people, links, platform, workspace, channel, shipped_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (version, request_id) DO NOTHING RETURNING id`),
		a.RequestID, a.Version, a.EventID, a.People, a.Links, a.Platform, a.Workspace, a.Channel, a.ShippedAt, now)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("insert regression alert: %w", err)
	}
	a.ID, a.CreatedAt = id, now
	if d != nil {
		d.Buttons = strings.ReplaceAll(d.Buttons, "{alert}", strconv.FormatInt(id, 10))
		if err := tx.GetContext(ctx, &d.EventID, tx.Rebind(`
			INSERT INTO release_events (action, version, note, actor, idempotency_key, result, created_at)
			VALUES (?, ?, ?, ?, '', '', ?) RETURNING id`), bot.ActionStatus, a.Version, alertEventNote, "feedbackbot", now); err != nil {
			return false, fmt.Errorf("insert alert event: %w", err)
		}
		if d.NextAt.IsZero() {
			d.NextAt = now
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO deliveries
			(event_id, platform, workspace, channel, thread_id, text, buttons, state, attempts, next_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`),
			d.EventID, d.Platform, d.Workspace, d.Channel, d.ThreadID, d.Text, d.Buttons, bot.DeliveryPending, d.NextAt, now); err != nil {
			return false, fmt.Errorf("insert alert delivery: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	return true, nil
}

// FindRegressionAlert returns alert id. ENOTFOUND.
func (s *DB) FindRegressionAlert(ctx context.Context, id int64) (*bot.RegressionAlert, error) {
	var a bot.RegressionAlert
	err := s.db.GetContext(ctx, &a, s.db.Rebind(`SELECT `+regressionColumns+` FROM regression_alerts WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bot.Errorf(bot.ENOTFOUND, "Alert %d does not exist.", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find regression alert: %w", err)
	}
	a.ShippedAt, a.CreatedAt = a.ShippedAt.UTC(), a.CreatedAt.UTC()
	return &a, nil
}

// FindRegressionAlerts returns the alerts about the given requests, oldest first.
func (s *DB) FindRegressionAlerts(ctx context.Context, requestIDs []int64) ([]*bot.RegressionAlert, error) {
	if len(requestIDs) == 0 {
		return nil, nil
	}
	q, args, err := sqlx.In(`SELECT `+regressionColumns+` FROM regression_alerts WHERE request_id IN (?) ORDER BY id`, requestIDs)
	if err != nil {
		return nil, err
	}
	return s.selectAlerts(ctx, s.db.Rebind(q), args...)
}

// ListRegressionAlerts returns every regression alert, oldest first.
func (s *DB) ListRegressionAlerts(ctx context.Context) ([]*bot.RegressionAlert, error) {
	return s.selectAlerts(ctx, `SELECT `+regressionColumns+` FROM regression_alerts ORDER BY id`)
}

func (s *DB) selectAlerts(ctx context.Context, q string, args ...any) ([]*bot.RegressionAlert, error) {
	var as []*bot.RegressionAlert
	if err := s.db.SelectContext(ctx, &as, q, args...); err != nil {
		return nil, fmt.Errorf("regression alerts: %w", err)
	}
	for _, a := range as {
		a.ShippedAt, a.CreatedAt = a.ShippedAt.UTC(), a.CreatedAt.UTC()
	}
	return as, nil
}

// FindChannelsOfKind returns the channels of a workspace with setting kind.
func (s *DB) FindChannelsOfKind(ctx context.Context, platform, workspace, kind string) ([]string, error) {
	var cs []string
	if err := s.db.SelectContext(ctx, &cs, s.db.Rebind(`SELECT channel FROM channels
		WHERE platform = ? AND workspace = ? AND kind = ? ORDER BY created_at, channel`), platform, workspace, kind); err != nil {
		return nil, fmt.Errorf("find channels: %w", err)
	}
	return cs, nil
}
