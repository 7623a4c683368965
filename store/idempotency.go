package store

import (
	"context"
	"fmt"
)

// ClaimIdempotencyKey records key in scope (an API route) with the
// fingerprint of the request made with it, unless it is recorded already,
// and returns what is recorded: the fingerprint of the first request with
// the key, and the status and body of its answer ("" while none is stored:
// the first request is in flight or failed). Concurrent claims of one key
// all see the first claim's fingerprint.
func (s *DB) ClaimIdempotencyKey(ctx context.Context, scope, key, fingerprint string) (storedFingerprint string, status int, body string, err error) {
	if _, err := s.exec(ctx, `
		INSERT INTO idempotency_keys (scope, key, fingerprint, status, response, created_at)
		VALUES (?, ?, ?, 0, '', ?) ON CONFLICT (scope, key) DO NOTHING`,
		scope, key, fingerprint, s.now()); err != nil {
		return "", 0, "", fmt.Errorf("claim idempotency key: %w", err)
	}
	var row struct {
		Fingerprint string `db:"fingerprint"`
		Status      int    `db:"status"`
		Response    string `db:"response"`
	}
	if err := s.get(ctx, &row, `SELECT fingerprint, status, response FROM idempotency_keys WHERE scope = ? AND key = ?`, scope, key); err != nil {
		return "", 0, "", fmt.Errorf("read idempotency key: %w", err)
	}
	return row.Fingerprint, row.Status, row.Response, nil
}

// SaveIdempotentAnswer stores the answer of the first request made with key
// in scope. It keeps an answer stored before and then reports false.
func (s *DB) SaveIdempotentAnswer(ctx context.Context, scope, key string, status int, body string) (bool, error) {
	res, err := s.exec(ctx, `UPDATE idempotency_keys SET status = ?, response = ? WHERE scope = ? AND key = ? AND response = ''`,
		status, body, scope, key)
	if err != nil {
		return false, fmt.Errorf("save idempotent answer: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}
