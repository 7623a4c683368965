package web

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/feedbackbot/feedbackbot/bot"
)

// Limits of list queries.
const (
	defaultLimit = 50
	maxLimit     = 200
	// maxSearch bounds the matches a text search considers.
	maxSearch = 200
)

// sortRelevance orders search results best match first (the default when q
// is set).
const sortRelevance = "relevance"

// requestJSON is a request as the API shows it.
type requestJSON struct {
	Key           string     `json:"key"`
	Title         string     `json:"title"`
	Description   string     `json:"description"`
	Status        bot.Status `json:"status"`
	Demand        int        `json:"demand"`
	Organisations int        `json:"organisations"`
	Mentions      int        `json:"mentions"`
	Companies     int        `json:"companies"`
	// Value is the monthly revenue of the companies behind the request,
	// for the team and the API token only.
	Value      *float64  `json:"value,omitempty"`
	MergedInto string    `json:"merged_into,omitempty"`
	Tags       []string  `json:"tags"`
	Removed    bool      `json:"removed"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	URL        string    `json:"url"`
}

type mentionJSON struct {
	Request      string    `json:"request"`
	Platform     string    `json:"platform"`
	Workspace    string    `json:"workspace"`
	Channel      string    `json:"channel"`
	MessageID    string    `json:"message_id"`
	ThreadID     string    `json:"thread_id"`
	AuthorID     string    `json:"author_id"`
	AuthorName   string    `json:"author_name"`
	Organisation string    `json:"organisation"`
	Text         string    `json:"text"`
	Permalink    string    `json:"permalink"`
	Via          string    `json:"via"`
	CapturedBy   string    `json:"captured_by"`
	Deleted      bool      `json:"deleted"`
	CreatedAt    time.Time `json:"created_at"`
}

type historyJSON struct {
	Actor      string         `json:"actor"`
	From       bot.Status     `json:"from"`
	To         bot.Status     `json:"to"`
	Version    string         `json:"version,omitempty"`
	Note       string         `json:"note,omitempty"`
	At         time.Time      `json:"at"`
	EventID    int64          `json:"event_id,omitempty"`
	Deliveries *deliveryCount `json:"deliveries,omitempty"`
}

type deliveryCount struct {
	Total     int `json:"total"`
	Delivered int `json:"delivered"`
	Pending   int `json:"pending"`
	Failed    int `json:"failed"`
}

type deliveryFailureJSON struct {
	EventID   int64  `json:"event_id"`
	Platform  string `json:"platform"`
	Workspace string `json:"workspace"`
	Channel   string `json:"channel"`
	ThreadID  string `json:"thread_id"`
	Attempts  int    `json:"attempts"`
	Error     string `json:"error"`
}

type deliveriesJSON struct {
	deliveryCount
	Failures []deliveryFailureJSON `json:"failures"`
}

type detailJSON struct {
	Request    requestJSON    `json:"request"`
	MergedFrom string         `json:"merged_from,omitempty"`
	Mentions   []mentionJSON  `json:"mentions"`
	Duplicates []requestJSON  `json:"duplicates"`
	History    []historyJSON  `json:"history"`
	Links      []linkJSON     `json:"links"`
	Edits      []editJSON     `json:"edits"`
	Deliveries deliveriesJSON `json:"deliveries"`
}

// editJSON is one entry of a request's edit history.
type editJSON struct {
	Actor string    `json:"actor"`
	Kind  string    `json:"kind"`
	From  string    `json:"from"`
	To    string    `json:"to"`
	Note  string    `json:"note,omitempty"`
	At    time.Time `json:"at"`
}

// linkJSON is one tracker item a request follows.
type linkJSON struct {
	URL   string `json:"url"`
	Kind  string `json:"kind"`
	State string `json:"state"`
}

type trackJSON struct {
	Request *requestJSON `json:"request"`
	Link    linkJSON     `json:"link"`
	Changed bool         `json:"changed"`
	Message string       `json:"message"`
}

type listJSON struct {
	Requests []requestJSON `json:"requests"`
	Total    int           `json:"total"`
	Limit    int           `json:"limit"`
	Offset   int           `json:"offset"`
}

type changeJSON struct {
	Request *requestJSON `json:"request,omitempty"`
	Message string       `json:"message"`
}

type captureJSON struct {
	Request            *requestJSON `json:"request,omitempty"`
	PossibleDuplicates []string     `json:"possible_duplicates"`
	Message            string       `json:"message"`
}

type releaseJSON struct {
	*bot.ReleaseOutcome
	Summary string `json:"summary"`
}

func (s *Server) key(id int64) string { return s.e.Key(id) }

// requestJSON is r as the API shows it; team adds the value.
func (s *Server) requestJSON(r *bot.Request, team bool) requestJSON {
	j := requestJSON{
		Key: s.key(r.ID), Title: r.Title, Description: r.Description, Status: r.Status,
		Demand: r.Demand, Organisations: r.Orgs, Mentions: r.Mentions, Companies: r.Companies,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		URL:  "/requests/" + url.PathEscape(s.key(r.ID)),
		Tags: []string(r.Tags), Removed: r.Removed(),
	}
	if j.Tags == nil {
		j.Tags = []string{}
	}
	if r.MergedInto != nil {
		j.MergedInto = s.key(*r.MergedInto)
	}
	if team {
		v := float64(r.ValueCents) / 100
		j.Value = &v
	}
	return j
}

func (s *Server) detailJSON(d *bot.RequestDetail, team bool) detailJSON {
	j := detailJSON{
		Request:    s.requestJSON(d.Request, team),
		Mentions:   []mentionJSON{},
		Duplicates: []requestJSON{},
		History:    []historyJSON{},
		Links:      []linkJSON{},
		Edits:      []editJSON{},
		Deliveries: deliveriesJSON{Failures: []deliveryFailureJSON{}},
	}
	for _, e := range d.Edits {
		j.Edits = append(j.Edits, editJSON{Actor: e.Actor, Kind: e.Kind, From: e.From, To: e.To, Note: e.Note, At: e.CreatedAt.UTC()})
	}
	for _, l := range d.Links {
		j.Links = append(j.Links, linkJSON{URL: l.URL, Kind: l.Kind, State: l.State})
	}
	if d.AskedFor != 0 {
		j.MergedFrom = s.key(d.AskedFor)
	}
	for _, m := range d.Mentions {
		j.Mentions = append(j.Mentions, mentionJSON{
			Request: s.key(m.RequestID), Platform: m.Platform, Workspace: m.Workspace, Channel: m.Channel,
			MessageID: m.MessageID, ThreadID: m.ThreadID, AuthorID: m.AuthorID, AuthorName: m.AuthorName,
			Organisation: m.Org, Text: m.Text, Permalink: m.Permalink, Via: m.Via, CapturedBy: m.CapturedBy,
			Deleted: m.Deleted, CreatedAt: m.CreatedAt.UTC(),
		})
	}
	for _, x := range d.Duplicates {
		j.Duplicates = append(j.Duplicates, s.requestJSON(x, team))
	}
	byEvent := countDeliveries(d.Deliveries)
	for _, h := range d.History {
		hj := historyJSON{Actor: h.Actor, From: h.From, To: h.To, Version: h.Version, Note: h.Note, At: h.CreatedAt.UTC()}
		if h.EventID != nil {
			hj.EventID = *h.EventID
			c := byEvent[*h.EventID]
			hj.Deliveries = &c
		}
		j.History = append(j.History, hj)
	}
	for _, x := range d.Deliveries {
		addDelivery(&j.Deliveries.deliveryCount, x)
		if x.State == bot.DeliveryFailed {
			j.Deliveries.Failures = append(j.Deliveries.Failures, deliveryFailureJSON{
				EventID: x.EventID, Platform: x.Platform, Workspace: x.Workspace, Channel: x.Channel,
				ThreadID: x.ThreadID, Attempts: x.Attempts, Error: x.LastError,
			})
		}
	}
	return j
}

func addDelivery(c *deliveryCount, d *bot.Delivery) {
	c.Total++
	switch d.State {
	case bot.DeliveryDone:
		c.Delivered++
	case bot.DeliveryFailed:
		c.Failed++
	default:
		c.Pending++
	}
}

func countDeliveries(ds []*bot.Delivery) map[int64]deliveryCount {
	out := map[int64]deliveryCount{}
	for _, d := range ds {
		c := out[d.EventID]
		addDelivery(&c, d)
		out[d.EventID] = c
	}
	return out
}

// listQuery is a parsed ?status=&q=&sort=&limit=&offset=.
type listQuery struct {
	Status bot.Status
	Tag    string
	Q      string
	Sort   string
	Limit  int
	Offset int
}

// parseListQuery reads list parameters. With strict, invalid values are
// EINVALID errors; otherwise (the board) they fall back to defaults.
func parseListQuery(v url.Values, strict bool) (listQuery, error) {
	q := listQuery{Q: strings.TrimSpace(strings.ReplaceAll(v.Get("q"), "\x00", "")), Limit: defaultLimit}
	if utf8.RuneCountInString(q.Q) > 200 {
		if strict {
			return q, bot.Errorf(bot.EINVALID, "The search text can be at most 200 characters long.")
		}
		q.Q = string([]rune(q.Q)[:200])
	}
	if st := bot.Status(strings.TrimSpace(v.Get("status"))); st != "" {
		if !st.Valid() {
			if strict {
				return q, bot.Errorf(bot.EINVALID, "Unknown status %q: use open, planned, in_progress, shipped, declined or rolled_back.", clipText(string(st), 30))
			}
		} else {
			q.Status = st
		}
	}
	if tag := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(v.Get("tag")), "#")); tag != "" {
		if bot.ValidTag(tag) {
			q.Tag = tag
		} else if strict {
			return q, bot.Errorf(bot.EINVALID, "%q is not a valid tag: tags are 1 to %d characters of a-z, 0-9 and -.", clipText(tag, 40), bot.MaxTagLen)
		}
	}
	switch so := strings.TrimSpace(v.Get("sort")); so {
	case "":
	case bot.SortDemand, bot.SortNew, bot.SortValue, sortRelevance:
		q.Sort = so
	default:
		if strict {
			return q, bot.Errorf(bot.EINVALID, "Unknown sort %q: use demand, new, value or relevance.", clipText(so, 30))
		}
	}
	if q.Sort == "" || (q.Sort == sortRelevance && q.Q == "") {
		q.Sort = bot.SortDemand
		if q.Q != "" {
			q.Sort = sortRelevance
		}
	}
	for _, p := range []struct {
		name string
		dst  *int
		max  int
	}{{"limit", &q.Limit, maxLimit}, {"offset", &q.Offset, 1 << 30}} {
		raw := strings.TrimSpace(v.Get(p.name))
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 || (p.name == "limit" && n == 0) {
			if strict {
				return q, bot.Errorf(bot.EINVALID, "%s must be a positive number.", p.name)
			}
			continue
		}
		*p.dst = min(n, p.max)
	}
	return q, nil
}

// findRequests lists canonical requests. Without text it pages through the
// store in demand or recency order; with text it takes the best matches of
// the engine's search (at most maxSearch), filters them by status and
// orders them by relevance, demand or recency.
func (s *Server) findRequests(ctx context.Context, q listQuery) ([]*bot.Request, int, error) {
	if q.Q == "" {
		return s.e.List(ctx, bot.RequestFilter{Status: q.Status, Tag: q.Tag, Sort: q.Sort, Limit: q.Limit, Offset: q.Offset})
	}
	found, err := s.e.Search(ctx, q.Q, maxSearch)
	if err != nil {
		return nil, 0, err
	}
	rs := found[:0:0]
	for _, r := range found {
		if (q.Status == "" || r.Status == q.Status) && (q.Tag == "" || r.Tags.Has(q.Tag)) {
			rs = append(rs, r)
		}
	}
	switch q.Sort {
	case bot.SortDemand:
		slices.SortStableFunc(rs, func(a, b *bot.Request) int { return cmp.Or(cmp.Compare(b.Demand, a.Demand), cmp.Compare(a.ID, b.ID)) })
	case bot.SortNew:
		slices.SortStableFunc(rs, func(a, b *bot.Request) int { return cmp.Compare(b.ID, a.ID) })
	case bot.SortValue:
		slices.SortStableFunc(rs, func(a, b *bot.Request) int {
			return cmp.Or(cmp.Compare(b.ValueCents, a.ValueCents), cmp.Compare(b.Demand, a.Demand), cmp.Compare(a.ID, b.ID))
		})
	}
	total := len(rs)
	lo := min(q.Offset, total)
	hi := min(lo+q.Limit, total)
	return rs[lo:hi], total, nil
}

// pathKey parses the {key} path value; a malformed key is ENOTFOUND.
func (s *Server) pathKey(r *http.Request) (int64, error) {
	raw := r.PathValue("key")
	id, err := s.e.ParseKey(raw)
	if err != nil {
		return 0, bot.Errorf(bot.ENOTFOUND, "There is no request %s.", clipText(raw, 40))
	}
	return id, nil
}

// decode reads a JSON object from the size-limited body into v, refusing
// unknown fields and trailing data.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	if r.ContentLength > s.cfg.MaxBodyBytes {
		return bot.Errorf(bot.ETOOLARGE, "The request body is too large (at most %d bytes).", s.cfg.MaxBodyBytes)
	}
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, s.cfg.MaxBodyBytes)
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err, s.cfg.MaxBodyBytes)
		}
		return bot.Errorf(bot.EINVALID, "The body must hold a single JSON object.")
	}
	return nil
}

func jsonError(err error, limit int64) error {
	var mbe *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return bot.Errorf(bot.ETOOLARGE, "The request body is too large (at most %d bytes).", limit)
	case errors.Is(err, io.EOF):
		return bot.Errorf(bot.EINVALID, "The request body is empty: send a JSON object.")
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return bot.Errorf(bot.EINVALID, "The request body is not valid JSON.")
	case errors.As(err, &typ):
		if typ.Field != "" {
			return bot.Errorf(bot.EINVALID, "Field %q has the wrong type (expected %s).", typ.Field, typ.Type.String())
		}
		return bot.Errorf(bot.EINVALID, "The request body must be a JSON object.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for unknown fields.
		return bot.Errorf(bot.EINVALID, "Unknown field %s.", clipText(strings.TrimPrefix(err.Error(), "json: unknown field "), 60))
	}
	return bot.Errorf(bot.EINVALID, "The request body is not valid JSON.")
}

func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// field trims a text field (and removes NUL characters, which PostgreSQL
// refuses in text) and checks it is present (when required) and at
// most max runes long.
func field(name, v string, required bool, max int) (string, error) {
	v = strings.TrimSpace(strings.ReplaceAll(v, "\x00", ""))
	if v == "" && required {
		return "", bot.Errorf(bot.EINVALID, "Field %q is required.", name)
	}
	if utf8.RuneCountInString(v) > max {
		return "", bot.Errorf(bot.EINVALID, "Field %q can be at most %d characters long.", name, max)
	}
	return v, nil
}

// GET /api/v1/requests
func (s *Server) apiListRequests(w http.ResponseWriter, r *http.Request) {
	if err := s.readAuth(r); err != nil {
		s.authError(w, r, err)
		return
	}
	q, err := parseListQuery(r.URL.Query(), true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rs, total, err := s.findRequests(r.Context(), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	team := s.isTeam(r)
	out := listJSON{Requests: []requestJSON{}, Total: total, Limit: q.Limit, Offset: q.Offset}
	for _, x := range rs {
		out.Requests = append(out.Requests, s.requestJSON(x, team))
	}
	writeJSON(w, http.StatusOK, out)
}

// GET /api/v1/requests/{key}
func (s *Server) apiGetRequest(w http.ResponseWriter, r *http.Request) {
	if err := s.readAuth(r); err != nil {
		s.authError(w, r, err)
		return
	}
	id, err := s.pathKey(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.e.Detail(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.detailJSON(d, s.isTeam(r)))
}

// POST /api/v1/feedback
func (s *Server) apiCaptureFeedback(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Source         string `json:"source"`
		Author         string `json:"author"`
		Text           string `json:"text"`
		Link           string `json:"link"`
		Org            string `json:"org"`
		IdempotencyKey string `json:"idempotency_key"`
	}
	if !s.write(w, r, &in) {
		return
	}
	var err error
	if in.Source, err = field("source", in.Source, true, 100); err == nil {
		if in.Author, err = field("author", in.Author, true, 200); err == nil {
			if in.Org, err = field("org", in.Org, false, 200); err == nil {
				if in.Link, err = checkLink(in.Link); err == nil {
					in.IdempotencyKey, err = idempotencyKey(r, in.IdempotencyKey)
				}
			}
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// The author is the person the text is from; the token vouches for it.
	// An author that is an email address is that person (linked with
	// their other accounts by email), of the email's domain unless org says.
	by := bot.Actor{Kind: bot.ActorAPI, Identity: bot.Identity{Platform: bot.PlatformAPI, Workspace: in.Source, UserID: in.Author}, Name: in.Author, Org: in.Org}
	where := bot.Message{Platform: bot.PlatformAPI, Workspace: in.Source, Permalink: in.Link}
	ctx, cancel := writeContext(r)
	defer cancel()
	if !s.linkAPIEmail(w, r, ctx, &by) {
		return
	}
	input := bot.CaptureTextInput{Where: where, Text: in.Text}
	var iw *idempotentWrite
	if st, ok := s.e.Store().(idempotencyStore); ok && in.IdempotencyKey != "" {
		iw = &idempotentWrite{scope: "feedback", key: in.IdempotencyKey, st: st,
			fingerprint: fingerprint(in.Source, in.Author, in.Text, in.Link, in.Org)}
		status, body, err := iw.claim(ctx)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if body != "" {
			writeReplay(w, status, []byte(body))
			return
		}
		input.TextID = textID(in.IdempotencyKey)
	}
	res, err := s.e.CaptureText(ctx, by, input)
	if err != nil && iw != nil && bot.ErrorReason(err) == bot.ReasonCaptured {
		// A request with this key captured the text: give its answer.
		if status, body := iw.waitAnswer(ctx); body != "" {
			writeReplay(w, status, []byte(body))
			return
		}
		// It stopped before answering: answer from the request now.
		var be *bot.Error
		if errors.As(err, &be) && len(be.IDs) > 0 {
			if req, rerr := s.e.Store().ResolveRequest(ctx, be.IDs[0]); rerr == nil {
				status, b, _ := iw.save(ctx, http.StatusCreated, s.captureAnswer(&bot.CaptureResult{Request: req}))
				writeReplay(w, status, b)
				return
			}
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := s.captureAnswer(res)
	if iw != nil {
		if status, b, replay := iw.save(ctx, http.StatusCreated, out); replay {
			writeReplay(w, status, b)
			return
		}
	}
	w.Header().Set("Location", out.Request.URL)
	writeJSON(w, http.StatusCreated, out)
}

// captureAnswer is the answer to a capture.
func (s *Server) captureAnswer(res *bot.CaptureResult) captureJSON {
	j := s.requestJSON(res.Request, true)
	out := captureJSON{Request: &j, PossibleDuplicates: []string{}, Message: s.e.Text().Captured(res)}
	for _, id := range res.Duplicates {
		out.PossibleDuplicates = append(out.PossibleDuplicates, s.e.Key(id))
	}
	return out
}

// linkAPIEmail: an API author or voter whose user id is an email address
// is that person (linked with their other accounts by email), of the
// email's domain unless org says otherwise. False when it answered an error.
func (s *Server) linkAPIEmail(w http.ResponseWriter, r *http.Request, ctx context.Context, a *bot.Actor) bool {
	email, ok := bot.NormalizeEmail(a.Identity.UserID)
	if !ok {
		return true
	}
	if a.Org == "" {
		a.Org = bot.EmailDomain(email)
	}
	if err := s.e.LinkEmail(ctx, a.Identity, "", email); err != nil {
		s.writeError(w, r, err)
		return false
	}
	return true
}

// checkLink accepts an empty link or an absolute http(s) URL.
func checkLink(link string) (string, error) {
	link = strings.TrimSpace(link)
	if link == "" {
		return "", nil
	}
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(link) > 2000 {
		return "", bot.Errorf(bot.EINVALID, "Field \"link\" must be an http or https URL.")
	}
	return link, nil
}

// write authorises an API write and decodes its body into v; on failure it
// has answered and returns false.
func (s *Server) write(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := s.writeAuth(r); err != nil {
		s.authError(w, r, err)
		return false
	}
	if v == nil {
		// Bodiless operations still refuse oversize bodies.
		if r.ContentLength > s.cfg.MaxBodyBytes {
			s.writeError(w, r, bot.Errorf(bot.ETOOLARGE, "The request body is too large (at most %d bytes).", s.cfg.MaxBodyBytes))
			return false
		}
		return true
	}
	if err := s.decode(w, r, v); err != nil {
		s.writeError(w, r, err)
		return false
	}
	return true
}

// writeContext is the context of an API write once its input is valid: it
// is not cancelled when the client goes away (a release half done for a
// disconnected client would otherwise lose its stored answer), but bounded
// by writeTimeout, so that a database that stops answering gives a 503
// within 10 s.
func writeContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), writeTimeout)
}

// answerChange answers a write with the request the use case returned
// (canonical, after the change) and the engine's sentence for it.
func (s *Server) answerChange(w http.ResponseWriter, req *bot.Request, message string) {
	j := s.requestJSON(req, true)
	writeJSON(w, http.StatusOK, changeJSON{Request: &j, Message: message})
}

// writeTimeout bounds one API write.
const writeTimeout = 8 * time.Second

type voteInput struct {
	User   string `json:"user"`
	Source string `json:"source"`
	Org    string `json:"org"`
}

func (s *Server) vote(w http.ResponseWriter, r *http.Request, add bool) {
	var in voteInput
	if !s.write(w, r, &in) {
		return
	}
	id, err := s.pathKey(r)
	if err == nil {
		if in.User, err = field("user", in.User, true, 200); err == nil {
			if in.Source, err = field("source", in.Source, false, 100); err == nil {
				in.Org, err = field("org", in.Org, false, 200)
			}
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.Source == "" {
		in.Source = bot.PlatformAPI
	}
	// The voter is the person named; the token vouches for them.
	a := bot.Actor{Kind: bot.ActorAPI, Identity: bot.Identity{Platform: bot.PlatformAPI, Workspace: in.Source, UserID: in.User}, Name: in.User, Org: in.Org}
	ctx, cancel := writeContext(r)
	defer cancel()
	if !s.linkAPIEmail(w, r, ctx, &a) {
		return
	}
	var res *bot.VoteResult
	var message string
	if add {
		if res, err = s.e.Vote(ctx, a, bot.VoteInput{Request: id}); err == nil {
			message = s.e.Text().Voted(res)
		}
	} else {
		if res, err = s.e.Unvote(ctx, a, bot.VoteInput{Request: id}); err == nil {
			message = s.e.Text().Unvoted(res)
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.answerChange(w, res.Request, message)
}

// POST /api/v1/requests/{key}/votes
func (s *Server) apiVote(w http.ResponseWriter, r *http.Request) { s.vote(w, r, true) }

// DELETE /api/v1/requests/{key}/votes
func (s *Server) apiUnvote(w http.ResponseWriter, r *http.Request) { s.vote(w, r, false) }

// POST /api/v1/requests/{key}/merge
func (s *Server) apiMerge(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Into string `json:"into"`
	}
	if !s.write(w, r, &in) {
		return
	}
	src, err := s.pathKey(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if strings.TrimSpace(in.Into) == "" {
		s.writeError(w, r, bot.Errorf(bot.EINVALID, "Field \"into\" is required: the key of the request to merge into."))
		return
	}
	dst, err := s.e.ParseKey(strings.TrimSpace(in.Into))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx, cancel := writeContext(r)
	defer cancel()
	res, err := s.e.Merge(ctx, bot.APIActor(), bot.MergeInput{Request: src, Into: dst})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.answerChange(w, res.Into, s.e.Text().Merged(res))
}

// POST /api/v1/requests/{key}/unmerge
func (s *Server) apiUnmerge(w http.ResponseWriter, r *http.Request) {
	if !s.write(w, r, nil) {
		return
	}
	src, err := s.pathKey(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx, cancel := writeContext(r)
	defer cancel()
	res, err := s.e.Unmerge(ctx, bot.APIActor(), bot.UnmergeInput{Request: src})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.answerChange(w, res.Request, s.e.Text().Unmerged(res))
}

// POST /api/v1/requests/{key}/status
func (s *Server) apiSetStatus(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Status string `json:"status"`
		Note   string `json:"note"`
	}
	if !s.write(w, r, &in) {
		return
	}
	id, err := s.pathKey(r)
	if err == nil {
		if in.Status, err = field("status", in.Status, true, 30); err == nil {
			in.Note, err = field("note", in.Note, false, 2000)
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx, cancel := writeContext(r)
	defer cancel()
	res, err := s.e.SetStatus(ctx, bot.APIActor(), bot.SetStatusInput{Request: id, Status: bot.Status(in.Status), Note: in.Note})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.answerChange(w, res.Request, s.e.Text().StatusSet(res))
}

// POST /api/v1/requests/{key}/links and DELETE …/links: {"url"}.
func (s *Server) track(w http.ResponseWriter, r *http.Request, add bool) {
	var in struct {
		URL string `json:"url"`
	}
	if !s.write(w, r, &in) {
		return
	}
	id, err := s.pathKey(r)
	if err == nil {
		in.URL, err = field("url", in.URL, true, 2000)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx, cancel := writeContext(r)
	defer cancel()
	use, say := s.e.Track, s.e.Text().Tracked
	if !add {
		use, say = s.e.Untrack, s.e.Text().Untracked
	}
	res, err := use(ctx, bot.APIActor(), bot.TrackInput{Request: id, URL: in.URL})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	j := s.requestJSON(res.Request, true)
	writeJSON(w, http.StatusOK, trackJSON{Request: &j, Link: linkJSON{URL: res.Link.URL, Kind: res.Link.Kind, State: res.Link.State},
		Changed: res.Changed, Message: say(res)})
}

func (s *Server) apiTrack(w http.ResponseWriter, r *http.Request)   { s.track(w, r, true) }
func (s *Server) apiUntrack(w http.ResponseWriter, r *http.Request) { s.track(w, r, false) }

// POST /api/v1/releases
func (s *Server) apiRelease(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Action         string   `json:"action"`
		Version        string   `json:"version"`
		Requests       []string `json:"requests"`
		Note           string   `json:"note"`
		Reason         string   `json:"reason"`
		IdempotencyKey string   `json:"idempotency_key"`
	}
	if !s.write(w, r, &in) {
		return
	}
	if in.IdempotencyKey == "" {
		in.IdempotencyKey = r.Header.Get("Idempotency-Key")
	}
	if in.Note == "" {
		in.Note = in.Reason
	}
	var err error
	if in.Action, err = field("action", in.Action, true, 30); err == nil {
		if in.Version, err = field("version", in.Version, false, 100); err == nil {
			if in.Note, err = field("note", in.Note, false, 2000); err == nil {
				in.IdempotencyKey, err = field("idempotency_key", in.IdempotencyKey, false, 200)
			}
		}
	}
	if err == nil && len(in.Requests) > 1000 {
		err = bot.Errorf(bot.EINVALID, "A release can name at most 1000 requests.")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	keys := make([]string, 0, len(in.Requests))
	for _, k := range in.Requests {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, clipText(k, 60))
		}
	}
	ctx, cancel := writeContext(r)
	defer cancel()
	out, err := s.e.Release(ctx, bot.APIActor(), bot.ReleaseCommand{
		Action: in.Action, Keys: keys, Version: in.Version, Note: in.Note,
		IdempotencyKey: in.IdempotencyKey, AllowUnknown: true, Platform: bot.PlatformAPI,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, l := range []*[]string{&out.Changed, &out.Skipped, &out.Unknown} {
		if *l == nil {
			*l = []string{}
		}
	}
	s.log.Info("release via api", "action", out.Action, "version", out.Version, "event_id", out.EventID,
		"changed", len(out.Changed), "unknown", len(out.Unknown), "threads", out.Threads, "replayed", out.Replayed)
	writeJSON(w, http.StatusOK, releaseJSON{ReleaseOutcome: out, Summary: s.e.Text().ReleaseSummary(out)})
}

// GET /api/v1/openapi.json
func (s *Server) apiOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(openAPIDoc)
}

// PATCH /api/v1/requests/{key}: any of {"title","description","tags"}.
func (s *Server) apiEditRequest(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Title       *string   `json:"title"`
		Description *string   `json:"description"`
		Tags        *[]string `json:"tags"`
	}
	if !s.write(w, r, &in) {
		return
	}
	id, err := s.pathKey(r)
	if err == nil && in.Title == nil && in.Description == nil && in.Tags == nil {
		err = bot.Errorf(bot.EINVALID, "Send any of title, description and tags.")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx, cancel := writeContext(r)
	defer cancel()
	res, err := s.e.Edit(ctx, bot.APIActor(), bot.EditInput{Request: id, Title: in.Title, Description: in.Description, Tags: in.Tags})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.answerChange(w, res.Request, s.e.Text().Edited(res))
}

// POST /api/v1/requests/{key}/remove: {"reason"?}.
func (s *Server) apiRemoveRequest(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Reason string `json:"reason"`
	}
	if !s.writeOptional(w, r, &in) {
		return
	}
	id, err := s.pathKey(r)
	if err == nil {
		in.Reason, err = field("reason", in.Reason, false, 500)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx, cancel := writeContext(r)
	defer cancel()
	res, err := s.e.Remove(ctx, bot.APIActor(), bot.RemoveInput{Request: id, Reason: in.Reason})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.answerChange(w, res.Request, s.e.Text().Removed(res))
}

// POST /api/v1/requests/{key}/restore: an empty body or {}.
func (s *Server) apiRestoreRequest(w http.ResponseWriter, r *http.Request) {
	var in struct{}
	if !s.writeOptional(w, r, &in) {
		return
	}
	id, err := s.pathKey(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx, cancel := writeContext(r)
	defer cancel()
	res, err := s.e.Restore(ctx, bot.APIActor(), bot.RestoreInput{Request: id})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.answerChange(w, res.Request, s.e.Text().Restored(res))
}

// writeOptional is write for a body that may also be empty: an empty body
// leaves v as it is; anything else must be a JSON object of v's fields.
func (s *Server) writeOptional(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := s.writeAuth(r); err != nil {
		s.authError(w, r, err)
		return false
	}
	if r.ContentLength > s.cfg.MaxBodyBytes {
		s.writeError(w, r, bot.Errorf(bot.ETOOLARGE, "The request body is too large (at most %d bytes).", s.cfg.MaxBodyBytes))
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		s.writeError(w, r, jsonError(err, s.cfg.MaxBodyBytes))
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	if err := s.decode(w, r, v); err != nil {
		s.writeError(w, r, err)
		return false
	}
	return true
}
