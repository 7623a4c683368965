package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/feedbackbot/feedbackbot/bot"
)

// Merge actions in the merges log.
const (
	mergeActionMerge   = "merge"
	mergeActionUnmerge = "unmerge"
)

// Merge merges src into dst's canonical request and returns that canonical
// request with its new counts. ENOTFOUND when either request does not exist;
// ECONFLICT when src is already merged, or when dst resolves to src (a cycle).
func (s *DB) Merge(ctx context.Context, src, dst int64, actor string) (*bot.Request, error) {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	r, err := merge(ctx, tx, src, dst, actor, s.now())
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return r, nil
}

func merge(ctx context.Context, tx *sqlx.Tx, src, dst int64, actor string, now time.Time) (*bot.Request, error) {
	roots, err := lockGroups(ctx, tx, src, dst)
	if err != nil {
		return nil, err
	}
	if roots[src] != src {
		return nil, storeError(bot.ECONFLICT, bot.ReasonAlreadyMerged, fmt.Sprintf("Request %d is already merged into request %d.", src, roots[src]), src, roots[src])
	}
	into := roots[dst]
	if into == src {
		if dst == src {
			return nil, storeError(bot.ECONFLICT, bot.ReasonMergeSelf, fmt.Sprintf("Request %d cannot be merged into itself.", src), src)
		}
		return nil, storeError(bot.ECONFLICT, bot.ReasonMergeCycle, fmt.Sprintf("Request %d is merged into request %d, so merging %d into it would make a cycle.", dst, src, src), dst, src)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE requests SET merged_into = ?, updated_at = ? WHERE id = ?`), into, now, src); err != nil {
		return nil, fmt.Errorf("merge %d into %d: %w", src, into, err)
	}
	// src is a root, so its subtree is exactly the rows whose root is src.
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE requests SET root_id = ? WHERE root_id = ?`), into, src); err != nil {
		return nil, fmt.Errorf("merge %d into %d: %w", src, into, err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE requests SET updated_at = ? WHERE id = ?`), now, into); err != nil {
		return nil, fmt.Errorf("merge %d into %d: %w", src, into, err)
	}
	if err := logMerge(ctx, tx, mergeActionMerge, src, into, actor, now); err != nil {
		return nil, err
	}
	if err := recount(ctx, tx, into); err != nil {
		return nil, err
	}
	return findRequestByID(ctx, tx, into)
}

// Unmerge restores src with exactly its own mentions and voters (and what was
// merged into it) and returns it. The requests it was merged into are
// recounted. ENOTFOUND; ECONFLICT when src is not merged.
func (s *DB) Unmerge(ctx context.Context, src int64, actor string) (*bot.Request, error) {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := s.now()
	if _, err := lockGroups(ctx, tx, src); err != nil {
		return nil, err
	}
	up, err := chain(ctx, tx, src)
	if err != nil {
		return nil, err
	}
	if len(up) < 2 {
		return nil, storeError(bot.ECONFLICT, bot.ReasonNotMerged, fmt.Sprintf("Request %d is not merged into another request.", src), src)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE requests SET merged_into = NULL, updated_at = ? WHERE id = ?`), now, src); err != nil {
		return nil, fmt.Errorf("unmerge %d: %w", src, err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(subtreeCTE+`UPDATE requests SET root_id = ? WHERE id IN (SELECT id FROM sub)`), src, src); err != nil {
		return nil, fmt.Errorf("unmerge %d: %w", src, err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE requests SET updated_at = ? WHERE id = ?`), now, up[1]); err != nil {
		return nil, fmt.Errorf("unmerge %d: %w", src, err)
	}
	if err := logMerge(ctx, tx, mergeActionUnmerge, src, up[1], actor, now); err != nil {
		return nil, err
	}
	if err := recount(ctx, tx, up[1:]...); err != nil {
		return nil, err
	}
	r, err := findRequestByID(ctx, tx, src)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return r, nil
}

func logMerge(ctx context.Context, tx *sqlx.Tx, action string, src, dst int64, actor string, now time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO merges (action, src_id, dst_id, actor, created_at) VALUES (?, ?, ?, ?, ?)`),
		action, src, dst, actor, now)
	if err != nil {
		return fmt.Errorf("log %s: %w", action, err)
	}
	return nil
}
