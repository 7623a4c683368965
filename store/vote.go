package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/feedbackbot/feedbackbot/bot"
)

// personIdentsSQL selects the identity keys of the person of the identity
// bound to its two parameters (the same key twice): the identity itself and
// every identity linked to it.
const personIdentsSQL = `SELECT CAST(? AS TEXT) UNION SELECT ident FROM identities WHERE person_id = (SELECT person_id FROM identities WHERE ident = ?)`

// AddVote adds v (kind vote) to v.RequestID and updates the counters of the
// request and of everything it is merged into. It returns false, changing
// nothing, when the person (any identity linked to v's) already has a row on
// that request (as author or voter). ENOTFOUND when the request does not
// exist.
//
// A vote on a canonical request by someone who only counts through a merged
// duplicate is recorded (true) but does not change the demand; it keeps the
// person counted on the canonical request if the duplicate is unmerged.
func (s *DB) AddVote(ctx context.Context, v bot.Voter) (bool, error) {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if _, err := lockGroups(ctx, tx, v.RequestID); err != nil {
		return false, err
	}
	var n int
	ident := person(v.Platform, v.Workspace, v.UserID)
	if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM voters WHERE request_id = ? AND person IN (`+personIdentsSQL+`)`),
		v.RequestID, ident, ident); err != nil {
		return false, fmt.Errorf("find voter: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	v.Kind = bot.VoteVote
	added, err := insertVoter(ctx, tx, v, s.now())
	if err != nil || !added {
		return false, err
	}
	if err := recountChain(ctx, tx, v.RequestID); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	return true, nil
}

// RemoveVote removes the kind=vote rows of a person (the identity and every
// identity linked to it) on requestID (never an authorship) and updates the
// counters. False when there was no such vote.
func (s *DB) RemoveVote(ctx context.Context, requestID int64, platform, workspace, userID string) (bool, error) {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if _, err := lockGroups(ctx, tx, requestID); err != nil {
		return false, err
	}
	ident := person(platform, workspace, userID)
	res, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM voters WHERE request_id = ? AND kind = ? AND person IN (`+personIdentsSQL+`)`),
		requestID, bot.VoteVote, ident, ident)
	if err != nil {
		return false, fmt.Errorf("remove vote: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if err := recountChain(ctx, tx, requestID); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	return true, nil
}

// insertVoter inserts v unless that person already has a row of that kind on
// that request; it reports whether a row was inserted.
func insertVoter(ctx context.Context, tx *sqlx.Tx, v bot.Voter, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, tx.Rebind(`
		INSERT INTO voters (request_id, platform, workspace, user_id, person, org, kind, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (request_id, person, kind) DO NOTHING`),
		v.RequestID, v.Platform, v.Workspace, v.UserID, person(v.Platform, v.Workspace, v.UserID), v.Org, v.Kind, now)
	if isForeignKeyViolation(err) {
		return false, errNoRequest(v.RequestID)
	}
	if err != nil {
		return false, fmt.Errorf("insert voter: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
