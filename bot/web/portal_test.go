package web

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// seedPortal is seed plus a rollback of v2.4 and FB-5 shipped again in
// v2.5, and the tag "reports" on FB-2 and "mobile" on FB-8.
func seedPortal(env *testEnv) {
	env.t.Helper()
	seed(env)
	ctx := context.Background()
	for _, c := range []bot.ReleaseCommand{
		{Action: bot.ActionRolledBack, Keys: []string{"FB-5"}, Version: "v2.4", Note: "It broke vim mode."},
		{Action: bot.ActionShipped, Keys: []string{"FB-5"}, Version: "v2.5"},
	} {
		if _, err := env.e.Release(ctx, teamLead, c); err != nil {
			env.t.Fatalf("release: %v", err)
		}
	}
	for id, tag := range map[int64]string{2: "reports", 8: "mobile"} {
		if _, err := env.db.UpdateRequest(ctx, id, bot.RequestUpdate{AddTags: []string{tag}}, "pm"); err != nil {
			env.t.Fatalf("tag: %v", err)
		}
	}
	if err := env.e.Flush(ctx); err != nil {
		env.t.Fatalf("flush: %v", err)
	}
}

func TestPortal_Golden(t *testing.T) {
	env := newEnv(t)
	seedPortal(env)
	for _, c := range []struct{ name, path string }{
		{"roadmap", "/roadmap"},
		{"roadmap_tag", "/roadmap?tag=mobile"},
		{"changelog", "/changelog"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := env.do("GET", c.path, "")
			if r.Code != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("GET %s: %d %s", c.path, r.Code, r.Header.Get("Content-Type"))
			}
			golden(t, c.name, r.Body)
		})
	}
	empty := newEnv(t)
	golden(t, "roadmap_empty", empty.do("GET", "/roadmap", "").Body)
	golden(t, "changelog_empty", empty.do("GET", "/changelog", "").Body)
}

var cardKeyRE = regexp.MustCompile(`<span class="key">(FB-\d+)</span>`)

func keysIn(html string) string {
	var out []string
	for _, m := range cardKeyRE.FindAllStringSubmatch(html, -1) {
		out = append(out, m[1])
	}
	return strings.Join(out, " ")
}

func TestRoadmap_Columns(t *testing.T) {
	env := newEnv(t)
	seedPortal(env)
	body := env.do("GET", "/roadmap", "").Body
	heads := regexp.MustCompile(`<h2 id="[a-z-]+-h">([^<]+)</h2>`).FindAllStringSubmatch(body, -1)
	var names []string
	for _, h := range heads {
		names = append(names, h[1])
	}
	if strings.Join(names, "|") != "Planned|In progress|Shipped" {
		t.Fatalf("column headings %v", names)
	}
	// One column per section, in order: FB-2 planned, FB-8 in progress,
	// FB-5 shipped; open FB-1/FB-4, declined FB-7 are not on it.
	cols := strings.Split(body, `<section class="column"`)[1:]
	got := []string{}
	for _, c := range cols {
		got = append(got, keysIn(c))
	}
	if strings.Join(got, "|") != "FB-2|FB-8|FB-5" {
		t.Fatalf("columns %q", got)
	}
	if !strings.Contains(cols[0], "3 people") || !strings.Contains(cols[0], "#reports") {
		t.Errorf("a card shows people and tags:\n%s", cols[0])
	}
	if k := keysIn(env.do("GET", "/roadmap?tag=reports", "").Body); k != "FB-2" {
		t.Errorf("tag filter: %q", k)
	}
	// A rolled-back request leaves the roadmap; a ship older than 90 days too.
	if _, err := env.e.Release(context.Background(), teamLead, bot.ReleaseCommand{Action: bot.ActionRolledBack, Keys: []string{"FB-5"}, Version: "v2.5"}); err != nil {
		t.Fatal(err)
	}
	if k := keysIn(env.do("GET", "/roadmap", "").Body); k != "FB-2 FB-8" {
		t.Errorf("after the rollback: %q", k)
	}
	if _, err := env.e.Release(context.Background(), teamLead, bot.ReleaseCommand{Action: bot.ActionShipped, Keys: []string{"FB-5"}, Version: "v2.6"}); err != nil {
		t.Fatal(err)
	}
	env.srv.now = func() time.Time { return time.Now().Add(91 * 24 * time.Hour) }
	if k := keysIn(env.do("GET", "/roadmap", "").Body); k != "FB-2 FB-8" {
		t.Errorf("91 days after the ship: %q", k)
	}
}

func TestChangelog_Content(t *testing.T) {
	env := newEnv(t)
	seedPortal(env)
	body := env.do("GET", "/changelog", "").Body
	versions := regexp.MustCompile(`<span class="badge st-([a-z_]+)">[^<]*</span> <span class="version">([^<]+)</span>`).FindAllStringSubmatch(body, -1)
	var got []string
	for _, v := range versions {
		got = append(got, v[1]+" "+v[2])
	}
	if strings.Join(got, ", ") != "shipped v2.5, rolled_back v2.4, shipped v2.4" {
		t.Fatalf("events newest first: %v", got)
	}
	for _, want := range []string{"1 of 2 releases rolled back (50%)", "median time to rollback less than a minute",
		"Rolled back less than a minute after it shipped.", "Reason: It broke vim mode.", "Keyboard shortcuts for triage", "2 people"} {
		if !strings.Contains(body, want) {
			t.Errorf("changelog lacks %q", want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Second: "less than a minute", time.Minute: "1 minute", 40 * time.Minute: "40 minutes",
		3 * time.Hour: "3 hours", 47 * time.Hour: "47 hours", 72 * time.Hour: "3 days",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestChangelogAtom(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.PublicURL = "https://feedback.example.com/" })
	seedPortal(env)
	r := env.do("GET", "/changelog.atom", "")
	if r.Code != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/atom+xml") {
		t.Fatalf("atom: %d %s", r.Code, r.Header.Get("Content-Type"))
	}
	var f struct {
		XMLName xml.Name
		ID      string `xml:"id"`
		Title   string `xml:"title"`
		Updated string `xml:"updated"`
		Author  struct {
			Name string `xml:"name"`
		} `xml:"author"`
		Links []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Entries []struct {
			ID      string `xml:"id"`
			Title   string `xml:"title"`
			Updated string `xml:"updated"`
			Link    struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
			Content struct {
				Type string `xml:"type,attr"`
				Body string `xml:",chardata"`
			} `xml:"content"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(r.Body), &f); err != nil {
		t.Fatalf("atom does not parse: %v\n%s", err, r.Body)
	}
	// RFC 4287: atom:feed in the Atom namespace with id, title, updated,
	// an author, a self link; each entry with id, title, updated.
	if f.XMLName.Space != "http://www.w3.org/2005/Atom" || f.XMLName.Local != "feed" {
		t.Fatalf("root %v", f.XMLName)
	}
	if f.ID != "https://feedback.example.com/changelog" || f.Title == "" || f.Author.Name == "" {
		t.Errorf("feed id %q title %q author %q", f.ID, f.Title, f.Author.Name)
	}
	self := false
	for _, l := range f.Links {
		self = self || (l.Rel == "self" && l.Href == "https://feedback.example.com/changelog.atom")
	}
	if !self {
		t.Errorf("no self link: %+v", f.Links)
	}
	if _, err := time.Parse(time.RFC3339, f.Updated); err != nil {
		t.Errorf("feed updated %q: %v", f.Updated, err)
	}
	if len(f.Entries) != 3 {
		t.Fatalf("%d entries, want 3", len(f.Entries))
	}
	titles := []string{}
	ids := map[string]bool{}
	for _, e := range f.Entries {
		titles = append(titles, e.Title)
		if ids[e.ID] || !strings.HasPrefix(e.ID, "https://feedback.example.com/changelog#release-") {
			t.Errorf("entry id %q", e.ID)
		}
		ids[e.ID] = true
		if _, err := time.Parse(time.RFC3339, e.Updated); err != nil {
			t.Errorf("entry updated %q", e.Updated)
		}
		if e.Link.Href != e.ID || e.Content.Type != "html" || !strings.Contains(e.Content.Body, `<a href="https://feedback.example.com/requests/FB-5">FB-5</a>`) {
			t.Errorf("entry %+v", e)
		}
	}
	if strings.Join(titles, "|") != "Shipped in v2.5|Rolled back v2.4|Shipped in v2.4" {
		t.Errorf("titles %v", titles)
	}
	if !strings.Contains(f.Entries[1].Content.Body, "It broke vim mode.") {
		t.Errorf("rollback entry lacks its reason: %s", f.Entries[1].Content.Body)
	}
}

func TestPortal_Private(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.BoardPublic = false })
	seedPortal(env)
	for _, p := range []string{"/roadmap", "/changelog"} {
		if r := env.do("GET", p, ""); r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Errorf("%s without a session: %d %s", p, r.Code, r.Header.Get("Location"))
		}
	}
	for _, p := range []string{"/changelog.atom", "/api/v1/releases"} {
		if r := env.do("GET", p, ""); r.Code != http.StatusUnauthorized {
			t.Errorf("%s without credentials: %d", p, r.Code)
		}
		if r := env.do("GET", p, "", withToken(testToken)); r.Code != http.StatusOK {
			t.Errorf("%s with the token: %d", p, r.Code)
		}
	}
	cookie := env.tokenLogin()
	for _, p := range []string{"/roadmap", "/changelog", "/changelog.atom"} {
		r := env.do("GET", p, "", withHeader("Cookie", cookie))
		if r.Code != http.StatusOK {
			t.Errorf("%s with a session: %d", p, r.Code)
		}
		if strings.Contains(r.Body, "og:title") {
			t.Errorf("%s: a private board carries no OpenGraph tags", p)
		}
	}
	pub := newEnv(t)
	seed(pub)
	if b := pub.do("GET", "/requests/FB-2", "").Body; !strings.Contains(b, `<meta property="og:title" content="FB-2: Export reports to CSV">`) ||
		!strings.Contains(b, `<meta property="og:description" content="Planned · FB-2 · 3 people">`) {
		t.Errorf("public request page lacks OpenGraph tags")
	}
}

// getReleases GETs path, checks the answer against the OpenAPI document's
// ReleaseList and decodes it.
func getReleases(t *testing.T, env *testEnv, path string) releasesJSON {
	t.Helper()
	r := env.do("GET", path, "")
	if r.Code != 200 {
		t.Fatalf("GET %s: %d %s", path, r.Code, r.Body)
	}
	checkSchema(t, "ReleaseList", r.Body)
	var got releasesJSON
	if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestReleasesAPI(t *testing.T) {
	env := newEnv(t)
	seedPortal(env)
	got := getReleases(t, env, "/api/v1/releases?limit=2")
	if got.Total != 3 || len(got.Releases) != 2 || got.Releases[0].Version != "v2.5" || got.Releases[1].Action != bot.ActionRolledBack ||
		got.Releases[1].Note != "It broke vim mode." || len(got.Releases[1].Requests) != 1 || got.Releases[1].Requests[0].Key != "FB-5" {
		t.Fatalf("releases %+v", got)
	}
	h := got.Health
	if h.Releases != 2 || h.RolledBack != 1 || h.RollbackRate != 0.5 || h.MedianTimeToRollbackS == nil || *h.MedianTimeToRollbackS < 0 {
		t.Fatalf("health %+v", h)
	}
	r := env.do("GET", "/api/v1/releases?offset=2", "")
	checkSchema(t, "ReleaseList", r.Body)
	if !strings.Contains(r.Body, `"total": 3`) || strings.Count(r.Body, `"action"`) != 1 {
		t.Errorf("offset 2: %s", r.Body)
	}
	empty := newEnv(t).do("GET", "/api/v1/releases", "")
	checkSchema(t, "ReleaseList", empty.Body)
	if !strings.Contains(empty.Body, `"median_time_to_rollback_s": null`) || !strings.Contains(empty.Body, `"releases": []`) ||
		!strings.Contains(empty.Body, `"median_time_to_detection_s": null`) || !strings.Contains(empty.Body, `"detections": []`) {
		t.Errorf("empty: %s", empty.Body)
	}
	if r := env.do("GET", "/api/v1/releases?limit=0", ""); r.Code != 400 {
		t.Errorf("limit=0: %d", r.Code)
	}
}

func TestHealth(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 1, 1, h, 0, 0, 0, time.UTC) }
	ev := func(id int64, action, version string, h int, ids ...int64) *bot.Release {
		return &bot.Release{Event: &bot.ReleaseEvent{ID: id, Action: action, Version: version, CreatedAt: at(h)}, RequestIDs: ids}
	}
	rels := []*bot.Release{ // newest first, as the store gives them
		ev(7, bot.ActionRolledBack, "", 12, 9),  // undoes the versionless ship 6
		ev(6, bot.ActionShipped, "", 10, 9),     // a release of its own
		ev(5, bot.ActionRolledBack, "v2", 9, 2), // second rollback of v2: not the first
		ev(4, bot.ActionRolledBack, "v2", 5, 2), // v2: 4 h after its first ship
		ev(3, bot.ActionShipped, "v2", 2, 3),    // v2 shipped again: still one release
		ev(2, bot.ActionShipped, "v2", 1, 2),    // v2 first ship
		ev(1, bot.ActionShipped, "v1", 0, 1),    // never rolled back
	}
	alert := func(id, event int64, version string, h int, minute int) *bot.RegressionAlert {
		return &bot.RegressionAlert{ID: id, EventID: event, Version: version, CreatedAt: at(h).Add(time.Duration(minute) * time.Minute)}
	}
	alerts := []*bot.RegressionAlert{ // oldest first, as the store gives them
		alert(1, 3, "v2", 3, 0),  // about v2's second ship: counts from v2's first ship (2 h)
		alert(2, 2, "v2", 2, 30), // another request of v2, earlier: v2's first alert (1.5 h)
		alert(3, 6, "", 11, 0),   // the versionless release: 1 h
		alert(4, 99, "v9", 1, 0), // a ship not among the events: ignored
	}
	h, since := bot.Health(rels, alerts)
	if h.Releases != 3 || h.RolledBack != 2 || fmt.Sprintf("%.3f", h.RollbackRate) != "0.667" || h.MedianTimeToRollbackS == nil || *h.MedianTimeToRollbackS != 3*3600 {
		t.Fatalf("health %+v median %v", h, *h.MedianTimeToRollbackS)
	}
	if since[4] != 4*time.Hour || since[5] != 8*time.Hour || since[7] != 2*time.Hour || len(since) != 3 {
		t.Fatalf("since %v", since)
	}
	// v2 after 1.5 h, the versionless release after 1 h, v1 never: the
	// median of two is their mean.
	if h.Detected != 2 || h.MedianTimeToDetectionS == nil || *h.MedianTimeToDetectionS != 1.25*3600 {
		t.Fatalf("detection %+v", h)
	}
	if got := fmt.Sprint(h.Detections); got != "[{6  3600} {2 v2 5400}]" {
		t.Errorf("detections %s, want newest first, each at its release's first ship", got)
	}
	if h, _ := bot.Health(rels, nil); h.Detected != 0 || h.MedianTimeToDetectionS != nil || h.Detections == nil || len(h.Detections) != 0 {
		t.Fatalf("no alerts %+v", h)
	}
	if h, _ := bot.Health(nil, nil); h.Releases != 0 || h.RollbackRate != 0 || h.MedianTimeToRollbackS != nil || h.MedianTimeToDetectionS != nil {
		t.Fatalf("empty %+v", h)
	}
}

// TestReleasesAPI_Detection: on both databases with the store's clock moved
// by hand, FB-1 ships in v3.0, two people report problems in its thread 1 h
// and 2 h later (the second raises the alert), v3.0 is rolled back 5 h after
// the ship, and v3.1 ships without an alert. The releases API (checked
// against the OpenAPI document) and the changelog (golden) say 2 hours to
// detection and 5 hours to rollback.
func TestReleasesAPI_Detection(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		env := newEnvDSN(t, dsn)
		var mu sync.Mutex
		clock := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		env.db.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return clock })
		at := func(h int) { mu.Lock(); clock = time.Date(2026, 3, 2, 9+h, 0, 0, 0, time.UTC); mu.Unlock() }
		ctx := context.Background()
		release := func(action, key, version string) {
			t.Helper()
			if _, err := env.e.Release(ctx, teamLead, bot.ReleaseCommand{Action: action, Keys: []string{key}, Version: version}); err != nil {
				t.Fatal(err)
			}
		}
		reply := func(id, who, text string) {
			t.Helper()
			m := &bot.Message{Platform: "slack", Workspace: "T1", Channel: "C1", ID: id, ThreadID: "1.1",
				Author: bot.User{ID: "U-" + who, Name: who}, Text: text, Permalink: "https://acme.slack.com/archives/C1/p" + id}
			if _, err := env.e.Handle(ctx, &bot.Event{Kind: bot.EventMessage, Platform: "slack", Workspace: "T1", Channel: "C1", User: m.Author, Message: m}); err != nil {
				t.Fatalf("reply %q: %v", text, err)
			}
		}
		env.capture("slack", "T1", "C1", "1.1", "alice", "", "Single sign-on with Okta", "")
		env.capture("slack", "T1", "C1", "1.9", "bob", "", "Dark mode", "")
		at(1)
		release(bot.ActionShipped, "FB-1", "v3.0")
		at(2)
		reply("1.2", "carol", "SSO is broken since v3.0")
		at(3)
		reply("1.3", "dave", "login fails for me too")
		at(4)
		reply("1.4", "erin", "still broken") // a third person: no second alert
		at(6)
		release(bot.ActionRolledBack, "FB-1", "v3.0")
		at(7)
		release(bot.ActionShipped, "FB-2", "v3.1")

		alerts, err := env.db.ListRegressionAlerts(ctx)
		if err != nil || len(alerts) != 1 {
			t.Fatalf("alerts %v %v, want one", alerts, err)
		}
		got := getReleases(t, env, "/api/v1/releases")
		h := got.Health
		if h.Releases != 2 || h.RolledBack != 1 || h.MedianTimeToRollbackS == nil || *h.MedianTimeToRollbackS != 5*3600 ||
			h.Detected != 1 || h.MedianTimeToDetectionS == nil || *h.MedianTimeToDetectionS != 2*3600 {
			t.Fatalf("health %+v", h)
		}
		ship := got.Releases[len(got.Releases)-1]
		if len(h.Detections) != 1 || h.Detections[0] != (bot.Detection{EventID: ship.ID, Version: "v3.0", TimeToDetectionS: 2 * 3600}) || ship.Version != "v3.0" {
			t.Fatalf("detections %+v, first ship %+v", h.Detections, ship)
		}
		page := env.do("GET", "/changelog", "")
		if page.Code != 200 {
			t.Fatalf("changelog: %d", page.Code)
		}
		golden(t, "changelog_detection", page.Body)
	})
}
