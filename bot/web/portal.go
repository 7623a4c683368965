package web

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
)

// The portal pages (docs/portal.md): roadmap, changelog, Atom feed and the
// releases API.

type roadmapColumn struct {
	Heading, ID string
	Cards       []rowView
	Empty       string
}

type roadmapView struct {
	pageBase
	Tag      string
	NoTagURL string
	Columns  []roadmapColumn
}

// roadmapTagChips link a card's tags to the roadmap filtered by them.
func roadmapRow(s *Server, r *bot.Request) rowView {
	v := s.rowView(r)
	for i, t := range v.Tags {
		v.Tags[i].URL = "/roadmap?" + url.Values{"tag": {t.Name}}.Encode()
	}
	return v
}

// queryTag reads ?tag= the way the board does (invalid tags are ignored).
func queryTag(r *http.Request) string {
	q, _ := parseListQuery(url.Values{"tag": {r.URL.Query().Get("tag")}}, false)
	return q.Tag
}

// GET /roadmap
func (s *Server) roadmapPage(w http.ResponseWriter, r *http.Request) {
	if !s.boardAuth(w, r) {
		return
	}
	tag := queryTag(r)
	rm, err := s.e.Roadmap(r.Context(), tag, s.now())
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	v := &roadmapView{pageBase: s.base(r, "Roadmap"), Tag: tag, NoTagURL: "/roadmap"}
	v.Nav = "roadmap"
	for _, c := range []struct {
		heading, id, empty string
		rs                 []*bot.Request
	}{
		{"Planned", "planned", "Nothing planned yet.", rm.Planned},
		{"In progress", "in-progress", "Nothing in progress.", rm.InProgress},
		{"Shipped", "shipped", "Nothing shipped in the last 90 days.", rm.Shipped},
	} {
		col := roadmapColumn{Heading: c.heading, ID: c.id, Empty: c.empty}
		for _, x := range c.rs {
			col.Cards = append(col.Cards, roadmapRow(s, x))
		}
		v.Columns = append(v.Columns, col)
	}
	s.render(w, r, http.StatusOK, "roadmap", v)
}

// releaseView is one release event on the changelog.
type releaseView struct {
	ID         int64
	Anchor     string
	Action     string
	RolledBack bool
	Version    string
	Note       string
	At         time.Time
	Requests   []rowView
	// Since is how long after its ship a rollback came ("" when unknown).
	Since string
	// Detected is how long after this first ship of a release its first
	// regression alert came ("" when none).
	Detected string
}

type changelogView struct {
	pageBase
	Releases   []releaseView
	Health     bot.ReleaseHealth
	RatePct    string
	MedianText string
	// DetectText is the median time to detection ("" when no alert).
	DetectText string
	Prev, Next string
	Total      int
}

// changelogPageSize is how many events one changelog page shows.
const changelogPageSize = 50

// humanDuration is a duration the way people say it: "40 minutes",
// "3 hours", "2 days".
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour")
	}
	return plural(int(d/(24*time.Hour)), "day")
}

// seconds is s seconds as a duration.
func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

func (s *Server) releaseViews(rels []*bot.Release, h bot.ReleaseHealth, since map[int64]time.Duration) []releaseView {
	detected := map[int64]time.Duration{}
	for _, d := range h.Detections {
		detected[d.EventID] = seconds(d.TimeToDetectionS)
	}
	var out []releaseView
	for _, rel := range rels {
		ev := rel.Event
		v := releaseView{ID: ev.ID, Anchor: "release-" + strconv.FormatInt(ev.ID, 10), Action: ev.Action,
			RolledBack: ev.Action == bot.ActionRolledBack, Version: ev.Version, Note: ev.Note, At: ev.CreatedAt}
		for _, q := range rel.Requests {
			v.Requests = append(v.Requests, s.rowView(q))
		}
		if d, ok := since[ev.ID]; ok && v.RolledBack {
			v.Since = humanDuration(d)
		}
		if d, ok := detected[ev.ID]; ok && !v.RolledBack {
			v.Detected = humanDuration(d)
		}
		out = append(out, v)
	}
	return out
}

func changelogURL(offset int) string {
	if offset <= 0 {
		return "/changelog"
	}
	return "/changelog?offset=" + strconv.Itoa(offset)
}

// GET /changelog
func (s *Server) changelogPage(w http.ResponseWriter, r *http.Request) {
	if !s.boardAuth(w, r) {
		return
	}
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	offset = max(0, offset)
	rels, total, err := s.e.Releases(r.Context(), bot.ReleaseFilter{Limit: changelogPageSize, Offset: offset})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	h, since, err := s.e.ReleaseHealth(r.Context())
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	v := &changelogView{pageBase: s.base(r, "Changelog"), Health: h, Total: total, Releases: s.releaseViews(rels, h, since)}
	v.Nav = "changelog"
	v.Feed = "/changelog.atom"
	v.RatePct = strconv.FormatFloat(h.RollbackRate*100, 'f', 0, 64) + "%"
	if h.MedianTimeToRollbackS != nil {
		v.MedianText = humanDuration(seconds(*h.MedianTimeToRollbackS))
	}
	if h.MedianTimeToDetectionS != nil {
		v.DetectText = humanDuration(seconds(*h.MedianTimeToDetectionS))
	}
	if offset > 0 {
		v.Prev = changelogURL(offset - changelogPageSize)
	}
	if offset+len(rels) < total {
		v.Next = changelogURL(offset + changelogPageSize)
	}
	s.render(w, r, http.StatusOK, "changelog", v)
}

// baseURL is the board's address: FEEDBACKBOT_PUBLIC_URL when set, else
// the address the request came to.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimSuffix(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// Atom 1.0 (RFC 4287).
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomEntry struct {
	Title   string   `xml:"title"`
	ID      string   `xml:"id"`
	Updated string   `xml:"updated"`
	Link    atomLink `xml:"link"`
	Content atomText `xml:"content"`
}

// atomFeedSize is how many events the feed carries.
const atomFeedSize = 50

// releaseTitle names a release event: "Shipped in v2.4", "Rolled back: v2.4".
func releaseTitle(action, version string) string {
	if action == bot.ActionRolledBack {
		if version == "" {
			return "Rolled back"
		}
		return "Rolled back " + version
	}
	if version == "" {
		return "Shipped"
	}
	return "Shipped in " + version
}

// GET /changelog.atom
func (s *Server) changelogAtom(w http.ResponseWriter, r *http.Request) {
	if err := s.readAuth(r); err != nil {
		s.authError(w, r, err)
		return
	}
	rels, _, err := s.e.Releases(r.Context(), bot.ReleaseFilter{Limit: atomFeedSize})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	health, since, err := s.e.ReleaseHealth(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	base := s.baseURL(r)
	f := atomFeed{
		Title: "Changelog · feedbackbot", ID: base + "/changelog",
		Links:  []atomLink{{Rel: "self", Type: "application/atom+xml", Href: base + "/changelog.atom"}, {Rel: "alternate", Type: "text/html", Href: base + "/changelog"}},
		Author: atomPerson{Name: "feedbackbot"},
	}
	updated := time.Unix(0, 0).UTC()
	for _, v := range s.releaseViews(rels, health, since) {
		if v.At.After(updated) {
			updated = v.At
		}
		var b strings.Builder
		if v.RolledBack {
			b.WriteString("<p>Rolled back")
			if v.Since != "" {
				b.WriteString(" " + v.Since + " after it shipped")
			}
			b.WriteString(".</p>")
		}
		if v.Note != "" {
			b.WriteString("<p>" + xmlEscape(v.Note) + "</p>")
		}
		b.WriteString("<ul>")
		for _, q := range v.Requests {
			fmt.Fprintf(&b, `<li><a href="%s">%s</a> %s (%s)</li>`, xmlEscape(base+q.URL), xmlEscape(q.Key), xmlEscape(q.Title), peopleText(q.Demand))
		}
		b.WriteString("</ul>")
		f.Entries = append(f.Entries, atomEntry{
			Title: releaseTitle(v.Action, v.Version), ID: base + "/changelog#" + v.Anchor,
			Updated: v.At.UTC().Format(time.RFC3339),
			Link:    atomLink{Rel: "alternate", Type: "text/html", Href: base + "/changelog#" + v.Anchor},
			Content: atomText{Type: "html", Body: b.String()},
		})
	}
	f.Updated = updated.Format(time.RFC3339)
	out, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/atom+xml; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(xml.Header))
	w.Write(out)
}

func peopleText(n int) string {
	if n == 1 {
		return "1 person"
	}
	return strconv.Itoa(n) + " people"
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

type releaseEventJSON struct {
	ID       int64         `json:"id"`
	Action   string        `json:"action"`
	Version  string        `json:"version"`
	Note     string        `json:"note"`
	At       time.Time     `json:"at"`
	Requests []requestJSON `json:"requests"`
}

type releasesJSON struct {
	Releases []releaseEventJSON `json:"releases"`
	Total    int                `json:"total"`
	Health   bot.ReleaseHealth  `json:"health"`
}

// GET /api/v1/releases
func (s *Server) apiListReleases(w http.ResponseWriter, r *http.Request) {
	if err := s.readAuth(r); err != nil {
		s.authError(w, r, err)
		return
	}
	q, err := parseListQuery(url.Values{"limit": {r.URL.Query().Get("limit")}, "offset": {r.URL.Query().Get("offset")}}, true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rels, total, err := s.e.Releases(r.Context(), bot.ReleaseFilter{Limit: q.Limit, Offset: q.Offset})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h, _, err := s.e.ReleaseHealth(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	team := s.isTeam(r)
	out := releasesJSON{Releases: []releaseEventJSON{}, Total: total, Health: h}
	for _, rel := range rels {
		j := releaseEventJSON{ID: rel.Event.ID, Action: rel.Event.Action, Version: rel.Event.Version, Note: rel.Event.Note, At: rel.Event.CreatedAt.UTC(), Requests: []requestJSON{}}
		for _, x := range rel.Requests {
			j.Requests = append(j.Requests, s.requestJSON(x, team))
		}
		out.Releases = append(out.Releases, j)
	}
	writeJSON(w, http.StatusOK, out)
}
