package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/feedbackbot/feedbackbot/bot"
)

// ListReleases returns ship and rollback events newest first with the ids
// of the requests each changed (from the status history), and the total.
func (s *DB) ListReleases(ctx context.Context, f bot.ReleaseFilter) ([]*bot.Release, int, error) {
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	where := `action IN ('shipped', 'rolled_back')`
	var args []any
	if f.Version != "" {
		where += ` AND version = ?`
		args = append(args, f.Version)
	}
	var total int
	if err := tx.GetContext(ctx, &total, tx.Rebind(`SELECT COUNT(*) FROM release_events WHERE `+where), args...); err != nil {
		return nil, 0, fmt.Errorf("count releases: %w", err)
	}
	q := `SELECT ` + releaseColumns + ` FROM release_events WHERE ` + where + ` ORDER BY id DESC`
	if f.Limit > 0 || f.Offset > 0 {
		limit := f.Limit
		if limit <= 0 {
			limit = 1 << 30
		}
		q += fmt.Sprintf(" LIMIT %d OFFSET %d", limit, max(0, f.Offset))
	}
	var evs []*bot.ReleaseEvent
	if err := tx.SelectContext(ctx, &evs, tx.Rebind(q), args...); err != nil {
		return nil, 0, fmt.Errorf("list releases: %w", err)
	}
	out := make([]*bot.Release, len(evs))
	pos := map[int64]*bot.Release{}
	ids := make([]int64, len(evs))
	for i, ev := range evs {
		ev.CreatedAt = ev.CreatedAt.UTC()
		out[i] = &bot.Release{Event: ev}
		pos[ev.ID] = out[i]
		ids[i] = ev.ID
	}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		q, a, err := sqlx.In(`SELECT event_id, request_id FROM status_history WHERE event_id IN (?) ORDER BY event_id, request_id`, chunk)
		if err != nil {
			return nil, 0, err
		}
		rows, err := tx.QueryContext(ctx, tx.Rebind(q), a...)
		if err != nil {
			return nil, 0, fmt.Errorf("release requests: %w", err)
		}
		for rows.Next() {
			var ev, id int64
			if err := rows.Scan(&ev, &id); err != nil {
				rows.Close()
				return nil, 0, fmt.Errorf("release requests: %w", err)
			}
			pos[ev].RequestIDs = append(pos[ev].RequestIDs, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, 0, fmt.Errorf("release requests: %w", err)
		}
	}
	return out, total, nil
}

// ShippedSince returns the shipped requests whose latest ship was at or
// after t, with the time of that ship.
func (s *DB) ShippedSince(ctx context.Context, t time.Time) (map[int64]time.Time, error) {
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, tx.Rebind(`
		SELECT h.request_id, h.created_at FROM status_history h JOIN requests r ON r.id = h.request_id
		WHERE r.status = 'shipped' AND r.merged_into IS NULL AND h.to_status = 'shipped' AND h.created_at >= ?
		AND h.id = (SELECT MAX(h2.id) FROM status_history h2 WHERE h2.request_id = h.request_id AND h2.to_status = 'shipped')`), t.UTC())
	if err != nil {
		return nil, fmt.Errorf("shipped since: %w", err)
	}
	defer rows.Close()
	out := map[int64]time.Time{}
	for rows.Next() {
		var id int64
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			return nil, fmt.Errorf("shipped since: %w", err)
		}
		out[id] = at.UTC()
	}
	return out, rows.Err()
}

// DemandTimeline returns the first time each distinct person (as demand
// counts them) asked for or voted on request id or anything merged into it,
// oldest first.
func (s *DB) DemandTimeline(ctx context.Context, id int64) ([]time.Time, error) {
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	// The earliest row of each person, computed here: SQLite's MIN over a
	// timestamp column returns text.
	rows, err := tx.QueryContext(ctx, tx.Rebind(subtreeCTE+`
		SELECT COALESCE(CAST(i.person_id AS TEXT), v.person), v.created_at FROM voters v LEFT JOIN identities i ON i.ident = v.person
		WHERE v.request_id IN (SELECT id FROM sub)
		ORDER BY v.created_at, v.id`), id)
	if err != nil {
		return nil, fmt.Errorf("demand timeline of %d: %w", id, err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	var ts []time.Time
	for rows.Next() {
		var who string
		var at time.Time
		if err := rows.Scan(&who, &at); err != nil {
			return nil, fmt.Errorf("demand timeline of %d: %w", id, err)
		}
		if !seen[who] {
			seen[who] = true
			ts = append(ts, at.UTC())
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("demand timeline of %d: %w", id, err)
	}
	return ts, nil
}

// RequestsOf returns the canonical requests who asked for or voted on,
// newest first.
func (s *DB) RequestsOf(ctx context.Context, who bot.Identity, limit int) ([]*bot.Request, error) {
	if limit <= 0 {
		limit = 10
	}
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	var ids []int64
	err = tx.SelectContext(ctx, &ids, tx.Rebind(`
		SELECT DISTINCT r.root_id FROM voters v JOIN requests r ON r.id = v.request_id
		WHERE v.platform = ? AND v.workspace = ? AND v.user_id = ?`), who.Platform, who.Workspace, who.UserID)
	tx.Rollback()
	if err != nil {
		return nil, fmt.Errorf("requests of %s: %w", who.UserID, err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rs, _, err := s.FindRequests(ctx, bot.RequestFilter{IDs: ids, Sort: bot.SortNew, Limit: limit})
	return rs, err
}
