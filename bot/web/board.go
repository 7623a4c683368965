package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

//go:embed openapi.json
var openAPIDoc []byte

// cssVersion busts caches when the stylesheet changes.
var cssVersion = func() string {
	b, err := staticFS.ReadFile("static/style.css")
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}()

func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

var statusOrder = []bot.Status{bot.StatusOpen, bot.StatusPlanned, bot.StatusInProgress, bot.StatusShipped, bot.StatusRolledBack, bot.StatusDeclined}

var statusLabels = map[bot.Status]string{
	bot.StatusOpen:       "Open",
	bot.StatusPlanned:    "Planned",
	bot.StatusInProgress: "In progress",
	bot.StatusShipped:    "Shipped",
	bot.StatusDeclined:   "Declined",
	bot.StatusRolledBack: "Rolled back",
}

func statusLabel(s bot.Status) string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	if s == "" {
		return "—"
	}
	return string(s)
}

func platformLabel(p string) string {
	switch p {
	case bot.PlatformSlack:
		return "Slack"
	case bot.PlatformDiscord:
		return "Discord"
	case bot.PlatformConsole:
		return "Console"
	case bot.PlatformAPI:
		return "API"
	}
	return p
}

func viaLabel(v string) string {
	switch v {
	case bot.ViaChannel:
		return "watched channel"
	case bot.ViaReaction:
		return "capture reaction"
	case bot.ViaShortcut:
		return "message shortcut"
	case bot.ViaCommand:
		return "/feedback command"
	case bot.ViaMention:
		return "bot mention"
	case bot.ViaForum:
		return "forum post"
	case bot.ViaAPI:
		return "API"
	case bot.ViaThread:
		return "thread reply"
	case bot.ViaLink:
		return "/feedback link"
	}
	return v
}

// webLink returns permalink when it is an http(s) URL a browser can open,
// else "" (a console mention's "console:12"), so that the page shows no
// link rather than a dead one.
func webLink(permalink string) string {
	u, err := url.Parse(permalink)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return permalink
}

var funcs = template.FuncMap{
	"statusLabel":   statusLabel,
	"platformLabel": platformLabel,
	"viaLabel":      viaLabel,
	"linkLabel": func(platform string) string {
		switch platform {
		case bot.PlatformSlack, bot.PlatformDiscord:
			return "View in " + platformLabel(platform)
		}
		return "Open the original"
	},
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return one
		}
		return many
	},
	"isoTime":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"date":     func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
	"datetime": func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
}

func (s *Server) loadTemplates() {
	s.pages = map[string]*template.Template{}
	for _, name := range []string{"board", "request", "login", "error", "roadmap", "changelog"} {
		s.pages[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/base.html", "templates/"+name+".html"))
	}
}

// pageBase is what every page's layout needs.
type pageBase struct {
	Title    string
	CSS      string
	SignedIn bool   // show "Sign out"
	Who      string // the signed-in person's name
	Team     bool   // the signed-in person is on the team
	CSRF     string // the session's form token
	SignIn   string // where "Sign in" goes ("" when there is no sign-in)
	Nav      string // the section the page belongs to: board, roadmap, changelog
	Feed     string // the page's Atom feed, linked from <head>
	// OpenGraph preview tags, on public boards only (a private board's
	// pages say nothing to link previewers).
	OG *ogTags
}

// ogTags are a page's OpenGraph properties.
type ogTags struct{ Title, Description, URL string }

func (s *Server) base(r *http.Request, title string) pageBase {
	b := pageBase{Title: title, CSS: "/static/style.css?v=" + cssVersion, Nav: "board"}
	if s.cfg.BoardPublic {
		b.OG = &ogTags{Title: title, URL: s.baseURL(r) + r.URL.RequestURI()}
	}
	if sess := s.session(r); sess != nil {
		b.SignedIn, b.Who, b.Team, b.CSRF = true, sess.Name, sess.Team, sess.CSRF
	} else if s.oidc != nil {
		b.SignIn = loginURL(r.URL.RequestURI())
	}
	return b
}

// render executes a page into a buffer first, so a template error becomes a
// clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "base", data); err != nil {
		s.log.Error("render page", "page", page, "err", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

type errorView struct {
	pageBase
	Heading, Message string
}

// renderError shows err as an HTML page with the mapped status.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := errorOf(err)
	s.logError(r, code, err)
	status := HTTPStatus(code)
	heading := http.StatusText(status)
	if code == bot.ENOTFOUND {
		heading = "Not found"
	}
	s.render(w, r, status, "error", &errorView{pageBase: s.base(r, heading), Heading: heading, Message: msg})
}

func (s *Server) notFoundPage(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, bot.Errorf(bot.ENOTFOUND, "There is no page at this address."))
}

// boardAuth sends people who may not read a private board to the login form.
func (s *Server) boardAuth(w http.ResponseWriter, r *http.Request) bool {
	if s.canRead(r) {
		return true
	}
	if _, ok := bearer(r); ok {
		s.renderError(w, r, bot.Errorf(bot.EUNAUTHORIZED, "The token is wrong."))
		return false
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	return false
}

type rowView struct {
	Key, URL, Title string
	Status          bot.Status
	Demand          int
	Orgs            int
	Mentions        int
	Companies       int
	Created         time.Time
	Tags            []tagChip
}

// tagChip is a tag shown on a card, linking to the board filtered by it.
type tagChip struct{ Name, URL string }

func tagChips(tags bot.Tags) []tagChip {
	var out []tagChip
	for _, t := range tags {
		out = append(out, tagChip{Name: t, URL: "/?" + url.Values{"tag": {t}}.Encode()})
	}
	return out
}

func (s *Server) rowView(r *bot.Request) rowView {
	k := s.key(r.ID)
	return rowView{Key: k, URL: "/requests/" + url.PathEscape(k), Title: r.Title, Status: r.Status,
		Demand: r.Demand, Orgs: r.Orgs, Mentions: r.Mentions, Companies: r.Companies, Created: r.CreatedAt, Tags: tagChips(r.Tags)}
}

type tab struct {
	Label, URL string
	Active     bool
}

type boardView struct {
	pageBase
	Query       listQuery
	DefaultSort string
	Rows        []rowView
	Total       int
	StatusTabs  []tab
	SortTabs    []tab
	Prev, Next  string
	From, To    int
	// NoTagURL is the board without the tag filter.
	NoTagURL string
}

// boardURL builds a board link for q (defaults left out, so links stay short).
func boardURL(q listQuery) string {
	v := url.Values{}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	if q.Status != "" {
		v.Set("status", string(q.Status))
	}
	if q.Tag != "" {
		v.Set("tag", q.Tag)
	}
	def := bot.SortDemand
	if q.Q != "" {
		def = sortRelevance
	}
	if q.Sort != "" && q.Sort != def {
		v.Set("sort", q.Sort)
	}
	if q.Offset > 0 {
		v.Set("offset", strconv.Itoa(q.Offset))
	}
	if q.Limit != defaultLimit && q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if len(v) == 0 {
		return "/"
	}
	return "/?" + v.Encode()
}

// GET /
func (s *Server) boardPage(w http.ResponseWriter, r *http.Request) {
	if !s.boardAuth(w, r) {
		return
	}
	q, _ := parseListQuery(r.URL.Query(), false)
	rs, total, err := s.findRequests(r.Context(), q)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	title := "Feedback board"
	if q.Q != "" {
		title = "Search: " + q.Q
	}
	v := &boardView{pageBase: s.base(r, title), Query: q, Total: total, DefaultSort: bot.SortDemand}
	if q.Q != "" {
		v.DefaultSort = sortRelevance
	}
	for _, x := range rs {
		v.Rows = append(v.Rows, s.rowView(x))
	}
	if q.Tag != "" {
		nt := q
		nt.Tag, nt.Offset = "", 0
		v.NoTagURL = boardURL(nt)
	}
	all := q
	all.Status, all.Offset = "", 0
	v.StatusTabs = append(v.StatusTabs, tab{Label: "All", URL: boardURL(all), Active: q.Status == ""})
	for _, st := range statusOrder {
		t := all
		t.Status = st
		v.StatusTabs = append(v.StatusTabs, tab{Label: statusLabels[st], URL: boardURL(t), Active: q.Status == st})
	}
	sorts := []struct{ key, label string }{{bot.SortDemand, "Top demand"}, {bot.SortNew, "Newest"}}
	if q.Q != "" {
		sorts = append([]struct{ key, label string }{{sortRelevance, "Best match"}}, sorts...)
	}
	if q.Sort == bot.SortValue || s.isTeam(r) {
		// The order is no secret, the value is (shown to the team only).
		sorts = append(sorts, struct{ key, label string }{bot.SortValue, "Top value"})
	}
	for _, so := range sorts {
		t := q
		t.Sort, t.Offset = so.key, 0
		v.SortTabs = append(v.SortTabs, tab{Label: so.label, URL: boardURL(t), Active: q.Sort == so.key})
	}
	if len(rs) > 0 {
		v.From, v.To = q.Offset+1, q.Offset+len(rs)
	}
	if q.Offset > 0 {
		p := q
		p.Offset = max(0, q.Offset-q.Limit)
		v.Prev = boardURL(p)
	}
	if q.Offset+len(rs) < total {
		n := q
		n.Offset = q.Offset + q.Limit
		v.Next = boardURL(n)
	}
	s.render(w, r, http.StatusOK, "board", v)
}

type mentionView struct {
	Author, Org, Platform, Where, Text, Permalink, Via, CapturedBy string
	FromKey, FromURL                                               string
	At                                                             time.Time
	Deleted                                                        bool
}

type problemView struct {
	Version, Author, Platform, Text, Permalink string
	At                                         time.Time
}

type requestView struct {
	pageBase
	Statuses     []bot.Status
	Tags         string
	Removed      bool
	CompanyNames []string
	Value        string
	Req          rowView
	Description  string
	MergedFrom   string
	Mentions     []mentionView
	Duplicates   []rowView
	History      []historyJSON
	Edits        []editView
	Links        []linkView
	Deliveries   deliveriesJSON
	// Problems are the post-ship problem reports (README "Regression signal").
	Problems []problemView
	// Chart is the demand-over-time SVG (drawn here, escaped text only).
	Chart template.HTML
}

// editView is one entry of the edit history on the request page.
type editView struct {
	editJSON
	FromTags, ToTags []string
}

// linkView is a tracker item on the request page; Href is empty for a
// Linear identifier given without its URL.
type linkView struct {
	linkJSON
	Href  string
	Label string
}

var linkKindLabels = map[string]string{bot.LinkGitHubIssue: "GitHub issue", bot.LinkGitHubPull: "Pull request", bot.LinkLinear: "Linear issue"}

// GET /requests/{key}
func (s *Server) requestPage(w http.ResponseWriter, r *http.Request) {
	if !s.boardAuth(w, r) {
		return
	}
	id, err := s.pathKey(r)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	d, err := s.e.Detail(r.Context(), id)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	j := s.detailJSON(d, s.isTeam(r))
	row := s.rowView(d.Request)
	v := &requestView{
		pageBase:    s.base(r, row.Key+": "+row.Title),
		Statuses:    []bot.Status{bot.StatusOpen, bot.StatusPlanned, bot.StatusInProgress, bot.StatusDeclined},
		Tags:        strings.Join(d.Request.Tags, " "),
		Removed:     d.Request.Removed(),
		Req:         row,
		Description: d.Request.Description,
		MergedFrom:  j.MergedFrom,
		History:     j.History,
		Deliveries:  j.Deliveries,
	}
	if ts, err := s.e.DemandTimeline(r.Context(), d.Request.ID); err == nil {
		v.Chart = demandChart(row.Key, ts, s.now())
	} else {
		s.log.Warn("demand timeline", "err", err)
	}
	if v.OG != nil {
		v.OG.Description = fmt.Sprintf("%s · %s · %d %s", statusLabel(d.Request.Status), row.Key, row.Demand, map[bool]string{true: "person", false: "people"}[row.Demand == 1])
	}
	for _, p := range d.Problems {
		m := p.Mention
		pv := problemView{Version: p.Version, Author: m.AuthorName, Platform: m.Platform, Text: m.Text, Permalink: webLink(m.Permalink), At: m.CreatedAt}
		if pv.Author == "" {
			pv.Author = m.AuthorID
		}
		v.Problems = append(v.Problems, pv)
	}
	for _, e := range d.Edits {
		v.Edits = append(v.Edits, editView{editJSON: editJSON{Actor: e.Actor, Kind: e.Kind, From: e.From, To: e.To, Note: e.Note, At: e.CreatedAt},
			FromTags: strings.Fields(e.From), ToTags: strings.Fields(e.To)})
	}
	for _, m := range d.Mentions {
		mv := mentionView{
			Author: m.AuthorName, Org: m.Org, Platform: m.Platform, Text: m.Text,
			Permalink: webLink(m.Permalink), Via: m.Via, CapturedBy: m.CapturedBy, At: m.CreatedAt, Deleted: m.Deleted,
		}
		if mv.Author == "" {
			mv.Author = m.AuthorID
		}
		if m.Platform == bot.PlatformAPI {
			mv.Where = m.Workspace
		} else if m.Channel != "" {
			mv.Where = channelLabel(m.Platform, m.Channel)
		}
		if m.RequestID != d.Request.ID {
			mv.FromKey = s.key(m.RequestID)
			mv.FromURL = "/requests/" + url.PathEscape(mv.FromKey)
		}
		v.Mentions = append(v.Mentions, mv)
	}
	for _, x := range d.Duplicates {
		v.Duplicates = append(v.Duplicates, s.rowView(x))
	}
	for _, l := range j.Links {
		lv := linkView{linkJSON: l, Label: linkKindLabels[l.Kind]}
		if strings.HasPrefix(l.URL, "https://") {
			lv.Href = l.URL
		}
		v.Links = append(v.Links, lv)
	}
	if v.Team || s.isTeam(r) {
		v.Team = true
		v.Value = fmt.Sprintf("%.2f", float64(d.Request.ValueCents)/100)
		if names, err := s.e.RequestCompanies(r.Context(), bot.APIActor(), d.Request.ID); err == nil {
			v.CompanyNames = names
		}
	}
	s.render(w, r, http.StatusOK, "request", v)
}

// channelLabel shows a channel id the way people read it.
func channelLabel(platform, channel string) string {
	if platform == bot.PlatformConsole && !strings.HasPrefix(channel, "#") {
		return "#" + channel
	}
	return channel
}
