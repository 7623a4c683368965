package discord

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
	"github.com/feedbackbot/feedbackbot/commands"
	"github.com/feedbackbot/feedbackbot/internal/discordtest"
	"github.com/feedbackbot/feedbackbot/store"
)

// engineEnv is the real engine and store (SQLite in a temp dir) behind the
// adapter, the real discordgo client, and the fake Discord.
type engineEnv struct {
	*env
	db  *store.DB
	eng *bot.Engine
}

const randomID = "900000000000000104"

func newEngineEnv(t *testing.T) *engineEnv {
	t.Helper()
	return newEngineEnvWith(t, nil, nil)
}

// newEngineEnvWith is newEngineEnv with another duplicate scorer (nil: the
// real index) and, when log is set, that logger for the engine and the
// adapter.
func newEngineEnvWith(t *testing.T, scorer bot.Scorer, log *slog.Logger, opts ...envOption) *engineEnv {
	t.Helper()
	if log == nil {
		log = testLogger(t)
	}
	e := newEnv(t, append([]envOption{func(c *Config, _ *discordtest.Options) { c.Logger = log }}, opts...)...)
	e.fake.AddChannel(discordtest.Channel{ID: randomID, Type: discordtest.ChannelText, GuildID: guildID, Name: "random"})
	ctx, cancel := context.WithCancel(context.Background())
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "fb.db"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := bot.DefaultConfig()
	cfg.DeliveryPoll = 20 * time.Millisecond
	cfg.IndexPoll = 0
	cfg.SuggestThreshold = dedup.DefaultSuggestThreshold
	if scorer == nil {
		scorer = dedup.New(dedup.DefaultConfig())
	}
	eng := bot.NewEngine(db, scorer, cfg, log)
	eng.SetCommands(commands.New(eng))
	eng.AddPlatform(e.a)
	if err := eng.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); eng.Run(ctx) }()
	e.rec.setFn(eng.Handle) // record, then hand to the engine
	t.Cleanup(func() {
		e.stop() // adapter first: no new events
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("engine Run did not return")
		}
		db.Close()
	})
	return &engineEnv{env: e, db: db, eng: eng}
}

// command runs /feedback and returns the text of the final answer.
func (e *engineEnv) command(t *testing.T, channel string, who discordtest.Member, sub string, opts ...discordtest.Opt) discordtest.InteractionResponse {
	t.Helper()
	id, err := e.fake.SlashCommand(channel, who, CommandName, sub, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return finalResponse(t, e.fake, id)
}

// finalResponse waits for the answer to an interaction: the callback, or
// the edit/follow-up after a deferral.
func finalResponse(t *testing.T, f *discordtest.Server, id string) discordtest.InteractionResponse {
	t.Helper()
	var last discordtest.InteractionResponse
	eventually(t, 60*time.Second, func() bool {
		rs := f.Responses(id)
		if len(rs) == 0 {
			return false
		}
		last = rs[len(rs)-1]
		return !(last.Kind == "callback" && (last.Type == 5 || last.Type == 6))
	}, "answer to interaction %s", id)
	return last
}

func (e *engineEnv) request(t *testing.T, id int64) *bot.Request {
	t.Helper()
	r, err := e.db.FindRequestByID(context.Background(), id)
	if err != nil {
		t.Fatalf("request %d: %v", id, err)
	}
	return r
}

// botPosts returns the bot's messages in a channel whose content contains s.
func botPosts(f *discordtest.Server, channel, s string) []discordtest.Message {
	var out []discordtest.Message
	for _, m := range f.BotMessages(channel) {
		if strings.Contains(m.Content, s) {
			out = append(out, m)
		}
	}
	return out
}

func replyTo(ms []discordtest.Message, root string) int {
	n := 0
	for _, m := range ms {
		if m.MessageReference != nil && m.MessageReference.MessageID == root {
			n++
		}
	}
	return n
}

func TestEngineE2E(t *testing.T) {
	t.Parallel()
	e := newEngineEnv(t)
	f := e.fake

	// Team member sets up the watched channel and forum.
	if r := e.command(t, generalID, tina, "watch"); !strings.Contains(r.Content, "Watching") || !r.Ephemeral() {
		t.Fatalf("watch: %+v", r)
	}
	if r := e.command(t, generalID, tina, "watch", o("channel", forumID)); !strings.Contains(r.Content, "Watching") {
		t.Fatalf("watch forum: %+v", r)
	}
	if r := e.command(t, generalID, alice, "watch", o("channel", randomID)); r.Content != "Only team members can change which channels I watch." {
		t.Fatalf("non-team watch: %+v", r)
	}

	// 1. A message in a watched channel becomes FB-1, confirmed by a card
	// replying to it, with a vote button.
	m1, _ := f.UserMessage(generalID, alice, "Dark mode for the dashboard")
	eventually(t, 60*time.Second, func() bool { return len(botPosts(f, generalID, "FB-1")) == 1 }, "card for FB-1")
	card1 := botPosts(f, generalID, "FB-1")[0]
	if card1.MessageReference == nil || card1.MessageReference.MessageID != m1.ID || len(card1.Buttons()) != 2 || card1.Buttons()[0].CustomID != "vote:1" || card1.Buttons()[1].CustomID != "edit:1" {
		t.Fatalf("card = %+v", card1)
	}
	if r := e.request(t, 1); r.Title != "Dark mode for the dashboard" || r.Demand != 1 {
		t.Fatalf("FB-1 = %+v", r)
	}

	// 2. A forum post becomes FB-2 with its title; the card is in the post.
	post, _, _ := f.ForumPost(forumID, bob, "Export to CSV", "I need to export the board as CSV for my reports", tagAPI)
	eventually(t, 60*time.Second, func() bool { return len(botPosts(f, post.ID, "FB-2")) == 1 }, "card in the forum post")
	if r := e.request(t, 2); r.Title != "Export to CSV" {
		t.Fatalf("FB-2 = %+v", r)
	}

	// 3. A duplicate gets a suggestion with buttons.
	m3, _ := f.UserMessage(generalID, bob, "Dark mode for the dashboard please")
	eventually(t, 60*time.Second, func() bool { return len(botPosts(f, generalID, "Possible duplicates")) == 1 }, "suggestion")
	sugg := botPosts(f, generalID, "Possible duplicates")[0]
	if sugg.MessageReference == nil || sugg.MessageReference.MessageID != m3.ID {
		t.Fatalf("suggestion is not a reply to the duplicate: %+v", sugg)
	}
	var mergeID string
	for _, b := range sugg.Buttons() {
		if strings.HasPrefix(b.CustomID, "merge:") && strings.HasSuffix(b.CustomID, ":1") {
			mergeID = b.CustomID
		}
	}
	if mergeID == "" {
		t.Fatalf("no merge button into FB-1: %+v", sugg.Buttons())
	}
	// A non-team click is refused and changes nothing.
	id, _ := f.ClickButton(generalID, sugg.ID, mergeID, alice)
	if r := finalResponse(t, f, id); r.Content != "Only team members can merge duplicates." || !r.Ephemeral() {
		t.Fatalf("non-team click: %+v", r)
	}
	if e.request(t, 3).MergedInto != nil {
		t.Fatal("merged by a non-team click")
	}
	// A team member's click merges and edits the suggestion.
	id, _ = f.ClickButton(generalID, sugg.ID, mergeID, tina)
	if r := finalResponse(t, f, id); !strings.Contains(r.Content, "FB-3 was merged into FB-1 by tina") || !r.Ephemeral() {
		t.Fatalf("team click: %+v", r)
	}
	if r := e.request(t, 3); r.MergedInto == nil || *r.MergedInto != 1 {
		t.Fatalf("FB-3 = %+v", r)
	}
	edited, _ := f.Message(sugg.ID)
	if !strings.Contains(edited.Content, "was merged into FB-1 by tina") || len(edited.Buttons()) != 2 || edited.Buttons()[0].CustomID != "vote:1" || edited.Buttons()[1].CustomID != "edit:1" {
		t.Fatalf("edited suggestion = %+v", edited)
	}
	if d := e.request(t, 1).Demand; d != 2 {
		t.Fatalf("FB-1 demand after merge = %d, want 2", d)
	}

	// 4. 👍 on a mention votes; removing it unvotes.
	f.React(generalID, m1.ID, mod, "👍")
	eventually(t, 60*time.Second, func() bool { return e.request(t, 1).Demand == 3 }, "vote counted")
	f.Unreact(generalID, m1.ID, mod, "👍")
	eventually(t, 60*time.Second, func() bool { return e.request(t, 1).Demand == 2 }, "vote removed")
	// 👍 on the bot's card counts too.
	f.React(generalID, card1.ID, mod, "👍")
	eventually(t, 60*time.Second, func() bool { return e.request(t, 1).Demand == 3 }, "card vote counted")

	// 5. The message command captures a message in an unwatched channel.
	m4, _ := f.UserMessage(randomID, bob, "Webhooks for new requests")
	e.rec.waitKinds(t, 1, bot.EventMessage) // seen, not captured
	id, _ = f.MessageCommand(randomID, m4.ID, tina, MessageCommandName)
	if r := finalResponse(t, f, id); !strings.HasPrefix(r.Content, "Captured as FB-4") || !r.Ephemeral() {
		t.Fatalf("message command: %+v", r)
	}
	if r := e.request(t, 4); r.Title != "Webhooks for new requests" {
		t.Fatalf("FB-4 = %+v", r)
	}

	// 6. Only a release lead ships; one reply per subscribed thread.
	if r := e.command(t, generalID, tina, "ship", o("keys", "FB-1 FB-2"), o("version", "v2.4")); !strings.Contains(r.Content, "Only release leads") {
		t.Fatalf("non-lead ship: %+v", r)
	}
	r := e.command(t, releasesID, rex, "ship", o("keys", "FB-1 FB-2"), o("version", "v2.4"), o("note", "enjoy"))
	if !strings.Contains(r.Content, "FB-1") {
		t.Fatalf("ship: %+v", r)
	}
	shipped := func() (int, int, int) {
		general := botPosts(f, generalID, "Shipped in v2.4")
		return replyTo(general, m1.ID), replyTo(general, m3.ID), len(botPosts(f, post.ID, "Shipped in v2.4"))
	}
	eventually(t, 60*time.Second, func() bool { a, b, c := shipped(); return a == 1 && b == 1 && c == 1 }, "ship replies")
	if n := len(botPosts(f, randomID, "Shipped")); n != 0 {
		t.Fatalf("FB-4 was not shipped but got %d replies", n)
	}

	// 7. Rollback: replies in the same threads.
	r = e.command(t, releasesID, rex, "rollback", o("version", "v2.4"), o("reason", "crash on start"))
	if !strings.Contains(r.Content, "FB-1") {
		t.Fatalf("rollback: %+v", r)
	}
	rolled := func() (int, int, int) {
		general := botPosts(f, generalID, "v2.4 was rolled back")
		return replyTo(general, m1.ID), replyTo(general, m3.ID), len(botPosts(f, post.ID, "v2.4 was rolled back"))
	}
	eventually(t, 60*time.Second, func() bool { a, b, c := rolled(); return a == 1 && b == 1 && c == 1 }, "rollback replies")

	// Nothing was posted twice.
	time.Sleep(300 * time.Millisecond)
	if a, b, c := shipped(); a != 1 || b != 1 || c != 1 {
		t.Fatalf("ship replies = %d %d %d", a, b, c)
	}
	if a, b, c := rolled(); a != 1 || b != 1 || c != 1 {
		t.Fatalf("rollback replies = %d %d %d", a, b, c)
	}
	if r := e.request(t, 1); r.Status != bot.StatusRolledBack {
		t.Fatalf("FB-1 status = %s", r.Status)
	}
}

// TestEngineE2EThreadReplyJoins checks that a reply in the thread of a
// captured message joins its request and gets a reaction, not a card.
func TestEngineE2EThreadReplyJoins(t *testing.T) {
	t.Parallel()
	e := newEngineEnv(t)
	f := e.fake
	e.command(t, generalID, tina, "watch")
	m1, _ := f.UserMessage(generalID, alice, "Two-factor authentication")
	eventually(t, 60*time.Second, func() bool { return len(botPosts(f, generalID, "FB-1")) == 1 }, "card")
	f.StartThread(generalID, m1.ID, "2FA")
	f.UserMessage(m1.ID, bob, "Yes, with TOTP apps")
	eventually(t, 60*time.Second, func() bool { return e.request(t, 1).Demand == 2 }, "reply joined")
	eventually(t, 60*time.Second, func() bool {
		return f.CountRequests("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me") == 1
	}, "reaction on the joined reply")
	if n := len(f.BotMessages(m1.ID)); n != 0 {
		t.Fatalf("%d bot messages in the thread, want none", n)
	}
	// Shipping now replies inside the thread.
	e.command(t, generalID, rex, "ship", o("keys", "FB-1"), o("version", "v3"))
	eventually(t, 60*time.Second, func() bool { return len(botPosts(f, m1.ID, "Shipped in v3")) == 1 }, "ship reply in the thread")
}
