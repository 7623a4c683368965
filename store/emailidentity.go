package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
)

// New identities with a verified email (SetIdentityEmail, PostgreSQL): an
// API author that is an address is, the first time it posts, an identity
// with no row, and the transaction that creates it (its person, its row,
// its address, the recount of what it voted on, the link with the other
// identities that have its address) was nine statements and a commit of
// its own for each new author. In the common case none of that but the two
// inserts does anything: the identity has no row, no voter row counts it
// (nothing to recount) and no other identity open to email linking has
// the address (nobody to link with). Those calls are group-committed
// (group.go) and written by one statement per batch, which checks the
// three conditions per call and writes exactly the rows the transaction
// would have written; every other call (and one whose identity another
// transaction created meanwhile) goes through the transaction as before.

// newEmailIdentity is one SetIdentityEmail call for an identity that had
// no row. written is set by the batch: the statement wrote its rows.
type newEmailIdentity struct {
	ref     bot.Identity
	name    string
	email   string // normalised
	at      time.Time
	written bool
}

// newEmailIdentities writes a batch of new identities (group.run): one
// statement, also for a batch of one (the transaction it saves is nine
// statements). A call the statement did not write, or all of them when it
// fails with anything but EUNAVAILABLE, is left to the transaction.
func (s *DB) newEmailIdentities(ctx context.Context, batch []*groupItem[*newEmailIdentity]) {
	batchOrEach(batch, true, func(b []*groupItem[*newEmailIdentity]) error { return s.newEmailIdentitiesPostgres(ctx, b) },
		func(it *groupItem[*newEmailIdentity]) error { it.in.written = false; return nil })
}

// newEmailIdentitiesSQL writes the new identities of a batch that need
// nothing but their rows: those whose identity has no row, whose key is
// no voter's person and whose address no identity open to email linking
// has, the first of the batch for its identity and for its address (no
// earlier call of the batch names either, so the calls left to the
// transaction, which run after this one, change nothing these depend on,
// and the other way round). Each gets a person (ids from persons' own
// sequence, in identity order) and its row with the values the transaction
// ends with: the name given, the address and its domain, open to email
// linking, created and updated at the call's time. Rows are inserted in
// identity order, so two batches that share identities (two replicas) wait
// for each other in the same order; an identity created meanwhile by
// another transaction is not inserted (written false) and its person is
// left for the caller to delete. The conditions are correlated subqueries
// per input row (OFFSET 0: not turned into joins over whole tables), each
// on an index (identities' key and email index, voters_person_idx).
const newEmailIdentitiesSQL = `
WITH input AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])
		WITH ORDINALITY AS t(ident, platform, workspace, user_id, name, email, email_domain, at, ord)
), np AS (
	SELECT nextval('persons_id_seq'::regclass) AS person_id, f.* FROM (
		SELECT * FROM input i
		WHERE NOT EXISTS (SELECT 1 FROM input p WHERE p.ord < i.ord AND (p.ident = i.ident OR p.email = i.email))
			AND NOT EXISTS (SELECT 1 FROM identities x WHERE x.ident = i.ident OFFSET 0)
			AND NOT EXISTS (SELECT 1 FROM voters v WHERE v.person = i.ident OFFSET 0)
			AND NOT EXISTS (SELECT 1 FROM identities x WHERE x.email = i.email AND x.email <> '' AND x.email_link OFFSET 0)
		ORDER BY i.ident
	) f
), p AS (
	INSERT INTO persons (id, created_at) SELECT person_id, at FROM np ORDER BY person_id
), ins AS (
	INSERT INTO identities (ident, platform, workspace, user_id, name, person_id, email, email_domain, email_link, created_at, updated_at)
	SELECT ident, platform, workspace, user_id, name, person_id, email, email_domain, TRUE, at, at FROM np ORDER BY ident
	ON CONFLICT (ident) DO NOTHING
	RETURNING ident
)
SELECT np.ord, np.person_id, ins.ident IS NOT NULL AS written FROM np LEFT JOIN ins ON ins.ident = np.ident`

// newEmailIdentityArgs is the arguments of newEmailIdentitiesSQL for batch.
func newEmailIdentityArgs(batch []*groupItem[*newEmailIdentity]) []any {
	n := len(batch)
	size := 0
	for _, it := range batch {
		size += 2*len(it.in.ref.UserID) + len(it.in.ref.Workspace) + len(it.in.name) + 2*len(it.in.email) + 96
	}
	a := newPGArrays(8, size)
	a.Text(n, func(i int) string { return IdentKey(batch[i].in.ref) })
	a.Text(n, func(i int) string { return batch[i].in.ref.Platform })
	a.Text(n, func(i int) string { return batch[i].in.ref.Workspace })
	a.Text(n, func(i int) string { return batch[i].in.ref.UserID })
	a.Text(n, func(i int) string { return batch[i].in.name })
	a.Text(n, func(i int) string { return batch[i].in.email })
	a.Text(n, func(i int) string { return bot.EmailDomain(batch[i].in.email) })
	a.Time(n, func(i int) time.Time { return batch[i].in.at })
	return a.Args()
}

// newEmailIdentitiesPostgres runs newEmailIdentitiesSQL for batch (its own
// transaction) and deletes the persons of the identities another
// transaction created meanwhile, so that none is left without an identity.
func (s *DB) newEmailIdentitiesPostgres(ctx context.Context, batch []*groupItem[*newEmailIdentity]) error {
	n := len(batch)
	var ord int
	var pid int64
	var written bool
	var lost []int64
	var done []int
	target := func(col string) any {
		switch col {
		case "ord":
			return intDest{&ord}
		case "person_id":
			return int64Dest{&pid}
		case "written":
			return &written
		}
		return nil
	}
	rows, err := s.queryGeneric(ctx, newEmailIdentitiesSQL, newEmailIdentityArgs(batch)...)
	if err == nil {
		err = scanRows(rows, target, func() error {
			if ord < 1 || ord > n {
				return fmt.Errorf("row for identity %d of %d", ord, n)
			}
			if written {
				done = append(done, ord-1)
			} else {
				lost = append(lost, pid)
			}
			return nil
		})
	}
	if err != nil {
		return storageError(fmt.Errorf("create identities: %w", err))
	}
	for _, i := range done {
		batch[i].in.written = true
	}
	if len(lost) > 0 {
		a := newPGArrays(1, 24*len(lost))
		a.Int(len(lost), func(i int) int64 { return lost[i] })
		if _, err := s.db.ExecContext(ctx, `DELETE FROM persons WHERE id = ANY($1::bigint[])`, a.Args()...); err != nil {
			// The identities are written; the persons are only unused.
			slog.Warn("delete the persons of identities created meanwhile", "persons", lost, "err", err)
		}
	}
	return nil
}
