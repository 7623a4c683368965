package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
)

var _ bot.SessionStore = (*DB)(nil)

type sessionRow struct {
	IDHash    string    `db:"id_hash"`
	Kind      string    `db:"kind"`
	Platform  string    `db:"platform"`
	Workspace string    `db:"workspace"`
	UserID    string    `db:"user_id"`
	Name      string    `db:"name"`
	Email     string    `db:"email"`
	Team      bool      `db:"team"`
	CSRF      string    `db:"csrf"`
	CreatedAt time.Time `db:"created_at"`
	ExpiresAt time.Time `db:"expires_at"`
}

// CreateSession stores a web session (and drops expired ones).
func (s *DB) CreateSession(ctx context.Context, ws *bot.WebSession) error {
	now := s.now()
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM web_sessions WHERE expires_at < ?`), now); err != nil {
		return storageError(fmt.Errorf("expire sessions: %w", err))
	}
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO web_sessions (id_hash, kind, platform, workspace, user_id, name, email, team, csrf, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		ws.IDHash, ws.Kind, ws.Identity.Platform, ws.Identity.Workspace, ws.Identity.UserID, ws.Name, ws.Email, ws.Team, ws.CSRF,
		ws.CreatedAt.UTC(), ws.ExpiresAt.UTC())
	if err != nil {
		return storageError(fmt.Errorf("create session: %w", err))
	}
	return nil
}

// FindSession returns the unexpired session with that id hash. ENOTFOUND.
func (s *DB) FindSession(ctx context.Context, idHash string, now time.Time) (*bot.WebSession, error) {
	var r sessionRow
	err := s.get(ctx, &r, `SELECT id_hash, kind, platform, workspace, user_id, name, email, team, csrf, created_at, expires_at
		FROM web_sessions WHERE id_hash = ? AND expires_at > ?`, idHash, now.UTC())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bot.Errorf(bot.ENOTFOUND, "There is no such session.")
	}
	if err != nil {
		return nil, fmt.Errorf("find session: %w", err)
	}
	return &bot.WebSession{
		IDHash: r.IDHash, Kind: r.Kind,
		Identity: bot.Identity{Platform: r.Platform, Workspace: r.Workspace, UserID: r.UserID},
		Name:     r.Name, Email: r.Email, Team: r.Team, CSRF: r.CSRF,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
	}, nil
}

// DeleteSession revokes a session (logout). Deleting a missing one is fine.
func (s *DB) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM web_sessions WHERE id_hash = ?`), idHash); err != nil {
		return storageError(fmt.Errorf("delete session: %w", err))
	}
	return nil
}

// CreateAuthState stores a sign-in in progress (and drops expired ones).
func (s *DB) CreateAuthState(ctx context.Context, st *bot.AuthState) error {
	now := s.now()
	if _, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM auth_states WHERE expires_at < ?`), now); err != nil {
		return storageError(fmt.Errorf("expire sign-ins: %w", err))
	}
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO auth_states (state_hash, nonce, verifier, next, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`),
		st.StateHash, st.Nonce, st.Verifier, st.Next, now, st.ExpiresAt.UTC())
	if err != nil {
		return storageError(fmt.Errorf("create sign-in: %w", err))
	}
	return nil
}

// TakeAuthState deletes the state and returns it when it had not expired at
// now: a state is used once. ENOTFOUND for an unknown, used or expired one.
func (s *DB) TakeAuthState(ctx context.Context, stateHash string, now time.Time) (*bot.AuthState, error) {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var r struct {
		Nonce     string    `db:"nonce"`
		Verifier  string    `db:"verifier"`
		Next      string    `db:"next"`
		ExpiresAt time.Time `db:"expires_at"`
	}
	err = tx.GetContext(ctx, &r, tx.Rebind(`SELECT nonce, verifier, next, expires_at FROM auth_states WHERE state_hash = ?`), stateHash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, bot.Errorf(bot.ENOTFOUND, "This sign-in is unknown or was already used.")
	}
	if err != nil {
		return nil, storageError(fmt.Errorf("find sign-in: %w", err))
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM auth_states WHERE state_hash = ?`), stateHash)
	if err != nil {
		return nil, storageError(fmt.Errorf("use sign-in: %w", err))
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, bot.Errorf(bot.ENOTFOUND, "This sign-in is unknown or was already used.")
	}
	if err := tx.Commit(); err != nil {
		return nil, storageError(fmt.Errorf("commit: %w", err))
	}
	if !r.ExpiresAt.After(now) {
		return nil, bot.Errorf(bot.ENOTFOUND, "This sign-in has expired; start again.")
	}
	return &bot.AuthState{StateHash: stateHash, Nonce: r.Nonce, Verifier: r.Verifier, Next: r.Next, ExpiresAt: r.ExpiresAt.UTC()}, nil
}
