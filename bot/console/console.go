// Package console is a terminal chat for trying feedbackbot with no chat
// account: people type as anyone, in any channel, reply in threads, react and
// press buttons, and the bot answers in the same transcript. It is the
// default platform when no Slack or Discord token is configured.
//
// Input language (the README's "A console session" shows it), one line each:
//
//	#name                     switch to channel #name
//	alice: text               alice posts text in the current channel
//	alice: /feedback …        alice runs a command
//	alice: reply N text       alice replies in the thread of message N
//	alice: react N :emoji:    alice reacts to message N
//	alice: unreact N :emoji:  alice removes that reaction
//	alice: capture N          alice uses "Send to feedback board" on message N
//	alice: click ID           alice presses the button ID
//	alice@acme: …             alice, from organisation acme
//
// Every message is printed as "[N] #channel author: text" (with "↳R" when it
// is in the thread of message R); buttons as "[ID] label"; answers meant
// only for one person as "→ name: text".
//
// Allowed imports: bot and the standard library.
package console

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
)

// Handler is what the console needs from the engine.
type Handler interface {
	Handle(ctx context.Context, ev *bot.Event) (*bot.Response, error)
	// Flush delivers queued thread replies before the next input line.
	Flush(ctx context.Context) error
}

// DefaultWorkspace is the console's workspace, and the organisation of
// people typed without @org: the team's own (a home organisation, never
// counted as a customer).
const DefaultWorkspace = "local"

// Config configures the console.
type Config struct {
	In  io.Reader
	Out io.Writer
	// Team and ReleaseLeads name the people with those roles; nil means
	// everyone has the role, so a newcomer can try every command.
	Team         []string
	ReleaseLeads []string
	Channel      string // starting channel, default "general"
	Workspace    string // default DefaultWorkspace
	BotName      string // default "feedbackbot"
	// Prompt prints "> " before reading each line (for terminals).
	Prompt bool
	// FlushEvery, when set, also delivers queued replies in the background
	// (for work that arrives over HTTP while nobody types).
	FlushEvery time.Duration
	// LastNumber is the highest message number an earlier session on the
	// same database used (store.DB.LastMessageNumber); numbering continues
	// after it, so a new message never collides with a captured one.
	LastNumber int64
}

type message struct {
	id      int
	channel string
	thread  int // root message number, 0 for top-level
	author  string
	org     string
	text    string
	bot     bool
	buttons []bot.Button
	// gone are the ids of buttons an edit took away (a decided
	// suggestion's): a click on one still reaches the engine, which says
	// what was decided instead of "there is no button".
	gone []string
}

// Adapter is the console platform.
type Adapter struct {
	cfg Config
	h   Handler

	mu       sync.Mutex
	lineMu   sync.Mutex // held while a line, or a background flush, runs
	msgs     []*message // msgs[i] has id base+i+1
	base     int
	channel  string
	team     map[string]bool
	releases map[string]bool
}

var (
	_ bot.Platform     = (*Adapter)(nil)
	_ bot.Reactor      = (*Adapter)(nil)
	_ bot.LinkFetcher  = (*Adapter)(nil)
	_ bot.ChannelNamer = (*Adapter)(nil)
	_ bot.Teller       = (*Adapter)(nil)
)

// New returns a console adapter that sends events to h.
func New(cfg Config, h Handler) *Adapter {
	if cfg.Channel == "" {
		cfg.Channel = "general"
	}
	if cfg.Workspace == "" {
		cfg.Workspace = DefaultWorkspace
	}
	if cfg.BotName == "" {
		cfg.BotName = "feedbackbot"
	}
	a := &Adapter{cfg: cfg, h: h, channel: strings.TrimPrefix(cfg.Channel, "#")}
	if cfg.LastNumber > 0 && cfg.LastNumber < math.MaxInt32 {
		a.base = int(cfg.LastNumber)
	}
	if cfg.Team != nil {
		a.team = set(cfg.Team)
	}
	if cfg.ReleaseLeads != nil {
		a.releases = set(cfg.ReleaseLeads)
	}
	return a
}

func set(names []string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		if n = strings.TrimSpace(n); n != "" {
			m[strings.ToLower(n)] = true
		}
	}
	return m
}

// Name returns "console".
func (a *Adapter) Name() string { return bot.PlatformConsole }

// ChannelName shows a channel as "#name".
func (a *Adapter) ChannelName(id string) string { return "#" + id }

var (
	lineRe     = regexp.MustCompile(`^([\p{L}\p{N}_.-]+)(?:@([\p{L}\p{N}_.-]+))?:\s*(.*)$`)
	replyRe    = regexp.MustCompile(`^reply\s+(\d+)\s+(.+)$`)
	reactRe    = regexp.MustCompile(`^(react|unreact)\s+(\d+)\s+:?([^:\s]+):?\s*$`)
	captureRe  = regexp.MustCompile(`^capture\s+(\d+)\s*$`)
	clickRe    = regexp.MustCompile(`^click\s+(\S+)\s*$`)
	channelRe  = regexp.MustCompile(`^#([\p{L}\p{N}_.-]+)\s*$`)
	maxLineLen = 1 << 20
)

// Run reads input lines until EOF or ctx ends.
func (a *Adapter) Run(ctx context.Context) error {
	if a.cfg.FlushEvery > 0 {
		ctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		defer wg.Wait()
		defer cancel()
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(a.cfg.FlushEvery)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				a.lineMu.Lock()
				if err := a.h.Flush(ctx); err != nil && ctx.Err() == nil {
					a.printf("! delivering thread replies: %s\n", bot.ErrorMessage(err))
				}
				a.lineMu.Unlock()
			}
		}()
	}
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		// Reads cannot be cancelled; on shutdown the deadline below (for
		// files and pipes) or the end of input stops this goroutine.
		sc := bufio.NewScanner(a.cfg.In)
		sc.Buffer(make([]byte, 64*1024), maxLineLen)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				readErr <- nil
				return
			}
		}
		readErr <- sc.Err()
	}()
	for {
		if a.cfg.Prompt {
			a.printf("> ")
		}
		select {
		case <-ctx.Done():
			if d, ok := a.cfg.In.(interface{ SetReadDeadline(time.Time) error }); ok {
				_ = d.SetReadDeadline(time.Now())
			}
			return nil
		case err := <-readErr:
			if err != nil && ctx.Err() == nil {
				return fmt.Errorf("read console input: %w", err)
			}
			return nil
		case line := <-lines:
			a.Line(ctx, line)
		}
	}
}

// Line processes one input line.
func (a *Adapter) Line(ctx context.Context, line string) {
	a.lineMu.Lock()
	defer a.lineMu.Unlock()
	line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
	if line == "" || strings.HasPrefix(line, "//") {
		return
	}
	if m := channelRe.FindStringSubmatch(line); m != nil {
		a.mu.Lock()
		a.channel = m[1]
		a.mu.Unlock()
		a.printf("(now in #%s)\n", m[1])
		return
	}
	m := lineRe.FindStringSubmatch(line)
	if m == nil {
		if strings.HasPrefix(line, "/") {
			a.printf("? Say who types it: \"alice: %s\" (\"alice: /feedback help\" lists the commands).\n", clipLine(line))
			return
		}
		a.printf("? Type \"name: text\" to post as name (\"alice: I wish…\"), \"#channel\" to switch channel, \"alice: /feedback help\" for commands.\n")
		return
	}
	user := a.user(m[1], m[2])
	a.act(ctx, user, m[3])
	if err := a.h.Flush(ctx); err != nil {
		a.printf("! delivering thread replies: %s\n", bot.ErrorMessage(err))
	}
}

func (a *Adapter) user(name, org string) bot.User {
	if org == "" {
		org = a.cfg.Workspace
	}
	key := strings.ToLower(name)
	return bot.User{
		ID:          key,
		Name:        name,
		Org:         org,
		Team:        a.team == nil || a.team[key],
		ReleaseLead: a.releases == nil || a.releases[key],
	}
}

func (a *Adapter) act(ctx context.Context, u bot.User, text string) {
	a.mu.Lock()
	channel := a.channel
	a.mu.Unlock()
	ev := &bot.Event{Platform: bot.PlatformConsole, Workspace: a.cfg.Workspace, Channel: channel, User: u}
	switch {
	case replyRe.MatchString(text):
		p := replyRe.FindStringSubmatch(text)
		n, _ := strconv.Atoi(p[1])
		target := a.get(n)
		if target == nil {
			a.answer(u, nil, bot.Errorf(bot.ENOTFOUND, "There is no message %d.", n))
			return
		}
		root := target.id
		if target.thread != 0 {
			root = target.thread
		}
		msg := a.add(&message{channel: target.channel, thread: root, author: u.Name, org: u.Org, text: p[2]})
		ev.Channel = target.channel
		a.dispatchMessage(ctx, ev, msg, u)
	case reactRe.MatchString(text):
		p := reactRe.FindStringSubmatch(text)
		n, _ := strconv.Atoi(p[2])
		target := a.get(n)
		if target == nil {
			a.answer(u, nil, bot.Errorf(bot.ENOTFOUND, "There is no message %d.", n))
			return
		}
		ev.Kind = bot.EventReactionAdded
		verb := "reacted"
		if p[1] == "unreact" {
			ev.Kind = bot.EventReactionRemoved
			verb = "removed"
		}
		ev.Emoji = p[3]
		ev.Channel = target.channel
		ev.Message = a.botMessage(target)
		a.printf("    (%s %s :%s: on %d)\n", u.Name, verb, p[3], n)
		resp, err := a.h.Handle(ctx, ev)
		a.answer(u, resp, err)
	case captureRe.MatchString(text):
		p := captureRe.FindStringSubmatch(text)
		n, _ := strconv.Atoi(p[1])
		target := a.get(n)
		if target == nil {
			a.answer(u, nil, bot.Errorf(bot.ENOTFOUND, "There is no message %d.", n))
			return
		}
		ev.Kind = bot.EventCapture
		ev.Channel = target.channel
		ev.Message = a.botMessage(target)
		resp, err := a.h.Handle(ctx, ev)
		a.answer(u, resp, err)
	case clickRe.MatchString(text):
		id := clickRe.FindStringSubmatch(text)[1]
		target := a.findButton(id)
		if target == nil {
			a.answer(u, nil, bot.Errorf(bot.ENOTFOUND, "There is no button %s.", id))
			return
		}
		ev.Kind = bot.EventButton
		ev.ActionID = id
		ev.Channel = target.channel
		ev.Message = a.botMessage(target)
		a.printf("    (%s clicked [%s] on %d)\n", u.Name, id, target.id)
		resp, err := a.h.Handle(ctx, ev)
		a.answer(u, resp, err)
	default:
		msg := a.add(&message{channel: channel, author: u.Name, org: u.Org, text: text})
		a.dispatchMessage(ctx, ev, msg, u)
	}
}

// dispatchMessage prints a person's message and hands it to the engine as a
// message or, when it starts with /feedback, as a command.
func (a *Adapter) dispatchMessage(ctx context.Context, ev *bot.Event, msg *message, u bot.User) {
	a.print(msg)
	ev.Message = a.botMessage(msg)
	ev.Message.Author = u
	if cmd, ok := strings.CutPrefix(msg.text, "/feedback"); ok && (cmd == "" || cmd[0] == ' ') {
		ev.Kind = bot.EventCommand
		ev.Text = strings.TrimSpace(cmd)
	} else if mention, ok := a.mentionText(msg.text); ok {
		ev.Kind = bot.EventMention
		ev.Message.Text = mention
	} else {
		ev.Kind = bot.EventMessage
	}
	resp, err := a.h.Handle(ctx, ev)
	a.answer(u, resp, err)
}

// mentionText returns the text without the "@feedbackbot" mention.
func (a *Adapter) mentionText(text string) (string, bool) {
	tag := "@" + a.cfg.BotName
	i := strings.Index(strings.ToLower(text), strings.ToLower(tag))
	if i < 0 {
		return "", false
	}
	return strings.TrimSpace(text[:i] + text[i+len(tag):]), true
}

func (a *Adapter) answer(u bot.User, resp *bot.Response, err error) {
	if err != nil {
		a.printf("→ %s: ⚠ %s\n", u.Name, bot.ErrorMessage(err))
		return
	}
	if resp == nil || resp.Text == "" {
		return
	}
	a.printf("→ %s: %s\n", u.Name, indent(resp.Text))
	for _, b := range resp.Buttons {
		a.printf("    [%s] %s\n", b.ID, b.Label)
	}
}

func (a *Adapter) add(m *message) *message {
	a.mu.Lock()
	defer a.mu.Unlock()
	m.id = a.base + len(a.msgs) + 1
	a.msgs = append(a.msgs, m)
	return m
}

func (a *Adapter) get(n int) *message {
	a.mu.Lock()
	defer a.mu.Unlock()
	i := n - a.base - 1
	if i < 0 || i >= len(a.msgs) {
		return nil
	}
	return a.msgs[i]
}

func (a *Adapter) findButton(id string) *message {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := len(a.msgs) - 1; i >= 0; i-- {
		for _, b := range a.msgs[i].buttons {
			if b.ID == id {
				return a.msgs[i]
			}
		}
	}
	for i := len(a.msgs) - 1; i >= 0; i-- {
		if slices.Contains(a.msgs[i].gone, id) {
			return a.msgs[i]
		}
	}
	return nil
}

func (a *Adapter) botMessage(m *message) *bot.Message {
	bm := &bot.Message{
		Platform:  bot.PlatformConsole,
		Workspace: a.cfg.Workspace,
		Channel:   m.channel,
		ID:        strconv.Itoa(m.id),
		Author:    a.user(m.author, m.org),
		Text:      m.text,
		Permalink: "console:" + strconv.Itoa(m.id),
		Bot:       m.bot,
	}
	if m.thread != 0 {
		bm.ThreadID = strconv.Itoa(m.thread)
	}
	return bm
}

func (a *Adapter) print(m *message) { a.printAs(m, strconv.Itoa(m.id)) }

// printAs prints message m under the label "[label]" ("[3]", "[3 edited]").
func (a *Adapter) printAs(m *message, label string) {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] #%s ", label, m.channel)
	if m.thread != 0 {
		fmt.Fprintf(&b, "↳%d ", m.thread)
	}
	fmt.Fprintf(&b, "%s: %s\n", m.author, indent(m.text))
	for _, btn := range m.buttons {
		fmt.Fprintf(&b, "    [%s] %s\n", btn.ID, btn.Label)
	}
	a.printf("%s", b.String())
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n    ") }

func (a *Adapter) printf(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fmt.Fprintf(a.cfg.Out, format, args...)
}

// Post prints a bot message.
func (a *Adapter) Post(ctx context.Context, out bot.OutMessage) (bot.MessageRef, error) {
	m := &message{channel: out.Channel, author: a.cfg.BotName, text: out.Text, bot: true, buttons: out.Buttons}
	if out.ThreadID != "" {
		n, err := strconv.Atoi(out.ThreadID)
		root := a.get(n)
		// A thread of an earlier session (before LastNumber) is not in memory
		// but is still where its replies belong.
		earlier := err == nil && n >= 1 && n <= a.base
		if err != nil || (root == nil && !earlier) {
			return bot.MessageRef{}, &bot.PermanentError{Err: fmt.Errorf("no console message %q", out.ThreadID)}
		}
		if root != nil && root.thread != 0 {
			n = root.thread
		}
		m.thread = n
	}
	a.add(m)
	a.print(m)
	return bot.MessageRef{Platform: bot.PlatformConsole, Workspace: a.cfg.Workspace, Channel: m.channel, ID: strconv.Itoa(m.id), ThreadID: out.ThreadID}, nil
}

// Update replaces a bot message's text and buttons and prints it again.
func (a *Adapter) Update(ctx context.Context, ref bot.MessageRef, out bot.OutMessage) error {
	n, err := strconv.Atoi(ref.ID)
	m := a.get(n)
	if err != nil || m == nil || !m.bot {
		return &bot.PermanentError{Err: fmt.Errorf("no console bot message %q", ref.ID)}
	}
	a.mu.Lock()
	for _, b := range m.buttons {
		m.gone = append(m.gone, b.ID)
	}
	m.text, m.buttons = out.Text, out.Buttons
	a.mu.Unlock()
	a.printAs(m, strconv.Itoa(m.id)+" edited")
	return nil
}

// Tell prints an answer meant only for to.User, as "→ name: text" (a
// capture given up after a database outage).
func (a *Adapter) Tell(ctx context.Context, to bot.Recipient, text string) error {
	a.printf("→ %s: %s\n", cmp.Or(to.User.Name, to.User.ID), indent(text))
	return nil
}

// React prints the bot's reaction.
func (a *Adapter) React(ctx context.Context, ref bot.MessageRef, emoji string) error {
	a.printf("    (%s reacted :%s: on %s)\n", a.cfg.BotName, emoji, ref.ID)
	return nil
}

// FetchByLink loads a console message from "console:N", "#N" or "N".
func (a *Adapter) FetchByLink(ctx context.Context, link string) (*bot.Message, error) {
	s := strings.TrimPrefix(strings.TrimPrefix(link, "console:"), "#")
	n, err := strconv.Atoi(s)
	m := a.get(n)
	if err != nil || m == nil {
		return nil, bot.Errorf(bot.ENOTFOUND, "There is no console message %q (use console:N).", link)
	}
	if m.bot {
		return nil, bot.Errorf(bot.EINVALID, "Messages from bots are not captured.")
	}
	return a.botMessage(m), nil
}

// clipLine shortens an echoed input line.
func clipLine(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}
