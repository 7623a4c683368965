package slacktest

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/slack-go/slack"
)

// The builders below return payloads as Slack sends them: Events API
// event_callback bodies (the same JSON is the payload of a Socket Mode
// events_api envelope), slash commands and interaction payloads. Each event
// gets a fresh event_id; deliver the same bytes twice to simulate a retry.

// eventCallback wraps an inner event in the Events API envelope.
func (s *Server) eventCallback(inner map[string]any) []byte {
	s.mu.Lock()
	id := s.nextIDLocked("Ev")
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]any{
		"token": "fake-verification-token", "team_id": s.opts.TeamID, "api_app_id": "A0FAKE",
		"event": inner, "type": "event_callback", "event_id": id, "event_time": time.Now().Unix(),
		"authorizations": []any{map[string]any{
			"team_id": s.opts.TeamID, "user_id": s.opts.BotUserID, "is_bot": true, "is_enterprise_install": false,
		}},
		"is_ext_shared_channel": false,
	})
	return b
}

// EventID returns the event_id of an event_callback payload.
func EventID(payload []byte) string {
	var v struct {
		EventID string `json:"event_id"`
	}
	_ = json.Unmarshal(payload, &v)
	return v.EventID
}

func (s *Server) userTeam(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[id]; ok {
		return u.TeamID
	}
	return s.opts.TeamID
}

func (s *Server) messageFields(m Message) map[string]any {
	ev := map[string]any{"type": "message", "channel": m.Channel, "text": m.Text, "ts": m.TS, "event_ts": m.TS, "channel_type": "channel"}
	if m.User != "" {
		ev["user"] = m.User
		ev["user_team"] = s.userTeam(m.User)
		ev["source_team"] = s.opts.TeamID
	}
	if m.BotID != "" {
		ev["bot_id"] = m.BotID
		if m.User == "" {
			ev["subtype"] = "bot_message"
		}
	}
	if m.ThreadTS != "" {
		ev["thread_ts"] = m.ThreadTS
	}
	return ev
}

// MessageEvent is the message event for m (as returned by NewMessage).
func (s *Server) MessageEvent(m Message) []byte { return s.eventCallback(s.messageFields(m)) }

// AppMentionEvent is the app_mention event for m; m.Text should contain
// "<@" + Options().BotUserID + ">".
func (s *Server) AppMentionEvent(m Message) []byte {
	ev := s.messageFields(m)
	ev["type"] = "app_mention"
	delete(ev, "channel_type")
	return s.eventCallback(ev)
}

// MessageChangedEvent is the message_changed event of an edit of m.
func (s *Server) MessageChangedEvent(m Message, newText string) []byte {
	s.mu.Lock()
	ts := s.nextTSLocked()
	s.mu.Unlock()
	prev := s.messageFields(m)
	cur := s.messageFields(m)
	cur["text"] = newText
	cur["edited"] = map[string]any{"user": m.User, "ts": ts}
	return s.eventCallback(map[string]any{
		"type": "message", "subtype": "message_changed", "hidden": true, "channel": m.Channel,
		"ts": ts, "event_ts": ts, "message": cur, "previous_message": prev, "channel_type": "channel",
	})
}

// MessageDeletedEvent is the message_deleted event of m.
func (s *Server) MessageDeletedEvent(m Message) []byte {
	s.mu.Lock()
	ts := s.nextTSLocked()
	s.mu.Unlock()
	return s.eventCallback(map[string]any{
		"type": "message", "subtype": "message_deleted", "hidden": true, "channel": m.Channel,
		"ts": ts, "event_ts": ts, "deleted_ts": m.TS, "previous_message": s.messageFields(m), "channel_type": "channel",
	})
}

// ChannelJoinEvent is the channel_join message of user joining channel.
func (s *Server) ChannelJoinEvent(channel, user string) []byte {
	s.mu.Lock()
	ts := s.nextTSLocked()
	s.mu.Unlock()
	return s.eventCallback(map[string]any{
		"type": "message", "subtype": "channel_join", "channel": channel, "user": user,
		"text": "<@" + user + "> has joined the channel", "ts": ts, "event_ts": ts, "channel_type": "channel",
	})
}

// ReactionEvent is reaction_added (added) or reaction_removed by user with
// reaction ("+1", "bulb", "+1::skin-tone-3") on the message channel/ts.
func (s *Server) ReactionEvent(added bool, user, reaction, channel, ts string) []byte {
	typ := "reaction_removed"
	if added {
		typ = "reaction_added"
	}
	ev := map[string]any{
		"type": typ, "user": user, "reaction": reaction,
		"item":     map[string]any{"type": "message", "channel": channel, "ts": ts},
		"event_ts": fmt.Sprintf("%d.000000", time.Now().Unix()),
	}
	if m, ok := s.Message(channel, ts); ok && m.User != "" {
		ev["item_user"] = m.User
	}
	return s.eventCallback(ev)
}

// SlashCommand is a /feedback command by user in channel, with a fresh
// response_url served by the fake. Send it with Send(EnvelopeSlashCmd,
// json.Marshal(cmd)) or HTTPSender.Command.
func (s *Server) SlashCommand(user, channel, text string) slack.SlashCommand {
	return slack.SlashCommand{
		Token: "fake-verification-token", TeamID: s.userTeam(user), TeamDomain: s.opts.TeamDomain,
		ChannelID: channel, ChannelName: channel, UserID: user, UserName: user,
		Command: "/feedback", Text: text, ResponseURL: s.NewResponseURL(),
		TriggerID: s.NewTrigger(user), APIAppID: "A0FAKE",
	}
}

// BlockAction is the block_actions payload of user pressing the button
// actionID on the message channel/ts.
func (s *Server) BlockAction(user, channel, ts, actionID string) []byte {
	m, _ := s.Message(channel, ts)
	act := map[string]any{"action_id": actionID, "block_id": "actions_0", "type": "button", "value": actionID,
		"text": map[string]any{"type": "plain_text", "text": actionID}, "action_ts": ts}
	for _, b := range m.Buttons {
		if b.ActionID == actionID {
			act["value"] = b.Value
			act["text"] = map[string]any{"type": "plain_text", "text": b.Text}
		}
	}
	msg := wireMessage(&m)
	b, _ := json.Marshal(map[string]any{
		"type": "block_actions", "token": "fake-verification-token", "api_app_id": "A0FAKE",
		"trigger_id": s.NewTrigger(user), "response_url": s.NewResponseURL(),
		"user":      map[string]any{"id": user, "username": user, "name": user, "team_id": s.userTeam(user)},
		"team":      map[string]any{"id": s.opts.TeamID, "domain": s.opts.TeamDomain},
		"channel":   map[string]any{"id": channel, "name": channel},
		"container": map[string]any{"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false},
		"message":   msg, "actions": []any{act},
	})
	return b
}

// MessageShortcut is the message_action payload of user running the message
// shortcut callbackID on the message channel/ts.
func (s *Server) MessageShortcut(callbackID, user, channel, ts string) []byte {
	m, _ := s.Message(channel, ts)
	b, _ := json.Marshal(map[string]any{
		"type": "message_action", "token": "fake-verification-token", "callback_id": callbackID,
		"trigger_id": s.NewTrigger(user), "response_url": s.NewResponseURL(), "message_ts": ts, "action_ts": ts,
		"message": wireMessage(&m),
		"user":    map[string]any{"id": user, "username": user, "name": user, "team_id": s.userTeam(user)},
		"team":    map[string]any{"id": s.opts.TeamID, "domain": s.opts.TeamDomain},
		"channel": map[string]any{"id": channel, "name": channel},
	})
	return b
}
