package bot

import (
	"context"
	"strings"
)

// PeopleStore is the part of the store that knows persons and companies
// (docs/people.md). *store.DB implements it.
type PeopleStore interface {
	// LinkIdentities makes b's person the same as a's; false when they
	// already are one person.
	LinkIdentities(ctx context.Context, a, b Identity, actor string) (bool, error)
	// SplitIdentity makes x a person of its own again (the exact undo of a
	// link); false when it already is.
	SplitIdentity(ctx context.Context, x Identity, actor string) (bool, error)
	// SetIdentityEmail records x's verified email and links x with the
	// person of the other identities that have it.
	SetIdentityEmail(ctx context.Context, x Identity, name, email string) (bool, error)
	// FindPerson returns x's person with its identities and requests.
	FindPerson(ctx context.Context, x Identity) (*Person, error)
	// ResolveIdentities returns the known identities of a platform user id
	// (the workspaces it voted or wrote in).
	ResolveIdentities(ctx context.Context, platform, userID string) ([]Identity, error)
	UpsertCompany(ctx context.Context, in CompanyInput) (*Company, bool, error)
	FindCompanies(ctx context.Context) ([]*Company, error)
	// FindRequestCompanies names the customer companies behind a request.
	FindRequestCompanies(ctx context.Context, id int64) ([]string, error)
}

// Team-only phrases of the person and company use cases.
const (
	doLinkPeople   = "link people"
	doSplitPeople  = "split people"
	doShowPerson   = "look up people"
	doCompanies    = "change companies"
	doSeeCompanies = "see companies"
)

func (e *Engine) people() (PeopleStore, error) {
	ps, ok := e.store.(PeopleStore)
	if !ok {
		return nil, Errorf(EUNAVAILABLE, "This store does not keep people and companies.")
	}
	return ps, nil
}

// SamePersonInput names two identities of one person.
type SamePersonInput struct {
	A, B Identity
}

// PersonResult is a person after a link or split (or as asked for).
// Changed is false when nothing changed.
type PersonResult struct {
	Who     Identity
	Person  *Person
	Changed bool
}

// SamePerson links two identities as one person (team only): demand then
// counts them once. Changed is false when they already were one person.
func (e *Engine) SamePerson(ctx context.Context, a Actor, in SamePersonInput) (*PersonResult, error) {
	if err := RequireTeam(a, doLinkPeople); err != nil {
		return nil, err
	}
	ps, err := e.people()
	if err != nil {
		return nil, err
	}
	changed, err := ps.LinkIdentities(ctx, in.A, in.B, a.DisplayName())
	if err != nil {
		return nil, err
	}
	p, err := ps.FindPerson(ctx, in.A)
	if err != nil {
		return nil, err
	}
	return &PersonResult{Who: in.A, Person: p, Changed: changed}, nil
}

// SplitPersonInput names the identity to split off its person.
type SplitPersonInput struct {
	Who Identity
}

// SplitPerson makes an identity a person of its own again (team only), the
// exact undo of SamePerson, and keeps it from being linked by email again.
func (e *Engine) SplitPerson(ctx context.Context, a Actor, in SplitPersonInput) (*PersonResult, error) {
	if err := RequireTeam(a, doSplitPeople); err != nil {
		return nil, err
	}
	ps, err := e.people()
	if err != nil {
		return nil, err
	}
	changed, err := ps.SplitIdentity(ctx, in.Who, a.DisplayName())
	if err != nil {
		return nil, err
	}
	p, err := ps.FindPerson(ctx, in.Who)
	if err != nil {
		return nil, err
	}
	return &PersonResult{Who: in.Who, Person: p, Changed: changed}, nil
}

// ShowPerson returns an identity's person with every linked identity and
// the requests they count on (team only: it shows emails).
func (e *Engine) ShowPerson(ctx context.Context, a Actor, who Identity) (*PersonResult, error) {
	if err := RequireTeam(a, doShowPerson); err != nil {
		return nil, err
	}
	ps, err := e.people()
	if err != nil {
		return nil, err
	}
	p, err := ps.FindPerson(ctx, who)
	if err != nil {
		return nil, err
	}
	return &PersonResult{Who: who, Person: p}, nil
}

// LinkEmail records a verified email of an identity (an API author that is
// an address, a board sign-in with email_verified) so that it counts as the
// person with that email elsewhere. No role is needed: callers vouch for
// the address. It does nothing when the store keeps no people.
func (e *Engine) LinkEmail(ctx context.Context, who Identity, name, email string) error {
	ps, err := e.people()
	if err != nil {
		return nil
	}
	_, err = ps.SetIdentityEmail(ctx, who, name, email)
	return err
}

// ParseWho turns the <who> of the person commands into an identity:
// a Slack mention <@U…> (or slack:U…), a Discord mention <@123…> (or
// discord:123…), email:jane@example.com, api:<source>:<user>, or a console
// name. Platform-only forms take the workspace the identity is known in
// (from its votes and captures), else the caller's workspace on the same
// platform. ev is the caller's event (platform and workspace).
func (e *Engine) ParseWho(ctx context.Context, platform, workspace, s string) (Identity, error) {
	raw := strings.TrimSpace(s)
	bad := Errorf(EINVALID, "%q is not a person: use a mention, a console name, email:jane@example.com, slack:U123, discord:123 or api:<source>:<user>.", clip(raw, 60))
	var plat, user string
	switch {
	case strings.HasPrefix(raw, "<@") && strings.HasSuffix(raw, ">"):
		user, _, _ = strings.Cut(strings.TrimSuffix(strings.TrimPrefix(raw, "<@"), ">"), "|")
		user = strings.TrimPrefix(user, "!")
		plat = PlatformSlack
		if user != "" && isDigits(user) {
			plat = PlatformDiscord
		}
	case hasPrefixFold(raw, "email:"):
		addr, ok := NormalizeEmail(raw[len("email:"):])
		if !ok {
			return Identity{}, Errorf(EINVALID, "%q is not an email address.", clip(raw[len("email:"):], 60))
		}
		return Identity{Platform: PlatformEmail, UserID: addr}, nil
	case hasPrefixFold(raw, "api:"):
		src, u, ok := strings.Cut(raw[len("api:"):], ":")
		if !ok || src == "" || u == "" {
			return Identity{}, bad
		}
		return Identity{Platform: PlatformAPI, Workspace: src, UserID: u}, nil
	case hasPrefixFold(raw, "slack:"):
		plat, user = PlatformSlack, raw[len("slack:"):]
	case hasPrefixFold(raw, "discord:"):
		plat, user = PlatformDiscord, raw[len("discord:"):]
	default:
		if raw == "" || strings.ContainsAny(raw, " :<>@\t") {
			return Identity{}, bad
		}
		plat, user = PlatformConsole, strings.ToLower(raw)
	}
	if user == "" || strings.ContainsAny(user, " <>\t") || (plat == PlatformDiscord && !isDigits(user)) {
		return Identity{}, bad
	}
	ps, err := e.people()
	if err != nil {
		return Identity{}, err
	}
	known, err := ps.ResolveIdentities(ctx, plat, user)
	if err != nil {
		return Identity{}, err
	}
	for _, k := range known {
		if k.Workspace == workspace && platform == plat {
			return k, nil
		}
	}
	if len(known) > 0 {
		return known[0], nil
	}
	if platform == plat {
		return Identity{Platform: plat, Workspace: workspace, UserID: user}, nil
	}
	return Identity{}, Errorf(ENOTFOUND, "I don't know %s yet: they have not written feedback or voted.", clip(raw, 60))
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func hasPrefixFold(s, p string) bool { return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) }

// UpsertCompanyResult is a company after a create or update.
type UpsertCompanyResult struct {
	Company *Company
	Created bool
}

// UpsertCompany creates or updates a company by name (team only; the API
// token is the team).
func (e *Engine) UpsertCompany(ctx context.Context, a Actor, in CompanyInput) (*UpsertCompanyResult, error) {
	if err := RequireTeam(a, doCompanies); err != nil {
		return nil, err
	}
	ps, err := e.people()
	if err != nil {
		return nil, err
	}
	c, created, err := ps.UpsertCompany(ctx, in)
	if err != nil {
		return nil, err
	}
	return &UpsertCompanyResult{Company: c, Created: created}, nil
}

// Companies lists every company (team only).
func (e *Engine) Companies(ctx context.Context, a Actor) ([]*Company, error) {
	if err := RequireTeam(a, doSeeCompanies); err != nil {
		return nil, err
	}
	ps, err := e.people()
	if err != nil {
		return nil, err
	}
	return ps.FindCompanies(ctx)
}

// RequestCompanies names the customer companies behind a request (team
// only: customers never see company names).
func (e *Engine) RequestCompanies(ctx context.Context, a Actor, id int64) ([]string, error) {
	if err := RequireTeam(a, doSeeCompanies); err != nil {
		return nil, err
	}
	ps, err := e.people()
	if err != nil {
		return nil, err
	}
	return ps.FindRequestCompanies(ctx, id)
}
