package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/feedbackbot/feedbackbot/bot"
)

// fakeAPI is a hand-written discordAPI: canned channels, messages and
// roles, and a record of what the adapter sent.
type fakeAPI struct {
	mu          sync.Mutex
	channels    map[string]*discordgo.Channel
	messages    map[string]*discordgo.Message // "channel/id"
	roles       map[string][]*discordgo.Role
	sent        []sentMessage
	edits       []*discordgo.MessageEdit
	responses   []*discordgo.InteractionResponse
	followups   []*discordgo.WebhookParams
	respEdits   []*discordgo.WebhookEdit
	respDeletes int
	reactions   []string
	calls       map[string]int
	sendErr     error
}

type sentMessage struct {
	Channel string
	Data    *discordgo.MessageSend
	Nonce   string // "" when sent without one
	Enforce bool
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{channels: map[string]*discordgo.Channel{}, messages: map[string]*discordgo.Message{}, roles: map[string][]*discordgo.Role{}, calls: map[string]int{}}
}

func notFound() error {
	return &discordgo.RESTError{Response: &http.Response{StatusCode: 404, Status: "404 Not Found"}}
}

func (f *fakeAPI) count(name string) {
	f.mu.Lock()
	f.calls[name]++
	f.mu.Unlock()
}

func (f *fakeAPI) ChannelMessageSendComplex(channelID string, data *discordgo.MessageSend, _ ...discordgo.RequestOption) (*discordgo.Message, error) {
	f.count("send")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sendErr != nil {
		return nil, f.sendErr
	}
	f.sent = append(f.sent, sentMessage{Channel: channelID, Data: data})
	return &discordgo.Message{ID: "sent" + string(rune('0'+len(f.sent))), ChannelID: channelID}, nil
}

// RequestWithBucketID plays Discord's message create with a nonce: a nonce
// seen before (with enforce_nonce) returns the message it created.
func (f *fakeAPI) RequestWithBucketID(method, urlStr string, data interface{}, _ string, _ ...discordgo.RequestOption) ([]byte, error) {
	f.count("send")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sendErr != nil {
		return nil, f.sendErr
	}
	prefix := discordgo.EndpointChannels
	if method != "POST" || !strings.HasPrefix(urlStr, prefix) || !strings.HasSuffix(urlStr, "/messages") {
		return nil, fmt.Errorf("fakeAPI: unexpected %s %s", method, urlStr)
	}
	channelID := strings.TrimSuffix(strings.TrimPrefix(urlStr, prefix), "/messages")
	body, ok := data.(nonceSend)
	if !ok || body.MessageSend == nil {
		return nil, fmt.Errorf("fakeAPI: unexpected body %T", data)
	}
	for i, s := range f.sent {
		if body.EnforceNonce && s.Nonce == body.Nonce && s.Channel == channelID {
			return json.Marshal(&discordgo.Message{ID: "sent" + string(rune('1'+i)), ChannelID: channelID})
		}
	}
	f.sent = append(f.sent, sentMessage{channelID, body.MessageSend, body.Nonce, body.EnforceNonce})
	return json.Marshal(&discordgo.Message{ID: "sent" + string(rune('0'+len(f.sent))), ChannelID: channelID})
}

func (f *fakeAPI) ChannelMessageEditComplex(m *discordgo.MessageEdit, _ ...discordgo.RequestOption) (*discordgo.Message, error) {
	f.count("edit")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.edits = append(f.edits, m)
	return &discordgo.Message{ID: m.ID, ChannelID: m.Channel}, nil
}

func (f *fakeAPI) ChannelMessage(channelID, messageID string, _ ...discordgo.RequestOption) (*discordgo.Message, error) {
	f.count("message")
	f.mu.Lock()
	defer f.mu.Unlock()
	if m, ok := f.messages[channelID+"/"+messageID]; ok {
		c := *m
		return &c, nil
	}
	return nil, notFound()
}

func (f *fakeAPI) Channel(channelID string, _ ...discordgo.RequestOption) (*discordgo.Channel, error) {
	f.count("channel")
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.channels[channelID]; ok {
		cc := *c
		return &cc, nil
	}
	return nil, notFound()
}

func (f *fakeAPI) GuildRoles(guildID string, _ ...discordgo.RequestOption) ([]*discordgo.Role, error) {
	f.count("roles")
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.roles[guildID], nil
}

func (f *fakeAPI) MessageReactionAdd(channelID, messageID, emojiID string, _ ...discordgo.RequestOption) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reactions = append(f.reactions, channelID+"/"+messageID+"/"+emojiID)
	return nil
}

func (f *fakeAPI) InteractionRespond(_ *discordgo.Interaction, resp *discordgo.InteractionResponse, _ ...discordgo.RequestOption) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.responses = append(f.responses, resp)
	return nil
}

// waitResponses waits (up to 30 s) until n interaction responses were sent.
func (f *fakeAPI) waitResponses(t *testing.T, n int) {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		f.mu.Lock()
		got := len(f.responses)
		f.mu.Unlock()
		if got >= n {
			return
		}
	}
	t.Errorf("%d interaction responses never arrived", n)
}

func (f *fakeAPI) InteractionResponseEdit(_ *discordgo.Interaction, e *discordgo.WebhookEdit, _ ...discordgo.RequestOption) (*discordgo.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.respEdits = append(f.respEdits, e)
	return &discordgo.Message{}, nil
}

func (f *fakeAPI) InteractionResponseDelete(_ *discordgo.Interaction, _ ...discordgo.RequestOption) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.respDeletes++
	return nil
}

func (f *fakeAPI) FollowupMessageCreate(_ *discordgo.Interaction, _ bool, p *discordgo.WebhookParams, _ ...discordgo.RequestOption) (*discordgo.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.followups = append(f.followups, p)
	return &discordgo.Message{}, nil
}

func (f *fakeAPI) ApplicationCommandBulkOverwrite(string, string, []*discordgo.ApplicationCommand, ...discordgo.RequestOption) ([]*discordgo.ApplicationCommand, error) {
	return nil, nil
}

// newUnit returns an adapter over a fakeAPI with a guild whose channels are
// text channel "c1", forum "f1" (tag t1 = "UI") and thread "th1" in c1.
func newUnit(t *testing.T) (*Adapter, *fakeAPI, *recorder) {
	t.Helper()
	api := newFakeAPI()
	api.channels["c1"] = &discordgo.Channel{ID: "c1", GuildID: "g1", Type: discordgo.ChannelTypeGuildText}
	api.channels["f1"] = &discordgo.Channel{ID: "f1", GuildID: "g1", Type: discordgo.ChannelTypeGuildForum, AvailableTags: []discordgo.ForumTag{{ID: "t1", Name: "UI"}}}
	api.channels["th1"] = &discordgo.Channel{ID: "th1", GuildID: "g1", Type: discordgo.ChannelTypeGuildPublicThread, ParentID: "c1"}
	api.roles["g1"] = []*discordgo.Role{
		{ID: "g1", Name: "@everyone"},
		{ID: "r-team", Name: "Team"},
		{ID: "r-lead", Name: "Release"},
		{ID: "r-mod", Name: "Mods", Permissions: discordgo.PermissionManageGuild},
	}
	cfg, err := Config{Token: "x", TeamRole: "team", ReleaseRole: "r-lead", Logger: testLogger(t), AckAfter: 100 * time.Millisecond}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	a := newAdapter(cfg, rec, api)
	a.onReady(&discordgo.Ready{SessionID: "s1", User: &discordgo.User{ID: "bot"}, Application: &discordgo.Application{ID: "app"}})
	return a, api, rec
}

func TestTranslateMessage(t *testing.T) {
	a, api, rec := newUnit(t)
	ctx := context.Background()
	member := &discordgo.Member{Nick: "Ally", Roles: []string{"r-team"}}
	a.onMessageCreate(ctx, &discordgo.Message{ID: "m1", ChannelID: "c1", GuildID: "g1", Content: "hello", Author: &discordgo.User{ID: "u1", Username: "ally"}, Member: member})
	a.onMessageCreate(ctx, &discordgo.Message{ID: "m2", ChannelID: "th1", GuildID: "g1", Content: "in thread", Author: &discordgo.User{ID: "u2", Username: "bo", GlobalName: "Bo"}})
	a.onMessageCreate(ctx, &discordgo.Message{ID: "m3", ChannelID: "c1", GuildID: "g1", Content: "<@bot> idea: <@!bot> x", Author: &discordgo.User{ID: "u2"}, Mentions: []*discordgo.User{{ID: "bot"}}})
	a.onMessageCreate(ctx, &discordgo.Message{ID: "m4", ChannelID: "c1", GuildID: "g1", Content: "own", Author: &discordgo.User{ID: "bot"}})
	a.onMessageCreate(ctx, &discordgo.Message{ID: "m5", ChannelID: "c1", GuildID: "g1", Type: discordgo.MessageTypeThreadCreated, Author: &discordgo.User{ID: "u1"}})
	a.onMessageCreate(ctx, &discordgo.Message{ID: "m6", ChannelID: "c1", Content: "dm", Author: &discordgo.User{ID: "u1"}})
	a.onMessageCreate(ctx, &discordgo.Message{ID: "m7", ChannelID: "c1", GuildID: "g1", Content: "hook", WebhookID: "w", Author: &discordgo.User{ID: "w", Bot: true}})
	evs := rec.all()
	if len(evs) != 4 {
		t.Fatalf("%d events, want 4", len(evs))
	}
	m := evs[0].Message
	if evs[0].Kind != bot.EventMessage || m.Author.Name != "Ally" || !m.Author.Team || m.Author.Org != "g1" || m.ThreadID != "" || m.Permalink != "https://discord.com/channels/g1/c1/m1" {
		t.Fatalf("m1 = %+v", m)
	}
	if m := evs[1].Message; m.Channel != "c1" || m.ThreadID != "th1" || m.Author.Name != "Bo" || m.Permalink != "https://discord.com/channels/g1/th1/m2" {
		t.Fatalf("m2 = %+v", m)
	}
	if evs[2].Kind != bot.EventMention || evs[2].Message.Text != "idea: x" {
		t.Fatalf("m3 = %+v %+v", evs[2], evs[2].Message)
	}
	if !evs[3].Message.Bot {
		t.Fatalf("webhook message not marked bot")
	}
	if api.calls["roles"] != 1 {
		t.Fatalf("roles fetched %d times, want once (cached)", api.calls["roles"])
	}
}

func TestTranslateForumPost(t *testing.T) {
	a, api, rec := newUnit(t)
	api.channels["p1"] = &discordgo.Channel{ID: "p1", GuildID: "g1", Type: discordgo.ChannelTypeGuildPublicThread, ParentID: "f1", Name: "Dark mode", AppliedTags: []string{"t1", "gone"}}
	ctx := context.Background()
	a.onMessageCreate(ctx, &discordgo.Message{ID: "p1", ChannelID: "p1", GuildID: "g1", Content: "first", Author: &discordgo.User{ID: "u1"}})
	a.onMessageCreate(ctx, &discordgo.Message{ID: "p2", ChannelID: "p1", GuildID: "g1", Content: "reply", Author: &discordgo.User{ID: "u2"}})
	evs := rec.all()
	if len(evs) != 2 || evs[0].Kind != bot.EventForumPost || evs[1].Kind != bot.EventMessage {
		t.Fatalf("events = %+v", evs)
	}
	m := evs[0].Message
	if m.Title != "Dark mode" || strings.Join(m.Tags, ",") != "UI" || m.Channel != "f1" || m.ThreadID != "p1" || m.Text != "first" {
		t.Fatalf("post = %+v", m)
	}
}

func TestTranslateReactions(t *testing.T) {
	a, api, rec := newUnit(t)
	api.messages["c1/m1"] = &discordgo.Message{ID: "m1", ChannelID: "c1", Content: "text", Author: &discordgo.User{ID: "u9", Username: "nine"}}
	ctx := context.Background()
	r := func(emoji string) *discordgo.MessageReaction {
		return &discordgo.MessageReaction{UserID: "u1", MessageID: "m1", ChannelID: "c1", GuildID: "g1", Emoji: discordgo.Emoji{Name: emoji}}
	}
	a.onReaction(ctx, r("💡"), &discordgo.Member{User: &discordgo.User{ID: "u1"}, Roles: []string{"r-mod"}}, true)
	a.onReaction(ctx, r("👍🏽"), nil, true)
	a.onReaction(ctx, r("👍"), nil, false)
	a.onReaction(ctx, r("🦄"), nil, true)
	bySelf := r("💡")
	bySelf.UserID = "bot"
	a.onReaction(ctx, bySelf, nil, true)
	a.onReaction(ctx, r("💡"), &discordgo.Member{User: &discordgo.User{ID: "u1", Bot: true}}, true)
	evs := rec.all()
	if len(evs) != 4 {
		t.Fatalf("%d events", len(evs))
	}
	if evs[0].Emoji != "bulb" || evs[0].Message.Text != "text" || evs[0].Message.Author.ID != "u9" || !evs[0].User.Team {
		t.Fatalf("capture = %+v %+v", evs[0], evs[0].Message)
	}
	if evs[1].Emoji != "+1" || evs[2].Emoji != "+1" || evs[2].Kind != bot.EventReactionRemoved || evs[3].Emoji != "🦄" {
		t.Fatalf("emoji = %q %q %q", evs[1].Emoji, evs[2].Emoji, evs[3].Emoji)
	}
	if api.calls["message"] != 1 {
		t.Fatalf("fetched the message %d times; only the capture emoji needs it", api.calls["message"])
	}
}

func TestRoles(t *testing.T) {
	a, _, _ := newUnit(t)
	ctx := context.Background()
	u := func(roles []string, perms int64) bot.User {
		return a.user(ctx, "g1", &discordgo.User{ID: "u"}, &discordgo.Member{Roles: roles}, perms)
	}
	cases := []struct {
		name       string
		got        bot.User
		team, lead bool
	}{
		{"none", u(nil, 0), false, false},
		{"team role by name", u([]string{"r-team"}, 0), true, false},
		{"release role by id", u([]string{"r-lead"}, 0), false, true},
		{"manage server permission", u(nil, discordgo.PermissionManageGuild), true, false},
		{"administrator", u(nil, discordgo.PermissionAdministrator), true, false},
		{"manage server via role (gateway)", u([]string{"r-mod"}, -1), true, false},
		{"interaction permissions win over roles", u([]string{"r-mod"}, 0), false, false},
	}
	for _, c := range cases {
		if c.got.Team != c.team || c.got.ReleaseLead != c.lead {
			t.Errorf("%s: team=%v lead=%v", c.name, c.got.Team, c.got.ReleaseLead)
		}
	}
}

func TestInteractionReplies(t *testing.T) {
	a, api, rec := newUnit(t)
	ctx := context.Background()
	member := &discordgo.Member{User: &discordgo.User{ID: "u1", Username: "u"}, Permissions: discordgo.PermissionManageGuild}
	slash := func(sub string) *discordgo.Interaction {
		return &discordgo.Interaction{ID: "i", Token: "t", Type: discordgo.InteractionApplicationCommand, GuildID: "g1", ChannelID: "th1", Member: member,
			Data: discordgo.ApplicationCommandInteractionData{Name: CommandName, CommandType: discordgo.ChatApplicationCommand,
				Options: []*discordgo.ApplicationCommandInteractionDataOption{{Type: discordgo.ApplicationCommandOptionSubCommand, Name: sub}}}}
	}
	// Deferral is driven by conditions, not timing: a fast handler has a
	// minute before the adapter would defer, and a slow one (AckAfter 1 ms)
	// returns only once the deferral has been sent.
	fast := func() { a.cfg.AckAfter, a.cfg.FormAckAfter = time.Minute, time.Minute }
	slow := func() { a.cfg.AckAfter, a.cfg.FormAckAfter = time.Millisecond, time.Millisecond }
	fast()
	// Fast: one CHANNEL_MESSAGE_WITH_SOURCE, ephemeral.
	rec.setFn(func(context.Context, *bot.Event) (*bot.Response, error) { return &bot.Response{Text: "hi"}, nil })
	a.onInteraction(ctx, slash("help"))
	if len(api.responses) != 1 || api.responses[0].Type != discordgo.InteractionResponseChannelMessageWithSource || api.responses[0].Data.Flags != discordgo.MessageFlagsEphemeral {
		t.Fatalf("fast = %+v", api.responses)
	}
	if ev := rec.all()[0]; ev.Channel != "c1" || ev.Text != "help" || !ev.User.Team {
		t.Fatalf("event = %+v (a command in a thread belongs to its parent channel)", ev)
	}
	// Slow: deferred, then the original response is edited.
	slow()
	rec.setFn(func(context.Context, *bot.Event) (*bot.Response, error) {
		api.waitResponses(t, 2)
		return nil, errors.New("boom")
	})
	a.onInteraction(ctx, slash("help"))
	if len(api.responses) != 2 || api.responses[1].Type != discordgo.InteractionResponseDeferredChannelMessageWithSource || len(api.respEdits) != 1 || *api.respEdits[0].Content != "Internal error." {
		t.Fatalf("slow = %+v %+v", api.responses, api.respEdits)
	}
	// Slow button: deferred update, then an ephemeral follow-up.
	button := &discordgo.Interaction{ID: "b", Token: "t", Type: discordgo.InteractionMessageComponent, GuildID: "g1", ChannelID: "c1", Member: member,
		Message: &discordgo.Message{ID: "bm", ChannelID: "c1"},
		Data:    discordgo.MessageComponentInteractionData{CustomID: "merge:1:2", ComponentType: discordgo.ButtonComponent}}
	rec.setFn(func(_ context.Context, ev *bot.Event) (*bot.Response, error) {
		api.waitResponses(t, 3)
		return &bot.Response{Text: "merged " + ev.ActionID}, nil
	})
	a.onInteraction(ctx, button)
	fast()
	if api.responses[2].Type != discordgo.InteractionResponseDeferredMessageUpdate || len(api.followups) != 1 || api.followups[0].Content != "merged merge:1:2" || api.followups[0].Flags != discordgo.MessageFlagsEphemeral {
		t.Fatalf("slow button = %+v %+v", api.responses, api.followups)
	}
	// A button with nothing to say is acknowledged silently.
	rec.setFn(func(context.Context, *bot.Event) (*bot.Response, error) { return nil, nil })
	a.onInteraction(ctx, button)
	if api.responses[3].Type != discordgo.InteractionResponseDeferredMessageUpdate {
		t.Fatalf("silent ack = %+v", api.responses[3])
	}
	// No guild: refused.
	dm := slash("help")
	dm.GuildID, dm.Member, dm.User = "", nil, &discordgo.User{ID: "u1"}
	a.onInteraction(ctx, dm)
	if got := api.responses[4]; got.Data.Content != "feedbackbot works in servers only." {
		t.Fatalf("dm = %+v", got.Data)
	}
	// Unsupported types are not answered.
	n := len(api.responses)
	a.onInteraction(ctx, &discordgo.Interaction{ID: "x", Token: "t", Type: discordgo.InteractionModalSubmit, GuildID: "g1", ChannelID: "c1", Member: member, Data: discordgo.ModalSubmitInteractionData{}}) // no custom_id
	a.onInteraction(ctx, &discordgo.Interaction{ID: "y", Token: "t", Type: discordgo.InteractionType(42), GuildID: "g1", ChannelID: "c1", Member: member})
	if len(api.responses) != n {
		t.Fatalf("unsupported interactions answered")
	}
}

func TestCommandText(t *testing.T) {
	sub := func(name string, opts ...*discordgo.ApplicationCommandInteractionDataOption) []*discordgo.ApplicationCommandInteractionDataOption {
		return []*discordgo.ApplicationCommandInteractionDataOption{{Type: discordgo.ApplicationCommandOptionSubCommand, Name: name, Options: opts}}
	}
	s := func(name string, v any) *discordgo.ApplicationCommandInteractionDataOption {
		return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Value: v}
	}
	group := func(name string, opts ...*discordgo.ApplicationCommandInteractionDataOption) []*discordgo.ApplicationCommandInteractionDataOption {
		return []*discordgo.ApplicationCommandInteractionDataOption{{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: "request", Options: sub(name, opts...)}}
	}
	tests := []struct {
		opts    []*discordgo.ApplicationCommandInteractionDataOption
		want    string
		invalid bool
	}{
		{sub("new", s("text", "Dark mode please")), "new Dark mode please", false},
		{sub("list"), "list", false},
		{sub("list", s("status", "shipped"), s("sort", "new")), "list shipped sort new", false},
		{sub("top", s("count", 5.0)), "top 5", false},
		{sub("top"), "top", false},
		{sub("show", s("key", "FB-1")), "show FB-1", false},
		{sub("search", s("query", "dark   mode")), "search dark mode", false},
		{sub("vote", s("key", " fb-2 ")), "vote fb-2", false},
		{sub("unvote", s("key", "FB-2")), "unvote FB-2", false},
		{sub("merge", s("key", "FB-3"), s("into", "FB-1")), "merge FB-3 into FB-1", false},
		{sub("unmerge", s("key", "FB-3")), "unmerge FB-3", false},
		{sub("status", s("key", "FB-2"), s("status", "planned")), "status FB-2 planned", false},
		{sub("status", s("key", "FB-2"), s("status", "declined"), s("note", "out of scope")), "status FB-2 declined -- out of scope", false},
		{sub("ship", s("keys", "FB-1 FB-2"), s("version", "v2.4"), s("note", "note")), "ship FB-1 FB-2 v2.4 -- note", false},
		{sub("ship", s("keys", "FB-1,FB-2")), "ship FB-1 FB-2", false},
		{sub("rollback", s("keys", "FB-1"), s("version", "v2.4"), s("reason", "crash")), "rollback FB-1 v2.4 -- crash", false},
		{sub("rollback", s("version", "v2.4")), "rollback v2.4", false},
		{sub("link", s("key", "FB-2"), s("link", "https://discord.com/channels/g/c/m")), "link FB-2 https://discord.com/channels/g/c/m", false},
		{sub("watch", s("channel", "123")), "watch <#123>", false},
		{sub("unwatch"), "unwatch", false},
		{sub("releases", s("channel", "9")), "releases <#9>", false},
		{sub("help"), "help", false},
		{sub("ship", s("keys", "FB-1"), s("version", "v 2")), "", true},
		{sub("merge", s("key", "FB-1 FB-2"), s("into", "FB-3")), "", true},
		{sub("list", s("tag", "mobile")), "list tag:mobile", false},
		{sub("list", s("status", "planned"), s("tag", "tag:ios")), "list planned tag:ios", false},
		{sub("list", s("tag", "two words")), "", true},
		{group("rename", s("key", "FB-1"), s("text", "  Dark   mode ")), "rename FB-1 Dark mode", false},
		{group("describe", s("key", "FB-1"), s("text", "For the dashboard, at night.")), "describe FB-1 For the dashboard, at night.", false},
		{group("tag", s("key", "FB-1"), s("tags", "mobile, ios  #ui")), "tag FB-1 mobile ios ui", false},
		{group("untag", s("key", "FB-1"), s("tags", "ios")), "untag FB-1 ios", false},
		{group("remove", s("key", "FB-1"), s("reason", "spam")), "remove FB-1 -- spam", false},
		{group("remove", s("key", "FB-1")), "remove FB-1", false},
		{group("restore", s("key", "FB-1")), "restore FB-1", false},
		{group("restore", s("key", "FB-1 FB-2")), "", true},
		{group("track", s("key", "FB-1"), s("link", " https://github.com/acme/app/issues/12 ")), "track FB-1 https://github.com/acme/app/issues/12", false},
		{group("untrack", s("key", "fb-1"), s("link", "ENG-7")), "untrack fb-1 ENG-7", false},
		{group("track", s("key", "FB-1"), s("link", "two words")), "", true},
		{group("track", s("key", "FB-1")), "", true},
		{group("nope", s("key", "FB-1")), "", true},
		{[]*discordgo.ApplicationCommandInteractionDataOption{{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: "other", Options: sub("x")}}, "", true},
		{sub("nope"), "", true},
		{nil, "", true},
	}
	for _, tt := range tests {
		got, err := commandText(tt.opts)
		if tt.invalid {
			if bot.ErrorCode(err) != bot.EINVALID {
				t.Errorf("%v: err = %v, want EINVALID", tt.opts, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("got %q, %v; want %q", got, err, tt.want)
		}
	}
}

func TestCommandsFitDiscordLimits(t *testing.T) {
	for _, c := range applicationCommands() {
		if len(c.Options) > 25 {
			t.Errorf("%s: %d options", c.Name, len(c.Options))
		}
		if c.Type == discordgo.ChatApplicationCommand && (len(c.Description) == 0 || len(c.Description) > 100) {
			t.Errorf("%s: description length %d", c.Name, len(c.Description))
		}
		for _, s := range c.Options {
			if len(s.Description) == 0 || len(s.Description) > 100 || strings.ToLower(s.Name) != s.Name {
				t.Errorf("%s %s: bad name or description", c.Name, s.Name)
			}
			for _, o := range s.Options {
				if len(o.Description) == 0 || len(o.Description) > 100 {
					t.Errorf("%s %s %s: description length %d", c.Name, s.Name, o.Name, len(o.Description))
				}
			}
		}
	}
}

func TestEmoji(t *testing.T) {
	for in, want := range map[string]string{"👍": "+1", "👍🏿": "+1", "💡": "bulb", ":bulb:": "bulb", "+1": "+1", "thumbsup": "+1", "🦄": "🦄", "party_blob": "party_blob", "❤️": "heart", "❤": "heart"} {
		if got := emojiName(in); got != want {
			t.Errorf("emojiName(%q) = %q, want %q", in, got, want)
		}
	}
	if emojiAPI("white_check_mark") != "✅" || emojiAPI("blob:123") != "blob:123" {
		t.Error("emojiAPI")
	}
}

func TestComponentsAndText(t *testing.T) {
	var bs []bot.Button
	for i := 0; i < 27; i++ {
		bs = append(bs, bot.Button{ID: "b" + string(rune('a'+i)), Label: strings.Repeat("é", 90)})
	}
	bs = append(bs, bot.Button{ID: "ba"}, bot.Button{ID: strings.Repeat("x", 101)})
	rows := components(testLogger(t), bs)
	if len(rows) != 5 {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		row := r.(discordgo.ActionsRow)
		if len(row.Components) != 5 {
			t.Fatalf("row of %d", len(row.Components))
		}
		if l := row.Components[0].(discordgo.Button).Label; length(l) != 80 || !strings.HasSuffix(l, "…") {
			t.Fatalf("label %q", l)
		}
	}
	if components(testLogger(t), nil) != nil {
		t.Fatal("no buttons should give no rows")
	}
	if got := truncate("😀😀😀", 4); got != "😀…" { // an emoji counts 2 as Discord counts
		t.Fatalf("truncate = %q", got)
	}
	text := strings.Repeat("line of text\n", 400) // 5200 characters
	parts := splitContent(text, 2000)
	if len(parts) != 3 || strings.Join(parts, "\n") != strings.TrimRight(text, "\n") {
		t.Fatalf("split into %d parts: %q", len(parts), parts)
	}
	for _, p := range parts {
		if length(p) > 2000 {
			t.Fatalf("part of %d", length(p))
		}
	}
	nospace := strings.Repeat("ü", 4500)
	for _, p := range splitContent(nospace, 2000) {
		if length(p) > 2000 {
			t.Fatalf("part of %d", length(p))
		}
	}
}

func TestPostRoutesAndErrors(t *testing.T) {
	a, api, _ := newUnit(t)
	ctx := context.Background()
	api.messages["c1/top"] = &discordgo.Message{ID: "top", ChannelID: "c1"}
	api.messages["c1/withthread"] = &discordgo.Message{ID: "withthread", ChannelID: "c1", Thread: &discordgo.Channel{ID: "withthread", Type: discordgo.ChannelTypeGuildPublicThread}}
	post := func(channel, thread string) sentMessage {
		t.Helper()
		if _, err := a.Post(ctx, bot.OutMessage{Channel: channel, ThreadID: thread, Text: "x"}); err != nil {
			t.Fatal(err)
		}
		return api.sent[len(api.sent)-1]
	}
	if s := post("c1", ""); s.Channel != "c1" || s.Data.Reference != nil {
		t.Fatalf("top-level = %+v", s)
	}
	if s := post("c1", "th1"); s.Channel != "th1" || s.Data.Reference != nil {
		t.Fatalf("thread = %+v", s)
	}
	if s := post("c1", "top"); s.Channel != "c1" || s.Data.Reference == nil || s.Data.Reference.MessageID != "top" || *s.Data.Reference.FailIfNotExists {
		t.Fatalf("reply = %+v", s)
	}
	if s := post("c1", "withthread"); s.Channel != "withthread" {
		t.Fatalf("message with thread = %+v", s)
	}
	if s := post("f1", "unknownpost"); s.Channel != "unknownpost" {
		t.Fatalf("forum post = %+v", s)
	}
	if s := post("c1", "deleted"); s.Channel != "c1" || s.Data.Reference == nil {
		t.Fatalf("deleted root = %+v", s)
	}
	if s := api.sent[0].Data.AllowedMentions; s == nil || len(s.Parse) != 0 {
		t.Fatalf("allowed mentions = %+v", s)
	}

	rl := &discordgo.RateLimitError{RateLimit: &discordgo.RateLimit{TooManyRequests: &discordgo.TooManyRequests{RetryAfter: 1500 * time.Millisecond}}}
	for _, c := range []struct {
		err   error
		check func(error) bool
	}{
		{rl, func(err error) bool {
			var r *bot.RetryAfterError
			return errors.As(err, &r) && r.After == 1500*time.Millisecond
		}},
		{&discordgo.RESTError{Response: &http.Response{StatusCode: 403}}, func(err error) bool { var p *bot.PermanentError; return errors.As(err, &p) }},
		{notFound(), func(err error) bool { var p *bot.PermanentError; return errors.As(err, &p) }},
		{&discordgo.RESTError{Response: &http.Response{StatusCode: 500}}, func(err error) bool {
			var p *bot.PermanentError
			var r *bot.RetryAfterError
			return err != nil && !errors.As(err, &p) && !errors.As(err, &r)
		}},
	} {
		api.sendErr = c.err
		_, err := a.Post(ctx, bot.OutMessage{Channel: "c1", Text: "x"})
		if !c.check(err) {
			t.Errorf("%v -> %v", c.err, err)
		}
	}
}

func TestPostIdempotencyKey(t *testing.T) {
	ctx := context.Background()
	t.Run("NonceFromKey", func(t *testing.T) {
		a, api, _ := newUnit(t)
		key := bot.IdempotencyKey(42) // "feedbackbot-delivery-42": fits as is
		ref, err := a.Post(ctx, bot.OutMessage{Channel: "c1", ThreadID: "th1", Text: "🚀 Shipped", IdempotencyKey: key})
		if err != nil {
			t.Fatal(err)
		}
		if len(api.sent) != 1 || api.sent[0].Nonce != key || !api.sent[0].Enforce || api.sent[0].Channel != "th1" || api.sent[0].Data.Content != "🚀 Shipped" {
			t.Fatalf("sent = %+v", api.sent)
		}
		// The retry after a crash: Discord answers with the first message.
		again, err := a.Post(ctx, bot.OutMessage{Channel: "c1", ThreadID: "th1", Text: "🚀 Shipped", IdempotencyKey: key})
		if err != nil || again.ID != ref.ID || len(api.sent) != 1 {
			t.Fatalf("repeated post = %+v, %v; %d sent", again, err, len(api.sent))
		}
	})
	t.Run("NoKeyNoNonce", func(t *testing.T) {
		a, api, _ := newUnit(t)
		if _, err := a.Post(ctx, bot.OutMessage{Channel: "c1", Text: "card"}); err != nil {
			t.Fatal(err)
		}
		if len(api.sent) != 1 || api.sent[0].Nonce != "" || api.sent[0].Enforce {
			t.Fatalf("sent = %+v", api.sent)
		}
	})
	t.Run("ChunksAndLongKeys", func(t *testing.T) {
		a, api, _ := newUnit(t)
		key := bot.IdempotencyKey(1234567890)
		text := strings.Repeat("line of text\n", 400) // 3 messages
		if _, err := a.Post(ctx, bot.OutMessage{Channel: "c1", Text: text, IdempotencyKey: key}); err != nil {
			t.Fatal(err)
		}
		if len(api.sent) != 3 {
			t.Fatalf("%d messages", len(api.sent))
		}
		seen := map[string]bool{}
		for n, s := range api.sent {
			if len(s.Nonce) > 25 || len(s.Nonce) == 0 || seen[s.Nonce] || s.Nonce != nonce(key, n) || !s.Enforce {
				t.Fatalf("chunk %d nonce %q", n, s.Nonce)
			}
			seen[s.Nonce] = true
		}
		// Every attempt derives the same nonces, so a retry posts nothing new.
		if _, err := a.Post(ctx, bot.OutMessage{Channel: "c1", Text: text, IdempotencyKey: key}); err != nil || len(api.sent) != 3 {
			t.Fatalf("retry: %v, %d messages", err, len(api.sent))
		}
	})
	t.Run("Errors", func(t *testing.T) {
		a, api, _ := newUnit(t)
		api.sendErr = &discordgo.RESTError{Response: &http.Response{StatusCode: 403}}
		_, err := a.Post(ctx, bot.OutMessage{Channel: "c1", Text: "x", IdempotencyKey: "k"})
		var p *bot.PermanentError
		if !errors.As(err, &p) {
			t.Fatalf("403 with a nonce: %v", err)
		}
	})
}

func TestNonce(t *testing.T) {
	for _, c := range []struct {
		key  string
		n    int
		want string
	}{
		{"feedbackbot-delivery-7", 0, "feedbackbot-delivery-7"},
		{"feedbackbot-delivery-7", 1, "feedbackbot-delivery-7#1"},
		{"feedbackbot-delivery-9999", 0, "feedbackbot-delivery-9999"}, // 25: fits
	} {
		if got := nonce(c.key, c.n); got != c.want {
			t.Errorf("nonce(%q, %d) = %q, want %q", c.key, c.n, got, c.want)
		}
	}
	long := nonce("feedbackbot-delivery-10000", 0)
	if len(long) != 25 || !strings.HasPrefix(long, "fb") || long != nonce("feedbackbot-delivery-10000", 0) {
		t.Errorf("hashed nonce %q", long)
	}
	if long == nonce("feedbackbot-delivery-10001", 0) || long == nonce("feedbackbot-delivery-10000", 1) {
		t.Error("hashed nonces collide")
	}
}

func TestPostRate(t *testing.T) {
	a, _, _ := newUnit(t)
	var th bot.Throttle = a
	if rate, burst := th.PostRate(); rate != 45 || burst != 10 {
		t.Fatalf("default PostRate = %v, %d; want 45/s (under Discord's 50/s), burst 10", rate, burst)
	}
	cfg, err := Config{Token: "x", RequestsPerSecond: 20}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if rate, burst := newAdapter(cfg, newRecorder(), newFakeAPI()).PostRate(); rate != 20 || burst != 5 {
		t.Fatalf("PostRate with RequestsPerSecond 20 = %v, %d", rate, burst)
	}
}

func TestParseLink(t *testing.T) {
	for _, c := range []struct {
		in         string
		g, ch, msg string
		ok         bool
	}{
		{"https://discord.com/channels/1/2/3", "1", "2", "3", true},
		{"<https://ptb.discord.com/channels/1/2/3>", "1", "2", "3", true},
		{"https://discordapp.com/channels/@me/2/3", "@me", "2", "3", true},
		{"https://example.com/channels/1/2/3", "", "", "", false},
		{"https://discord.com/channels/1/2", "", "", "", false},
		{"FB-1", "", "", "", false},
	} {
		g, ch, msg, ok := parseLink(c.in)
		if g != c.g || ch != c.ch || msg != c.msg || ok != c.ok {
			t.Errorf("parseLink(%q) = %q %q %q %v", c.in, g, ch, msg, ok)
		}
	}
	a, api, _ := newUnit(t)
	api.messages["th1/m9"] = &discordgo.Message{ID: "m9", ChannelID: "th1", Content: "linked", Author: &discordgo.User{ID: "u1"}}
	m, err := a.FetchByLink(context.Background(), "https://discord.com/channels/g1/th1/m9")
	if err == nil {
		t.Fatal("ids must be snowflakes")
	}
	api.messages["5/6"] = &discordgo.Message{ID: "6", ChannelID: "5", Content: "linked", Author: &discordgo.User{ID: "u1"}}
	m, err = a.FetchByLink(context.Background(), "https://discord.com/channels/4/5/6")
	if err != nil || m.Text != "linked" || m.Workspace != "4" {
		t.Fatalf("FetchByLink = %+v, %v", m, err)
	}
	if _, err := a.FetchByLink(context.Background(), "https://discord.com/channels/4/5/7"); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Fatalf("missing message: %v", err)
	}
}

func TestGatewayDedup(t *testing.T) {
	a, _, rec := newUnit(t)
	ctx := context.Background()
	msg := &discordgo.Event{Type: "MESSAGE_CREATE", Sequence: 5, Struct: &discordgo.MessageCreate{Message: &discordgo.Message{ID: "m1", ChannelID: "c1", GuildID: "g1", Author: &discordgo.User{ID: "u"}, Content: "x"}}}
	react := func(seq int64) *discordgo.Event {
		return &discordgo.Event{Type: "MESSAGE_REACTION_ADD", Sequence: seq, Struct: &discordgo.MessageReactionAdd{MessageReaction: &discordgo.MessageReaction{UserID: "u", MessageID: "m1", ChannelID: "c1", GuildID: "g1", Emoji: discordgo.Emoji{Name: "👍"}}}}
	}
	for i := 0; i < 3; i++ {
		a.onGatewayEvent(ctx, msg)
		a.onGatewayEvent(ctx, react(6))
	}
	a.onGatewayEvent(ctx, react(7)) // same reaction again later: a new event
	a.onReady(&discordgo.Ready{SessionID: "s2", User: &discordgo.User{ID: "bot"}})
	a.onGatewayEvent(ctx, react(6)) // new session, same sequence number: a new event
	a.onGatewayEvent(ctx, &discordgo.Event{Type: "MESSAGE_CREATE", Struct: &discordgo.MessageCreate{}})
	a.onGatewayEvent(ctx, &discordgo.Event{Type: "INTERACTION_CREATE", Struct: &discordgo.InteractionCreate{}})
	a.onGatewayEvent(ctx, nil)
	a.wg.Wait()
	if n := len(rec.kinds(bot.EventMessage)); n != 1 {
		t.Fatalf("message handled %d times", n)
	}
	if n := len(rec.kinds(bot.EventReactionAdded)); n != 3 {
		t.Fatalf("reactions handled %d times, want 3", n)
	}
}

func TestConfig(t *testing.T) {
	if _, err := New(Config{}, HandlerFunc(nil)); err == nil {
		t.Fatal("no token accepted")
	}
	if _, err := New(Config{Token: "x", APIURL: "ftp://x"}, newRecorder()); err == nil {
		t.Fatal("bad API URL accepted")
	}
	if _, err := New(Config{Token: "x", ShardID: 2, ShardCount: 2}, newRecorder()); err == nil {
		t.Fatal("bad shard accepted")
	}
	c, err := Config{Token: "Bot abc", CaptureEmoji: "💡", VoteEmoji: ":thumbsup:"}.withDefaults()
	if err != nil || c.Token != "abc" || c.CaptureEmoji != "bulb" || c.VoteEmoji != "+1" || c.APIURL != DefaultAPIURL {
		t.Fatalf("%+v %v", c, err)
	}
}

// TestFixtures translates Discord's documented payloads
// (../shared/fixtures/discord) through discordgo and the adapter.
func TestFixtures(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "fixtures", "discord")
	read := func(name string, v any) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	ctx := context.Background()

	var cmd discordgo.Interaction
	read("interaction_message_command.json", &cmd)
	a, api, _ := newUnit(t)
	api.channels[cmd.ChannelID] = &discordgo.Channel{ID: cmd.ChannelID, GuildID: cmd.GuildID}
	cmdData := cmd.Data.(discordgo.ApplicationCommandInteractionData)
	cmdData.Name = MessageCommandName // the fixture's command has another name
	cmd.Data = cmdData
	ev, err := a.interactionEvent(ctx, &cmd)
	if err != nil || ev.Kind != bot.EventCapture || ev.Message.ID != "867793854505943041" || ev.Message.Text != "some message" || ev.Message.Author.Name != "ian" || ev.User.ID != "167348773423415296" || ev.Workspace != "772904309264089089" {
		t.Fatalf("message command = %+v %v", ev, err)
	}
	if !ev.User.Team { // permissions 274877906943 include Manage Server
		t.Fatal("fixture member has Manage Server")
	}

	var slash discordgo.Interaction
	read("interaction_slash_command.json", &slash)
	api.channels[slash.ChannelID] = &discordgo.Channel{ID: slash.ChannelID, GuildID: slash.GuildID}
	if _, err := a.interactionEvent(ctx, &slash); bot.ErrorCode(err) != bot.EINVALID {
		t.Fatalf("another app's slash command: %v", err)
	}

	var button discordgo.Interaction
	read("interaction_button_minimal.json", &button)
	if d, ok := button.Data.(discordgo.MessageComponentInteractionData); !ok || d.CustomID != "click_me" || d.ComponentType != discordgo.ButtonComponent {
		t.Fatalf("button = %+v", button.Data)
	}

	var msg discordgo.Message
	read("message_example.json", &msg)
	m := a.message(ctx, "g", &msg, nil)
	if m.Text != "Supa Hot" || m.Author.Name != "Mason" || m.ID != "334385199974967042" {
		t.Fatalf("message = %+v", m)
	}

	var hello struct {
		Op int `json:"op"`
		D  struct {
			HeartbeatInterval int `json:"heartbeat_interval"`
		} `json:"d"`
	}
	read("gateway_hello.json", &hello)
	if hello.Op != 10 || hello.D.HeartbeatInterval != 45000 {
		t.Fatalf("hello = %+v", hello)
	}

	// The components the adapter sends have the documented shape.
	var want struct {
		Components []struct {
			Type       int `json:"type"`
			Components []struct {
				Type     int    `json:"type"`
				CustomID string `json:"custom_id"`
				Label    string `json:"label"`
				Style    int    `json:"style"`
			} `json:"components"`
		} `json:"components"`
	}
	read("message_create_request_with_button.json", &want)
	b, _ := json.Marshal(map[string]any{"components": components(testLogger(t), []bot.Button{{ID: "click_me", Label: "Click me!", Style: bot.StylePrimary}})})
	var got = want
	got.Components = nil
	json.Unmarshal(b, &got)
	if len(got.Components) != 1 || got.Components[0].Type != want.Components[0].Type || got.Components[0].Components[0] != want.Components[0].Components[0] {
		t.Fatalf("components = %s, want %+v", b, want)
	}
}

// TestGatewayDialerIdleTimeout: a gateway that accepts the socket and then
// says nothing (no HELLO, no READY) fails discordgo's read instead of
// blocking it, and Open with it, forever.
func TestGatewayDialerIdleTimeout(t *testing.T) {
	up := websocket.Upgrader{}
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		select { // silent until the test ends (5 minutes only against a hang)
		case <-release:
		case <-time.After(5 * time.Minute):
		}
	}))
	defer srv.Close()
	defer close(release)
	c, _, err := gatewayDialer(300*time.Millisecond).Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The server never speaks nor closes: only the dialer's idle deadline
	// can end the read, and it says so (a timeout, not a closed socket).
	_, _, err = c.ReadMessage()
	var ne net.Error
	if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read from a silent gateway: %v, want a timeout", err)
	}
}

// TestPersonGroupText: /feedback person link|split|show become the text
// verbs same-person, split-person and person.
func TestPersonGroupText(t *testing.T) {
	s := func(name string, v any) *discordgo.ApplicationCommandInteractionDataOption {
		return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Value: v}
	}
	group := func(name string, opts ...*discordgo.ApplicationCommandInteractionDataOption) []*discordgo.ApplicationCommandInteractionDataOption {
		return []*discordgo.ApplicationCommandInteractionDataOption{{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: GroupPerson,
			Options: []*discordgo.ApplicationCommandInteractionDataOption{{Type: discordgo.ApplicationCommandOptionSubCommand, Name: name, Options: opts}}}}
	}
	for _, tt := range []struct {
		opts []*discordgo.ApplicationCommandInteractionDataOption
		want string
	}{
		{group("link", s("user", "111"), s("other", " email:jane@example.com ")), "same-person <@111> email:jane@example.com"},
		{group("link", s("user", "111"), s("other", "<@222>")), "same-person <@111> <@222>"},
		{group("split", s("user", "111")), "split-person <@111>"},
		{group("show", s("user", "111")), "person <@111>"},
	} {
		got, err := commandText(tt.opts)
		if err != nil || got != tt.want {
			t.Errorf("got %q, %v; want %q", got, err, tt.want)
		}
	}
	if _, err := commandText(group("link", s("user", "111"), s("other", "two words"))); bot.ErrorCode(err) != bot.EINVALID {
		t.Errorf("two-word other: %v", err)
	}
	if _, err := commandText(group("nope", s("user", "111"))); bot.ErrorCode(err) != bot.EINVALID {
		t.Errorf("unknown person subcommand: %v", err)
	}
	// The registered group has link (user, other), split (user), show (user).
	var found bool
	for _, o := range applicationCommands()[0].Options {
		if o.Name == GroupPerson {
			found = true
			var got []string
			for _, sc := range o.Options {
				names := []string{}
				for _, x := range sc.Options {
					names = append(names, x.Name)
				}
				got = append(got, sc.Name+"("+strings.Join(names, ",")+")")
			}
			if strings.Join(got, " ") != "link(user,other) split(user) show(user)" {
				t.Errorf("person group = %v", got)
			}
		}
	}
	if !found {
		t.Error("no person group registered")
	}
}
