package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/discordtest"
)

// These tests run the real discordgo client against discordtest, with a
// recording Handler in place of the engine.

func TestE2EConnectAndRegister(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	eventually(t, 5*time.Second, func() bool { return e.fake.Gateway().Heartbeats > 0 }, "heartbeat")
	st := e.fake.Gateway()
	var ident struct {
		Token   string `json:"token"`
		Intents int    `json:"intents"`
	}
	if err := json.Unmarshal(st.Identify, &ident); err != nil {
		t.Fatal(err)
	}
	want := 1<<0 | 1<<9 | 1<<10 | 1<<15 // guilds, guild messages, reactions, message content
	if ident.Intents != want || ident.Token != "Bot test-token" {
		t.Fatalf("IDENTIFY intents=%d token=%q, want %d", ident.Intents, ident.Token, want)
	}
	if n := e.fake.CountRequests("PUT", "/applications/{application_id}/guilds/{guild_id}/commands"); n != 1 {
		t.Fatalf("guild command registrations = %d", n)
	}
	var cmds []struct {
		Type    int    `json:"type"`
		Name    string `json:"name"`
		Options []struct {
			Type    int    `json:"type"`
			Name    string `json:"name"`
			Options []struct {
				Name     string `json:"name"`
				Type     int    `json:"type"`
				Required bool   `json:"required"`
				Choices  []struct {
					Value string `json:"value"`
				} `json:"choices"`
			} `json:"options"`
		} `json:"options"`
	}
	raw, _ := json.Marshal(e.fake.Commands(guildID))
	if err := json.Unmarshal(raw, &cmds); err != nil {
		t.Fatal(err)
	}
	if len(cmds) != 2 || cmds[0].Name != "feedback" || cmds[0].Type != 1 || cmds[1].Name != "Send to feedback board" || cmds[1].Type != 3 {
		t.Fatalf("commands = %s", raw)
	}
	subs := map[string][]string{}
	for _, s := range cmds[0].Options {
		if s.Type == 2 && (s.Name == "request" || s.Name == "person") { // the groups, checked in TestE2ECurationCommands and TestPersonGroupText
			continue
		}
		if s.Type != 1 {
			t.Fatalf("option %s is not a subcommand", s.Name)
		}
		for _, o := range s.Options {
			subs[s.Name] = append(subs[s.Name], o.Name)
		}
		if s.Name == "status" {
			var choices []string
			for _, c := range s.Options[1].Choices {
				choices = append(choices, c.Value)
			}
			if strings.Join(choices, ",") != "open,planned,in_progress,declined" {
				t.Fatalf("status choices = %v", choices)
			}
		}
	}
	wantSubs := map[string]string{
		"new": "text", "list": "status,sort,tag", "top": "count", "show": "key", "search": "query", "vote": "key",
		"unvote": "key", "merge": "key,into", "unmerge": "key", "status": "key,status,note", "ship": "keys,version,note",
		"rollback": "keys,version,reason", "link": "key,link", "watch": "channel", "unwatch": "channel",
		"releases": "channel", "changelog": "version", "digest": "interval,channel", "help": "",
	}
	if len(subs) != len(wantSubs)-1 { // help has no options
		t.Fatalf("subcommands = %v", subs)
	}
	for name, opts := range wantSubs {
		if got := strings.Join(subs[name], ","); got != opts {
			t.Errorf("/feedback %s options = %q, want %q", name, got, opts)
		}
	}
}

func TestE2ERegisterGlobally(t *testing.T) {
	t.Parallel()
	e := newEnvGlobal(t)
	if n := e.fake.CountRequests("PUT", "/applications/{application_id}/commands"); n != 1 {
		t.Fatalf("global registrations = %d", n)
	}
}

func newEnvGlobal(t *testing.T) *env {
	t.Helper()
	// newEnv waits for guild commands; register globally and wait here.
	fopts := discordtest.Options{Token: "test-token", SpecPath: specPath()}
	fake, err := discordtest.New(fopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	fake.AddGuild(guildID, "Test guild")
	rec := newRecorder()
	a, err := New(Config{Token: "test-token", APIURL: fake.URL(), Logger: testLogger(t)}, rec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Run did not return")
		}
	})
	eventually(t, 60*time.Second, func() bool { return len(fake.Commands("")) == 2 }, "global commands")
	return &env{t: t, fake: fake, a: a, rec: rec}
}

func TestE2EMessagesAndThreads(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	root, _ := e.fake.UserMessage(generalID, bob, "Export to CSV please")
	ev := e.rec.waitKinds(t, 1, bot.EventMessage)[0]
	if ev.Message.ThreadID != "" || ev.Message.Author.Name != "Bobby" || ev.Message.Permalink != "https://discord.com/channels/"+guildID+"/"+generalID+"/"+root.ID {
		t.Fatalf("top-level message = %+v", ev.Message)
	}
	if _, err := e.fake.StartThread(generalID, root.ID, "CSV export"); err != nil {
		t.Fatal(err)
	}
	reply, _ := e.fake.UserMessage(root.ID, alice, "+1, and Excel")
	evs := e.rec.waitKinds(t, 2, bot.EventMessage)
	got := evs[1].Message
	if got.ID != reply.ID || got.Channel != generalID || got.ThreadID != root.ID || got.Root() != root.ID {
		t.Fatalf("thread reply = %+v", got)
	}

	// Webhook messages are passed on marked Bot; the bot's own posts are not.
	e.fake.WebhookMessage(generalID, "Deployed v2.4")
	if _, err := e.a.Post(context.Background(), bot.OutMessage{Channel: generalID, Text: "hello from the bot"}); err != nil {
		t.Fatal(err)
	}
	evs = e.rec.waitKinds(t, 3, bot.EventMessage)
	if !evs[2].Message.Bot || evs[2].Message.Text != "Deployed v2.4" {
		t.Fatalf("webhook message = %+v", evs[2].Message)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(e.rec.kinds(bot.EventMessage)); n != 3 {
		t.Fatalf("%d message events, want 3 (own post must be ignored)", n)
	}

	if err := e.fake.DeleteMessage(generalID, root.ID); err != nil {
		t.Fatal(err)
	}
	del := e.rec.waitKinds(t, 1, bot.EventMessageDeleted)[0]
	if del.Message.ID != root.ID || del.Message.Channel != generalID {
		t.Fatalf("deleted = %+v", del.Message)
	}
}

func TestE2EMention(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.rec.setFn(func(ctx context.Context, ev *bot.Event) (*bot.Response, error) {
		if ev.Kind == bot.EventMention {
			return &bot.Response{Text: "Captured as FB-1."}, nil
		}
		return nil, nil
	})
	m, _ := e.fake.UserMessage(generalID, alice, "<@"+e.fake.AppID()+"> please add   SSO")
	ev := e.rec.waitKinds(t, 1, bot.EventMention)[0]
	if ev.Message.Text != "please add SSO" || ev.Message.ID != m.ID {
		t.Fatalf("mention = %+v", ev.Message)
	}
	if n := len(e.rec.kinds(bot.EventMessage)); n != 0 {
		t.Fatalf("a mention must not also be a plain message")
	}
	// The answer is posted as a reply to the message.
	eventually(t, 5*time.Second, func() bool { return len(e.fake.BotMessages(generalID)) == 1 }, "reply")
	r := e.fake.BotMessages(generalID)[0]
	if r.Content != "Captured as FB-1." || r.MessageReference == nil || r.MessageReference.MessageID != m.ID {
		t.Fatalf("reply = %+v", r)
	}
}

func TestE2EForumPost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	th, m, err := e.fake.ForumPost(forumID, alice, "Dark mode", "The UI hurts my eyes at night", tagUI, tagAPI)
	if err != nil {
		t.Fatal(err)
	}
	ev := e.rec.waitKinds(t, 1, bot.EventForumPost)[0]
	got := ev.Message
	if got.Title != "Dark mode" || got.Text != "The UI hurts my eyes at night" || strings.Join(got.Tags, ",") != "UI,API" {
		t.Fatalf("forum post = %+v", got)
	}
	if got.Channel != forumID || got.ThreadID != th.ID || got.ID != m.ID || got.Root() != th.ID || ev.Channel != forumID {
		t.Fatalf("forum post location = %+v", got)
	}
	// A reply in the post is a thread message.
	e.fake.UserMessage(th.ID, bob, "Same here")
	r := e.rec.waitKinds(t, 1, bot.EventMessage)[0]
	if r.Message.Channel != forumID || r.Message.ThreadID != th.ID {
		t.Fatalf("forum reply = %+v", r.Message)
	}
	// The bot's card goes into the post's thread.
	if _, err := e.a.Post(context.Background(), bot.OutMessage{Workspace: guildID, Channel: forumID, ThreadID: th.ID, Text: "📌 FB-1"}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.BotMessages(th.ID)); n != 1 {
		t.Fatalf("bot messages in the post = %d", n)
	}
}

func TestE2EReactions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m, _ := e.fake.UserMessage(generalID, bob, "Offline mode")
	e.rec.waitKinds(t, 1, bot.EventMessage)
	e.fake.React(generalID, m.ID, alice, "👍")
	e.fake.Unreact(generalID, m.ID, alice, "👍")
	e.fake.React(generalID, m.ID, tina, "💡")
	e.fake.React(generalID, m.ID, alice, "🦄")
	evs := e.rec.waitKinds(t, 4, bot.EventReactionAdded, bot.EventReactionRemoved)
	byEmoji := map[string][]*bot.Event{}
	for _, ev := range evs {
		byEmoji[ev.Emoji] = append(byEmoji[ev.Emoji], ev)
	}
	if len(byEmoji["+1"]) != 2 || len(byEmoji["bulb"]) != 1 || len(byEmoji["🦄"]) != 1 {
		t.Fatalf("emoji = %v", byEmoji)
	}
	for _, ev := range byEmoji["+1"] {
		if ev.User.ID != alice.User.ID || ev.Message.ID != m.ID || ev.Message.Channel != generalID {
			t.Fatalf("vote reaction = %+v %+v", ev, ev.Message)
		}
	}
	capture := byEmoji["bulb"][0]
	if capture.Kind != bot.EventReactionAdded || capture.Message.Text != "Offline mode" || capture.Message.Author.ID != bob.User.ID || !capture.User.Team {
		t.Fatalf("capture reaction = %+v %+v", capture, capture.Message)
	}
	// Reactions by the bot itself are ignored.
	e.a.React(context.Background(), bot.MessageRef{Channel: generalID, ID: m.ID}, "eyes")
	e.fake.React(generalID, m.ID, discordtest.Member{User: ptr(e.fake.BotUser())}, "👀")
	time.Sleep(200 * time.Millisecond)
	if n := len(e.rec.kinds(bot.EventReactionAdded, bot.EventReactionRemoved)); n != 4 {
		t.Fatalf("%d reaction events, want 4", n)
	}
}

func ptr[T any](v T) *T { return &v }

func o(name string, v any) discordtest.Opt { return discordtest.Opt{Name: name, Value: v} }

func TestE2EMessageCommand(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.rec.setFn(func(ctx context.Context, ev *bot.Event) (*bot.Response, error) {
		return &bot.Response{Text: "Captured as FB-7: " + ev.Message.Text}, nil
	})
	m, _ := e.fake.UserMessage(generalID, bob, "Bulk edit for tags")
	e.rec.waitKinds(t, 1, bot.EventMessage)
	id, err := e.fake.MessageCommand(generalID, m.ID, tina, MessageCommandName)
	if err != nil {
		t.Fatal(err)
	}
	ev := e.rec.waitKinds(t, 1, bot.EventCapture)[0]
	if ev.Message.ID != m.ID || ev.Message.Text != "Bulk edit for tags" || ev.Message.Author.ID != bob.User.ID || ev.User.ID != tina.User.ID || !ev.User.Team {
		t.Fatalf("capture = %+v / %+v", ev, ev.Message)
	}
	r := waitResponses(t, e.fake, id, 1)[0]
	if r.Kind != "callback" || r.Type != 4 || !r.Ephemeral() || r.Content != "Captured as FB-7: Bulk edit for tags" {
		t.Fatalf("response = %+v", r)
	}
}

func waitResponses(tb testing.TB, f *discordtest.Server, id string, n int) []discordtest.InteractionResponse {
	tb.Helper()
	var rs []discordtest.InteractionResponse
	eventually(tb, 60*time.Second, func() bool { rs = f.Responses(id); return len(rs) >= n }, "%d responses to %s", n, id)
	return rs
}

func TestE2EButtonsAndRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.rec.setFn(func(ctx context.Context, ev *bot.Event) (*bot.Response, error) {
		if ev.Kind != bot.EventButton {
			return nil, nil
		}
		if !ev.User.Team {
			return nil, bot.Errorf(bot.EFORBIDDEN, "Only team members can merge duplicates.")
		}
		return &bot.Response{Text: "Merged by " + ev.User.Name}, nil
	})
	ref, err := e.a.Post(context.Background(), bot.OutMessage{Workspace: guildID, Channel: generalID, Text: "🔎 Possible duplicates",
		Buttons: []bot.Button{{ID: "merge:1:2", Label: "Merge into FB-2", Style: bot.StylePrimary}, {ID: "dismiss:1", Label: "Not a duplicate"}}})
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := e.fake.Message(ref.ID)
	if b := msg.Buttons(); len(b) != 2 || b[0].Style != 1 || b[1].Style != 2 || b[0].Label != "Merge into FB-2" {
		t.Fatalf("buttons = %+v", b)
	}
	cases := []struct {
		who        discordtest.Member
		team, lead bool
	}{
		{alice, false, false},
		{tina, true, false}, // team role, configured by name
		{rex, true, true},   // release role, configured by id
		{mod, true, false},  // Manage Server permission
		{discordtest.Member{User: &discordtest.User{ID: "800000000000000009", Username: "admin"}, Permissions: "8"}, true, false},
	}
	for i, c := range cases {
		id, err := e.fake.ClickButton(generalID, ref.ID, "merge:1:2", c.who)
		if err != nil {
			t.Fatal(err)
		}
		evs := e.rec.waitKinds(t, i+1, bot.EventButton)
		ev := evs[i]
		if ev.ActionID != "merge:1:2" || ev.Message.ID != ref.ID || ev.User.Team != c.team || ev.User.ReleaseLead != c.lead {
			t.Fatalf("%s: event = %+v", c.who.User.Username, ev)
		}
		r := waitResponses(t, e.fake, id, 1)[0]
		want := "Merged by " + ev.User.Name
		if !c.team {
			want = "Only team members can merge duplicates."
		}
		if r.Type != 4 || !r.Ephemeral() || r.Content != want {
			t.Fatalf("%s: response = %+v", c.who.User.Username, r)
		}
	}
	// Update edits the message and replaces the buttons.
	if err := e.a.Update(context.Background(), ref, bot.OutMessage{Text: "✅ merged", Buttons: []bot.Button{{ID: "vote:2", Label: "👍 Vote"}}}); err != nil {
		t.Fatal(err)
	}
	msg, _ = e.fake.Message(ref.ID)
	if msg.Content != "✅ merged" || len(msg.Buttons()) != 1 || msg.Buttons()[0].CustomID != "vote:2" {
		t.Fatalf("updated = %+v", msg)
	}
}

func TestE2ESlashCommands(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	slow := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(slow) }) }
	t.Cleanup(release) // before the adapter stops, even if the test fails early
	e.rec.setFn(func(ctx context.Context, ev *bot.Event) (*bot.Response, error) {
		switch {
		case strings.HasPrefix(ev.Text, "ship"):
			select {
			case <-slow:
			case <-ctx.Done():
			}
			return &bot.Response{Text: "🚀 Shipped", Public: true}, nil
		case strings.HasPrefix(ev.Text, "top"):
			select {
			case <-slow:
			case <-ctx.Done():
			}
			return &bot.Response{Text: "1. FB-1"}, nil
		case strings.HasPrefix(ev.Text, "help"):
			return &bot.Response{Text: "usage", Public: true}, nil
		case strings.HasPrefix(ev.Text, "vote"):
			return nil, bot.Errorf(bot.ENOTFOUND, "There is no request FB-99.")
		case ev.Text == "new kept":
			// What the engine answers for a capture kept through a
			// database outage: nothing, until it is given up.
			return nil, nil
		}
		return &bot.Response{Text: "ok: " + ev.Text}, nil
	})
	run := func(who discordtest.Member, sub string, opts ...discordtest.Opt) (string, *bot.Event) {
		t.Helper()
		n := len(e.rec.kinds(bot.EventCommand))
		id, err := e.fake.SlashCommand(generalID, who, CommandName, sub, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return id, e.rec.waitKinds(t, n+1, bot.EventCommand)[n]
	}
	texts := []struct {
		sub  string
		opts []discordtest.Opt
		want string
	}{
		{"new", []discordtest.Opt{o("text", "Dark mode for the board")}, "new Dark mode for the board"},
		{"list", []discordtest.Opt{o("status", "shipped"), o("sort", "new")}, "list shipped sort new"},
		{"search", []discordtest.Opt{o("query", "dark mode")}, "search dark mode"},
		{"merge", []discordtest.Opt{o("key", "FB-3"), o("into", "FB-1")}, "merge FB-3 into FB-1"},
		{"status", []discordtest.Opt{o("key", "FB-2"), o("status", "planned")}, "status FB-2 planned"},
		{"watch", []discordtest.Opt{o("channel", forumID)}, "watch <#" + forumID + ">"},
		{"watch", nil, "watch"},
		{"link", []discordtest.Opt{o("key", "FB-2"), o("link", "https://discord.com/channels/1/2/3")}, "link FB-2 https://discord.com/channels/1/2/3"},
		{"rollback", []discordtest.Opt{o("version", "v2.4"), o("reason", "crash")}, "rollback v2.4 -- crash"},
	}
	for _, c := range texts {
		id, ev := run(tina, c.sub, c.opts...)
		if ev.Text != c.want || ev.Channel != generalID || ev.Workspace != guildID || ev.Message != nil {
			t.Fatalf("/feedback %s: event = %+v", c.sub, ev)
		}
		r := waitResponses(t, e.fake, id, 1)[0]
		if r.Type != 4 || !r.Ephemeral() || r.Content != "ok: "+c.want {
			t.Fatalf("/feedback %s: response = %+v", c.sub, r)
		}
	}

	// Public answers are visible in the channel; errors only to the caller.
	id, _ := run(alice, "help")
	if r := waitResponses(t, e.fake, id, 1)[0]; r.Type != 4 || r.Ephemeral() || r.Content != "usage" {
		t.Fatalf("help response = %+v", r)
	}
	id, _ = run(alice, "vote", discordtest.Opt{Name: "key", Value: "FB-99"})
	if r := waitResponses(t, e.fake, id, 1)[0]; !r.Ephemeral() || r.Content != "There is no request FB-99." {
		t.Fatalf("error response = %+v", r)
	}
	// Nothing to say: the placeholder is shown and removed, no "Done.".
	id, _ = run(alice, "new", o("text", "kept"))
	if rs := waitResponses(t, e.fake, id, 2); rs[0].Type != 5 || !rs[0].Ephemeral() || rs[1].Kind != "delete" {
		t.Fatalf("silent command responses = %+v", rs)
	}
	// Invalid input is refused by the adapter without calling the handler.
	n := len(e.rec.all())
	id, err := e.fake.SlashCommand(generalID, rex, CommandName, "ship", discordtest.Opt{Name: "keys", Value: "FB-1"}, discordtest.Opt{Name: "version", Value: "v2 beta"})
	if err != nil {
		t.Fatal(err)
	}
	if r := waitResponses(t, e.fake, id, 1)[0]; !r.Ephemeral() || r.Content != "The version must be one word." || len(e.rec.all()) != n {
		t.Fatalf("invalid version response = %+v", r)
	}

	// A slow handler: deferred within the deadline, then the answer.
	idTop, evTop := run(alice, "top", discordtest.Opt{Name: "count", Value: 5})
	idShip, evShip := run(rex, "ship", discordtest.Opt{Name: "keys", Value: "FB-1, FB-2"}, discordtest.Opt{Name: "version", Value: "v2.4"}, discordtest.Opt{Name: "note", Value: "finally"})
	if evTop.Text != "top 5" || evShip.Text != "ship FB-1 FB-2 v2.4 -- finally" || !evShip.User.ReleaseLead {
		t.Fatalf("texts %q %q lead=%v", evTop.Text, evShip.Text, evShip.User.ReleaseLead)
	}
	waitResponses(t, e.fake, idTop, 1)
	waitResponses(t, e.fake, idShip, 1)
	release()
	rs := waitResponses(t, e.fake, idTop, 2)
	if rs[0].Type != 5 || !rs[0].Ephemeral() || rs[1].Kind != "edit" || rs[1].Content != "1. FB-1" {
		t.Fatalf("deferred top = %+v", rs)
	}
	rs = waitResponses(t, e.fake, idShip, 3)
	if rs[0].Type != 5 || rs[1].Kind != "edit" || rs[2].Kind != "followup" || rs[2].Ephemeral() || rs[2].Content != "🚀 Shipped" {
		t.Fatalf("deferred public ship = %+v", rs)
	}
}

func TestE2EReconnectLosesNothingHandlesNothingTwice(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"op7", "drop"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.fake.SetResumeOverlap(3) // RESUME replays 3 events the bot already had
			const total = 30
			var sent []string
			send := func(i int) {
				m, err := e.fake.UserMessage(generalID, alice, fmt.Sprintf("idea %d", i))
				if err != nil {
					t.Fatal(err)
				}
				sent = append(sent, m.ID)
			}
			for i := 0; i < 10; i++ {
				send(i)
			}
			e.fake.React(generalID, sent[0], bob, "👍")
			e.rec.waitKinds(t, 10, bot.EventMessage)
			e.rec.waitKinds(t, 1, bot.EventReactionAdded)
			switch mode {
			case "op7":
				e.fake.ForceReconnect()
			case "drop":
				e.fake.DropConnection()
			}
			for i := 10; i < total; i++ { // some while the bot is away
				send(i)
			}
			e.rec.waitKinds(t, total, bot.EventMessage)
			eventually(t, 60*time.Second, func() bool { return e.fake.Gateway().Resumes >= 1 && e.fake.Gateway().Connected }, "resumed")
			time.Sleep(300 * time.Millisecond)
			got := map[string]int{}
			for _, ev := range e.rec.kinds(bot.EventMessage) {
				got[ev.Message.ID]++
			}
			for _, id := range sent {
				if got[id] != 1 {
					t.Errorf("message %s handled %d times", id, got[id])
				}
			}
			if len(got) != total {
				t.Errorf("handled %d distinct messages, want %d", len(got), total)
			}
			if n := len(e.rec.kinds(bot.EventReactionAdded)); n != 1 {
				t.Errorf("reaction handled %d times", n)
			}
			if st := e.fake.Gateway(); st.Identifies != 1 {
				t.Errorf("identifies = %d, want 1 (resumed, not re-identified)", st.Identifies)
			}
			// Still working after the resume.
			send(total)
			e.rec.waitKinds(t, total+1, bot.EventMessage)
		})
	}
}

func TestE2ERateLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config, f *discordtest.Options) {})
	ctx := context.Background()

	// Post: a 429 is returned as RetryAfterError for the delivery queue,
	// and the retry goes through once discordgo's bucket has reset.
	e.fake.RateLimit("POST", "/channels/{channel_id}/messages", 1, 300*time.Millisecond, false)
	_, err := e.a.Post(ctx, bot.OutMessage{Channel: generalID, Text: "🚀 Shipped"})
	var ra *bot.RetryAfterError
	if !errors.As(err, &ra) || ra.After != 300*time.Millisecond {
		t.Fatalf("Post under 429: %v", err)
	}
	start := time.Now()
	if _, err := e.a.Post(ctx, bot.OutMessage{Channel: generalID, Text: "🚀 Shipped"}); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if len(e.fake.BotMessages(generalID)) != 1 {
		t.Fatalf("posted %d messages", len(e.fake.BotMessages(generalID)))
	}
	t.Logf("retry waited %v for the bucket", time.Since(start))

	// Calls the adapter makes for itself are retried inline: fetching a
	// reacted message and answering an interaction.
	m, _ := e.fake.UserMessage(generalID, bob, "Webhooks")
	e.rec.waitKinds(t, 1, bot.EventMessage)
	e.fake.RateLimit("GET", "/channels/{channel_id}/messages/{message_id}", 1, 100*time.Millisecond, false)
	e.fake.React(generalID, m.ID, tina, "💡")
	ev := e.rec.waitKinds(t, 1, bot.EventReactionAdded)[0]
	if ev.Message.Text != "Webhooks" {
		t.Fatalf("reacted message not fetched after 429: %+v", ev.Message)
	}
	e.rec.setFn(func(context.Context, *bot.Event) (*bot.Response, error) { return &bot.Response{Text: "usage"}, nil })
	e.fake.RateLimit("POST", "/interactions/{interaction_id}/{interaction_token}/callback", 1, 100*time.Millisecond, false)
	id, _ := e.fake.SlashCommand(generalID, alice, CommandName, "help")
	if r := waitResponses(t, e.fake, id, 1)[0]; r.Type != 4 || r.Content != "usage" {
		t.Fatalf("response after 429 = %+v", r)
	}
	// Permanent errors.
	_, err = e.a.Post(ctx, bot.OutMessage{Channel: "999999999999", Text: "x"})
	var perm *bot.PermanentError
	if !errors.As(err, &perm) {
		t.Fatalf("post to unknown channel: %v", err)
	}
}

// TestE2EPostIdempotencyKey posts as the delivery worker does, with an
// idempotency key, through the real discordgo client: the fake Discord
// de-duplicates by nonce (with enforce_nonce), as Discord does.
func TestE2EPostIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config, f *discordtest.Options) { f.NonceWindow = time.Second })
	ctx := context.Background()
	root, err := e.fake.UserMessage(generalID, alice, "Dark mode please")
	if err != nil {
		t.Fatal(err)
	}
	msg := bot.OutMessage{Workspace: guildID, Channel: generalID, ThreadID: root.ID, Text: "🚀 Shipped in v2.4", IdempotencyKey: bot.IdempotencyKey(7)}
	first, err := e.a.Post(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	// A crash after the post: the retry gets the same message back.
	again, err := e.a.Post(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}
	posted := e.fake.BotMessages(generalID)
	if again.ID != first.ID || len(posted) != 1 {
		t.Fatalf("retry = %s, first = %s; %d messages posted", again.ID, first.ID, len(posted))
	}
	if posted[0].Nonce != bot.IdempotencyKey(7) {
		t.Fatalf("nonce = %q", posted[0].Nonce)
	}
	// Another delivery with the same text, and a key too long for a nonce.
	other := msg
	other.IdempotencyKey = bot.IdempotencyKey(123456789012)
	ref, err := e.a.Post(ctx, other)
	if err != nil || ref.ID == first.ID {
		t.Fatalf("other delivery: %+v, %v", ref, err)
	}
	if n := len(e.fake.BotMessages(generalID)); n != 2 {
		t.Fatalf("%d messages after another delivery", n)
	}
	// Without a key, nothing is de-duplicated.
	msg.IdempotencyKey = ""
	for range 2 {
		if _, err := e.a.Post(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.fake.BotMessages(generalID)); n != 4 {
		t.Fatalf("%d messages after two posts without a key", n)
	}
	// Discord remembers a nonce for a few minutes only (here 1 s).
	time.Sleep(1100 * time.Millisecond)
	msg.IdempotencyKey = bot.IdempotencyKey(7)
	late, err := e.a.Post(ctx, msg)
	if err != nil || late.ID == first.ID {
		t.Fatalf("post after the nonce window: %+v, %v", late, err)
	}
}

// TestE2EPostReplayed: a delivery re-posted after a crash, while Discord
// still remembers its nonce, comes back as the message first posted, marked
// Replayed with that message's time (the delivery worker then spends no slot
// of the channel on it). A re-post within replayTolerance of the first is
// not marked (the clocks are not compared that closely), nor is a new post.
func TestE2EPostReplayed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config, f *discordtest.Options) {})
	ctx := context.Background()
	root, err := e.fake.UserMessage(generalID, alice, "Dark mode please")
	if err != nil {
		t.Fatal(err)
	}
	msg := bot.OutMessage{Workspace: guildID, Channel: generalID, ThreadID: root.ID, Text: "🚀 Shipped in v2.4", IdempotencyKey: bot.IdempotencyKey(8)}
	first, err := e.a.Post(ctx, msg)
	if err != nil || first.Replayed {
		t.Fatalf("first post: %+v, %v", first, err)
	}
	soon, err := e.a.Post(ctx, msg)
	if err != nil || soon.ID != first.ID || soon.Replayed {
		t.Fatalf("re-post at once: %+v, %v; want message %s, not marked", soon, err, first.ID)
	}
	posted := e.fake.BotMessages(generalID)
	if len(posted) != 1 {
		t.Fatalf("%d messages posted", len(posted))
	}
	time.Sleep(replayTolerance + 100*time.Millisecond)
	later, err := e.a.Post(ctx, msg)
	if err != nil || later.ID != first.ID || !later.Replayed {
		t.Fatalf("re-post after the tolerance: %+v, %v; want message %s replayed", later, err, first.ID)
	}
	if want, err := time.Parse(time.RFC3339Nano, posted[0].Timestamp); err != nil || !later.PostedAt.Equal(want) {
		t.Fatalf("PostedAt %v, want the first message's timestamp %q (%v)", later.PostedAt, posted[0].Timestamp, err)
	}
	msg.IdempotencyKey = bot.IdempotencyKey(9)
	if other, err := e.a.Post(ctx, msg); err != nil || other.Replayed || other.ID == first.ID {
		t.Fatalf("another delivery: %+v, %v", other, err)
	}
}

func TestE2ERegistrationRetriedAfter429(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config, f *discordtest.Options) {})
	_ = e
	// Covered at start: see TestE2EConnectAndRegister; here a second adapter
	// meets a 429 on registration.
	e.fake.RateLimit("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", 1, 200*time.Millisecond, false)
	a2, err := New(Config{Token: "test-token", GuildID: guildID, APIURL: e.fake.URL(), Logger: testLogger(t)}, newRecorder())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	before := e.fake.CountRequests("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")
	go func() { done <- a2.Run(ctx) }()
	eventually(t, 60*time.Second, func() bool {
		return e.fake.CountRequests("PUT", "/applications/{application_id}/guilds/{guild_id}/commands") == before+2
	}, "registration retried")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestE2EMalformedPayloadsIgnored(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.SendFrame([]byte("this is not json"))
	e.fake.SendFrame([]byte(`{"op":0,"t":"MESSAGE_CREATE","s":null,"d":null}`))
	e.fake.DispatchRaw("MESSAGE_CREATE", json.RawMessage(`{"id": 5, "channel_id": []}`))
	e.fake.DispatchRaw("MESSAGE_CREATE", json.RawMessage(`"garbage"`))
	e.fake.DispatchRaw("MESSAGE_REACTION_ADD", json.RawMessage(`{"emoji": 3}`))
	e.fake.DispatchRaw("INTERACTION_CREATE", json.RawMessage(`{"id":"1","type":2,"data":"x","token":"t"}`))
	e.fake.DispatchRaw("SOMETHING_NEW", json.RawMessage(`{"x":1}`))
	e.fake.SendFrame([]byte(`{"op":42,"d":{}}`))
	// Unsupported interactions: autocomplete (4), a modal submit (5) without
	// a custom_id, and a type Discord may add later.
	id4, _ := e.fake.RawInteraction(4, generalID, alice, map[string]any{"id": "1", "name": "feedback", "type": 1})
	id5, _ := e.fake.RawInteraction(5, generalID, alice, map[string]any{"custom_id": "", "components": []any{}})
	id99, _ := e.fake.RawInteraction(99, generalID, alice, map[string]any{})
	// A select menu on some message: not a button.
	e.fake.UserMessage(generalID, alice, "before")
	m, _ := e.fake.UserMessage(generalID, alice, "still alive")
	evs := e.rec.waitKinds(t, 2, bot.EventMessage)
	if evs[1].Message.ID != m.ID && evs[0].Message.ID != m.ID {
		t.Fatalf("events after garbage = %+v", evs)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(e.rec.all()); n != 2 {
		for _, ev := range e.rec.all() {
			t.Logf("event %+v", ev)
		}
		t.Fatalf("%d events, want only the 2 valid messages", n)
	}
	for _, id := range []string{id4, id5, id99} {
		if rs := e.fake.Responses(id); len(rs) != 0 {
			t.Fatalf("unsupported interaction %s answered: %+v", id, rs)
		}
	}
	if !e.fake.Gateway().Connected || e.fake.Gateway().Identifies != 1 {
		t.Fatalf("gateway = %+v", e.fake.Gateway())
	}
}

func TestE2EPostTargets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	root, _ := e.fake.UserMessage(generalID, alice, "Keyboard shortcuts")
	e.rec.waitKinds(t, 1, bot.EventMessage)

	// No thread: a reply referencing the root message, in the channel.
	ref, err := e.a.Post(ctx, bot.OutMessage{Workspace: guildID, Channel: generalID, ThreadID: root.ID, Text: "📌 FB-1: Keyboard shortcuts",
		Buttons: []bot.Button{{ID: "vote:1", Label: "👍 Vote"}}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := e.fake.Message(ref.ID)
	if got.ChannelID != generalID || got.MessageReference == nil || got.MessageReference.MessageID != root.ID {
		t.Fatalf("reply = %+v", got)
	}
	if ref.Channel != generalID || ref.ThreadID != root.ID {
		t.Fatalf("ref = %+v", ref)
	}
	// Once a thread exists, posts go into it.
	e.fake.StartThread(generalID, root.ID, "Keyboard shortcuts")
	eventually(t, 5*time.Second, func() bool { ri, ok := e.a.roots.Get(root.ID); return ok && ri.thread }, "thread known")
	ref2, err := e.a.Post(ctx, bot.OutMessage{Workspace: guildID, Channel: generalID, ThreadID: root.ID, Text: "🚀 Shipped in v2.4"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.fake.Message(ref2.ID); got.ChannelID != root.ID || got.MessageReference != nil {
		t.Fatalf("thread post = %+v", got)
	}
	// Edits find the message where it lives; reactions too.
	if err := e.a.Update(ctx, ref2, bot.OutMessage{Text: "🚀 Shipped in v2.5"}); err != nil {
		t.Fatal(err)
	}
	if err := e.a.Update(ctx, ref, bot.OutMessage{Text: "📌 FB-1 (merged)"}); err != nil {
		t.Fatal(err)
	}
	if err := e.a.React(ctx, bot.MessageRef{Channel: generalID, ThreadID: root.ID, ID: root.ID}, "white_check_mark"); err != nil {
		t.Fatal(err)
	}
	if err := e.a.React(ctx, bot.MessageRef{Channel: generalID, ThreadID: root.ID, ID: ref2.ID}, "white_check_mark"); err != nil {
		t.Fatal(err)
	}

	// A root unknown to the cache (an older thread): asked once, then cached.
	old, _ := e.fake.UserMessage(generalID, bob, "Old idea")
	e.rec.waitKinds(t, 2, bot.EventMessage)
	e.a.roots.Delete(old.ID)
	before := e.fake.CountRequests("GET", "/channels/{channel_id}/messages/{message_id}")
	for i := 0; i < 2; i++ {
		if _, err := e.a.Post(ctx, bot.OutMessage{Channel: generalID, ThreadID: old.ID, Text: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.fake.CountRequests("GET", "/channels/{channel_id}/messages/{message_id}") - before; n != 1 {
		t.Fatalf("looked the root up %d times", n)
	}

	// Long text is split within 2000 characters; many buttons in rows of 5.
	long := strings.Repeat("word ", 900) // 4500 characters
	var buttons []bot.Button
	for i := 0; i < 12; i++ {
		buttons = append(buttons, bot.Button{ID: fmt.Sprintf("b%d", i), Label: strings.Repeat("x", 100)})
	}
	ref3, err := e.a.Post(ctx, bot.OutMessage{Channel: releasesID, Text: long, Buttons: buttons})
	if err != nil {
		t.Fatal(err)
	}
	msgs := e.fake.BotMessages(releasesID)
	if len(msgs) != 3 || msgs[2].ID != ref3.ID {
		t.Fatalf("split into %d messages", len(msgs))
	}
	last := msgs[2]
	if len(last.Components) != 3 || len(last.Components[0].Components) != 5 || len([]rune(last.Components[0].Components[0].Label)) != 80 {
		t.Fatalf("components = %+v", last.Components)
	}
}

// TestE2EDiscordgoTypes guards the assumption that discordgo parses the
// fake's payloads into the types the adapter switches on.
func TestE2EDiscordgoTypes(t *testing.T) {
	t.Parallel()
	var ev discordgo.MessageReactionAdd
	if err := json.Unmarshal([]byte(`{"user_id":"1","channel_id":"2","message_id":"3","guild_id":"4","emoji":{"id":null,"name":"👍"},"member":{"user":{"id":"1"},"roles":["5"]}}`), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.MessageReaction == nil || ev.Member == nil || ev.Emoji.Name != "👍" {
		t.Fatalf("%+v", ev)
	}
}

func TestE2EShardingAndNoTokenInLogs(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	e := newEnv(t, func(c *Config, f *discordtest.Options) {
		c.ShardID, c.ShardCount = 1, 2
		c.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	var ident struct {
		Shard []int `json:"shard"`
	}
	json.Unmarshal(e.fake.Gateway().Identify, &ident)
	if len(ident.Shard) != 2 || ident.Shard[0] != 1 || ident.Shard[1] != 2 {
		t.Fatalf("IDENTIFY shard = %v", ident.Shard)
	}
	e.fake.UserMessage(generalID, alice, "hello")
	e.rec.waitKinds(t, 1, bot.EventMessage)
	// newEnv saw the commands reach the fake; Run logs once it has the
	// answer.
	eventually(t, 60*time.Second, func() bool { return strings.Contains(buf.String(), "discord connected") }, "connected logged")
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); strings.Contains(out, "test-token") || !strings.Contains(out, "discord connected") {
		t.Fatalf("logs:\n%s", out)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
