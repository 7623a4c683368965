package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store"
)

func slackID(u string) bot.Identity {
	return bot.Identity{Platform: bot.PlatformSlack, Workspace: "T1", UserID: u}
}

func discordVote(tb testing.TB, db *store.DB, requestID int64, user, org string) bool {
	tb.Helper()
	ok, err := db.AddVote(context.Background(), bot.Voter{RequestID: requestID, Platform: bot.PlatformDiscord, Workspace: "G1", UserID: user, Org: org})
	if err != nil {
		tb.Fatalf("vote %s on %d: %v", user, requestID, err)
	}
	return ok
}

func mustLink(tb testing.TB, db *store.DB, a, b bot.Identity) bool {
	tb.Helper()
	ok, err := db.LinkIdentities(context.Background(), a, b, "lead")
	if err != nil {
		tb.Fatalf("link %v %v: %v", a, b, err)
	}
	return ok
}

func mustSplit(tb testing.TB, db *store.DB, a bot.Identity) bool {
	tb.Helper()
	ok, err := db.SplitIdentity(context.Background(), a, "lead")
	if err != nil {
		tb.Fatalf("split %v: %v", a, err)
	}
	return ok
}

func TestPeople_LinkSplit(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		jane := bot.Identity{Platform: bot.PlatformDiscord, Workspace: "G1", UserID: "111"}
		a := mustCreate(t, db, "Dark mode", "m1", "U1")
		discordVote(t, db, a.ID, "111", "G1")
		mustVote(t, db, a.ID, "U2", "T1")
		if got := counts(t, db, a.ID); got != [3]int{3, 2, 1} {
			t.Fatalf("before link: %v", got)
		}
		if !mustLink(t, db, slackID("U1"), jane) {
			t.Fatal("link reported no change")
		}
		if got := counts(t, db, a.ID); got != [3]int{2, 2, 1} {
			t.Fatalf("after link: %v", got)
		}
		if mustLink(t, db, jane, slackID("U1")) {
			t.Fatal("second link reported a change")
		}
		p, err := db.FindPerson(ctx, jane)
		if err != nil {
			t.Fatal(err)
		}
		if p.ID == 0 || len(p.Identities) != 2 || len(p.Requests) != 1 || p.Requests[0].ID != a.ID {
			t.Fatalf("person %+v", p)
		}
		// The linked person already counts: a vote from the other account
		// changes nothing, an unvote from it removes the person's vote.
		if mustVote(t, db, a.ID, "U1", "T1") {
			t.Fatal("vote by a linked identity of the author was added")
		}
		if !mustSplit(t, db, jane) {
			t.Fatal("split reported no change")
		}
		if got := counts(t, db, a.ID); got != [3]int{3, 2, 1} {
			t.Fatalf("after split: %v", got)
		}
		if mustSplit(t, db, jane) {
			t.Fatal("second split reported a change")
		}
		if _, err := db.LinkIdentities(ctx, jane, jane, "lead"); bot.ErrorCode(err) != bot.EINVALID {
			t.Fatalf("self link: %v", err)
		}
		// An identity the store never saw is a person of its own.
		p, err = db.FindPerson(ctx, slackID("U9"))
		if err != nil || p.ID != 0 || len(p.Identities) != 1 || len(p.Requests) != 0 {
			t.Fatalf("unknown person %+v, %v", p, err)
		}
	})
}

func TestPeople_UnvoteByLinkedIdentity(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, "Dark mode", "m1", "U1")
		mustVote(t, db, a.ID, "U2", "T1")
		mustLink(t, db, slackID("U2"), slackID("U3"))
		if mustVote(t, db, a.ID, "U3", "T1") {
			t.Fatal("vote by the same person was added")
		}
		ok, err := db.RemoveVote(ctx, a.ID, bot.PlatformSlack, "T1", "U3")
		if err != nil || !ok {
			t.Fatalf("unvote by linked identity: %v %v", ok, err)
		}
		if got := counts(t, db, a.ID); got[0] != 1 {
			t.Fatalf("demand after unvote: %v", got)
		}
	})
}

func TestPeople_Email(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, "Dark mode", "m1", "U1")
		discordVote(t, db, a.ID, "111", "G1")
		api := bot.Identity{Platform: bot.PlatformAPI, Workspace: "zendesk", UserID: "jane@acme.com"}
		if _, err := db.AddVote(ctx, bot.Voter{RequestID: a.ID, Platform: api.Platform, Workspace: api.Workspace, UserID: api.UserID, Org: "acme.com"}); err != nil {
			t.Fatal(err)
		}
		if got := counts(t, db, a.ID); got[0] != 3 {
			t.Fatalf("before emails: %v", got)
		}
		linked, err := db.SetIdentityEmail(ctx, slackID("U1"), "Jane", "Jane@Acme.com ")
		if err != nil || linked {
			t.Fatalf("first email: %v %v", linked, err)
		}
		linked, err = db.SetIdentityEmail(ctx, api, "", "jane@acme.com")
		if err != nil || !linked {
			t.Fatalf("second email: %v %v", linked, err)
		}
		if got := counts(t, db, a.ID); got[0] != 2 {
			t.Fatalf("after email link: %v", got)
		}
		// Same email again: nothing to do.
		if linked, err := db.SetIdentityEmail(ctx, api, "", "jane@acme.com"); err != nil || linked {
			t.Fatalf("repeat: %v %v", linked, err)
		}
		// email:… names the person with that address.
		mail := bot.Identity{Platform: bot.PlatformEmail, UserID: "jane@acme.com"}
		if mustLink(t, db, mail, bot.Identity{Platform: bot.PlatformDiscord, Workspace: "G1", UserID: "111"}) != true {
			t.Fatal("link by email reported no change")
		}
		if got := counts(t, db, a.ID); got[0] != 1 {
			t.Fatalf("after email: link: %v", got)
		}
		// A split identity is not linked by email again.
		mustSplit(t, db, api)
		if got := counts(t, db, a.ID); got[0] != 2 {
			t.Fatalf("after split: %v", got)
		}
		if linked, err := db.SetIdentityEmail(ctx, api, "", "jane@acme.com"); err != nil || linked {
			t.Fatalf("relinked after split: %v %v", linked, err)
		}
		if _, err := db.SetIdentityEmail(ctx, api, "", "not an email"); bot.ErrorCode(err) != bot.EINVALID {
			t.Fatalf("bad email: %v", err)
		}
	})
}

func TestCompanies(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		str := func(s string) *string { return &s }
		cents := func(n int64) *int64 { return &n }
		a := mustCreate(t, db, "Dark mode", "m1", "U1", withOrg("TACME"))
		b := mustCreate(t, db, "SSO", "m2", "U2", withOrg("TBIG"))
		mustVote(t, db, b.ID, "U3", "TACME")
		c := mustCreate(t, db, "Export", "m3", "U4", withOrg("TSMALL"))

		acme, created, err := db.UpsertCompany(ctx, bot.CompanyInput{Name: "Acme", Organisations: []string{"TACME"}, Domains: []string{"Acme.com"}, Plan: str("pro"), MRRCents: cents(50000)})
		if err != nil || !created || acme.ID == 0 || !slices.Equal(acme.Domains, []string{"acme.com"}) {
			t.Fatalf("create acme: %+v %v %v", acme, created, err)
		}
		if _, created, err := db.UpsertCompany(ctx, bot.CompanyInput{Name: "Big Corp", Organisations: []string{"TBIG"}, MRRCents: cents(200000)}); err != nil || !created {
			t.Fatalf("create big: %v %v", created, err)
		}
		ra, rb := mustFind(t, db, a.ID), mustFind(t, db, b.ID)
		if ra.Companies != 1 || ra.ValueCents != 50000 || rb.Companies != 2 || rb.ValueCents != 250000 {
			t.Fatalf("a %d/%d b %d/%d", ra.Companies, ra.ValueCents, rb.Companies, rb.ValueCents)
		}
		// Update by name, case-insensitively: mrr changes the value.
		up, created, err := db.UpsertCompany(ctx, bot.CompanyInput{Name: "  Acme ", MRRCents: cents(10000)})
		if err != nil || created || up.ID != acme.ID || up.Plan != "pro" || !slices.Equal(up.Organisations, []string{"TACME"}) {
			t.Fatalf("update: %+v %v %v", up, created, err)
		}
		if r := mustFind(t, db, a.ID); r.ValueCents != 10000 {
			t.Fatalf("value after update %d", r.ValueCents)
		}
		// An organisation belongs to at most one company.
		_, _, err = db.UpsertCompany(ctx, bot.CompanyInput{Name: "Other", Organisations: []string{"TBIG"}})
		wantCode(t, err, bot.ECONFLICT)
		_, _, err = db.UpsertCompany(ctx, bot.CompanyInput{Name: "Other", Domains: []string{"not a domain"}})
		wantCode(t, err, bot.EINVALID)
		_, _, err = db.UpsertCompany(ctx, bot.CompanyInput{Name: " "})
		wantCode(t, err, bot.EINVALID)

		// sort=value
		rs, _, err := db.FindRequests(ctx, bot.RequestFilter{Sort: bot.SortValue})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 3 || rs[0].ID != b.ID || rs[1].ID != a.ID || rs[2].ID != c.ID {
			t.Fatalf("sort value: %v", ids(rs))
		}
		names, err := db.FindRequestCompanies(ctx, b.ID)
		if err != nil || !slices.Equal(names, []string{"Acme", "Big Corp"}) {
			t.Fatalf("companies of b: %v %v", names, err)
		}

		// A person with an acme.com email counts for Acme through the domain.
		mustVote(t, db, c.ID, "U5", "TOTHER")
		if _, err := db.SetIdentityEmail(ctx, slackID("U5"), "", "bob@acme.com"); err != nil {
			t.Fatal(err)
		}
		if r := mustFind(t, db, c.ID); r.Companies != 1 || r.ValueCents != 10000 {
			t.Fatalf("c via domain: %d %d", r.Companies, r.ValueCents)
		}

		// Home organisations count in demand but never as organisations or
		// companies.
		if err := db.SetHomeOrgs(ctx, []string{"TACME", ""}); err != nil {
			t.Fatal(err)
		}
		rb = mustFind(t, db, b.ID)
		if rb.Demand != 2 || rb.Orgs != 1 || rb.Companies != 1 || rb.ValueCents != 200000 {
			t.Fatalf("b with home TACME: %+v", rb)
		}
		if got, _ := db.HomeOrgs(ctx); !slices.Equal(got, []string{"TACME"}) {
			t.Fatalf("home orgs %v", got)
		}
		if err := db.SetHomeOrgs(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if rb = mustFind(t, db, b.ID); rb.Orgs != 2 || rb.Companies != 2 {
			t.Fatalf("b after home cleared: %+v", rb)
		}
		// New captures from a home organisation count no organisation.
		if err := db.SetHomeOrgs(ctx, []string{"THOME"}); err != nil {
			t.Fatal(err)
		}
		h := mustCreate(t, db, "Home", "m9", "U9", withOrg("THOME"))
		if h.Demand != 1 || h.Orgs != 0 || h.Companies != 0 {
			t.Fatalf("home capture %+v", h)
		}
		k := mustCreate(t, db, "Acme idea", "m10", "U10", withOrg("TACME"))
		if k.Orgs != 1 || k.Companies != 1 || k.ValueCents != 10000 {
			t.Fatalf("acme capture %+v", k)
		}
		if got := mustFind(t, db, k.ID); got.Companies != 1 || got.ValueCents != 10000 {
			t.Fatalf("acme capture stored %+v", got)
		}

		cs, err := db.FindCompanies(ctx)
		if err != nil || len(cs) != 2 || cs[0].Name != "Acme" || cs[1].Name != "Big Corp" {
			t.Fatalf("companies %v %v", cs, err)
		}
	})
}

func TestImportCompanies_AllOrNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		in := []bot.CompanyInput{
			{Name: "Acme", Domains: []string{"acme.com"}},
			{Name: "Beta", Domains: []string{"beta.io"}},
			{Name: "Gamma", Domains: []string{"acme.com"}},
		}
		_, _, err := db.ImportCompanies(ctx, in)
		var re *store.RowError
		if !errors.As(err, &re) || re.Row != 2 || bot.ErrorCode(err) != bot.ECONFLICT {
			t.Fatalf("import error %v", err)
		}
		if cs, _ := db.FindCompanies(ctx); len(cs) != 0 {
			t.Fatalf("half imported: %d companies", len(cs))
		}
		created, updated, err := db.ImportCompanies(ctx, in[:2])
		if err != nil || created != 2 || updated != 0 {
			t.Fatalf("import: %d %d %v", created, updated, err)
		}
		created, updated, err = db.ImportCompanies(ctx, in[:1])
		if err != nil || created != 0 || updated != 1 {
			t.Fatalf("reimport: %d %d %v", created, updated, err)
		}
	})
}

func ids(rs []*bot.Request) []int64 {
	var out []int64
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// naiveCounts recounts every request from the raw tables, in Go: demand is
// distinct persons over the subtree, orgs and companies leave out home
// organisations, value sums the companies' mrr.
func naiveCounts(t *testing.T, db *store.DB) map[int64][5]int64 {
	t.Helper()
	ctx := context.Background()
	x := db.DB()
	var reqs []struct {
		ID     int64  `db:"id"`
		Merged *int64 `db:"merged_into"`
	}
	var voters []struct {
		Req    int64  `db:"request_id"`
		Person string `db:"person"`
		Org    string `db:"org"`
	}
	var idents []struct {
		Ident  string `db:"ident"`
		Person int64  `db:"person_id"`
		Domain string `db:"email_domain"`
	}
	var orgs []struct {
		Org     string `db:"org"`
		Company int64  `db:"company_id"`
		Kind    string `db:"kind"`
	}
	var comps []struct {
		ID  int64 `db:"id"`
		MRR int64 `db:"mrr_cents"`
	}
	var home []string
	var mentions []int64
	for q, dst := range map[string]any{
		`SELECT id, merged_into FROM requests`:                  &reqs,
		`SELECT request_id, person, org FROM voters`:            &voters,
		`SELECT ident, person_id, email_domain FROM identities`: &idents,
		`SELECT org, company_id, kind FROM company_orgs`:        &orgs,
		`SELECT id, mrr_cents FROM companies`:                   &comps,
		`SELECT org FROM home_orgs`:                             &home,
		`SELECT request_id FROM mentions`:                       &mentions,
	} {
		if err := x.SelectContext(ctx, dst, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	children := map[int64][]int64{}
	for _, r := range reqs {
		if r.Merged != nil {
			children[*r.Merged] = append(children[*r.Merged], r.ID)
		}
	}
	personOf := map[string]string{}
	domains := map[int64][]string{}
	for _, i := range idents {
		personOf[i.Ident] = fmt.Sprint(i.Person)
		if i.Domain != "" {
			domains[i.Person] = append(domains[i.Person], i.Domain)
		}
	}
	identPerson := map[string]int64{}
	for _, i := range idents {
		identPerson[i.Ident] = i.Person
	}
	isHome := map[string]bool{}
	for _, h := range home {
		isHome[h] = true
	}
	companyOf := map[string]int64{}
	domainCompany := map[string]int64{}
	for _, o := range orgs {
		companyOf[o.Org] = o.Company
		if o.Kind == "domain" {
			domainCompany[o.Org] = o.Company
		}
	}
	mrr := map[int64]int64{}
	for _, c := range comps {
		mrr[c.ID] = c.MRR
	}
	out := map[int64][5]int64{}
	for _, r := range reqs {
		sub := map[int64]bool{}
		var walk func(int64)
		walk = func(id int64) {
			sub[id] = true
			for _, c := range children[id] {
				walk(c)
			}
		}
		walk(r.ID)
		persons, os, cos := map[string]bool{}, map[string]bool{}, map[int64]bool{}
		for _, v := range voters {
			if !sub[v.Req] {
				continue
			}
			p := v.Person
			if q, ok := personOf[v.Person]; ok {
				p = q
			}
			persons[p] = true
			if isHome[v.Org] {
				continue
			}
			if v.Org != "" {
				os[v.Org] = true
			}
			if c, ok := companyOf[v.Org]; ok {
				cos[c] = true
			}
			if pid, ok := identPerson[v.Person]; ok {
				for _, d := range domains[pid] {
					if c, ok := domainCompany[d]; ok {
						cos[c] = true
					}
				}
			}
		}
		var m, value int64
		for _, mr := range mentions {
			if sub[mr] {
				m++
			}
		}
		for c := range cos {
			value += mrr[c]
		}
		out[r.ID] = [5]int64{int64(len(persons)), int64(len(os)), m, int64(len(cos)), value}
	}
	return out
}

// TestDemandInvariant_RandomOps runs random sequences of captures, votes,
// unvotes, merges, unmerges, links, splits, emails, company changes and
// home-organisation changes, and after every step compares every request's
// stored counters with a naive recount from the raw tables.
func TestDemandInvariant_RandomOps(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		seed := uint64(20261201)
		rng := rand.New(rand.NewPCG(seed, seed))
		steps := 300
		if testing.Short() {
			steps = 100
		}
		users := []bot.Identity{}
		for i := range 4 {
			users = append(users, slackID(fmt.Sprintf("U%d", i)))
			users = append(users, bot.Identity{Platform: bot.PlatformDiscord, Workspace: "G1", UserID: fmt.Sprint(100 + i)})
		}
		users = append(users, bot.Identity{Platform: bot.PlatformEmail, UserID: "x@acme.com"})
		orgsOf := []string{"TA", "TB", "G1", "acme.com", "local", ""}
		emails := []string{"x@acme.com", "y@beta.io", "z@gamma.org"}
		var reqs []int64
		msg := 0
		check := func(step int, op string) {
			t.Helper()
			want := naiveCounts(t, db)
			for id, w := range want {
				r := mustFind(t, db, id)
				got := [5]int64{int64(r.Demand), int64(r.Orgs), int64(r.Mentions), int64(r.Companies), r.ValueCents}
				if got != w {
					t.Fatalf("seed %d step %d (%s): request %d counters %v, naive recount %v", seed, step, op, id, got, w)
				}
			}
		}
		for step := range steps {
			u := users[rng.IntN(len(users)-1)] // the email identity never votes
			org := orgsOf[rng.IntN(len(orgsOf))]
			var op string
			switch k := rng.IntN(12); {
			case k < 2 || len(reqs) < 2:
				msg++
				m := newMention(fmt.Sprintf("m%d", msg), u.UserID, withOrg(org))
				m.Platform, m.Workspace = u.Platform, u.Workspace
				r := &bot.Request{Title: fmt.Sprint("R", msg)}
				if err := db.CreateRequest(ctx, r, m); err != nil {
					t.Fatal(err)
				}
				reqs = append(reqs, r.ID)
				op = "create"
			case k == 2:
				msg++
				m := newMention(fmt.Sprintf("m%d", msg), u.UserID, withOrg(org))
				m.Platform, m.Workspace = u.Platform, u.Workspace
				m.RequestID = reqs[rng.IntN(len(reqs))]
				if err := db.AddMention(ctx, m); err != nil {
					t.Fatal(err)
				}
				op = "mention"
			case k == 3:
				if _, err := db.AddVote(ctx, bot.Voter{RequestID: reqs[rng.IntN(len(reqs))], Platform: u.Platform, Workspace: u.Workspace, UserID: u.UserID, Org: org}); err != nil {
					t.Fatal(err)
				}
				op = "vote"
			case k == 4:
				if _, err := db.RemoveVote(ctx, reqs[rng.IntN(len(reqs))], u.Platform, u.Workspace, u.UserID); err != nil {
					t.Fatal(err)
				}
				op = "unvote"
			case k == 5:
				_, err := db.Merge(ctx, reqs[rng.IntN(len(reqs))], reqs[rng.IntN(len(reqs))], "lead")
				if err != nil && bot.ErrorCode(err) != bot.ECONFLICT {
					t.Fatal(err)
				}
				op = "merge"
			case k == 6:
				_, err := db.Unmerge(ctx, reqs[rng.IntN(len(reqs))], "lead")
				if err != nil && bot.ErrorCode(err) != bot.ECONFLICT {
					t.Fatal(err)
				}
				op = "unmerge"
			case k == 7:
				a, b := users[rng.IntN(len(users))], users[rng.IntN(len(users))]
				if a != b {
					// Link then split must be an exact undo when b was a
					// person of its own.
					before := naiveCounts(t, db)
					pb, err := db.FindPerson(ctx, b)
					if err != nil {
						t.Fatal(err)
					}
					mustLink(t, db, a, b)
					check(step, "link")
					if len(pb.Identities) == 1 && b.Platform != bot.PlatformEmail && rng.IntN(2) == 0 {
						mustSplit(t, db, b)
						if after := naiveCounts(t, db); !mapsEqual(before, after) {
							t.Fatalf("step %d: split after link is not an exact undo:\nbefore %v\nafter  %v", step, before, after)
						}
					}
				}
				op = "link"
			case k == 8:
				mustSplit(t, db, users[rng.IntN(len(users))])
				op = "split"
			case k == 9:
				if u.Platform != bot.PlatformEmail {
					if _, err := db.SetIdentityEmail(ctx, u, "", emails[rng.IntN(len(emails))]); err != nil {
						t.Fatal(err)
					}
				}
				op = "email"
			case k == 10:
				names := []string{"Acme", "Beta", "Gamma"}
				i := rng.IntN(3)
				mrr := int64(rng.IntN(5) * 1000)
				in := bot.CompanyInput{Name: names[i], MRRCents: &mrr}
				switch i {
				case 0:
					in.Domains = []string{"acme.com"}
					in.Organisations = []string{[]string{"TA", "TB"}[rng.IntN(2)]}
				case 1:
					in.Domains = []string{"beta.io"}
				case 2:
					in.Organisations = []string{"G1"}
				}
				if _, _, err := db.UpsertCompany(ctx, in); err != nil && bot.ErrorCode(err) != bot.ECONFLICT {
					t.Fatal(err)
				}
				op = "company"
			default:
				var home []string
				for _, o := range []string{"local", "TA", "G1"} {
					if rng.IntN(2) == 0 {
						home = append(home, o)
					}
				}
				if err := db.SetHomeOrgs(ctx, home); err != nil {
					t.Fatal(err)
				}
				op = "home"
			}
			check(step, op)
		}
	})
}

func mapsEqual(a, b map[int64][5]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestHomeOrgs_PlatformSourceStays(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, "A", "m1", "U1", withOrg("TSELF"))
		if got := counts(t, db, a.ID); got[1] != 1 {
			t.Fatalf("orgs before %v", got)
		}
		if err := db.AddHomeOrg(ctx, "TSELF", "slack"); err != nil {
			t.Fatal(err)
		}
		if err := db.SetHomeOrgs(ctx, []string{"local"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.HomeOrgs(ctx); !slices.Equal(got, []string{"TSELF", "local"}) {
			t.Fatalf("home orgs %v", got)
		}
		if got := counts(t, db, a.ID); got != [3]int{1, 0, 1} {
			t.Fatalf("counts %v", got)
		}
	})
}
