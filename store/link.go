package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/feedbackbot/feedbackbot/bot"
)

const linkColumns = `id, request_id, item, url, kind, state, milestone, title, created_by, created_at, updated_at`

var _ bot.LinkStore = (*DB)(nil)

// AddLink links the canonical request of l.RequestID to l.Item. When
// l.State is empty the item's state is taken from its other links, else
// unknown. It sets l.ID, l.RequestID (to the canonical request), l.State and
// the timestamps. False, changing nothing, when the request or one merged
// into it is already linked to the item; ENOTFOUND when it does not exist.
func (s *DB) AddLink(ctx context.Context, l *bot.Link) (bool, error) {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	roots, err := lockGroups(ctx, tx, l.RequestID)
	if err != nil {
		return false, err
	}
	root := roots[l.RequestID]
	added, err := insertLink(ctx, tx, root, l, s)
	if err != nil || !added {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	return true, nil
}

// insertLink inserts l for request root unless root's group already has the
// item.
func insertLink(ctx context.Context, tx *sqlx.Tx, root int64, l *bot.Link, s *DB) (bool, error) {
	var n int
	err := tx.GetContext(ctx, &n, tx.Rebind(subtreeCTE+`SELECT COUNT(*) FROM tracker_links
		WHERE item = ? AND request_id IN (SELECT id FROM sub)`), root, l.Item)
	if err != nil {
		return false, fmt.Errorf("find link: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	if l.State == "" {
		var known []string
		if err := tx.SelectContext(ctx, &known, tx.Rebind(`SELECT state FROM tracker_links WHERE item = ? ORDER BY updated_at DESC, id DESC LIMIT 1`), l.Item); err != nil {
			return false, fmt.Errorf("find item state: %w", err)
		}
		l.State = bot.ItemUnknown
		if len(known) > 0 {
			l.State = known[0]
		}
	}
	now := s.now()
	l.RequestID = root
	l.CreatedAt, l.UpdatedAt = now, now
	err = tx.GetContext(ctx, &l.ID, tx.Rebind(`
		INSERT INTO tracker_links (request_id, item, url, kind, state, milestone, title, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		root, l.Item, l.URL, l.Kind, l.State, l.Milestone, l.Title, l.CreatedBy, now, now)
	if err != nil {
		return false, fmt.Errorf("insert link: %w", err)
	}
	return true, nil
}

// RemoveLink unlinks item from request id and everything merged into it.
// False when it was not linked; ENOTFOUND when the request does not exist.
func (s *DB) RemoveLink(ctx context.Context, requestID int64, item string) (bool, error) {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	roots, err := lockGroups(ctx, tx, requestID)
	if err != nil {
		return false, err
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(subtreeCTE+`DELETE FROM tracker_links
		WHERE item = ? AND request_id IN (SELECT id FROM sub)`), roots[requestID], item)
	if err != nil {
		return false, fmt.Errorf("remove link: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	return true, nil
}

// FindLinks returns the links of request id and of everything merged into
// it, oldest first. ENOTFOUND when the request does not exist.
func (s *DB) FindLinks(ctx context.Context, requestID int64) ([]*bot.Link, error) {
	ls, err := subtreeRows[bot.Link](ctx, s, requestID, "links", linkColumns, "tracker_links")
	for _, l := range ls {
		l.CreatedAt, l.UpdatedAt = l.CreatedAt.UTC(), l.UpdatedAt.UTC()
	}
	return ls, err
}

// FindLinkedRequests returns the canonical requests, in id order, linked to
// an item whose Item starts with prefix.
func (s *DB) FindLinkedRequests(ctx context.Context, prefix string) ([]int64, error) {
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix) + "%"
	var ids []int64
	err := s.db.SelectContext(ctx, &ids, s.db.Rebind(`SELECT DISTINCT r.root_id FROM tracker_links l
		JOIN requests r ON r.id = l.request_id WHERE l.item LIKE ? ESCAPE '\' ORDER BY r.root_id`), esc)
	if err != nil {
		return nil, storageError(fmt.Errorf("find linked requests: %w", err))
	}
	return ids, nil
}

// RecordTrackerDelivery records (source, delivery id) and, in the same
// transaction, each item update: the state, milestone, title, URL and kind of
// every link to the item, and an automatic link for each mentioned request
// not linked yet. A delivery recorded before writes nothing: Done when it
// was finished, else Resumed with the first recording's results. A delivery
// whose items end up linked to no request is not recorded (Unrecorded).
func (s *DB) RecordTrackerDelivery(ctx context.Context, in bot.TrackerDeliveryInput) (*bot.TrackerDelivery, error) {
	if in.Source == "" || in.DeliveryID == "" {
		return nil, bot.Errorf(bot.EINVALID, "A tracker delivery needs a source and an id.")
	}
	tx, err := s.beginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := s.now()
	res, err := tx.ExecContext(ctx, tx.Rebind(`
		INSERT INTO tracker_deliveries (source, delivery_id, event, results, done, received_at)
		VALUES (?, ?, ?, '', ?, ?) ON CONFLICT (source, delivery_id) DO NOTHING`),
		in.Source, in.DeliveryID, in.Event, false, now)
	if err != nil {
		return nil, fmt.Errorf("record delivery: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("record delivery: %w", err)
	} else if n == 0 {
		return seenDelivery(ctx, tx, in.Source, in.DeliveryID)
	}
	out := &bot.TrackerDelivery{Items: []bot.ItemResult{}}
	relevant := len(in.Items) == 0 // a delivery without items (a release) is always kept
	for _, u := range in.Items {
		r, err := applyItemUpdate(ctx, tx, s, u, in.CreatedBy)
		if err != nil {
			return nil, err
		}
		if len(r.Requests) > 0 {
			relevant = true
		}
		out.Items = append(out.Items, r)
	}
	if !relevant {
		out.Unrecorded = true
		return out, nil // rolled back: nothing was linked, nothing to remember
	}
	b, err := json.Marshal(out.Items)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE tracker_deliveries SET results = ? WHERE source = ? AND delivery_id = ?`),
		string(b), in.Source, in.DeliveryID); err != nil {
		return nil, fmt.Errorf("record delivery results: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return out, nil
}

func seenDelivery(ctx context.Context, tx *sqlx.Tx, source, id string) (*bot.TrackerDelivery, error) {
	var row struct {
		Results string `db:"results"`
		Done    bool   `db:"done"`
	}
	err := tx.GetContext(ctx, &row, tx.Rebind(`SELECT results, done FROM tracker_deliveries WHERE source = ? AND delivery_id = ?`), source, id)
	if err != nil {
		return nil, fmt.Errorf("find delivery: %w", err)
	}
	if row.Done {
		return &bot.TrackerDelivery{Done: true}, nil
	}
	out := &bot.TrackerDelivery{Resumed: true}
	if row.Results != "" {
		if err := json.Unmarshal([]byte(row.Results), &out.Items); err != nil {
			return nil, fmt.Errorf("decode delivery results: %w", err)
		}
	}
	for i := range out.Items {
		ids, err := linkedRoots(ctx, tx, out.Items[i].Item)
		if err != nil {
			return nil, err
		}
		out.Items[i].Requests = ids
	}
	return out, nil
}

func applyItemUpdate(ctx context.Context, tx *sqlx.Tx, s *DB, u bot.ItemUpdate, createdBy string) (bot.ItemResult, error) {
	r := bot.ItemResult{Item: u.Item}
	var prev []string
	if err := tx.SelectContext(ctx, &prev, tx.Rebind(`SELECT state FROM tracker_links WHERE item = ? ORDER BY updated_at DESC, id DESC LIMIT 1`), u.Item); err != nil {
		return r, fmt.Errorf("find item state: %w", err)
	}
	if len(prev) > 0 {
		r.Prev = prev[0]
		q, args := `UPDATE tracker_links SET state = ?, milestone = ?, title = ?, url = ?, kind = ?, updated_at = ? WHERE item = ?`,
			[]any{u.State, u.Milestone, u.Title, u.URL, u.Kind, s.now(), u.Item}
		if u.URL == "" {
			// Only the state is known (a pull request reverted by another).
			q, args = `UPDATE tracker_links SET state = ?, updated_at = ? WHERE item = ?`, []any{u.State, s.now(), u.Item}
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(q), args...)
		if err != nil {
			return r, fmt.Errorf("update item state: %w", err)
		}
	}
	seen := map[int64]bool{}
	for _, id := range u.Mentions {
		if u.URL == "" {
			break
		}
		var root int64
		err := tx.GetContext(ctx, &root, tx.Rebind(`SELECT root_id FROM requests WHERE id = ?`), id)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return r, fmt.Errorf("find root of %d: %w", id, err)
		}
		if seen[root] {
			continue
		}
		seen[root] = true
		l := &bot.Link{Item: u.Item, URL: u.URL, Kind: u.Kind, State: u.State, Milestone: u.Milestone, Title: u.Title, CreatedBy: createdBy}
		added, err := insertLink(ctx, tx, root, l, s)
		if err != nil {
			return r, err
		}
		if added {
			r.Linked = append(r.Linked, root)
		}
	}
	ids, err := linkedRoots(ctx, tx, u.Item)
	if err != nil {
		return r, err
	}
	r.Requests = ids
	return r, nil
}

func linkedRoots(ctx context.Context, tx *sqlx.Tx, item string) ([]int64, error) {
	var ids []int64
	err := tx.SelectContext(ctx, &ids, tx.Rebind(`SELECT DISTINCT r.root_id FROM tracker_links l
		JOIN requests r ON r.id = l.request_id WHERE l.item = ? ORDER BY r.root_id`), item)
	if err != nil {
		return nil, fmt.Errorf("find requests linked to %s: %w", item, err)
	}
	return ids, nil
}

// FinishTrackerDelivery marks a recorded delivery processed; a later
// delivery with the same id is then Done. ENOTFOUND when it is not recorded.
func (s *DB) FinishTrackerDelivery(ctx context.Context, source, deliveryID string) error {
	res, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE tracker_deliveries SET done = ?, done_at = ? WHERE source = ? AND delivery_id = ?`),
		true, s.now(), source, deliveryID)
	if err != nil {
		return storageError(fmt.Errorf("finish delivery: %w", err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return bot.Errorf(bot.ENOTFOUND, "No tracker delivery %s.", deliveryID)
	}
	return nil
}
