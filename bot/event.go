package bot

// EventKind says what happened on a platform.
type EventKind string

// Event kinds. Adapters translate platform payloads into these.
const (
	// EventMessage: a new message in a channel, top-level or in a thread.
	// Event.Message is the message.
	EventMessage EventKind = "message"
	// EventMessageDeleted: Event.Message identifies the deleted message.
	EventMessageDeleted EventKind = "message_deleted"
	// EventReactionAdded / EventReactionRemoved: Event.User reacted with
	// Event.Emoji to Event.Message (the target message: adapters fill in its
	// text and author when they can, which capture needs).
	EventReactionAdded   EventKind = "reaction_added"
	EventReactionRemoved EventKind = "reaction_removed"
	// EventCapture: Event.User asked to capture Event.Message explicitly
	// ("Send to feedback board" shortcut or message command).
	EventCapture EventKind = "capture"
	// EventMention: Event.Message mentions the bot; Message.Text has the
	// mention itself removed.
	EventMention EventKind = "mention"
	// EventCommand: Event.User ran /feedback; Event.Text is what followed it.
	// Event.Message, when set, is the message that carried the command (the
	// console has one; Slack and Discord slash commands do not).
	EventCommand EventKind = "command"
	// EventButton: Event.User pressed the button Event.ActionID on the bot's
	// message Event.Message.
	EventButton EventKind = "button"
	// EventForumPost: a new post (thread) in a forum channel; Message.Title
	// holds its title and Message.Text its first message.
	EventForumPost EventKind = "forum_post"
	// EventHomeOpened: someone opened the bot's home tab (Slack App Home);
	// the Response carries Home.
	EventHomeOpened EventKind = "home_opened"
	// EventUnfurl: a link to request Text (a key) was pasted in Channel;
	// the Response's Text is its card, as that channel may see it.
	EventUnfurl EventKind = "unfurl"
)

// User is a person on a platform, with the roles the adapter determined.
type User struct {
	ID   string
	Name string
	// Org is the person's organisation: their Slack team (for Slack Connect
	// users, their own team), the Discord guild, or a free text.
	Org string
	// Team and ReleaseLead are the roles (team members curate, release
	// leads ship and roll back; README "Commands"), resolved by the adapter
	// from platform data; the engine's use cases enforce them.
	Team        bool
	ReleaseLead bool
}

// Message is a chat message as the engine sees it.
type Message struct {
	Platform  string
	Workspace string
	Channel   string
	ID        string
	// ThreadID is the id of the root message of the thread the message is in,
	// or "" for a top-level message.
	ThreadID  string
	Author    User
	Text      string
	Permalink string
	// Bot is true for messages by bots, webhooks or the system; they are ignored.
	Bot bool
	// Title and Tags are set for forum posts.
	Title string
	Tags  []string
}

// Root returns the id of the message that roots this message's conversation.
func (m *Message) Root() string {
	if m.ThreadID != "" {
		return m.ThreadID
	}
	return m.ID
}

// Event is one platform-neutral thing that happened.
type Event struct {
	Kind      EventKind
	Platform  string
	Workspace string
	Channel   string
	User      User
	Message   *Message
	Emoji     string // canonical Slack-style name: "bulb", "+1"
	Text      string
	ActionID  string
	// FormID and Values are set for EventFormSubmit.
	FormID string
	Values map[string]string
}

// Response is the engine's answer to the person who caused an event. Adapters
// show it only to that person where the platform allows (Slack ephemeral or
// response_url, Discord ephemeral interaction reply); the console prints it.
type Response struct {
	Text    string
	Buttons []Button
	// Public asks for the answer to be visible in the channel.
	Public bool
	// RequestID is the request a capture created or joined (0 otherwise),
	// and Duplicates the candidates suggested for it.
	RequestID  int64
	Duplicates []int64
	// Form, when set, is a form to open for the caller (adapters that can,
	// open it instead of showing Text; see FormButtonPrefix).
	Form *Form
	// FieldErrors answers a form submit whose values were refused, by
	// field id; the form stays open where the platform allows.
	FieldErrors map[string]string
	// Home is the answer to EventHomeOpened.
	Home *Home
}
