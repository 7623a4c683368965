package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/feedbackbot/feedbackbot/bot"
)

// findChromium returns the path of a Chromium or Chrome binary, or "".
func findChromium() string {
	if p := os.Getenv("FEEDBACKBOT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// artifactDir is where screenshots go: $FEEDBACKBOT_ARTIFACTS, else a
// temporary directory of the test.
func artifactDir(t *testing.T) string {
	if d := os.Getenv("FEEDBACKBOT_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestBrowser drives a headless Chromium against the server with a seeded
// board. It skips when no Chromium is installed, unless CI=true.
// FEEDBACKBOT_UPDATE_DOCS=1 also copies the screenshots to docs/.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := findChromium()
	if chromium == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed (apt-get install -y chromium); the browser test must run in CI")
		}
		t.Skip("chromium is not installed; apt-get install -y chromium to run the browser test")
	}

	env := newEnv(t)
	seedWith(env, bot.User{ID: "it@initech.example", Name: "it@initech.example", Org: "initech"},
		"Single sign-on with SAML\nOur IT team requires SSO for every tool we buy.")
	ts := httptest.NewServer(env.srv)
	t.Cleanup(ts.Close)
	arts := artifactDir(t)

	var chromeOut bytes.Buffer
	var outMu sync.Mutex
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-client-side-phishing-detection", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication,CertificateTransparencyComponentUpdater"),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("safebrowsing-disable-auto-update", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("font-render-hinting", "none"),
		// Nothing but the test server resolves: no traffic leaves the machine.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.CombinedOutput(writerFunc(func(p []byte) (int, error) {
			outMu.Lock()
			defer outMu.Unlock()
			return chromeOut.Write(p)
		})),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	defer func() {
		if t.Failed() {
			outMu.Lock()
			t.Logf("chromium output:\n%s", chromeOut.String())
			outMu.Unlock()
		}
	}()
	// Bounds below only guard against a hang: a loaded CI machine starts
	// chromium and renders pages slowly.
	// Start the browser with no deadline (a deadline on the first call
	// would bound the browser's life), then bound each step.
	watchdog := time.AfterFunc(3*time.Minute, cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	watchdog.Stop()
	var dialogs []string
	var dmu sync.Mutex
	if err := chromedp.Listen(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			dmu.Lock()
			dialogs = append(dialogs, d.Message)
			dmu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}

	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	eval := func(js string) []string {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		v, err := chromedp.Run(sctx, chromedp.Evaluate[[]string](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return v
	}
	keys := func() []string {
		return eval(`[...document.querySelectorAll("ol.requests .key")].map(e => e.textContent)`)
	}
	location := func() string {
		return eval(`[location.pathname + location.search]`)[0]
	}
	shot := func(name string) []byte {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		b, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if _, err := png.Decode(bytes.NewReader(b)); err != nil {
			t.Fatalf("screenshot %s is not a PNG: %v", name, err)
		}
		path := filepath.Join(arts, name+".png")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", path)
		return b
	}

	// The board lists requests by demand.
	step("open the board",
		chromedp.EmulateViewport(1000, 800),
		chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("ol.requests")),
	)
	if got, want := keys(), []string{"FB-1", "FB-2", "FB-5", "FB-4", "FB-7", "FB-8"}; !slices.Equal(got, want) {
		t.Errorf("board order %v, want %v", got, want)
	}
	demand := eval(`[...document.querySelectorAll("ol.requests .demand strong")].map(e => e.textContent)`)
	if !slices.Equal(demand, []string{"4", "3", "2", "1", "1", "1"}) {
		t.Errorf("demand column %v", demand)
	}
	boardPNG := shot("board")

	// The status filter.
	step("filter shipped",
		chromedp.Click(chromedp.CSS(`nav.filters a[href="/?status=shipped"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.filters a.active[href="/?status=shipped"]`)),
	)
	if got := keys(); !slices.Equal(got, []string{"FB-5"}) {
		t.Errorf("shipped filter shows %v, want [FB-5]", got)
	}
	if loc := location(); loc != "/?status=shipped" {
		t.Errorf("location %s", loc)
	}
	step("filter in progress",
		chromedp.Click(chromedp.CSS(`nav.filters a[href="/?status=in_progress"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.filters a.active[href="/?status=in_progress"]`)),
	)
	if got := keys(); !slices.Equal(got, []string{"FB-8"}) {
		t.Errorf("in-progress filter shows %v, want [FB-8]", got)
	}

	// Search from the box, then sort the matches by newest.
	step("search",
		chromedp.Click(chromedp.CSS(`nav.filters a[href="/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.filters a.active[href="/"]`)),
		chromedp.SendKeys(chromedp.CSS(`#q`), "mode"),
		chromedp.Submit(chromedp.CSS(`form.search`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.sort a.active[href="/?q=mode"]`)),
	)
	if got := keys(); len(got) != 2 || !slices.Contains(got, "FB-1") || !slices.Contains(got, "FB-8") {
		t.Errorf("search 'mode' shows %v, want FB-1 and FB-8", got)
	}
	step("sort matches by newest",
		chromedp.Click(chromedp.CSS(`nav.sort a[href="/?q=mode&sort=new"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.sort a.active[href="/?q=mode&sort=new"]`)),
	)
	if got := keys(); !slices.Equal(got, []string{"FB-8", "FB-1"}) {
		t.Errorf("newest matches %v, want [FB-8 FB-1]", got)
	}
	step("search csv",
		chromedp.Navigate(ts.URL+"/"),
		chromedp.SendKeys(chromedp.CSS(`#q`), "csv export"),
		chromedp.Submit(chromedp.CSS(`form.search`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.sort a.active[href="/?q=csv+export"]`)),
	)
	if got := keys(); len(got) == 0 || got[0] != "FB-2" {
		t.Errorf("search 'csv export' shows %v, want FB-2 first", got)
	}

	// A request page: mentions with links back to chat, merged duplicates.
	step("open FB-2",
		chromedp.Click(chromedp.CSS(`ol.requests a.title[href="/requests/FB-2"]`)),
		chromedp.WaitVisible(chromedp.CSS(`article.request h1`)),
	)
	if h := eval(`[document.querySelector("article.request h1").textContent]`)[0]; h != "Export reports to CSV" {
		t.Errorf("title %q", h)
	}
	links := eval(`[...document.querySelectorAll(".mention a.permalink")].map(a => a.href)`)
	if !slices.Equal(links, []string{"https://discord.com/channels/G1/C2/1100000000000000002", "https://acme.slack.com/archives/C01/p1700000000000300"}) {
		t.Errorf("permalinks %v", links)
	}
	authors := eval(`[...document.querySelectorAll(".mention .author")].map(e => e.textContent)`)
	platforms := eval(`[...document.querySelectorAll(".mention .platform")].map(e => e.textContent)`)
	if !slices.Equal(authors, []string{"erin", "grace"}) || !slices.Equal(platforms, []string{"Discord", "Slack"}) {
		t.Errorf("mentions by %v on %v", authors, platforms)
	}
	dups := eval(`[...document.querySelectorAll("ul.duplicates a")].map(a => a.getAttribute("href") + " " + a.textContent)`)
	if !slices.Equal(dups, []string{"/requests/FB-3 FB-3 CSV export for the reports page"}) {
		t.Errorf("duplicates %v", dups)
	}
	step("follow the duplicate",
		chromedp.Click(chromedp.CSS(`ul.duplicates a[href="/requests/FB-3"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	)
	if n := eval(`[document.querySelector("p.notice").textContent]`)[0]; !strings.Contains(n, "FB-3 was merged into FB-2") {
		t.Errorf("notice %q", n)
	}

	// The shipped request: history with the version and delivery outcomes.
	step("open FB-5",
		chromedp.Navigate(ts.URL+"/requests/FB-5"),
		chromedp.WaitVisible(chromedp.CSS(`#deliveries`)),
	)
	hist := eval(`[...document.querySelectorAll("ol.history li")].map(e => e.textContent.replace(/\s+/g, " ").trim())`)
	if len(hist) != 2 || !strings.Contains(hist[1], "Open → Shipped in v2.4 by lead") {
		t.Errorf("history %q", hist)
	}
	outcome := eval(`[document.querySelector("#deliveries").parentElement.textContent.replace(/\s+/g, " ").trim()]`)[0]
	if !strings.Contains(outcome, "1 delivered") || !strings.Contains(outcome, "1 failed") || !strings.Contains(outcome, "channel_not_found") {
		t.Errorf("delivery outcomes %q", outcome)
	}
	requestPNG := shot("request")

	// A mention with HTML in it is shown as text and runs nothing.
	v := env.mustWrite(201, "POST", "/api/v1/feedback", fmt.Sprintf(`{"source":"email","author":"mallory","text":%q}`, xssText))
	key := requestOf(t, v)["key"].(string)
	step("open the HTML mention",
		chromedp.Navigate(ts.URL+"/requests/"+key),
		chromedp.WaitVisible(chromedp.CSS(`blockquote.text`)),
	)
	if got := eval(`[document.querySelector("blockquote.text").textContent]`)[0]; got != xssText {
		t.Errorf("mention text %q, want the HTML as text %q", got, xssText)
	}
	if got := eval(`[document.querySelector("article.request h1").textContent]`)[0]; !strings.HasPrefix(got, `<script>alert("xss")</script>`) {
		t.Errorf("title %q", got)
	}
	if n := eval(`[String(document.querySelectorAll("script, img:not(.logo), blockquote b").length)]`)[0]; n != "0" {
		t.Errorf("the mention's markup became %s elements", n)
	}
	step("board with the HTML title", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("ol.requests")))
	if n := eval(`[String(document.querySelectorAll("script, img:not(.logo)").length)]`)[0]; n != "0" {
		t.Errorf("the board grew %s script/img elements", n)
	}
	dmu.Lock()
	if len(dialogs) > 0 {
		t.Errorf("a script ran: dialogs %q", dialogs)
	}
	dmu.Unlock()

	// The demand chart is drawn on the request page.
	step("chart on FB-1", chromedp.Navigate(ts.URL+"/requests/FB-1"), chromedp.WaitVisible(chromedp.CSS("svg.chart")))
	if got := eval(`[String(document.querySelector("svg.chart").getBoundingClientRect().width > 300), document.querySelector("svg.chart desc").textContent]`); got[0] != "true" || !strings.HasPrefix(got[1], "4 people by ") {
		t.Errorf("chart %v", got)
	}

	// The roadmap and the changelog, after a rollback of v2.4 and FB-5
	// shipped again in v2.5.
	for _, c := range []bot.ReleaseCommand{
		{Action: bot.ActionRolledBack, Keys: []string{"FB-5"}, Version: "v2.4", Note: "It broke vim mode."},
		{Action: bot.ActionShipped, Keys: []string{"FB-5"}, Version: "v2.5"},
	} {
		if _, err := env.e.Release(context.Background(), teamLead, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.db.UpdateRequest(context.Background(), 8, bot.RequestUpdate{AddTags: []string{"mobile"}}, "pm"); err != nil {
		t.Fatal(err)
	}
	step("open the roadmap", chromedp.EmulateViewport(1000, 800), chromedp.Navigate(ts.URL+"/"),
		chromedp.Click(chromedp.CSS(`nav.sections a[href="/roadmap"]`)), chromedp.WaitVisible(chromedp.CSS(".roadmap")))
	cols := eval(`[...document.querySelectorAll(".roadmap section.column")].map(c => c.querySelector("h2").textContent + ":" + [...c.querySelectorAll(".key")].map(k => k.textContent).join(","))`)
	if !slices.Equal(cols, []string{"Planned:FB-2", "In progress:FB-8", "Shipped:FB-5"}) {
		t.Errorf("roadmap columns %v", cols)
	}
	roadmapPNG := shot("roadmap")
	step("roadmap tag", chromedp.Click(chromedp.CSS(`.roadmap a.chip[href="/roadmap?tag=mobile"]`)), chromedp.WaitVisible(chromedp.CSS(".count .chip")))
	if got := eval(`[...document.querySelectorAll(".roadmap .key")].map(k => k.textContent)`); !slices.Equal(got, []string{"FB-8"}) {
		t.Errorf("roadmap tagged mobile %v", got)
	}
	step("open the changelog", chromedp.Click(chromedp.CSS(`nav.sections a[href="/changelog"]`)), chromedp.WaitVisible(chromedp.CSS("ol.releases")))
	rels := eval(`[...document.querySelectorAll("li.release h2")].map(h => h.textContent.replace(/\s+/g, " ").trim())`)
	if !slices.Equal(rels, []string{"Shipped v2.5", "Rolled back v2.4", "Shipped v2.4"}) {
		t.Errorf("changelog %v", rels)
	}
	if h := eval(`[document.querySelector("p.health").textContent]`)[0]; !strings.Contains(h, "1 of 2 releases rolled back (50%)") {
		t.Errorf("health %q", h)
	}
	changelogPNG := shot("changelog")

	// Readable on a phone: no horizontal scrolling at 390 px.
	step("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)),
		chromedp.Navigate(ts.URL+"/requests/FB-5"), chromedp.WaitVisible(chromedp.CSS("article.request")))
	if w := eval(`[String(document.documentElement.scrollWidth)]`)[0]; w != "390" {
		t.Errorf("request page is %s px wide on a 390 px phone", w)
	}
	step("phone board", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("ol.requests")))
	if w := eval(`[String(document.documentElement.scrollWidth)]`)[0]; w != "390" {
		t.Errorf("board is %s px wide on a 390 px phone", w)
	}
	shot("board-phone")
	for _, p := range []string{"/roadmap", "/changelog"} {
		step("phone "+p, chromedp.Navigate(ts.URL+p), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if w := eval(`[String(document.documentElement.scrollWidth)]`)[0]; w != "390" {
			t.Errorf("%s is %s px wide on a 390 px phone", p, w)
		}
	}
	shot("changelog-phone")

	if os.Getenv("FEEDBACKBOT_UPDATE_DOCS") == "1" && !t.Failed() {
		for name, b := range map[string][]byte{"board.png": boardPNG, "request.png": requestPNG, "roadmap.png": roadmapPNG, "changelog.png": changelogPNG} {
			path := filepath.Join("..", "..", "docs", name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("updated %s", path)
		}
	}
	if err := chromedp.Cancel(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Logf("close chromium: %v", err)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
