package store

import (
	"context"
	"fmt"
)

// LastMessageNumber returns the highest numeric message id the store holds
// for platform and workspace: captured messages and their threads, the bot's
// cards, suggestions and delivered replies. The console numbers its messages
// 1, 2, 3 …; continuing after this number on every launch keeps a new
// message from colliding with one captured in an earlier session. 0 when
// there is none.
func (s *DB) LastMessageNumber(ctx context.Context, platform, workspace string) (int64, error) {
	// Only ids made of digits count; the cast differs per dialect.
	num := `CAST(id AS BIGINT)`
	isNum := `id ~ '^[0-9]{1,18}$'`
	if s.dialect == DialectSQLite {
		num = `CAST(id AS INTEGER)`
		isNum = `id <> '' AND length(id) <= 18 AND id NOT GLOB '*[^0-9]*'`
	}
	q := `SELECT COALESCE(MAX(` + num + `), 0) FROM (
		SELECT message_id AS id FROM mentions WHERE platform = ? AND workspace = ?
		UNION ALL SELECT thread_id FROM mentions WHERE platform = ? AND workspace = ?
		UNION ALL SELECT message_id FROM cards WHERE platform = ? AND workspace = ?
		UNION ALL SELECT message_id FROM suggestions WHERE platform = ? AND workspace = ?
		UNION ALL SELECT message_id FROM deliveries WHERE platform = ? AND workspace = ?
	) ids WHERE ` + isNum
	var n int64
	args := []any{}
	for range 5 {
		args = append(args, platform, workspace)
	}
	if err := s.get(ctx, &n, q, args...); err != nil {
		return 0, fmt.Errorf("last message number: %w", err)
	}
	return n, nil
}
