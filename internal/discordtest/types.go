package discordtest

import "encoding/json"

// The wire types below follow Discord's JSON (API v10) field for field for
// what the fake needs; they are deliberately independent of discordgo's
// structs so the fake tests discordgo's decoding too.

// User is a Discord user.
type User struct {
	ID            string `json:"id"`
	Username      string `json:"username"`
	GlobalName    string `json:"global_name,omitempty"`
	Discriminator string `json:"discriminator"`
	Bot           bool   `json:"bot,omitempty"`
}

// Member is a guild member. Permissions (a decimal string) is only sent in
// interactions.
type Member struct {
	User        *User    `json:"user,omitempty"`
	Nick        string   `json:"nick,omitempty"`
	Roles       []string `json:"roles"`
	JoinedAt    string   `json:"joined_at"`
	Permissions string   `json:"permissions,omitempty"`
}

// Role is a guild role. Permissions is a decimal string.
type Role struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Permissions string `json:"permissions"`
	Position    int    `json:"position"`
}

// Tag is a forum tag.
type Tag struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Moderated bool   `json:"moderated"`
}

// ThreadMetadata is a thread's metadata.
type ThreadMetadata struct {
	Archived            bool   `json:"archived"`
	AutoArchiveDuration int    `json:"auto_archive_duration"`
	ArchiveTimestamp    string `json:"archive_timestamp"`
	Locked              bool   `json:"locked"`
}

// Channel types.
const (
	ChannelText         = 0
	ChannelPublicThread = 11
	ChannelForum        = 15
)

// Channel is a guild channel or thread.
type Channel struct {
	ID             string          `json:"id"`
	Type           int             `json:"type"`
	GuildID        string          `json:"guild_id,omitempty"`
	Name           string          `json:"name"`
	ParentID       string          `json:"parent_id,omitempty"`
	OwnerID        string          `json:"owner_id,omitempty"`
	AvailableTags  []Tag           `json:"available_tags,omitempty"`
	AppliedTags    []string        `json:"applied_tags,omitempty"`
	ThreadMetadata *ThreadMetadata `json:"thread_metadata,omitempty"`
	// NewlyCreated is set on THREAD_CREATE for a new thread.
	NewlyCreated bool `json:"newly_created,omitempty"`
}

// IsThread reports whether c is a thread.
func (c *Channel) IsThread() bool { return c.Type == 10 || c.Type == 11 || c.Type == 12 }

// MessageReference points at the message a reply answers.
type MessageReference struct {
	MessageID       string `json:"message_id"`
	ChannelID       string `json:"channel_id,omitempty"`
	GuildID         string `json:"guild_id,omitempty"`
	FailIfNotExists *bool  `json:"fail_if_not_exists,omitempty"`
}

// Message is a channel message. Components holds what the bot sent.
type Message struct {
	ID               string            `json:"id"`
	ChannelID        string            `json:"channel_id"`
	GuildID          string            `json:"guild_id,omitempty"`
	Author           *User             `json:"author"`
	Member           *Member           `json:"member,omitempty"`
	Content          string            `json:"content"`
	Timestamp        string            `json:"timestamp"`
	EditedTimestamp  *string           `json:"edited_timestamp"`
	TTS              bool              `json:"tts"`
	MentionEveryone  bool              `json:"mention_everyone"`
	Mentions         []*User           `json:"mentions"`
	MentionRoles     []string          `json:"mention_roles"`
	Attachments      []any             `json:"attachments"`
	Embeds           []any             `json:"embeds"`
	Pinned           bool              `json:"pinned"`
	Type             int               `json:"type"`
	Flags            int               `json:"flags"`
	WebhookID        string            `json:"webhook_id,omitempty"`
	MessageReference *MessageReference `json:"message_reference,omitempty"`
	Components       []Component       `json:"components"`
	Thread           *Channel          `json:"thread,omitempty"`
	// Nonce is the nonce the message was posted with, if any.
	Nonce string `json:"nonce,omitempty"`
}

// Component is a message component: an action row (type 1) holding
// buttons (type 2).
type Component struct {
	Type       int         `json:"type"`
	CustomID   string      `json:"custom_id,omitempty"`
	Label      string      `json:"label,omitempty"`
	Style      int         `json:"style,omitempty"`
	URL        string      `json:"url,omitempty"`
	Disabled   bool        `json:"disabled,omitempty"`
	Components []Component `json:"components,omitempty"`
}

// Buttons returns the buttons of m, row by row.
func (m *Message) Buttons() []Component {
	var out []Component
	for _, row := range m.Components {
		out = append(out, row.Components...)
	}
	return out
}

// Request is one REST call the fake received.
type Request struct {
	Method   string
	Path     string // without the /api/v{N} prefix
	Version  string // "9" or "10"
	Template string // the spec's path template, "" when unknown
	Body     []byte
	Status   int
}

// InteractionResponse is one answer the bot gave to an interaction: the
// callback ("callback", with its Type), an edit of the original response
// ("edit"), a follow-up ("followup") or a deletion ("delete").
type InteractionResponse struct {
	Kind       string
	Type       int // callback type for "callback"
	Content    string
	Flags      int
	Components []Component
	Raw        json.RawMessage
}

// Ephemeral reports whether the response is only visible to the caller.
func (r InteractionResponse) Ephemeral() bool { return r.Flags&64 != 0 }

// Permission bits used in tests.
const (
	PermAdministrator = 1 << 3
	PermManageGuild   = 1 << 5
)
