package web

import (
	"math"
	"net/http"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
)

// companyJSON is a company as the API shows it.
type companyJSON struct {
	Name          string    `json:"name"`
	Domains       []string  `json:"domains"`
	Organisations []string  `json:"organisations"`
	Plan          string    `json:"plan"`
	MRR           float64   `json:"mrr"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func toCompanyJSON(c *bot.Company) companyJSON {
	j := companyJSON{Name: c.Name, Domains: c.Domains, Organisations: c.Organisations, Plan: c.Plan,
		MRR: float64(c.MRRCents) / 100, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
	if j.Domains == nil {
		j.Domains = []string{}
	}
	if j.Organisations == nil {
		j.Organisations = []string{}
	}
	return j
}

// MRRCents converts a monthly revenue amount to cents. EINVALID for a
// negative, non-finite or absurd amount.
func MRRCents(mrr float64) (int64, error) {
	if math.IsNaN(mrr) || math.IsInf(mrr, 0) || mrr < 0 || mrr > 1e12 {
		return 0, bot.Errorf(bot.EINVALID, "mrr must be a number from 0 to 1000000000000.")
	}
	return int64(math.Round(mrr * 100)), nil
}

// GET /api/v1/companies (token)
func (s *Server) apiListCompanies(w http.ResponseWriter, r *http.Request) {
	if err := s.writeAuth(r); err != nil {
		s.authError(w, r, err)
		return
	}
	cs, err := s.e.Companies(r.Context(), bot.APIActor())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Companies []companyJSON `json:"companies"`
	}{Companies: []companyJSON{}}
	for _, c := range cs {
		out.Companies = append(out.Companies, toCompanyJSON(c))
	}
	writeJSON(w, http.StatusOK, out)
}

// POST /api/v1/companies: create (201) or update (200) by name.
func (s *Server) apiUpsertCompany(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name          string   `json:"name"`
		Domains       []string `json:"domains"`
		Organisations []string `json:"organisations"`
		Plan          *string  `json:"plan"`
		MRR           *float64 `json:"mrr"`
	}
	if !s.write(w, r, &in) {
		return
	}
	var err error
	if in.Name, err = field("name", in.Name, true, 200); err != nil {
		s.writeError(w, r, err)
		return
	}
	ci := bot.CompanyInput{Name: in.Name, Domains: in.Domains, Organisations: in.Organisations, Plan: in.Plan}
	if len(in.Domains) > 1000 || len(in.Organisations) > 1000 {
		s.writeError(w, r, bot.Errorf(bot.EINVALID, "A company can have at most 1000 domains and 1000 organisations."))
		return
	}
	if in.MRR != nil {
		c, err := MRRCents(*in.MRR)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		ci.MRRCents = &c
	}
	ctx, cancel := writeContext(r)
	defer cancel()
	res, err := s.e.UpsertCompany(ctx, bot.APIActor(), ci)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	writeJSON(w, status, struct {
		Company companyJSON `json:"company"`
		Created bool        `json:"created"`
	}{toCompanyJSON(res.Company), res.Created})
}
