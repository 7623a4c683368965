package bot

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Platform names used in mentions, voters and deliveries.
const (
	PlatformSlack   = "slack"
	PlatformDiscord = "discord"
	PlatformConsole = "console"
	PlatformAPI     = "api"
)

// Status of a request.
type Status string

// Statuses. Every change is recorded as a StatusChange.
const (
	StatusOpen       Status = "open"
	StatusPlanned    Status = "planned"
	StatusInProgress Status = "in_progress"
	StatusShipped    Status = "shipped"
	StatusDeclined   Status = "declined"
	StatusRolledBack Status = "rolled_back"
)

// Label is the status as people read it in chat ("in progress", "rolled
// back"); the API, the board's filters and the command grammar keep the
// identifiers (in_progress, rolled_back).
func (s Status) Label() string { return strings.ReplaceAll(string(s), "_", " ") }

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusOpen, StatusPlanned, StatusInProgress, StatusShipped, StatusDeclined, StatusRolledBack:
		return true
	}
	return false
}

// Suggestible reports whether a request in status s may be offered as a
// duplicate candidate: every status but declined (a declined request is
// not worth pointing people to).
func (s Status) Suggestible() bool { return s.Valid() && s != StatusDeclined }

// Capture paths (Mention.Via).
const (
	ViaChannel  = "channel"
	ViaReaction = "reaction"
	ViaShortcut = "shortcut"
	ViaCommand  = "command"
	ViaMention  = "mention"
	ViaForum    = "forum"
	ViaAPI      = "api"
	ViaThread   = "thread" // a reply in an already captured thread
	ViaLink     = "link"   // attached with /feedback link
)

// MaxTitleRunes is the longest title a request keeps (the first line of
// the feedback, clipped).
const MaxTitleRunes = 120

// MaxTextRunes is the longest feedback text accepted.
const MaxTextRunes = 4000

// Request is an idea on the board.
type Request struct {
	ID          int64     `db:"id" json:"-"`
	Title       string    `db:"title" json:"title"`
	Description string    `db:"description" json:"description"`
	Status      Status    `db:"status" json:"status"`
	MergedInto  *int64    `db:"merged_into" json:"-"`
	RootID      int64     `db:"root_id" json:"-"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
	UpdatedAt   time.Time `db:"updated_at" json:"updated_at"`

	// Computed over the request and everything merged into it.
	Demand   int `db:"demand" json:"demand"`
	Orgs     int `db:"orgs" json:"organisations"`
	Mentions int `db:"mentions" json:"mentions"`
	// Curation (docs/curation.md): sorted tags, and when the request was
	// taken off the board (nil unless removed).
	Tags      Tags       `db:"tags" json:"tags"`
	RemovedAt *time.Time `db:"removed_at" json:"-"`
	// Companies counts the distinct customer companies behind the request;
	// ValueCents is the sum of their monthly revenue, in cents (shown to
	// the team only).
	Companies  int   `db:"companies" json:"companies"`
	ValueCents int64 `db:"value_cents" json:"-"`
}

// Removed reports whether the request is off the board.
func (r *Request) Removed() bool { return r.RemovedAt != nil }

// Key returns the request's key with the given prefix, such as "FB-12".
func (r *Request) Key(prefix string) string { return FormatKey(prefix, r.ID) }

// FormatKey formats a request id as a key.
func FormatKey(prefix string, id int64) string { return prefix + "-" + strconv.FormatInt(id, 10) }

// ParseKey parses a key such as "FB-12" or "fb-12" (the prefix is matched
// case-insensitively) and returns the request id. It returns EINVALID for
// anything that is not a key with a positive number that fits in int64.
func ParseKey(prefix, s string) (int64, error) {
	p, num, ok := strings.Cut(s, "-")
	if !ok || !strings.EqualFold(p, prefix) || num == "" {
		return 0, errNotAKey(prefix, s)
	}
	for _, c := range num {
		if c < '0' || c > '9' {
			return 0, errNotAKey(prefix, s)
		}
	}
	id, err := strconv.ParseInt(num, 10, 64)
	if err != nil || id <= 0 || len(num) > 19 {
		return 0, errNoSuchKey(s)
	}
	return id, nil
}

// LooksLikeKey reports whether s has the shape of a key with this prefix.
func LooksLikeKey(prefix, s string) bool {
	p, num, ok := strings.Cut(s, "-")
	if !ok || !strings.EqualFold(p, prefix) || num == "" {
		return false
	}
	for _, c := range num {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Mention is one captured chat message linked to a request.
type Mention struct {
	ID         int64     `db:"id" json:"-"`
	RequestID  int64     `db:"request_id" json:"-"`
	Platform   string    `db:"platform" json:"platform"`
	Workspace  string    `db:"workspace" json:"workspace"`
	Channel    string    `db:"channel" json:"channel"`
	MessageID  string    `db:"message_id" json:"message_id"`
	ThreadID   string    `db:"thread_id" json:"thread_id"` // root of the conversation this message is in (its own id when top-level)
	AuthorID   string    `db:"author_id" json:"author_id"`
	AuthorName string    `db:"author_name" json:"author_name"`
	Org        string    `db:"org" json:"organisation"`
	Text       string    `db:"text" json:"text"`
	Permalink  string    `db:"permalink" json:"permalink"`
	CapturedBy string    `db:"captured_by" json:"captured_by"`
	Via        string    `db:"via" json:"via"`
	Deleted    bool      `db:"deleted" json:"deleted"`
	CreatedAt  time.Time `db:"created_at" json:"created_at"`
}

// Voter is a person who wants a request. Author votes come with mentions and
// are never removed by unvote.
type Voter struct {
	RequestID int64     `db:"request_id"`
	Platform  string    `db:"platform"`
	Workspace string    `db:"workspace"`
	UserID    string    `db:"user_id"`
	Org       string    `db:"org"`
	Kind      string    `db:"kind"` // "author" or "vote"
	CreatedAt time.Time `db:"created_at"`
}

// Voter kinds.
const (
	VoteAuthor = "author"
	VoteVote   = "vote"
)

// StatusChange is one append-only row of a request's status history.
type StatusChange struct {
	ID        int64     `db:"id" json:"-"`
	RequestID int64     `db:"request_id" json:"-"`
	Actor     string    `db:"actor" json:"actor"`
	From      Status    `db:"from_status" json:"from"`
	To        Status    `db:"to_status" json:"to"`
	Version   string    `db:"version" json:"version,omitempty"`
	Note      string    `db:"note" json:"note,omitempty"`
	EventID   *int64    `db:"event_id" json:"-"`
	CreatedAt time.Time `db:"created_at" json:"at"`
}

// Release actions.
const (
	ActionShipped    = "shipped"
	ActionRolledBack = "rolled_back"
)

// ReleaseEvent is a ship or a roll back of one or more requests.
type ReleaseEvent struct {
	ID             int64     `db:"id"`
	Action         string    `db:"action"`
	Version        string    `db:"version"`
	Note           string    `db:"note"`
	Actor          string    `db:"actor"`
	IdempotencyKey string    `db:"idempotency_key"`
	Fingerprint    string    `db:"fingerprint"` // what was asked with IdempotencyKey
	Result         string    `db:"result"`      // JSON of the first answer, for idempotent replays
	CreatedAt      time.Time `db:"created_at"`
}

// Suggestion states.
const (
	SuggestionPending   = "pending"
	SuggestionMerged    = "merged"
	SuggestionDismissed = "dismissed"
)

// Suggestion is a duplicate suggestion the bot posted.
type Suggestion struct {
	ID         int64       `db:"id"`
	RequestID  int64       `db:"request_id"`
	Candidates []Candidate `db:"-"`
	Platform   string      `db:"platform"`
	Workspace  string      `db:"workspace"`
	Channel    string      `db:"channel"`
	MessageID  string      `db:"message_id"`
	ThreadID   string      `db:"thread_id"`
	State      string      `db:"state"`
	MergedInto *int64      `db:"merged_into"`
	DecidedBy  string      `db:"decided_by"`
	DecidedAt  *time.Time  `db:"decided_at"`
	CreatedAt  time.Time   `db:"created_at"`
}

// Delivery states.
const (
	DeliveryPending = "pending"
	DeliveryRunning = "running"
	DeliveryDone    = "done"
	DeliveryFailed  = "failed"
)

// Delivery is one reply to post in one subscribed thread for one event.
type Delivery struct {
	ID          int64      `db:"id"`
	EventID     int64      `db:"event_id"`
	Platform    string     `db:"platform"`
	Workspace   string     `db:"workspace"`
	Channel     string     `db:"channel"`
	ThreadID    string     `db:"thread_id"`
	Text        string     `db:"text"`
	State       string     `db:"state"`
	Attempts    int        `db:"attempts"`
	NextAt      time.Time  `db:"next_at"`
	LockedBy    string     `db:"locked_by"`
	LockedUntil *time.Time `db:"locked_until"`
	LastError   string     `db:"last_error"`
	MessageID   string     `db:"message_id"`
	CreatedAt   time.Time  `db:"created_at"`
	DoneAt      *time.Time `db:"done_at"`
	// Buttons, one "action id|label" a line, go with the post (a regression
	// alert's "Roll back" button); "" for a plain reply.
	Buttons string `db:"buttons"`
}

// Progress message states.
const (
	ProgressOpen    = "open"     // the event's deliveries run, or its final edit is still to make
	ProgressDone    = "done"     // the final counts are shown
	ProgressGivenUp = "given_up" // posting or editing failed for good
)

// ProgressMessage is a release's progress message as stored: where it is
// (or is to be posted), the platform's id once posted, what it names and
// shows, and who holds it for the next post or edit. Any replica with the
// platform connected may make that post or edit (Outbox.Track).
type ProgressMessage struct {
	EventID   int64  `db:"event_id"`
	Platform  string `db:"platform"`
	Workspace string `db:"workspace"`
	Channel   string `db:"channel"`
	ThreadID  string `db:"thread_id"`
	// MessageID is the platform's id of the posted message, "" while its
	// first post has not gone through (a 429).
	MessageID string `db:"message_id"`
	// Outcome is the ReleaseOutcome the text names, as JSON.
	Outcome string `db:"outcome"`
	// Shown is the text last posted or edited in.
	Shown string `db:"shown"`
	State string `db:"state"`
	// Failures counts consecutive failed posts or edits other than 429s.
	Failures int `db:"failures"`
	// RetryAt: no post or edit before then (a 429's Retry-After, backoff).
	RetryAt     time.Time  `db:"retry_at"`
	EditedAt    *time.Time `db:"edited_at"`
	LockedBy    string     `db:"locked_by"`
	LockedUntil *time.Time `db:"locked_until"`
	CreatedAt   time.Time  `db:"created_at"`
}

// RegressionAlert is the one alert raised for (Version, RequestID) when
// enough people reported problems after the ship (README "Regression signal").
type RegressionAlert struct {
	ID        int64     `db:"id"`
	RequestID int64     `db:"request_id"`
	Version   string    `db:"version"`
	EventID   int64     `db:"event_id"`
	People    int       `db:"people"`
	Links     string    `db:"links"` // the reports' links, one a line
	Platform  string    `db:"platform"`
	Workspace string    `db:"workspace"`
	Channel   string    `db:"channel"`
	ShippedAt time.Time `db:"shipped_at"`
	CreatedAt time.Time `db:"created_at"`
}

// Thread identifies a conversation where replies about a request go.
type Thread struct {
	Platform  string `db:"platform"`
	Workspace string `db:"workspace"`
	Channel   string `db:"channel"`
	ThreadID  string `db:"thread_id"`
}

// Channel kinds for ChannelSetting.
const (
	ChannelWatch    = "watch"
	ChannelReleases = "releases"
)

// ChannelSetting marks a channel as watched (capture every top-level message)
// or as a release-announcement channel.
type ChannelSetting struct {
	Platform  string    `db:"platform"`
	Workspace string    `db:"workspace"`
	Channel   string    `db:"channel"`
	Kind      string    `db:"kind"`
	SetBy     string    `db:"set_by"`
	CreatedAt time.Time `db:"created_at"`
}

func clip(s string, n int) string {
	// Nearly every text fits: no runes made to find out (a capture clips
	// its title).
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
