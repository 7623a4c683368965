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

// Company organisation kinds (company_orgs.kind).
const (
	orgKindDomain       = "domain"
	orgKindOrganisation = "organisation"
)

// RowError is an import failure of one row (0-based index into the input).
type RowError struct {
	Row int
	Err error
}

func (e *RowError) Error() string { return fmt.Sprintf("row %d: %v", e.Row+1, e.Err) }
func (e *RowError) Unwrap() error { return e.Err }

// companyKey is the case- and space-insensitive name a company is found by.
func companyKey(name string) string { return strings.ToLower(strings.Join(strings.Fields(name), " ")) }

// UpsertCompany creates the company named in.Name or updates the one with
// that name (case and spacing ignored), and recounts the requests whose
// companies or value change. It reports whether it created the company.
// EINVALID for an empty name, a bad domain or a negative mrr; ECONFLICT when
// a domain or organisation belongs to another company.
func (s *DB) UpsertCompany(ctx context.Context, in bot.CompanyInput) (*bot.Company, bool, error) {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback()
	now := s.now()
	c, created, orgs, err := upsertCompany(ctx, tx, in, now)
	if err != nil {
		return nil, false, err
	}
	if err := recountOrgs(ctx, tx, orgs); err != nil {
		return nil, false, err
	}
	if err := tx.Commit(); err != nil {
		return nil, false, storageError(fmt.Errorf("commit: %w", err))
	}
	return c, created, nil
}

// ImportCompanies upserts every company of ins in one transaction: on any
// error nothing is written and the error is a *RowError naming the row.
// It returns how many companies it created and updated.
func (s *DB) ImportCompanies(ctx context.Context, ins []bot.CompanyInput) (created, updated int, err error) {
	tx, err := s.beginTx(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback()
	now := s.now()
	all := map[string]bool{}
	for i, in := range ins {
		_, isNew, orgs, err := upsertCompany(ctx, tx, in, now)
		if err != nil {
			if bot.ErrorCode(err) == bot.EINVALID || bot.ErrorCode(err) == bot.ECONFLICT {
				return 0, 0, &RowError{Row: i, Err: err}
			}
			return 0, 0, err
		}
		if isNew {
			created++
		} else {
			updated++
		}
		for _, o := range orgs {
			all[o] = true
		}
	}
	orgs := make([]string, 0, len(all))
	for o := range all {
		orgs = append(orgs, o)
	}
	sort.Strings(orgs)
	if err := recountOrgs(ctx, tx, orgs); err != nil {
		return 0, 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, storageError(fmt.Errorf("commit: %w", err))
	}
	return created, updated, nil
}

// recountOrgs recounts the requests with voters in one of orgs, directly or
// through an identity whose person has an email in one of those domains.
func recountOrgs(ctx context.Context, tx *sqlx.Tx, orgs []string) error {
	if len(orgs) == 0 {
		return nil
	}
	var idents []string
	for i := 0; i < len(orgs); i += chunk {
		q, args, err := sqlx.In(`SELECT i.ident FROM identities i JOIN identities j ON j.person_id = i.person_id
			WHERE j.email_domain IN (?)`, orgs[i:min(i+chunk, len(orgs))])
		if err != nil {
			return err
		}
		var ks []string
		if err := tx.SelectContext(ctx, &ks, tx.Rebind(q), args...); err != nil {
			return fmt.Errorf("identities of domains: %w", err)
		}
		idents = append(idents, ks...)
	}
	affected, err := lockVoterRequests(ctx, tx, idents, orgs)
	if err != nil {
		return err
	}
	return recount(ctx, tx, affected...)
}

// upsertCompany writes one company and returns it, whether it is new, and
// the organisations and domains whose company or value changed.
func upsertCompany(ctx context.Context, tx *sqlx.Tx, in bot.CompanyInput, now time.Time) (*bot.Company, bool, []string, error) {
	name := strings.Join(strings.Fields(in.Name), " ")
	if name == "" {
		return nil, false, nil, bot.Errorf(bot.EINVALID, "A company needs a name.")
	}
	if len([]rune(name)) > 200 {
		return nil, false, nil, bot.Errorf(bot.EINVALID, "The company name is longer than 200 characters.")
	}
	if in.MRRCents != nil && *in.MRRCents < 0 {
		return nil, false, nil, bot.Errorf(bot.EINVALID, "mrr of %s is negative.", name)
	}
	if in.Plan != nil && len([]rune(*in.Plan)) > 100 {
		return nil, false, nil, bot.Errorf(bot.EINVALID, "The plan of %s is longer than 100 characters.", name)
	}
	var domains, orgs []string
	if in.Domains != nil {
		seen := map[string]bool{}
		domains = []string{}
		for _, d := range in.Domains {
			nd, ok := bot.NormalizeDomain(d)
			if !ok {
				return nil, false, nil, bot.Errorf(bot.EINVALID, "%q is not a domain (expected something like example.com).", clip(d, 60))
			}
			if !seen[nd] {
				seen[nd] = true
				domains = append(domains, nd)
			}
		}
	}
	if in.Organisations != nil {
		seen := map[string]bool{}
		orgs = []string{}
		for _, o := range in.Organisations {
			o = strings.TrimSpace(o)
			if o == "" || len(o) > 200 {
				return nil, false, nil, bot.Errorf(bot.EINVALID, "An organisation must be 1 to 200 characters.")
			}
			if !seen[o] {
				seen[o] = true
				orgs = append(orgs, o)
			}
		}
	}

	var c bot.Company
	created := false
	err := tx.GetContext(ctx, &c, tx.Rebind(`SELECT id, name, plan, mrr_cents, created_at, updated_at FROM companies WHERE name_key = ?`), companyKey(name))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		created = true
		c = bot.Company{Name: name, CreatedAt: now, UpdatedAt: now}
		if in.Plan != nil {
			c.Plan = strings.TrimSpace(*in.Plan)
		}
		if in.MRRCents != nil {
			c.MRRCents = *in.MRRCents
		}
		if err := tx.GetContext(ctx, &c.ID, tx.Rebind(`INSERT INTO companies (name, name_key, plan, mrr_cents, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), c.Name, companyKey(name), c.Plan, c.MRRCents, now, now); err != nil {
			if isUniqueViolation(err) {
				return nil, false, nil, bot.Errorf(bot.ECONFLICT, "Company %s was created at the same time; try again.", name)
			}
			return nil, false, nil, fmt.Errorf("create company: %w", err)
		}
	case err != nil:
		return nil, false, nil, fmt.Errorf("find company: %w", err)
	default:
		c.Name = name
		if in.Plan != nil {
			c.Plan = strings.TrimSpace(*in.Plan)
		}
		if in.MRRCents != nil {
			c.MRRCents = *in.MRRCents
		}
		c.UpdatedAt = now
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE companies SET name = ?, plan = ?, mrr_cents = ?, updated_at = ? WHERE id = ?`),
			c.Name, c.Plan, c.MRRCents, now, c.ID); err != nil {
			return nil, false, nil, fmt.Errorf("update company: %w", err)
		}
	}

	var old []struct {
		Org  string `db:"org"`
		Kind string `db:"kind"`
	}
	if err := tx.SelectContext(ctx, &old, tx.Rebind(`SELECT org, kind FROM company_orgs WHERE company_id = ?`), c.ID); err != nil {
		return nil, false, nil, fmt.Errorf("company organisations: %w", err)
	}
	// Every organisation of the company before and after changes value.
	changed := map[string]bool{}
	for _, o := range old {
		changed[o.Org] = true
	}
	replace := func(kind string, vals []string) error {
		if vals == nil {
			return nil
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM company_orgs WHERE company_id = ? AND kind = ?`), c.ID, kind); err != nil {
			return fmt.Errorf("company organisations: %w", err)
		}
		for _, v := range vals {
			var owner string
			err := tx.GetContext(ctx, &owner, tx.Rebind(`SELECT c.name FROM company_orgs o JOIN companies c ON c.id = o.company_id WHERE o.org = ?`), v)
			if err == nil {
				what := "Organisation"
				if kind == orgKindDomain {
					what = "Domain"
				}
				return bot.Errorf(bot.ECONFLICT, "%s %s already belongs to company %s.", what, v, owner)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("company organisations: %w", err)
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO company_orgs (org, company_id, kind) VALUES (?, ?, ?)`), v, c.ID, kind); err != nil {
				return fmt.Errorf("company organisations: %w", err)
			}
			changed[v] = true
		}
		return nil
	}
	if err := replace(orgKindDomain, domains); err != nil {
		return nil, false, nil, err
	}
	if err := replace(orgKindOrganisation, orgs); err != nil {
		return nil, false, nil, err
	}
	if err := companyOrgs(ctx, tx, &c); err != nil {
		return nil, false, nil, err
	}
	out := make([]string, 0, len(changed))
	for o := range changed {
		out = append(out, o)
	}
	sort.Strings(out)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, created, out, nil
}

// companyOrgs fills c's domains and organisations, sorted.
func companyOrgs(ctx context.Context, q queryer, c *bot.Company) error {
	var rows []struct {
		Org  string `db:"org"`
		Kind string `db:"kind"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, q.Rebind(`SELECT org, kind FROM company_orgs WHERE company_id = ? ORDER BY org`), c.ID); err != nil {
		return fmt.Errorf("company organisations: %w", err)
	}
	c.Domains, c.Organisations = []string{}, []string{}
	for _, r := range rows {
		if r.Kind == orgKindDomain {
			c.Domains = append(c.Domains, r.Org)
		} else {
			c.Organisations = append(c.Organisations, r.Org)
		}
	}
	return nil
}

// FindCompanies returns every company by name, with domains and
// organisations.
func (s *DB) FindCompanies(ctx context.Context) ([]*bot.Company, error) {
	tx, err := s.beginReadTx(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var cs []*bot.Company
	if err := tx.SelectContext(ctx, &cs, `SELECT id, name, plan, mrr_cents, created_at, updated_at FROM companies ORDER BY name_key`); err != nil {
		return nil, storageError(fmt.Errorf("find companies: %w", err))
	}
	for _, c := range cs {
		c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
		if err := companyOrgs(ctx, tx, c); err != nil {
			return nil, err
		}
	}
	return cs, nil
}

// FindRequestCompanies returns the names of the customer companies behind
// request id (over everything merged into it), by name.
func (s *DB) FindRequestCompanies(ctx context.Context, id int64) ([]string, error) {
	var names []string
	err := s.db.SelectContext(ctx, &names, s.db.Rebind(subtreeCTE+`, vs AS (
			SELECT v.person, v.org FROM voters v WHERE v.request_id IN (SELECT id FROM sub)
		), co AS (
			SELECT c.company_id FROM vs JOIN company_orgs c ON c.org = vs.org
			WHERE vs.org NOT IN (SELECT org FROM home_orgs)
			UNION
			SELECT c.company_id FROM vs JOIN identities i ON i.ident = vs.person
				JOIN identities j ON j.person_id = i.person_id
				JOIN company_orgs c ON c.org = j.email_domain AND c.kind = 'domain'
			WHERE j.email_domain <> '' AND vs.org NOT IN (SELECT org FROM home_orgs)
		)
		SELECT name FROM companies WHERE id IN (SELECT company_id FROM co) ORDER BY name_key`), id)
	if err != nil {
		return nil, storageError(fmt.Errorf("companies of request %d: %w", id, err))
	}
	return names, nil
}
