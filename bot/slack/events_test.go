package slack

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// parseInner parses an Events API body the way both transports do.
func parseInner(t *testing.T, body string) slackevents.EventsAPIEvent {
	t.Helper()
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return ev
}

func wrap(inner string) string {
	return `{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":` + inner + `}`
}

func addPeople(api *fakeAPI) {
	api.users["U1"] = slack.User{ID: "U1", TeamID: "T1", Name: "alice", Profile: slack.UserProfile{DisplayName: "Alice"}}
	api.users["U2"] = slack.User{ID: "U2", TeamID: "T1", Name: "guest", IsRestricted: true}
	api.users["U3"] = slack.User{ID: "U3", TeamID: "T1", Name: "single", IsUltraRestricted: true}
	api.users["U4"] = slack.User{ID: "U4", TeamID: "T9", Name: "ext", RealName: "Erin External"}
	api.users["U5"] = slack.User{ID: "U5", TeamID: "T1", Name: "lead"}
	api.users["U6"] = slack.User{ID: "U6", TeamID: "T1", Name: "grouplead", IsRestricted: true}
}

func TestMessageEvent(t *testing.T) {
	tests := []struct {
		name  string
		inner string
		want  *bot.Event // nil: ignored
	}{
		{"TopLevel", `{"type":"message","channel":"C1","user":"U1","text":"dark mode please","ts":"10.1","user_team":"T1"}`,
			&bot.Event{Kind: bot.EventMessage, Channel: "C1", Message: &bot.Message{ID: "10.1", Text: "dark mode please", Permalink: "https://acme.slack.com/archives/C1/p10.1"}}},
		{"ThreadRootIsTopLevel", `{"type":"message","channel":"C1","user":"U1","text":"root","ts":"10.1","thread_ts":"10.1"}`,
			&bot.Event{Kind: bot.EventMessage, Channel: "C1", Message: &bot.Message{ID: "10.1", Text: "root", Permalink: "https://acme.slack.com/archives/C1/p10.1"}}},
		{"Reply", `{"type":"message","channel":"C1","user":"U1","text":"+1 me too","ts":"10.2","thread_ts":"10.1"}`,
			&bot.Event{Kind: bot.EventMessage, Channel: "C1", Message: &bot.Message{ID: "10.2", ThreadID: "10.1", Text: "+1 me too", Permalink: "https://acme.slack.com/archives/C1/p10.2"}}},
		{"ThreadBroadcast", `{"type":"message","subtype":"thread_broadcast","channel":"C1","user":"U1","text":"also","ts":"10.3","thread_ts":"10.1"}`,
			&bot.Event{Kind: bot.EventMessage, Channel: "C1", Message: &bot.Message{ID: "10.3", ThreadID: "10.1", Text: "also", Permalink: "https://acme.slack.com/archives/C1/p10.3"}}},
		{"OtherBot", `{"type":"message","subtype":"bot_message","channel":"C1","bot_id":"BCI","username":"ci","text":"Shipped FB-1 in v2","ts":"10.4"}`,
			&bot.Event{Kind: bot.EventMessage, Channel: "C1", Message: &bot.Message{ID: "10.4", Text: "Shipped FB-1 in v2", Bot: true}}},
		{"Self", `{"type":"message","channel":"C1","user":"UBOT","bot_id":"BBOT","text":"FB-1 captured","ts":"10.5"}`, nil},
		{"Edit", `{"type":"message","subtype":"message_changed","channel":"C1","ts":"10.6","message":{"type":"message","user":"U1","text":"new","ts":"10.1"},"previous_message":{"type":"message","user":"U1","text":"old","ts":"10.1"}}`, nil},
		{"Join", `{"type":"message","subtype":"channel_join","channel":"C1","user":"U1","text":"<@U1> has joined","ts":"10.7"}`, nil},
		{"Replied", `{"type":"message","subtype":"message_replied","hidden":true,"channel":"C1","ts":"10.8","message":{"type":"message","user":"U1","text":"root","ts":"10.1","thread_ts":"10.1"}}`, nil},
		{"Deleted", `{"type":"message","subtype":"message_deleted","hidden":true,"channel":"C1","ts":"10.9","deleted_ts":"10.2","previous_message":{"type":"message","user":"U1","text":"+1 me too","ts":"10.2","thread_ts":"10.1"}}`,
			&bot.Event{Kind: bot.EventMessageDeleted, Channel: "C1", Message: &bot.Message{ID: "10.2", ThreadID: "10.1", Text: "+1 me too"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			a, api := newTestAdapter(t, Config{}, rec)
			addPeople(api)
			ev := parseInner(t, wrap(tt.inner))
			a.handleEvent(context.Background(), ev.TeamID, ev.InnerEvent.Data)
			got := rec.all()
			if tt.want == nil {
				if len(got) != 0 {
					t.Fatalf("want ignored, got %+v", got[0])
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("got %d events, want 1", len(got))
			}
			g := got[0]
			if g.Kind != tt.want.Kind || g.Channel != tt.want.Channel || g.Platform != "slack" || g.Workspace != "T1" {
				t.Fatalf("event = %s %s %s %s", g.Kind, g.Platform, g.Workspace, g.Channel)
			}
			m, w := g.Message, tt.want.Message
			if m.ID != w.ID || m.ThreadID != w.ThreadID || m.Text != w.Text || m.Bot != w.Bot || m.Permalink != w.Permalink {
				t.Fatalf("message = %+v\nwant %+v", m, w)
			}
			if m.Platform != "slack" || m.Workspace != "T1" || m.Channel != "C1" {
				t.Fatalf("message location = %s %s %s", m.Platform, m.Workspace, m.Channel)
			}
			if g.Kind == bot.EventMessage && !m.Bot {
				if m.Author.ID != "U1" || m.Author.Name != "Alice" || m.Author.Org != "T1" || !m.Author.Team {
					t.Fatalf("author = %+v", m.Author)
				}
				if g.User != m.Author {
					t.Fatalf("event user %+v != author %+v", g.User, m.Author)
				}
			}
		})
	}
}

func TestMessageEvent_PermalinkFallback(t *testing.T) {
	rec := newRecorder()
	a, api := newTestAdapter(t, Config{}, rec)
	addPeople(api)
	api.permaErr = slack.SlackErrorResponse{Err: "ratelimited"}
	ev := parseInner(t, wrap(`{"type":"message","channel":"C1","user":"U1","text":"x","ts":"1700000000.000200","thread_ts":"1700000000.000100"}`))
	a.handleEvent(context.Background(), ev.TeamID, ev.InnerEvent.Data)
	want := "https://acme.slack.com/archives/C1/p1700000000000200?thread_ts=1700000000.000100&cid=C1"
	if got := rec.all()[0].Message.Permalink; got != want {
		t.Fatalf("permalink = %q, want %q", got, want)
	}
}

func TestAppMention(t *testing.T) {
	rec := newRecorder()
	a, api := newTestAdapter(t, Config{}, rec)
	addPeople(api)
	ev := parseInner(t, wrap(`{"type":"app_mention","channel":"C1","user":"U1","text":"<@UBOT>  export to   CSV <@U2>","ts":"11.1"}`))
	a.handleEvent(context.Background(), ev.TeamID, ev.InnerEvent.Data)
	got := rec.all()
	if len(got) != 1 || got[0].Kind != bot.EventMention {
		t.Fatalf("events = %+v", got)
	}
	if txt := got[0].Message.Text; txt != "export to CSV @guest" { // other people by name
		t.Fatalf("text = %q", txt)
	}
	if got[0].User.ID != "U1" || got[0].Message.Permalink == "" {
		t.Fatalf("event = %+v", got[0])
	}
}

func TestStripMention(t *testing.T) {
	for _, tt := range []struct{ in, self, want string }{
		{"<@UBOT> hello", "UBOT", "hello"},
		{"hello <@UBOT|feedbackbot>!", "UBOT", "hello !"},
		{"<@UBOT> ask <@U2>", "UBOT", "ask <@U2>"},
		{"<@UX> hi", "", "hi"},
		{"hi <@UX>", "", "hi <@UX>"},
	} {
		if got := stripMention(tt.in, tt.self); got != tt.want {
			t.Errorf("stripMention(%q, %q) = %q, want %q", tt.in, tt.self, got, tt.want)
		}
	}
}

func TestReactionEvent(t *testing.T) {
	t.Run("TopLevelFetchedWithHistory", func(t *testing.T) {
		rec := newRecorder()
		a, api := newTestAdapter(t, Config{}, rec)
		addPeople(api)
		api.msgs["C1/20.1"] = slack.Msg{User: "U4", Text: "need SSO", Timestamp: "20.1"}
		ev := parseInner(t, wrap(`{"type":"reaction_added","user":"U1","reaction":"bulb","item_user":"U4","item":{"type":"message","channel":"C1","ts":"20.1"},"event_ts":"20.9"}`))
		a.handleEvent(context.Background(), ev.TeamID, ev.InnerEvent.Data)
		got := rec.all()[0]
		if got.Kind != bot.EventReactionAdded || got.Emoji != "bulb" || got.User.ID != "U1" || !got.User.Team {
			t.Fatalf("event = %+v", got)
		}
		m := got.Message
		if m.ID != "20.1" || m.Text != "need SSO" || m.Author.ID != "U4" || m.Author.Org != "T9" || m.Author.Team || m.Author.Name != "Erin External" || m.Permalink == "" {
			t.Fatalf("message = %+v", m)
		}
		if api.count("conversations.replies") != 0 {
			t.Fatal("replies called for a top-level message")
		}
	})
	t.Run("ReplyFetchedWithReplies", func(t *testing.T) {
		rec := newRecorder()
		a, api := newTestAdapter(t, Config{}, rec)
		addPeople(api)
		api.msgs["C1/20.1"] = slack.Msg{User: "U4", Text: "root", Timestamp: "20.1", ThreadTimestamp: "20.1"}
		api.msgs["C1/20.2"] = slack.Msg{User: "U1", Text: "reply", Timestamp: "20.2", ThreadTimestamp: "20.1"}
		ev := parseInner(t, wrap(`{"type":"reaction_added","user":"U1","reaction":"+1::skin-tone-3","item_user":"U1","item":{"type":"message","channel":"C1","ts":"20.2"}}`))
		a.handleEvent(context.Background(), ev.TeamID, ev.InnerEvent.Data)
		got := rec.all()[0]
		if got.Emoji != "+1" || got.Message.Text != "reply" || got.Message.ThreadID != "20.1" {
			t.Fatalf("event = %+v message %+v", got, got.Message)
		}
	})
	t.Run("OnBotCardNoFetch", func(t *testing.T) {
		rec := newRecorder()
		a, api := newTestAdapter(t, Config{}, rec)
		addPeople(api)
		ev := parseInner(t, wrap(`{"type":"reaction_added","user":"U2","reaction":"thumbsup","item_user":"UBOT","item":{"type":"message","channel":"C1","ts":"30.1"}}`))
		a.handleEvent(context.Background(), ev.TeamID, ev.InnerEvent.Data)
		got := rec.all()[0]
		if got.Emoji != "+1" || got.Message.ID != "30.1" || !got.Message.Bot || got.User.Team {
			t.Fatalf("event = %+v message %+v", got, got.Message)
		}
		if api.count("conversations.history") != 0 {
			t.Fatal("fetched the bot's own card")
		}
	})
	t.Run("RemovedNoFetch", func(t *testing.T) {
		rec := newRecorder()
		a, api := newTestAdapter(t, Config{}, rec)
		addPeople(api)
		ev := parseInner(t, wrap(`{"type":"reaction_removed","user":"U1","reaction":"+1","item_user":"U4","item":{"type":"message","channel":"C1","ts":"20.1"}}`))
		a.handleEvent(context.Background(), ev.TeamID, ev.InnerEvent.Data)
		got := rec.all()[0]
		if got.Kind != bot.EventReactionRemoved || got.Message.ID != "20.1" || got.Message.Author.ID != "U4" {
			t.Fatalf("event = %+v", got)
		}
		if api.count("conversations.history") != 0 {
			t.Fatal("fetched on removal")
		}
	})
	t.Run("FileIgnored", func(t *testing.T) {
		rec := newRecorder()
		a, _ := newTestAdapter(t, Config{}, rec)
		ev := parseInner(t, wrap(`{"type":"reaction_added","user":"U1","reaction":"+1","item":{"type":"file","file":{"id":"F1"}}}`))
		a.handleEvent(context.Background(), ev.TeamID, ev.InnerEvent.Data)
		if len(rec.all()) != 0 {
			t.Fatal("file reaction handled")
		}
	})
}

func TestRoles(t *testing.T) {
	cfg := Config{TeamUsergroup: "STEAM", ReleaseLeads: []string{"U5", "SLEADS"}}
	tests := []struct {
		user       string
		team, lead bool
		org        string
	}{
		{"U1", true, false, "T1"},  // full member
		{"U2", false, false, "T1"}, // multi-channel guest
		{"U3", false, false, "T1"}, // single-channel guest
		{"U4", false, false, "T9"}, // external Slack Connect user
		{"U5", true, true, "T1"},   // release lead by id
		{"U6", false, true, "T1"},  // guest, release lead through a group
		{"U7", true, false, "T9"},  // external, team through the user group
		{"U8", false, false, ""},   // unknown to users.info: no roles
	}
	a, api := newTestAdapter(t, cfg, newRecorder())
	addPeople(api)
	api.users["U7"] = slack.User{ID: "U7", TeamID: "T9", Name: "contractor"}
	api.groups["STEAM"] = []string{"U7", "U8x"}
	api.groups["SLEADS"] = []string{"U6"}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			u := a.resolveUser(context.Background(), tt.user, "")
			if u.Team != tt.team || u.ReleaseLead != tt.lead || u.Org != tt.org || u.ID != tt.user {
				t.Fatalf("resolveUser(%s) = %+v, want team=%v lead=%v org=%q", tt.user, u, tt.team, tt.lead, tt.org)
			}
		})
	}
	t.Run("Cached", func(t *testing.T) {
		n, g := api.count("users.info"), api.count("usergroups.users.list")
		a.resolveUser(context.Background(), "U7", "")
		a.resolveUser(context.Background(), "U6", "")
		if api.count("users.info") != n || api.count("usergroups.users.list") != g {
			t.Fatal("lookups not cached")
		}
	})
	t.Run("GroupExpires", func(t *testing.T) {
		g := api.count("usergroups.users.list")
		a.now = func() time.Time { return time.Now().Add(groupTTL + time.Second) }
		defer func() { a.now = time.Now }()
		a.resolveUser(context.Background(), "U6", "")
		if api.count("usergroups.users.list") == g {
			t.Fatal("group membership not refreshed after its TTL")
		}
	})
	t.Run("LookupFailureFailsClosed", func(t *testing.T) {
		b, api := newTestAdapter(t, Config{}, newRecorder())
		api.userErr = errors.New("boom")
		u := b.resolveUser(context.Background(), "U1", "T1")
		if u.Team || u.ReleaseLead || u.Org != "T1" || u.Name != "U1" {
			t.Fatalf("user = %+v", u)
		}
	})
}

func TestParseReleaseLeads(t *testing.T) {
	got := ParseReleaseLeads(" U1, S2,,U3 U1 ")
	if strings.Join(got, "|") != "U1|S2|U3" {
		t.Fatalf("got %q", got)
	}
}

func TestInteractions(t *testing.T) {
	t.Run("BlockActions", func(t *testing.T) {
		rec := newRecorder()
		rec.resp = &bot.Response{Text: "Merged FB-2 into FB-1."}
		a, api := newTestAdapter(t, Config{}, rec)
		addPeople(api)
		var cb slack.InteractionCallback
		if err := json.Unmarshal([]byte(`{"type":"block_actions","team":{"id":"T1"},"user":{"id":"U1","team_id":"T1"},
			"container":{"type":"message","message_ts":"40.1","channel_id":"C1"},"channel":{"id":"C1"},
			"message":{"type":"message","user":"UBOT","bot_id":"BBOT","text":"Possible duplicate","ts":"40.1","thread_ts":"39.1"},
			"response_url":"https://hooks.example/resp/1",
			"actions":[{"action_id":"merge:7:1","block_id":"actions_0","type":"button","value":"merge:7:1"}]}`), &cb); err != nil {
			t.Fatal(err)
		}
		a.acceptInteraction(cb)
		got := rec.next(t)
		if got.Kind != bot.EventButton || got.ActionID != "merge:7:1" || got.User.ID != "U1" || !got.User.Team {
			t.Fatalf("event = %+v", got)
		}
		if m := got.Message; m.ID != "40.1" || m.ThreadID != "39.1" || m.Channel != "C1" || !m.Bot {
			t.Fatalf("message = %+v", m)
		}
		waitJobs(t, a)
		s := api.sent()
		if len(s) != 1 || !s[0].Response || s[0].Method != "https://hooks.example/resp/1" || s[0].Values.Get("text") != "Merged FB-2 into FB-1." {
			t.Fatalf("reply = %+v", s)
		}
	})
	t.Run("Shortcut", func(t *testing.T) {
		rec := newRecorder()
		a, api := newTestAdapter(t, Config{}, rec)
		addPeople(api)
		var cb slack.InteractionCallback
		_ = json.Unmarshal([]byte(`{"type":"message_action","callback_id":"send_to_feedback_board","team":{"id":"T1"},"user":{"id":"U1"},
			"channel":{"id":"C2"},"message_ts":"50.1","message":{"type":"message","user":"U4","text":"please add webhooks","ts":"50.1"},
			"response_url":"https://hooks.example/resp/2"}`), &cb)
		a.acceptInteraction(cb)
		got := rec.next(t)
		if got.Kind != bot.EventCapture || got.Channel != "C2" || got.User.ID != "U1" {
			t.Fatalf("event = %+v", got)
		}
		if m := got.Message; m.ID != "50.1" || m.Text != "please add webhooks" || m.Author.ID != "U4" || m.Author.Org != "T9" || m.Permalink == "" {
			t.Fatalf("message = %+v", m)
		}
	})
	t.Run("OtherShortcutIgnored", func(t *testing.T) {
		rec := newRecorder()
		a, _ := newTestAdapter(t, Config{}, rec)
		a.acceptInteraction(slack.InteractionCallback{Type: slack.InteractionTypeMessageAction, CallbackID: "other"})
		waitJobs(t, a)
		if len(rec.all()) != 0 {
			t.Fatal("handled")
		}
	})
}

func TestCommandReply(t *testing.T) {
	t.Run("ResponseURL", func(t *testing.T) {
		rec := newRecorder()
		rec.resp = &bot.Response{Text: "FB-1 Dark mode", Buttons: []bot.Button{{ID: "vote:1", Label: "Vote"}}}
		a, api := newTestAdapter(t, Config{}, rec)
		addPeople(api)
		a.acceptCommand(slack.SlashCommand{TeamID: "T1", ChannelID: "C1", UserID: "U1", Command: "/feedback", Text: "  show FB-1 ", ResponseURL: "https://hooks.example/r"})
		got := rec.next(t)
		if got.Kind != bot.EventCommand || got.Text != "show FB-1" || got.Channel != "C1" || got.User.Name != "Alice" {
			t.Fatalf("event = %+v", got)
		}
		waitJobs(t, a)
		s := api.sent()
		if len(s) != 1 || !s[0].Response || s[0].Values.Get("text") != "FB-1 Dark mode" {
			t.Fatalf("reply = %+v", s)
		}
	})
	t.Run("ErrorIsEphemeralWithoutResponseURL", func(t *testing.T) {
		rec := newRecorder()
		rec.err = bot.Errorf(bot.EFORBIDDEN, "Only release leads can ship.")
		a, api := newTestAdapter(t, Config{}, rec)
		a.acceptCommand(slack.SlashCommand{TeamID: "T1", ChannelID: "C1", UserID: "U2", Command: "/feedback", Text: "ship FB-1"})
		rec.next(t)
		waitJobs(t, a)
		s := api.sent()
		if len(s) != 1 || s[0].User != "U2" || s[0].Values.Get("text") != "Only release leads can ship." || !strings.HasSuffix(s[0].Method, "chat.postEphemeral") {
			t.Fatalf("reply = %+v", s)
		}
	})
	t.Run("InternalErrorHidden", func(t *testing.T) {
		rec := newRecorder()
		rec.err = errors.New("db down: password=secret")
		a, api := newTestAdapter(t, Config{}, rec)
		a.acceptCommand(slack.SlashCommand{TeamID: "T1", ChannelID: "C1", UserID: "U2", Command: "/feedback", Text: "list", ResponseURL: "https://hooks.example/r"})
		rec.next(t)
		waitJobs(t, a)
		if s := api.sent(); len(s) != 1 || s[0].Values.Get("text") != "Internal error." {
			t.Fatalf("reply = %+v", s)
		}
	})
	t.Run("PublicMessageReplyInThread", func(t *testing.T) {
		rec := newRecorder()
		rec.resp = &bot.Response{Text: "Already captured as FB-3", Public: true}
		a, api := newTestAdapter(t, Config{}, rec)
		addPeople(api)
		ev := parseInner(t, wrap(`{"type":"app_mention","channel":"C1","user":"U1","text":"<@UBOT> x","ts":"11.2","thread_ts":"11.1"}`))
		a.handleEvent(context.Background(), ev.TeamID, ev.InnerEvent.Data)
		s := api.sent()
		if len(s) != 1 || !strings.HasSuffix(s[0].Method, "chat.postMessage") || s[0].Values.Get("thread_ts") != "11.1" {
			t.Fatalf("reply = %+v", s)
		}
	})
	t.Run("PanicRecovered", func(t *testing.T) {
		// bot.Engine recovers its own panics and answers "Internal
		// error." (TestInternalErrorLoggedOnce); a panic that escapes
		// another Handler, or the adapter's own code, ends the job: logged
		// once with its stack, and the adapter goes on.
		var logs lockedBuffer
		api := newFakeAPI()
		a := newAdapter(Config{}, api, HandlerFunc(func(context.Context, *bot.Event) (*bot.Response, error) { panic("boom") }), slog.New(slog.NewTextHandler(&logs, nil)))
		t.Cleanup(func() { a.jobs.stop(time.Second) })
		a.acceptCommand(slack.SlashCommand{TeamID: "T1", ChannelID: "C1", UserID: "U2", Command: "/feedback", Text: "list", ResponseURL: "https://hooks.example/r"})
		waitJobs(t, a)
		if out := logs.String(); strings.Count(out, "level=ERROR") != 1 || !strings.Contains(out, "boom") || !strings.Contains(out, "stack=") {
			t.Fatalf("logs:\n%s", out)
		}
		if s := api.sent(); len(s) != 0 {
			t.Fatalf("reply = %+v", s)
		}
		rec := newRecorder()
		a.h = rec
		a.acceptCommand(slack.SlashCommand{TeamID: "T1", ChannelID: "C1", UserID: "U2", Command: "/feedback", Text: "list", ResponseURL: "https://hooks.example/r"})
		rec.next(t) // the adapter still handles commands
		waitJobs(t, a)
	})
}
