package store

import (
	"context"
	"fmt"

	"github.com/feedbackbot/feedbackbot/bot"
)

// SetChannel adds (on) or removes a channel setting; false when nothing
// changed. EINVALID for an unknown kind.
func (s *DB) SetChannel(ctx context.Context, c bot.ChannelSetting, on bool) (bool, error) {
	if c.Kind != bot.ChannelWatch && c.Kind != bot.ChannelReleases {
		return false, bot.Errorf(bot.EINVALID, "Unknown channel setting %q.", c.Kind)
	}
	tx, err := s.beginTx(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	q := `DELETE FROM channels WHERE platform = ? AND workspace = ? AND channel = ? AND kind = ?`
	args := []any{c.Platform, c.Workspace, c.Channel, c.Kind}
	if on {
		q = `INSERT INTO channels (platform, workspace, channel, kind, set_by, created_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (platform, workspace, channel, kind) DO NOTHING`
		args = append(args, c.SetBy, s.now())
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(q), args...)
	if err != nil {
		return false, fmt.Errorf("set channel: %w", err)
	}
	n, _ := res.RowsAffected()
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	return n > 0, nil
}

// HasChannel reports whether the channel has the setting kind.
func (s *DB) HasChannel(ctx context.Context, platform, workspace, channel, kind string) (bool, error) {
	var n int
	err := s.get(ctx, &n, `SELECT COUNT(*) FROM channels WHERE platform = ? AND workspace = ? AND channel = ? AND kind = ?`,
		platform, workspace, channel, kind)
	if err != nil {
		return false, fmt.Errorf("has channel: %w", err)
	}
	return n > 0, nil
}

// ChannelKinds returns the settings of a channel (bot.ChannelWatch,
// bot.ChannelReleases) in one query, sorted.
func (s *DB) ChannelKinds(ctx context.Context, platform, workspace, channel string) ([]string, error) {
	var kinds []string
	err := s.selectAll(ctx, &kinds, `SELECT kind FROM channels WHERE platform = ? AND workspace = ? AND channel = ? ORDER BY kind`,
		platform, workspace, channel)
	if err != nil {
		return nil, fmt.Errorf("channel settings: %w", err)
	}
	return kinds, nil
}
