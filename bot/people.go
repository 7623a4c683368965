package bot

import (
	"strings"
	"time"
)

// PlatformEmail and PlatformWeb name identities that are not chat
// accounts: an email address named by the team (email:jane@example.com) and
// a board sign-in (workspace = the OpenID Connect issuer, user = its subject).
const (
	PlatformEmail = "email"
	PlatformWeb   = "web"
)

// Who formats the identity in the <who> grammar of the person commands
// (slack:U123, discord:123, api:<source>:<user>, email:…, a console name).
func (i Identity) Who() string {
	switch i.Platform {
	case PlatformSlack, PlatformDiscord, PlatformEmail:
		return i.Platform + ":" + i.UserID
	case PlatformConsole:
		return i.UserID
	case PlatformWeb:
		return "web:" + i.UserID
	}
	return i.Platform + ":" + i.Workspace + ":" + i.UserID
}

// IdentityRecord is an Identity with what the store knows about it.
type IdentityRecord struct {
	Identity
	Name string
	// PersonID is the person the identity belongs to; 0 for an identity
	// the store has no row for (a person of its own).
	PersonID int64
	// Email is the identity's verified email address (lower case), "" if
	// none is known.
	Email string
	// EmailLink is false once a team member split the identity off: it is
	// then never linked by email again.
	EmailLink bool
	CreatedAt time.Time
}

// Person is one human with every identity linked to them and the requests
// they count on.
type Person struct {
	ID         int64            // 0 when the person is a single identity with no row
	Identities []IdentityRecord // oldest first
	Requests   []*Request       // canonical requests the person counts on, by id
}

// Company is a customer company.
type Company struct {
	ID            int64     `db:"id" json:"-"`
	Name          string    `db:"name" json:"name"`
	Plan          string    `db:"plan" json:"plan"`
	MRRCents      int64     `db:"mrr_cents" json:"-"`
	Domains       []string  `db:"-" json:"domains"`
	Organisations []string  `db:"-" json:"organisations"`
	CreatedAt     time.Time `db:"created_at" json:"created_at"`
	UpdatedAt     time.Time `db:"updated_at" json:"updated_at"`
}

// CompanyInput creates or updates a company by name. Nil fields keep what
// an existing company has (and are empty for a new one).
type CompanyInput struct {
	Name          string
	Domains       []string // replaces the company's domains when non-nil
	Organisations []string // replaces the company's organisations when non-nil
	Plan          *string
	MRRCents      *int64
}

// NormalizeEmail returns email trimmed and in lower case, and whether it
// looks like an address (one @ with text on both sides, a dot in the domain,
// no spaces or control characters).
func NormalizeEmail(email string) (string, bool) {
	e := strings.ToLower(strings.TrimSpace(email))
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || !strings.Contains(domain, ".") ||
		strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || len(e) > 254 {
		return "", false
	}
	for _, c := range e {
		if c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == ',' || c == ';' {
			return "", false
		}
	}
	return e, true
}

// EmailDomain returns the domain of a normalised email address.
func EmailDomain(email string) string {
	_, d, _ := strings.Cut(email, "@")
	return d
}

// NormalizeDomain returns a domain trimmed, lower case, without a leading
// "@" or trailing dot, and whether it is plausible.
func NormalizeDomain(d string) (string, bool) {
	d = strings.TrimSuffix(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(d)), "@"), ".")
	if d == "" || !strings.Contains(d, ".") || strings.HasPrefix(d, ".") || len(d) > 253 {
		return "", false
	}
	for _, c := range d {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c >= 0x80) {
			return "", false
		}
	}
	return d, true
}
