package discord

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/feedbackbot/feedbackbot/bot"
)

// gatewayTypes are the dispatch types the adapter handles, with the struct
// discordgo decodes each into (as its Session does before handlers run).
var gatewayTypes = map[string]func() any{
	"READY":                   func() any { return &discordgo.Ready{} },
	"GUILD_CREATE":            func() any { return &discordgo.GuildCreate{} },
	"GUILD_UPDATE":            func() any { return &discordgo.GuildUpdate{} },
	"GUILD_ROLE_CREATE":       func() any { return &discordgo.GuildRoleCreate{} },
	"GUILD_ROLE_UPDATE":       func() any { return &discordgo.GuildRoleUpdate{} },
	"GUILD_ROLE_DELETE":       func() any { return &discordgo.GuildRoleDelete{} },
	"CHANNEL_CREATE":          func() any { return &discordgo.ChannelCreate{} },
	"CHANNEL_UPDATE":          func() any { return &discordgo.ChannelUpdate{} },
	"CHANNEL_DELETE":          func() any { return &discordgo.ChannelDelete{} },
	"THREAD_CREATE":           func() any { return &discordgo.ThreadCreate{} },
	"THREAD_UPDATE":           func() any { return &discordgo.ThreadUpdate{} },
	"THREAD_DELETE":           func() any { return &discordgo.ThreadDelete{} },
	"THREAD_LIST_SYNC":        func() any { return &discordgo.ThreadListSync{} },
	"MESSAGE_CREATE":          func() any { return &discordgo.MessageCreate{} },
	"MESSAGE_DELETE":          func() any { return &discordgo.MessageDelete{} },
	"MESSAGE_REACTION_ADD":    func() any { return &discordgo.MessageReactionAdd{} },
	"MESSAGE_REACTION_REMOVE": func() any { return &discordgo.MessageReactionRemove{} },
	"INTERACTION_CREATE":      func() any { return &discordgo.InteractionCreate{} },
}

// panicLog records the adapter's "panic handling discord event" errors (its
// event goroutines recover panics and log them).
type panicLog struct {
	mu     sync.Mutex
	panics []string
}

func (p *panicLog) Enabled(context.Context, slog.Level) bool { return true }
func (p *panicLog) WithAttrs([]slog.Attr) slog.Handler       { return p }
func (p *panicLog) WithGroup(string) slog.Handler            { return p }
func (p *panicLog) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "panic") {
		var sb strings.Builder
		sb.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool { sb.WriteString(" " + a.String()); return true })
		p.mu.Lock()
		p.panics = append(p.panics, sb.String())
		p.mu.Unlock()
	}
	return nil
}

func (p *panicLog) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.panics
	p.panics = nil
	return out
}

// fuzzSink checks the events the adapter makes and answers nothing.
type fuzzSink struct{}

func (fuzzSink) Handle(_ context.Context, ev *bot.Event) (*bot.Response, error) {
	if ev.Kind == "" || ev.Platform != bot.PlatformDiscord {
		panic("event without kind or platform: " + string(ev.Kind) + " " + ev.Platform)
	}
	return nil, nil
}

// FuzzDiscordDispatch feeds gateway dispatch payloads ({"op":0,"t":…,"s":…,
// "d":…}) through discordgo's decoding into the adapter's translation
// (onGatewayEvent and the goroutines it starts), over a fake REST API. No
// payload may panic. Seeds are in testdata/fuzz/FuzzDiscordDispatch/. Run
// it with
//
//	go test -run '^$' -fuzz '^FuzzDiscordDispatch$' -fuzztime 15s ./bot/discord
func FuzzDiscordDispatch(f *testing.F) {
	api := newFakeAPI()
	api.channels["c1"] = &discordgo.Channel{ID: "c1", GuildID: "g1", Type: discordgo.ChannelTypeGuildText}
	api.channels["f1"] = &discordgo.Channel{ID: "f1", GuildID: "g1", Type: discordgo.ChannelTypeGuildForum, AvailableTags: []discordgo.ForumTag{{ID: "t1", Name: "UI"}}}
	api.channels["th1"] = &discordgo.Channel{ID: "th1", GuildID: "g1", Type: discordgo.ChannelTypeGuildPublicThread, ParentID: "c1"}
	api.roles["g1"] = []*discordgo.Role{{ID: "g1", Name: "@everyone"}, {ID: "r-team", Name: "Team"}}
	logs := &panicLog{}
	cfg, err := Config{Token: "x", TeamRole: "team", Logger: slog.New(logs), AckAfter: 50 * time.Millisecond, HandlerTimeout: 5 * time.Second}.withDefaults()
	if err != nil {
		f.Fatal(err)
	}
	a := newAdapter(cfg, fuzzSink{}, api)
	a.onReady(&discordgo.Ready{SessionID: "s1", User: &discordgo.User{ID: "bot"}, Application: &discordgo.Application{ID: "app"}})
	f.Add([]byte(`{"op":0,"s":1,"t":"MESSAGE_CREATE","d":{"id":"m1","channel_id":"c1","guild_id":"g1","content":"Dark mode please","author":{"id":"u1","username":"ally"}}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		var e discordgo.Event
		if err := json.Unmarshal(payload, &e); err != nil {
			return // the gateway reader drops frames that are not JSON
		}
		if e.Operation != 0 {
			return // only dispatches (op 0) reach the handlers
		}
		mk, ok := gatewayTypes[e.Type]
		if !ok {
			return
		}
		e.Struct = mk()
		// Like discordgo, pass the struct on even when decoding failed
		// part way.
		_ = json.Unmarshal(e.RawData, e.Struct)
		a.onGatewayEvent(context.Background(), &e)
		a.wg.Wait()
		if p := logs.take(); len(p) > 0 {
			t.Fatalf("panic translating %s: %v", e.Type, p)
		}
	})
}
