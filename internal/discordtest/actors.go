package discordtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The methods below play the users of a guild: each changes the fake's
// state as Discord would and dispatches the matching gateway events.

func (s *Server) channelLocked(id string) (*Channel, error) {
	ch, ok := s.channels[id]
	if !ok {
		return nil, fmt.Errorf("discordtest: unknown channel %s", id)
	}
	return ch, nil
}

func memberUser(who Member) *User {
	if who.User == nil {
		return &User{ID: "0", Username: "nobody", Discriminator: "0"}
	}
	u := *who.User
	if u.Discriminator == "" {
		u.Discriminator = "0"
	}
	return &u
}

func withJoined(who Member) Member {
	if who.JoinedAt == "" {
		who.JoinedAt = "2024-01-01T00:00:00.000000+00:00"
	}
	if who.Roles == nil {
		who.Roles = []string{}
	}
	return who
}

// UserMessage posts content in a channel or thread as member who and
// dispatches MESSAGE_CREATE. Mentions "<@id>" are resolved.
func (s *Server) UserMessage(channelID string, who Member, content string) (Message, error) {
	s.mu.Lock()
	ch, err := s.channelLocked(channelID)
	if err != nil {
		s.mu.Unlock()
		return Message{}, err
	}
	if ch.Type == ChannelForum {
		s.mu.Unlock()
		return Message{}, fmt.Errorf("discordtest: post in forum %s with ForumPost", channelID)
	}
	who = withJoined(who)
	m := s.newMessage(channelID, memberUser(who), &who, content)
	out := wire(m)
	s.mu.Unlock()
	s.Dispatch("MESSAGE_CREATE", out)
	return *out, nil
}

// WebhookMessage posts content as a webhook (a bot-like author).
func (s *Server) WebhookMessage(channelID, content string) (Message, error) {
	s.mu.Lock()
	if _, err := s.channelLocked(channelID); err != nil {
		s.mu.Unlock()
		return Message{}, err
	}
	hook := s.NewID()
	m := s.newMessage(channelID, &User{ID: hook, Username: "CI", Discriminator: "0000", Bot: true}, nil, content)
	m.WebhookID = hook
	out := wire(m)
	s.mu.Unlock()
	s.Dispatch("MESSAGE_CREATE", out)
	return *out, nil
}

// StartThread starts a public thread from a message (the thread's id is the
// message's) and dispatches THREAD_CREATE.
func (s *Server) StartThread(channelID, messageID, name string) (Channel, error) {
	s.mu.Lock()
	parent, err := s.channelLocked(channelID)
	if err != nil {
		s.mu.Unlock()
		return Channel{}, err
	}
	m, ok := s.byID[messageID]
	if !ok || m.ChannelID != channelID {
		s.mu.Unlock()
		return Channel{}, fmt.Errorf("discordtest: no message %s in %s", messageID, channelID)
	}
	if _, exists := s.channels[messageID]; exists {
		s.mu.Unlock()
		return Channel{}, fmt.Errorf("discordtest: message %s already has a thread", messageID)
	}
	th := &Channel{ID: messageID, Type: ChannelPublicThread, GuildID: parent.GuildID, Name: name, ParentID: channelID,
		OwnerID: m.Author.ID, ThreadMetadata: &ThreadMetadata{AutoArchiveDuration: 1440, ArchiveTimestamp: s.timestamp()}}
	s.channels[th.ID] = th
	ev := *th
	ev.NewlyCreated = true
	s.mu.Unlock()
	s.Dispatch("THREAD_CREATE", ev)
	return *th, nil
}

// ForumPost creates a post in a forum channel: a thread named title with
// the applied tags, whose first message (same id) is content. It
// dispatches THREAD_CREATE then MESSAGE_CREATE, as Discord does.
func (s *Server) ForumPost(forumID string, who Member, title, content string, tagIDs ...string) (Channel, Message, error) {
	s.mu.Lock()
	forum, err := s.channelLocked(forumID)
	if err != nil || forum.Type != ChannelForum {
		s.mu.Unlock()
		return Channel{}, Message{}, fmt.Errorf("discordtest: %s is not a forum", forumID)
	}
	if len(tagIDs) > 5 {
		s.mu.Unlock()
		return Channel{}, Message{}, fmt.Errorf("discordtest: at most 5 tags")
	}
	who = withJoined(who)
	id := s.NewID()
	author := memberUser(who)
	th := &Channel{ID: id, Type: ChannelPublicThread, GuildID: forum.GuildID, Name: title, ParentID: forumID, OwnerID: author.ID,
		AppliedTags: append([]string{}, tagIDs...), ThreadMetadata: &ThreadMetadata{AutoArchiveDuration: 4320, ArchiveTimestamp: s.timestamp()}}
	s.channels[id] = th
	mm := who
	mm.User, mm.Permissions = nil, ""
	m := &Message{ID: id, ChannelID: id, GuildID: forum.GuildID, Author: author, Member: &mm, Content: content, Timestamp: s.timestamp(),
		Mentions: []*User{}, MentionRoles: []string{}, Attachments: []any{}, Embeds: []any{}, Components: []Component{}}
	s.store(m)
	ev := *th
	ev.NewlyCreated = true
	out := wire(m)
	s.mu.Unlock()
	s.Dispatch("THREAD_CREATE", ev)
	s.Dispatch("MESSAGE_CREATE", out)
	return *th, *out, nil
}

// DeleteMessage deletes a message and dispatches MESSAGE_DELETE.
func (s *Server) DeleteMessage(channelID, messageID string) error {
	s.mu.Lock()
	m, ok := s.byID[messageID]
	if !ok || m.ChannelID != channelID {
		s.mu.Unlock()
		return fmt.Errorf("discordtest: no message %s in %s", messageID, channelID)
	}
	delete(s.byID, messageID)
	msgs := s.messages[channelID]
	for i, x := range msgs {
		if x.ID == messageID {
			s.messages[channelID] = append(msgs[:i:i], msgs[i+1:]...)
			break
		}
	}
	guildID := m.GuildID
	s.mu.Unlock()
	s.Dispatch("MESSAGE_DELETE", map[string]any{"id": messageID, "channel_id": channelID, "guild_id": guildID})
	return nil
}

func (s *Server) reactionPayload(channelID, messageID string, who Member, emoji string) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.byID[messageID]
	if !ok || m.ChannelID != channelID {
		return nil, fmt.Errorf("discordtest: no message %s in %s", messageID, channelID)
	}
	u := memberUser(who)
	ch := s.channels[channelID]
	return map[string]any{
		"user_id": u.ID, "channel_id": channelID, "message_id": messageID, "guild_id": ch.GuildID,
		"emoji": map[string]any{"id": nil, "name": emoji}, "burst": false, "type": 0,
		"message_author_id": m.Author.ID,
	}, nil
}

// React adds a reaction as member who and dispatches MESSAGE_REACTION_ADD.
func (s *Server) React(channelID, messageID string, who Member, emoji string) (int64, error) {
	p, err := s.reactionPayload(channelID, messageID, who, emoji)
	if err != nil {
		return 0, err
	}
	who = withJoined(who)
	who.Permissions = ""
	who.User = memberUser(who)
	p["member"] = who
	return s.Dispatch("MESSAGE_REACTION_ADD", p), nil
}

// Unreact removes a reaction and dispatches MESSAGE_REACTION_REMOVE (which
// carries no member).
func (s *Server) Unreact(channelID, messageID string, who Member, emoji string) (int64, error) {
	p, err := s.reactionPayload(channelID, messageID, who, emoji)
	if err != nil {
		return 0, err
	}
	delete(p, "message_author_id")
	return s.Dispatch("MESSAGE_REACTION_REMOVE", p), nil
}

// memberPermissions computes a member's permissions from its roles, as
// interactions carry them, unless who.Permissions is set.
func (s *Server) memberPermissionsLocked(guildID string, who Member) string {
	if who.Permissions != "" {
		return who.Permissions
	}
	g := s.guilds[guildID]
	if g == nil {
		return "0"
	}
	var p int64
	for _, r := range g.Roles {
		has := r.ID == guildID
		for _, id := range who.Roles {
			has = has || id == r.ID
		}
		if has {
			n, _ := strconv.ParseInt(r.Permissions, 10, 64)
			p |= n
		}
	}
	return strconv.FormatInt(p, 10)
}

func (s *Server) newInteractionLocked(typ int, channelID string, who Member, data any, msg *Message) (map[string]any, *interaction, error) {
	ch, err := s.channelLocked(channelID)
	if err != nil {
		return nil, nil, err
	}
	who = withJoined(who)
	who.User = memberUser(who)
	who.Permissions = s.memberPermissionsLocked(ch.GuildID, who)
	in := &interaction{ID: s.NewID(), Token: "itoken-" + s.NewID(), ChannelID: channelID, Type: typ, Who: who, Message: msg, Created: time.Now()}
	s.interactions[in.ID] = in
	s.byToken[in.Token] = in
	p := map[string]any{
		"id": in.ID, "application_id": s.opts.AppID, "type": typ, "data": data,
		"guild_id": ch.GuildID, "channel_id": channelID,
		"channel": map[string]any{"id": ch.ID, "type": ch.Type, "guild_id": ch.GuildID, "name": ch.Name, "parent_id": ch.ParentID},
		"member":  who, "token": in.Token, "version": 1, "app_permissions": "442368",
		"locale": "en-US", "guild_locale": "en-US", "context": 0,
		"authorizing_integration_owners": map[string]any{"0": ch.GuildID},
		"entitlements":                   []any{},
	}
	if msg != nil {
		p["message"] = msg
	}
	return p, in, nil
}

// Opt is a slash command option value, by name: a string, an int or, for a
// channel option, the channel id as a string.
type Opt struct {
	Name  string
	Value any
}

// registeredOption describes an option of a registered command.
type registeredOption struct {
	Type     int                `json:"type"`
	Name     string             `json:"name"`
	Required bool               `json:"required"`
	Options  []registeredOption `json:"options"`
	Choices  []struct {
		Value any `json:"value"`
	} `json:"choices"`
}

type registeredCommand struct {
	Type    int                `json:"type"`
	Name    string             `json:"name"`
	Options []registeredOption `json:"options"`
}

func (s *Server) findCommandLocked(guildID, name string, typ int) (*registeredCommand, error) {
	for _, scope := range []string{guildID, ""} {
		for _, raw := range s.commands[scope] {
			var c registeredCommand
			if err := json.Unmarshal(raw, &c); err != nil {
				continue
			}
			if c.Type == 0 {
				c.Type = 1
			}
			if c.Name == name && c.Type == typ {
				return &c, nil
			}
		}
	}
	return nil, fmt.Errorf("discordtest: command %q (type %d) is not registered", name, typ)
}

// SlashCommand runs "/command sub opts…" as member who in a channel and
// dispatches INTERACTION_CREATE. The subcommand and options must match the
// registered command (names, types, choices, required ones). It returns the
// interaction id.
func (s *Server) SlashCommand(channelID string, who Member, command, sub string, opts ...Opt) (string, error) {
	s.mu.Lock()
	ch, err := s.channelLocked(channelID)
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	cmd, err := s.findCommandLocked(ch.GuildID, command, 1)
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	// "group sub" names a subcommand of a subcommand group (type 2).
	group, leaf, grouped := strings.Cut(sub, " ")
	var subDef, groupDef *registeredOption
	for i := range cmd.Options {
		if !grouped && cmd.Options[i].Name == sub && cmd.Options[i].Type == 1 {
			subDef = &cmd.Options[i]
		}
		if grouped && cmd.Options[i].Name == group && cmd.Options[i].Type == 2 {
			groupDef = &cmd.Options[i]
		}
	}
	if groupDef != nil {
		for i := range groupDef.Options {
			if groupDef.Options[i].Name == leaf && groupDef.Options[i].Type == 1 {
				subDef = &groupDef.Options[i]
			}
		}
	}
	if subDef == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("discordtest: /%s has no subcommand %q", command, sub)
	}
	given := make(map[string]bool)
	var values []map[string]any
	resolvedChannels := map[string]any{}
	for _, o := range opts {
		var def *registeredOption
		for i := range subDef.Options {
			if subDef.Options[i].Name == o.Name {
				def = &subDef.Options[i]
			}
		}
		if def == nil {
			s.mu.Unlock()
			return "", fmt.Errorf("discordtest: /%s %s has no option %q", command, sub, o.Name)
		}
		if len(def.Choices) > 0 {
			ok := false
			for _, c := range def.Choices {
				ok = ok || fmt.Sprint(c.Value) == fmt.Sprint(o.Value)
			}
			if !ok {
				s.mu.Unlock()
				return "", fmt.Errorf("discordtest: %v is not a choice of option %q", o.Value, o.Name)
			}
		}
		given[o.Name] = true
		values = append(values, map[string]any{"type": def.Type, "name": o.Name, "value": o.Value})
		if def.Type == 7 {
			id := fmt.Sprint(o.Value)
			if c, ok := s.channels[id]; ok {
				resolvedChannels[id] = map[string]any{"id": id, "type": c.Type, "name": c.Name, "permissions": "0"}
			}
		}
	}
	for _, def := range subDef.Options {
		if def.Required && !given[def.Name] {
			s.mu.Unlock()
			return "", fmt.Errorf("discordtest: /%s %s: option %q is required", command, sub, def.Name)
		}
	}
	data := map[string]any{
		"id": s.NewID(), "name": command, "type": 1, "guild_id": ch.GuildID,
		"options": []any{map[string]any{"type": 1, "name": sub, "options": values}},
	}
	if grouped {
		data["options"] = []any{map[string]any{"type": 2, "name": group, "options": []any{
			map[string]any{"type": 1, "name": leaf, "options": values}}}}
	}
	if len(resolvedChannels) > 0 {
		data["resolved"] = map[string]any{"channels": resolvedChannels}
	}
	p, in, err := s.newInteractionLocked(2, channelID, who, data, nil)
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	s.Dispatch("INTERACTION_CREATE", p)
	return in.ID, nil
}

// MessageCommand runs a registered message command (context menu) on a
// message, as member who, and dispatches INTERACTION_CREATE.
func (s *Server) MessageCommand(channelID, targetID string, who Member, command string) (string, error) {
	s.mu.Lock()
	ch, err := s.channelLocked(channelID)
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	if _, err := s.findCommandLocked(ch.GuildID, command, 3); err != nil {
		s.mu.Unlock()
		return "", err
	}
	m, ok := s.byID[targetID]
	if !ok || m.ChannelID != channelID {
		s.mu.Unlock()
		return "", fmt.Errorf("discordtest: no message %s in %s", targetID, channelID)
	}
	target := rest(m)
	data := map[string]any{
		"id": s.NewID(), "name": command, "type": 3, "guild_id": ch.GuildID, "target_id": targetID,
		"resolved": map[string]any{"messages": map[string]any{targetID: target}},
	}
	p, in, err := s.newInteractionLocked(2, channelID, who, data, nil)
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	s.Dispatch("INTERACTION_CREATE", p)
	return in.ID, nil
}

// ClickButton presses the button customID of a message as member who and
// dispatches INTERACTION_CREATE. The message must carry that button.
func (s *Server) ClickButton(channelID, messageID, customID string, who Member) (string, error) {
	s.mu.Lock()
	m, ok := s.byID[messageID]
	if !ok || m.ChannelID != channelID {
		s.mu.Unlock()
		return "", fmt.Errorf("discordtest: no message %s in %s", messageID, channelID)
	}
	found := false
	for _, b := range m.Buttons() {
		found = found || b.CustomID == customID
	}
	if !found {
		s.mu.Unlock()
		return "", fmt.Errorf("discordtest: message %s has no button %q", messageID, customID)
	}
	data := map[string]any{"component_type": 2, "custom_id": customID, "id": 2}
	p, in, err := s.newInteractionLocked(3, channelID, who, data, rest(m))
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	s.Dispatch("INTERACTION_CREATE", p)
	return in.ID, nil
}

// RawInteraction dispatches an INTERACTION_CREATE of any type with the given
// data (to test unsupported types). It returns the interaction id.
func (s *Server) RawInteraction(typ int, channelID string, who Member, data any) (string, error) {
	s.mu.Lock()
	p, in, err := s.newInteractionLocked(typ, channelID, who, data, nil)
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	s.Dispatch("INTERACTION_CREATE", p)
	return in.ID, nil
}
