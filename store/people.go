package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/feedbackbot/feedbackbot/bot"
)

// People: an identity is one account (platform, workspace, user id) whose
// key, person(platform, workspace, user), is what voters.person holds. An
// identity with no row in identities is a person of its own; linking gives
// both identities rows with one person_id. Demand counts distinct
// COALESCE(person_id, voters.person) (see recountSQL), so linking and
// splitting only change the mapping and recount the requests the moved
// identities count on: votes and authorships are never rewritten, and a
// split is an exact undo of a link.

const identityColumns = `platform, workspace, user_id, name, person_id, email, email_link, created_at`

// Person link log actions.
const (
	linkActionLink  = "link"
	linkActionSplit = "split"
	linkActionEmail = "email"
)

// chunk is how many values go into one IN (…) list.
const chunk = 500

// IdentKey returns the voters.person key of an identity.
func IdentKey(ref bot.Identity) string { return person(ref.Platform, ref.Workspace, ref.UserID) }

// queryer is a *sqlx.DB or a *sqlx.Tx.
type queryer interface {
	sqlx.QueryerContext
	Rebind(string) string
}

// findIdentity returns the row of ref, or nil when it has none.
func findIdentity(ctx context.Context, q queryer, ref bot.Identity) (*bot.IdentityRecord, error) {
	var row identityRow
	err := sqlx.GetContext(ctx, q, &row, q.Rebind(`SELECT `+identityColumns+` FROM identities WHERE ident = ?`), IdentKey(ref))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find identity: %w", err)
	}
	return row.record(), nil
}

// identityRow is one row of identities (identityColumns).
type identityRow struct {
	Platform  string    `db:"platform"`
	Workspace string    `db:"workspace"`
	UserID    string    `db:"user_id"`
	Name      string    `db:"name"`
	PersonID  int64     `db:"person_id"`
	Email     string    `db:"email"`
	EmailLink bool      `db:"email_link"`
	CreatedAt time.Time `db:"created_at"`
}

func (r identityRow) record() *bot.IdentityRecord {
	return &bot.IdentityRecord{
		Identity: bot.Identity{Platform: r.Platform, Workspace: r.Workspace, UserID: r.UserID},
		Name:     r.Name, PersonID: r.PersonID, Email: r.Email, EmailLink: r.EmailLink, CreatedAt: r.CreatedAt.UTC(),
	}
}

// ensureIdentity returns the row of ref, creating it with a person of its
// own when it has none. A new email identity (email:jane@example.com) gets
// its address as its verified email. A non-empty name replaces the stored one.
func ensureIdentity(ctx context.Context, tx *sqlx.Tx, ref bot.Identity, name string, now time.Time) (*bot.IdentityRecord, error) {
	if ref.Platform == "" || ref.UserID == "" {
		return nil, bot.Errorf(bot.EINVALID, "An identity needs a platform and a user id.")
	}
	id, err := findIdentity(ctx, tx, ref)
	if err != nil {
		return nil, err
	}
	if id != nil {
		if name != "" && name != id.Name {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE identities SET name = ?, updated_at = ? WHERE ident = ?`), name, now, IdentKey(ref)); err != nil {
				return nil, fmt.Errorf("rename identity: %w", err)
			}
			id.Name = name
		}
		return id, nil
	}
	var pid int64
	if err := tx.GetContext(ctx, &pid, tx.Rebind(`INSERT INTO persons (created_at) VALUES (?) RETURNING id`), now); err != nil {
		return nil, fmt.Errorf("create person: %w", err)
	}
	email, domain := "", ""
	if ref.Platform == bot.PlatformEmail {
		if e, ok := bot.NormalizeEmail(ref.UserID); ok {
			email, domain = e, bot.EmailDomain(e)
		}
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO identities (ident, platform, workspace, user_id, name, person_id, email, email_domain, email_link, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ident) DO NOTHING`),
		IdentKey(ref), ref.Platform, ref.Workspace, ref.UserID, name, pid, email, domain, true, now, now)
	if err != nil {
		return nil, fmt.Errorf("create identity: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Created at the same time by another transaction: use that one.
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM persons WHERE id = ?`), pid); err != nil {
			return nil, fmt.Errorf("create identity: %w", err)
		}
		id, err := findIdentity(ctx, tx, ref)
		if err != nil {
			return nil, err
		}
		if id == nil {
			return nil, bot.Errorf(bot.ECONFLICT, "That identity changed at the same time; try again.")
		}
		return id, nil
	}
	return &bot.IdentityRecord{Identity: ref, Name: name, PersonID: pid, Email: email, EmailLink: true, CreatedAt: now}, nil
}

// personIdents returns the identity keys of person pid.
func personIdents(ctx context.Context, tx *sqlx.Tx, pid int64) ([]string, error) {
	var ks []string
	if err := tx.SelectContext(ctx, &ks, tx.Rebind(`SELECT ident FROM identities WHERE person_id = ? ORDER BY ident`), pid); err != nil {
		return nil, fmt.Errorf("identities of person %d: %w", pid, err)
	}
	return ks, nil
}

// joinPersons moves every identity of person from into person to.
func joinPersons(ctx context.Context, tx *sqlx.Tx, from, to int64, now time.Time) error {
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE identities SET person_id = ?, updated_at = ? WHERE person_id = ?`), to, now, from); err != nil {
		return fmt.Errorf("link persons: %w", err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM persons WHERE id = ?`), from); err != nil {
		return fmt.Errorf("link persons: %w", err)
	}
	return nil
}

func logLink(ctx context.Context, tx *sqlx.Tx, action, ident, other, actor string, now time.Time) error {
	_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO person_links (action, ident, other, actor, created_at) VALUES (?, ?, ?, ?, ?)`),
		action, ident, other, actor, now)
	if err != nil {
		return fmt.Errorf("log %s: %w", action, err)
	}
	return nil
}

// LinkIdentities makes b's person the same person as a's: every identity of
// b's person joins a's. It returns false, changing nothing, when they are
// already one person. Email identities (email:…) are linked with the
// identities that have that verified email first.
func (s *DB) LinkIdentities(ctx context.Context, a, b bot.Identity, actor string) (bool, error) {
	if IdentKey(a) == IdentKey(b) {
		return false, bot.Errorf(bot.EINVALID, "That is the same identity twice; name two different people.")
	}
	tx, err := s.beginTx(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	now := s.now()
	ids := make([]*bot.IdentityRecord, 2)
	for i, ref := range []bot.Identity{a, b} {
		if ids[i], err = ensureIdentity(ctx, tx, ref, "", now); err != nil {
			return false, err
		}
		if ref.Platform == bot.PlatformEmail && ids[i].Email != "" {
			if _, err := s.linkByEmail(ctx, tx, ids[i], now); err != nil {
				return false, err
			}
			if ids[i], err = findIdentity(ctx, tx, ref); err != nil {
				return false, err
			}
		}
	}
	ia, ib := ids[0], ids[1]
	if ia.PersonID == ib.PersonID {
		if err := tx.Commit(); err != nil {
			return false, fmt.Errorf("commit: %w", err)
		}
		return false, nil
	}
	ka, err := personIdents(ctx, tx, ia.PersonID)
	if err != nil {
		return false, err
	}
	kb, err := personIdents(ctx, tx, ib.PersonID)
	if err != nil {
		return false, err
	}
	affected, err := lockVoterRequests(ctx, tx, append(ka, kb...), nil)
	if err != nil {
		return false, err
	}
	if err := joinPersons(ctx, tx, ib.PersonID, ia.PersonID, now); err != nil {
		return false, err
	}
	if err := logLink(ctx, tx, linkActionLink, IdentKey(b), IdentKey(a), actor, now); err != nil {
		return false, err
	}
	if err := recount(ctx, tx, affected...); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	return true, nil
}

// SplitIdentity makes ref a person of its own again (the exact undo of
// linking it) and keeps it from being linked by email again. False when it
// already is a person of its own.
func (s *DB) SplitIdentity(ctx context.Context, ref bot.Identity, actor string) (bool, error) {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	now := s.now()
	id, err := findIdentity(ctx, tx, ref)
	if err != nil || id == nil {
		return false, err
	}
	ks, err := personIdents(ctx, tx, id.PersonID)
	if err != nil {
		return false, err
	}
	if len(ks) < 2 {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE identities SET email_link = ? WHERE ident = ?`), false, IdentKey(ref)); err != nil {
			return false, fmt.Errorf("split identity: %w", err)
		}
		return false, tx.Commit()
	}
	affected, err := lockVoterRequests(ctx, tx, ks, nil)
	if err != nil {
		return false, err
	}
	var pid int64
	if err := tx.GetContext(ctx, &pid, tx.Rebind(`INSERT INTO persons (created_at) VALUES (?) RETURNING id`), now); err != nil {
		return false, fmt.Errorf("create person: %w", err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE identities SET person_id = ?, email_link = ?, updated_at = ? WHERE ident = ?`),
		pid, false, now, IdentKey(ref)); err != nil {
		return false, fmt.Errorf("split identity: %w", err)
	}
	if err := logLink(ctx, tx, linkActionSplit, IdentKey(ref), "", actor, now); err != nil {
		return false, err
	}
	if err := recount(ctx, tx, affected...); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	return true, nil
}

// SetIdentityEmail records ref's verified email address (and its display
// name) and links ref's person with the person of the other identities that
// have that address, unless ref was split off by hand. It reports whether
// persons were linked. Callers pass only verified addresses (Slack profile
// email, an API author that is an email address, a sign-in with
// email_verified). EINVALID for something that is not an address.
func (s *DB) SetIdentityEmail(ctx context.Context, ref bot.Identity, name, email string) (bool, error) {
	e, ok := bot.NormalizeEmail(email)
	if !ok {
		return false, bot.Errorf(bot.EINVALID, "%q is not an email address.", clip(email, 60))
	}
	// Cheap check first: nothing to do when the row already has the address.
	cur, err := findIdentity(ctx, s.db, ref)
	if err == nil && cur != nil && cur.Email == e && (name == "" || cur.Name == name) {
		return false, nil
	}
	if err == nil && cur == nil && s.dialect == DialectPostgres && ref.Platform != "" && ref.UserID != "" {
		// A new identity: most often written by the batch statement
		// (emailidentity.go); the others fall back to the transaction.
		in := &newEmailIdentity{ref: ref, name: name, email: e, at: s.now()}
		if err := s.emails.do(ctx, in); err != nil {
			return false, err
		}
		if in.written {
			return false, nil
		}
		if cur, err := findIdentity(ctx, s.db, ref); err == nil && cur != nil && cur.Email == e && (name == "" || cur.Name == name) {
			return false, nil
		}
	}
	return s.setIdentityEmailTx(ctx, ref, name, e)
}

// setIdentityEmailTx is SetIdentityEmail for the normalised address e, in
// a transaction of its own: ref's row created (with a person of its own)
// when it has none, its address set (recounting what ref's person counts
// on), and its person linked by email.
func (s *DB) setIdentityEmailTx(ctx context.Context, ref bot.Identity, name, e string) (bool, error) {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	now := s.now()
	id, err := ensureIdentity(ctx, tx, ref, name, now)
	if err != nil {
		return false, err
	}
	if id.Email != e {
		ks, err := personIdents(ctx, tx, id.PersonID)
		if err != nil {
			return false, err
		}
		// The company behind the person may change with the domain.
		affected, err := lockVoterRequests(ctx, tx, ks, nil)
		if err != nil {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE identities SET email = ?, email_domain = ?, updated_at = ? WHERE ident = ?`),
			e, bot.EmailDomain(e), now, IdentKey(ref)); err != nil {
			return false, fmt.Errorf("set email: %w", err)
		}
		id.Email = e
		if err := recount(ctx, tx, affected...); err != nil {
			return false, err
		}
	}
	linked, err := s.linkByEmail(ctx, tx, id, now)
	if err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit: %w", err)
	}
	return linked, nil
}

// linkByEmailSQL finds the person an identity with this address joins.
// Saying that the address is not empty (it never is here) lets SQLite use
// the partial index identities_email_idx, which it cannot do for a parameter
// it does not know is not empty: without it every new API author that is
// an email address read all identities (TestLinkByEmailUsesIndex).
const linkByEmailSQL = `SELECT person_id FROM identities
	WHERE email = ? AND email <> '' AND email_link = ? AND person_id <> ? ORDER BY created_at, ident LIMIT 1`

// linkByEmail joins id's person into the person of the oldest other
// identity with the same verified email (both still open to email
// linking). It reports whether persons were linked.
func (s *DB) linkByEmail(ctx context.Context, tx *sqlx.Tx, id *bot.IdentityRecord, now time.Time) (bool, error) {
	if id.Email == "" || !id.EmailLink {
		return false, nil
	}
	var target int64
	err := tx.GetContext(ctx, &target, tx.Rebind(linkByEmailSQL), id.Email, true, id.PersonID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("find email: %w", err)
	}
	ka, err := personIdents(ctx, tx, target)
	if err != nil {
		return false, err
	}
	kb, err := personIdents(ctx, tx, id.PersonID)
	if err != nil {
		return false, err
	}
	affected, err := lockVoterRequests(ctx, tx, append(ka, kb...), nil)
	if err != nil {
		return false, err
	}
	if err := joinPersons(ctx, tx, id.PersonID, target, now); err != nil {
		return false, err
	}
	if err := logLink(ctx, tx, linkActionEmail, IdentKey(id.Identity), id.Email, "", now); err != nil {
		return false, err
	}
	id.PersonID = target
	return true, recount(ctx, tx, affected...)
}

// FindPerson returns the person of ref with every identity linked to it and
// the canonical requests it counts on (as author or voter). An identity with
// no row is returned as a person of its own (ID 0).
func (s *DB) FindPerson(ctx context.Context, ref bot.Identity) (*bot.Person, error) {
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	p := &bot.Person{}
	id, err := findIdentity(ctx, tx, ref)
	if err != nil {
		return nil, err
	}
	keys := []string{IdentKey(ref)}
	if id == nil {
		p.Identities = []bot.IdentityRecord{{Identity: ref, EmailLink: true}}
	} else {
		p.ID = id.PersonID
		var rows []identityRow
		if err := tx.SelectContext(ctx, &rows, tx.Rebind(`SELECT `+identityColumns+` FROM identities WHERE person_id = ? ORDER BY created_at, ident`), id.PersonID); err != nil {
			return nil, fmt.Errorf("identities: %w", err)
		}
		keys = keys[:0]
		for _, r := range rows {
			p.Identities = append(p.Identities, *r.record())
			keys = append(keys, IdentKey(p.Identities[len(p.Identities)-1].Identity))
		}
	}
	q, args, err := sqlx.In(`SELECT DISTINCT `+rootColumns+` FROM voters v JOIN requests r ON r.id = v.request_id
		JOIN requests c ON c.id = r.root_id WHERE v.person IN (?) ORDER BY c.id`, keys)
	if err != nil {
		return nil, err
	}
	if err := tx.SelectContext(ctx, &p.Requests, tx.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("requests of person: %w", err)
	}
	for _, r := range p.Requests {
		fixRequest(r)
	}
	return p, nil
}

// lockVoterRequests returns the requests whose counters may change when the
// persons or companies of the given voters change: the requests with a
// voter row of one of idents or in one of orgs, and every request they are
// merged into. On PostgreSQL it locks the canonical requests of those groups
// first (in id order), like every change to a group's counters.
func lockVoterRequests(ctx context.Context, tx *sqlx.Tx, idents, orgs []string) ([]int64, error) {
	seen := map[int64]bool{}
	var direct []int64
	add := func(col string, vals []string) error {
		for i := 0; i < len(vals); i += chunk {
			part := vals[i:min(i+chunk, len(vals))]
			q, args, err := sqlx.In(`SELECT DISTINCT request_id FROM voters WHERE `+col+` IN (?)`, part)
			if err != nil {
				return err
			}
			var ids []int64
			if err := tx.SelectContext(ctx, &ids, tx.Rebind(q), args...); err != nil {
				return fmt.Errorf("affected requests: %w", err)
			}
			for _, id := range ids {
				if !seen[id] {
					seen[id] = true
					direct = append(direct, id)
				}
			}
		}
		return nil
	}
	if err := add("person", idents); err != nil {
		return nil, err
	}
	if err := add("org", orgs); err != nil {
		return nil, err
	}
	if len(direct) == 0 {
		return nil, nil
	}
	if tx.DriverName() == "postgres" {
		sort.Slice(direct, func(i, j int) bool { return direct[i] < direct[j] })
		for i := 0; i < len(direct); i += chunk {
			q, args, err := sqlx.In(`SELECT id FROM requests WHERE id IN (SELECT root_id FROM requests WHERE id IN (?)) ORDER BY id FOR NO KEY UPDATE`, direct[i:min(i+chunk, len(direct))])
			if err != nil {
				return nil, err
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind(q), args...); err != nil {
				return nil, fmt.Errorf("lock requests: %w", err)
			}
		}
	}
	out := []int64{}
	done := map[int64]bool{}
	for _, id := range direct {
		up, err := chain(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		for _, u := range up {
			if !done[u] {
				done[u] = true
				out = append(out, u)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// SetHomeOrgs replaces the configured home organisations (the team's own,
// never counted as customer organisations or companies; FEEDBACKBOT_HOME_ORGS
// and the console default) and recounts the requests whose counts change.
// Organisations added by a platform (AddHomeOrg) stay. Empty entries are
// ignored.
func (s *DB) SetHomeOrgs(ctx context.Context, orgs []string) error {
	want := map[string]bool{}
	for _, o := range orgs {
		if o = strings.TrimSpace(o); o != "" {
			want[o] = true
		}
	}
	return s.changeHomeOrgs(ctx, func(tx *sqlx.Tx) ([]string, error) {
		var have []struct {
			Org    string `db:"org"`
			Source string `db:"source"`
		}
		if err := tx.SelectContext(ctx, &have, `SELECT org, source FROM home_orgs`); err != nil {
			return nil, fmt.Errorf("home organisations: %w", err)
		}
		var changed []string
		had := map[string]bool{}
		for _, h := range have {
			had[h.Org] = true
			if !want[h.Org] && h.Source == homeSourceConfig {
				changed = append(changed, h.Org)
				if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM home_orgs WHERE org = ?`), h.Org); err != nil {
					return nil, fmt.Errorf("home organisations: %w", err)
				}
			}
		}
		for o := range want {
			if !had[o] {
				changed = append(changed, o)
				if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO home_orgs (org, source) VALUES (?, ?)`), o, homeSourceConfig); err != nil {
					return nil, fmt.Errorf("home organisations: %w", err)
				}
			}
		}
		return changed, nil
	})
}

// homeSourceConfig marks home organisations from the configuration.
const homeSourceConfig = "config"

// AddHomeOrg records org as a home organisation reported by a platform
// (source, such as "slack" for the installing workspace), recounting what
// changes. Nothing happens when org already is one.
func (s *DB) AddHomeOrg(ctx context.Context, org, source string) error {
	org = strings.TrimSpace(org)
	if org == "" {
		return nil
	}
	var n int
	if err := s.db.GetContext(ctx, &n, s.db.Rebind(`SELECT COUNT(*) FROM home_orgs WHERE org = ?`), org); err == nil && n > 0 {
		return nil
	}
	return s.changeHomeOrgs(ctx, func(tx *sqlx.Tx) ([]string, error) {
		res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO home_orgs (org, source) VALUES (?, ?) ON CONFLICT (org) DO NOTHING`), org, source)
		if err != nil {
			return nil, fmt.Errorf("home organisations: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil, nil
		}
		return []string{org}, nil
	})
}

// changeHomeOrgs runs change in a transaction and recounts the requests
// with voters in the organisations it reports changed.
func (s *DB) changeHomeOrgs(ctx context.Context, change func(tx *sqlx.Tx) ([]string, error)) error {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	changed, err := change(tx)
	if err != nil {
		return storageError(err)
	}
	if len(changed) == 0 {
		return nil
	}
	sort.Strings(changed)
	affected, err := lockVoterRequests(ctx, tx, nil, changed)
	if err != nil {
		return storageError(err)
	}
	if err := recount(ctx, tx, affected...); err != nil {
		return storageError(err)
	}
	if err := tx.Commit(); err != nil {
		return storageError(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// HomeOrgs returns the team's own organisations, sorted.
func (s *DB) HomeOrgs(ctx context.Context) ([]string, error) {
	var orgs []string
	if err := s.db.SelectContext(ctx, &orgs, `SELECT org FROM home_orgs ORDER BY org`); err != nil {
		return nil, storageError(fmt.Errorf("home organisations: %w", err))
	}
	return orgs, nil
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// ResolveIdentities returns the identities (workspaces) in which a platform
// user id has a row or voted, at most 5, identities with rows first. It is
// for the team's person commands (it scans voters).
func (s *DB) ResolveIdentities(ctx context.Context, platform, userID string) ([]bot.Identity, error) {
	var rows []struct {
		Platform  string `db:"platform"`
		Workspace string `db:"workspace"`
		UserID    string `db:"user_id"`
	}
	err := s.db.SelectContext(ctx, &rows, s.db.Rebind(`
		SELECT platform, workspace, user_id FROM (
			SELECT platform, workspace, user_id, 0 AS o FROM identities WHERE platform = ? AND user_id = ?
			UNION
			SELECT platform, workspace, user_id, 1 AS o FROM (SELECT platform, workspace, user_id FROM voters WHERE platform = ? AND user_id = ? LIMIT 50) v
		) t ORDER BY o, workspace LIMIT 5`), platform, userID, platform, userID)
	if err != nil {
		return nil, storageError(fmt.Errorf("resolve identity: %w", err))
	}
	out := make([]bot.Identity, 0, len(rows))
	seen := map[bot.Identity]bool{}
	for _, r := range rows {
		id := bot.Identity{Platform: r.Platform, Workspace: r.Workspace, UserID: r.UserID}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

var _ bot.PeopleStore = (*DB)(nil)
