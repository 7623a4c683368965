package slack_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
	fbslack "github.com/feedbackbot/feedbackbot/bot/slack"
	"github.com/feedbackbot/feedbackbot/commands"
	"github.com/feedbackbot/feedbackbot/internal/slacktest"
	"github.com/feedbackbot/feedbackbot/store"
)

// peopleHarness is the real engine, commands and store behind the adapter
// in Socket Mode, with the store told about people (Config.People).
func peopleHarness(t *testing.T) (*harness, *store.DB) {
	t.Helper()
	f := slacktest.New(slacktest.Options{Methods: e2eMethods(t), PingInterval: 500 * time.Millisecond})
	f.AddUser(slacktest.User{ID: "U1", Name: "alice", DisplayName: "Alice", Email: "alice@ourco.com"})
	f.AddUser(slacktest.User{ID: "U4", Name: "erin", DisplayName: "Erin", TeamID: "TACME", Email: "Erin@Acme.com"})
	f.AddUser(slacktest.User{ID: "U6", Name: "sam", DisplayName: "Sam", TeamID: "TACME"})
	ctx, cancel := context.WithCancel(context.Background())
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "fb.db"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := bot.DefaultConfig()
	cfg.DeliveryPoll = 50 * time.Millisecond
	cfg.IndexPoll = 0
	eng := bot.NewEngine(db, dedup.New(dedup.DefaultConfig()), cfg, log)
	eng.SetCommands(commands.New(eng))
	cnt := &counter{h: eng, n: map[string]int{}}
	o := f.Options()
	a, err := fbslack.New(fbslack.Config{BotToken: o.BotToken, AppToken: o.AppToken, APIURL: f.APIURL(), Logger: log, People: db}, cnt)
	if err != nil {
		t.Fatal(err)
	}
	eng.AddPlatform(a)
	if err := eng.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = eng.Run(ctx) })
	wg.Go(func() { _ = a.Run(ctx) })
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := f.WaitConnections(wctx, 1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		db.Close()
		f.Close()
		if v := f.Violations(); len(v) > 0 {
			t.Errorf("fake Slack violations:\n%s", strings.Join(v, "\n"))
		}
	})
	return &harness{f: f, eng: eng, cnt: cnt, tr: socketTransport{f}}, db
}

// TestSlack_SharedChannelRedaction: in a Slack Connect channel the card and
// the show reply have the title, key, status and people but no
// organisations, companies, values or notes; an internal channel keeps them.
func TestSlack_SharedChannelRedaction(t *testing.T) {
	h, db := peopleHarness(t)
	f := h.f
	f.ShareChannel("CSHARED")
	ctx := context.Background()
	mrr := int64(90000)
	if _, _, err := db.UpsertCompany(ctx, bot.CompanyInput{Name: "Acme Corp", Organisations: []string{"TACME"}, MRRCents: &mrr}); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []string{"CSHARED", "CINTERNAL"} {
		if got := h.respond(t, "U1", ch, "watch"); !strings.Contains(strings.ToLower(got), "watch") {
			t.Fatalf("watch %s: %q", ch, got)
		}
	}
	m := f.NewMessage("CSHARED", "U4", "Please add SAML single sign-on", "")
	h.tr.event(t, f.MessageEvent(m))
	eventually(t, "card in the shared channel", func() bool { return len(h.postsContaining("CSHARED", m.TS, "FB-1")) == 1 })
	card := h.postsContaining("CSHARED", m.TS, "FB-1")[0].Text
	if !strings.Contains(card, "Please add SAML single sign-on") || !strings.Contains(card, "1 person") || !strings.Contains(card, "open") {
		t.Errorf("shared card lacks title, status or people: %q", card)
	}
	for _, bad := range []string{"organisation", "TACME", "Acme", "900", "value"} {
		if strings.Contains(card, bad) {
			t.Errorf("shared card shows %q: %q", bad, card)
		}
	}
	if _, err := h.eng.SetStatus(ctx, bot.APIActor(), bot.SetStatusInput{Request: 1, Status: bot.StatusPlanned, Note: "internal: Acme renewal depends on it"}); err != nil {
		t.Fatal(err)
	}
	show := h.respond(t, "U1", "CSHARED", "show FB-1")
	if !strings.Contains(show, "FB-1") || !strings.Contains(show, "planned") {
		t.Errorf("shared show lacks the card: %q", show)
	}
	for _, bad := range []string{"organisation", "Acme", "renewal", "Erin", "Mentions"} {
		if strings.Contains(show, bad) {
			t.Errorf("shared show shows %q: %q", bad, show)
		}
	}
	// The same request shown in an internal channel keeps the details.
	inside := h.respond(t, "U1", "CINTERNAL", "show FB-1")
	if !strings.Contains(inside, "1 organisation") || !strings.Contains(inside, "renewal") {
		t.Errorf("internal show lost details: %q", inside)
	}
}

// TestSlack_ProfileEmailLinks: a Slack user's profile email links them with
// the same person from the API, so demand counts them once; the installing
// workspace is a home organisation.
func TestSlack_ProfileEmailLinks(t *testing.T) {
	h, db := peopleHarness(t)
	f := h.f
	ctx := context.Background()
	if got := h.respond(t, "U1", "C1", "watch"); !strings.Contains(strings.ToLower(got), "watch") {
		t.Fatalf("watch: %q", got)
	}
	m := f.NewMessage("C1", "U4", "Bulk edit for tags", "")
	h.tr.event(t, f.MessageEvent(m))
	eventually(t, "card", func() bool { return len(h.postsContaining("C1", m.TS, "FB-1")) == 1 })
	// The same person votes through the API with their email.
	api := bot.Actor{Kind: bot.ActorAPI, Identity: bot.Identity{Platform: bot.PlatformAPI, Workspace: "zendesk", UserID: "erin@acme.com"}, Org: "acme.com"}
	if err := h.eng.LinkEmail(ctx, api.Identity, "", "erin@acme.com"); err != nil {
		t.Fatal(err)
	}
	res, err := h.eng.Vote(ctx, api, bot.VoteInput{Request: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed || res.Request.Demand != 1 {
		t.Errorf("the API vote of the Slack author counted again: changed=%v demand=%d", res.Changed, res.Request.Demand)
	}
	// Alice (installing workspace) votes: a person, not a customer organisation.
	h.tr.event(t, f.ReactionEvent(true, "U1", "+1", "C1", m.TS))
	eventually(t, "alice's vote", func() bool { return h.demand(t, 1) == 2 })
	homes, err := db.HomeOrgs(ctx)
	if err != nil || len(homes) != 1 || homes[0] != f.Options().TeamID {
		t.Errorf("home organisations %v %v", homes, err)
	}
	d, _ := h.eng.Detail(ctx, 1)
	if d.Request.Orgs != 1 { // TACME; not the home workspace of Alice
		t.Errorf("organisations %d, want 1", d.Request.Orgs)
	}
	p, err := db.FindPerson(ctx, bot.Identity{Platform: bot.PlatformSlack, Workspace: f.Options().TeamID, UserID: "U4"})
	if err != nil || len(p.Identities) != 2 {
		t.Fatalf("person of U4: %+v %v", p, err)
	}
}
