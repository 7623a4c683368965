package bot

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ReplyReaction is the reaction the bot adds to a reply that joined a
// captured thread, where the platform supports reactions.
const ReplyReaction = "white_check_mark"

// CaptureMessageInput is an existing chat message to put on the board, and
// how it was asked for (ViaReaction, ViaShortcut, ViaMention …).
type CaptureMessageInput struct {
	Message *Message
	Via     string
}

// CaptureTextInput is free text to put on the board as the actor's
// feedback (the /feedback command, the API). Where says where it was
// written: when Where.ID is set the text is linked to that message;
// otherwise, on a chat platform, the bot posts a card that the request's
// thread hangs on, and through the API (Where.Platform PlatformAPI) it has
// no thread.
type CaptureTextInput struct {
	Where Message
	Text  string
	// TextID, for text with no chat message and nowhere to post (an API
	// capture), is the message id its mention is stored under: the same
	// TextID twice captures once (ECONFLICT, ReasonCaptured, the second
	// time). "" picks a random one.
	TextID string
}

// CaptureResult is what a capture did. Request is the canonical request the
// feedback now counts for, with its counts: a new request (Created), the
// request of the thread it joined, or the request it was merged into on
// arrival (AutoMerged). Duplicates are the candidates suggested for a new
// request, best first.
type CaptureResult struct {
	Request    *Request
	Mention    *Mention
	Created    bool
	AutoMerged bool
	Duplicates []int64
}

// CaptureMessage captures an existing chat message on behalf of a.
// EINVALID for a bot's message or one without text; ETOOLARGE; ECONFLICT
// (ReasonCaptured, naming the request) when the message is already on the
// board.
func (e *Engine) CaptureMessage(ctx context.Context, a Actor, in CaptureMessageInput) (*CaptureResult, error) {
	if in.Message == nil {
		return nil, errNoMessage
	}
	if in.Message.Bot {
		return nil, errBotMessage
	}
	return e.capture(ctx, a, in.Message, in.Via)
}

// CaptureText captures in.Text as a's feedback. Errors as CaptureMessage.
func (e *Engine) CaptureText(ctx context.Context, a Actor, in CaptureTextInput) (*CaptureResult, error) {
	m := in.Where
	m.Author = a.User()
	m.Text = in.Text
	if m.ID == "" {
		return e.captureWithoutMessage(ctx, a, &m, in.TextID)
	}
	return e.capture(ctx, a, &m, ViaCommand)
}

// LinkInput attaches the chat message at Link to a request.
type LinkInput struct {
	Request int64
	Link    string
}

// LinkResult is the canonical request after the link, with its counts, and
// the mention added.
type LinkResult struct {
	Request *Request
	Mention *Mention
}

// LinkFetcher is implemented by platforms that can load a message from its
// link, for /feedback link.
type LinkFetcher interface {
	FetchByLink(ctx context.Context, link string) (*Message, error)
}

// Link attaches the chat message at in.Link, on the actor's platform, to
// the request (team only). EFORBIDDEN; ENOTFOUND; EINVALID when the
// platform cannot load links or the message cannot be loaded; ECONFLICT
// when the message is already on the board.
func (e *Engine) Link(ctx context.Context, a Actor, in LinkInput) (*LinkResult, error) {
	if err := RequireTeam(a, doLink); err != nil {
		return nil, err
	}
	req, err := e.resolve(ctx, in.Request)
	if err != nil {
		return nil, err
	}
	f, ok := e.platform(a.Identity.Platform).(LinkFetcher)
	if !ok {
		return nil, errNoLinking
	}
	m, err := f.FetchByLink(ctx, in.Link)
	if err != nil {
		if _, ok := err.(*Error); ok {
			return nil, err
		}
		return nil, errCannotLoad(in.Link)
	}
	text, err := normalizeText(m.Text)
	if err != nil {
		return nil, err
	}
	mention := mentionOf(m, a, ViaLink, text)
	mention.RequestID = req.ID
	if err := e.store.AddMention(ctx, mention); err != nil {
		if ErrorCode(err) == ECONFLICT {
			return nil, e.capturedConflict(ctx, m)
		}
		return nil, err
	}
	e.metrics.Captured(m.Platform, ViaLink)
	e.learn(mentionDecision(mention))
	if req, err = e.store.FindRequestByID(ctx, req.ID); err != nil {
		return nil, err
	}
	return &LinkResult{Request: req, Mention: mention}, nil
}

// captureResponse is a capture's answer in chat.
func (e *Engine) captureResponse(r *CaptureResult) *Response {
	return &Response{Text: e.Text().Captured(r), RequestID: r.Request.ID, Duplicates: r.Duplicates}
}

// onMessage: a top-level message in a watched channel becomes feedback, one
// in a release channel may be an announcement, and a reply in a captured
// thread joins its request.
func (e *Engine) onMessage(ctx context.Context, ev *Event) (*Response, error) {
	m := ev.Message
	if m == nil {
		return nil, nil
	}
	if m.ThreadID != "" && m.ThreadID != m.ID {
		return nil, e.joinThread(ctx, m)
	}
	set, err := e.channelSettings(ctx, m.Platform, m.Workspace, m.Channel)
	if err != nil {
		return nil, err
	}
	if set.releases {
		return nil, e.onAnnouncement(ctx, m)
	}
	if !set.watch {
		return nil, nil
	}
	if strings.TrimSpace(m.Text) == "" {
		return nil, nil
	}
	// The card in the thread confirms an automatic capture; nothing is said
	// to the author alone, and messages it cannot take pass silently.
	_, err = e.capture(ctx, PersonActor(m.Platform, m.Workspace, m.Author), m, ViaChannel)
	return nil, quietCaptureError(err)
}

// quietCaptureError drops the errors an automatic capture does not report.
func quietCaptureError(err error) error {
	switch ErrorCode(err) {
	case ECONFLICT, EINVALID, ETOOLARGE:
		return nil
	}
	return err
}

// joinThread adds a reply in an already captured thread to the same request.
func (e *Engine) joinThread(ctx context.Context, m *Message) error {
	root, err := e.store.FindThreadMention(ctx, m.Platform, m.Workspace, m.Channel, m.ThreadID)
	if ErrorCode(err) == ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	text, err := normalizeText(m.Text)
	if err != nil {
		return nil
	}
	mention := mentionOf(m, PersonActor(m.Platform, m.Workspace, m.Author), ViaThread, text)
	mention.RequestID = root.RequestID
	if err := e.store.AddMention(ctx, mention); err != nil {
		if ErrorCode(err) == ECONFLICT {
			return nil
		}
		return err
	}
	e.metrics.Captured(m.Platform, ViaThread)
	if r, ok := e.platform(m.Platform).(Reactor); ok {
		ref := MessageRef{Platform: m.Platform, Workspace: m.Workspace, Channel: m.Channel, ID: m.ID, ThreadID: m.ThreadID}
		if err := r.React(ctx, ref, ReplyReaction); err != nil {
			e.log.Warn("react to joined reply", "platform", m.Platform, "err", err)
		}
	}
	// A reply after a ship may report a regression.
	if err := e.checkRegression(ctx, root.RequestID, mention); err != nil {
		e.log.Warn("regression check", "err", err)
	}
	return nil
}

func (e *Engine) onForumPost(ctx context.Context, ev *Event) (*Response, error) {
	m := ev.Message
	if m == nil {
		return nil, nil
	}
	set, err := e.channelSettings(ctx, m.Platform, m.Workspace, m.Channel)
	if err != nil || !set.watch {
		return nil, err
	}
	text := m.Text
	if m.Title != "" {
		text = m.Title + "\n" + m.Text
	}
	if len(m.Tags) > 0 {
		text += "\nTags: " + strings.Join(m.Tags, ", ")
	}
	mm := *m
	mm.Text = text
	_, err = e.capture(ctx, PersonActor(m.Platform, m.Workspace, m.Author), &mm, ViaForum)
	return nil, quietCaptureError(err)
}

func (e *Engine) onMention(ctx context.Context, ev *Event) (*Response, error) {
	m := ev.Message
	if m == nil {
		return nil, nil
	}
	if strings.TrimSpace(m.Text) == "" || strings.EqualFold(strings.TrimSpace(m.Text), "help") {
		return &Response{Text: e.Text().MentionHelp()}, nil
	}
	if m.ThreadID != "" && m.ThreadID != m.ID {
		if _, err := e.store.FindThreadMention(ctx, m.Platform, m.Workspace, m.Channel, m.ThreadID); err == nil {
			return nil, e.joinThread(ctx, m)
		}
	}
	// The card in the thread confirms the capture; only errors (such as
	// "already on the board") are answered.
	_, err := e.CaptureMessage(ctx, ChatActor(ev), CaptureMessageInput{Message: m, Via: ViaMention})
	return nil, err
}

// onReaction: the capture emoji captures the message, the vote emoji votes
// for the request the message belongs to.
func (e *Engine) onReaction(ctx context.Context, ev *Event, added bool) (*Response, error) {
	m := ev.Message
	if m == nil {
		return nil, nil
	}
	switch normalizeEmoji(ev.Emoji) {
	case normalizeEmoji(e.cfg.CaptureEmoji):
		if !added || m.Bot {
			return nil, nil
		}
		res, err := e.CaptureMessage(ctx, ChatActor(ev), CaptureMessageInput{Message: m, Via: ViaReaction})
		if err != nil {
			return nil, err
		}
		return e.captureResponse(res), nil
	case normalizeEmoji(e.cfg.VoteEmoji):
		return nil, e.voteByReaction(ctx, ChatActor(ev), m, added)
	}
	return nil, nil
}

// normalizeEmoji maps aliases of the same emoji to one name.
func normalizeEmoji(s string) string {
	s = strings.Trim(strings.TrimSpace(s), ":")
	if i := strings.Index(s, "::skin-tone"); i >= 0 {
		s = s[:i]
	}
	switch s {
	case "thumbsup", "+1", "👍":
		return "+1"
	case "bulb", "💡":
		return "bulb"
	}
	return s
}

// mentionOf builds a mention for message m captured by a.
func mentionOf(m *Message, a Actor, via, text string) *Mention {
	thread := m.ThreadID
	if thread == "" {
		thread = m.ID
	}
	return &Mention{
		Platform:   m.Platform,
		Workspace:  m.Workspace,
		Channel:    m.Channel,
		MessageID:  m.ID,
		ThreadID:   thread,
		AuthorID:   m.Author.ID,
		AuthorName: m.Author.Name,
		Org:        m.Author.Org,
		Text:       text,
		Permalink:  m.Permalink,
		CapturedBy: a.DisplayName(),
		Via:        via,
	}
}

// capture creates a request from message m. When the message is in a thread
// whose root is already captured it joins that request instead. In a
// /feedback command a capture that meets an unavailable database is kept
// for a retry (pending.go) and errKept returned.
func (e *Engine) capture(ctx context.Context, a Actor, m *Message, via string) (*CaptureResult, error) {
	res, err := e.captureOnce(ctx, a, m, via)
	if unavailable(err) {
		if to, ok := keepFor(ctx); ok && e.pending.keepCapture(a, m, via, to, err) {
			return nil, errKept
		}
	}
	return res, err
}

// ownMention returns the mention of m when it was captured by a through
// via: in a retry, the earlier attempt's, committed though its answer was
// lost.
func (e *Engine) ownMention(ctx context.Context, a Actor, m *Message, via string) (*Mention, bool) {
	if !retrying(ctx) {
		return nil, false
	}
	got, err := e.store.FindMentionByMessage(ctx, m.Platform, m.Workspace, m.Channel, m.ID)
	if err != nil || got.Via != via || got.CapturedBy != a.DisplayName() {
		return nil, false
	}
	return got, true
}

// cardChecker is implemented by stores that tell whether a request has a
// card in a channel (store.DB).
type cardChecker interface {
	HasCard(ctx context.Context, requestID int64, platform, workspace, channel string) (bool, error)
}

// finishCapture completes a capture whose request was created by an
// earlier attempt that did not learn it: the card (with its suggestions)
// is posted unless the request already has one in the channel.
func (e *Engine) finishCapture(ctx context.Context, mention *Mention) (*CaptureResult, error) {
	req, err := e.store.FindRequestByID(ctx, mention.RequestID)
	if err != nil {
		return nil, err
	}
	if req.MergedInto != nil {
		if req, err = e.store.ResolveRequest(ctx, req.ID); err != nil {
			return nil, err
		}
		return &CaptureResult{Request: req, Mention: mention}, nil
	}
	if cc, ok := e.store.(cardChecker); ok {
		has, err := cc.HasCard(ctx, req.ID, mention.Platform, mention.Workspace, mention.Channel)
		if err != nil {
			return nil, err
		}
		if has {
			return &CaptureResult{Request: req, Mention: mention, Created: true}, nil
		}
	}
	res, err := e.afterCreate(ctx, req, mention, true, e.similar(ctx, req))
	if err != nil {
		// The capture is stored: what failed is its card or suggestion,
		// which another retry could post twice.
		e.log.Warn("finish a retried capture", "platform", mention.Platform, "channel", mention.Channel, "err", err)
		return &CaptureResult{Request: req, Mention: mention, Created: true}, nil
	}
	return res, nil
}

// captureOnce is capture without keeping.
func (e *Engine) captureOnce(ctx context.Context, a Actor, m *Message, via string) (*CaptureResult, error) {
	text, err := normalizeText(m.Text)
	if err != nil {
		return nil, err
	}
	// A message captured before is not looked up first: CreateRequest and
	// AddMention refuse it with ECONFLICT, writing nothing, and
	// capturedConflict answers where it is. That saves a query on every
	// capture.
	if m.ThreadID != "" && m.ThreadID != m.ID && via != ViaThread {
		if root, err := e.store.FindThreadMention(ctx, m.Platform, m.Workspace, m.Channel, m.ThreadID); err == nil {
			mention := mentionOf(m, a, via, text)
			mention.RequestID = root.RequestID
			if err := e.store.AddMention(ctx, mention); err != nil {
				if ErrorCode(err) == ECONFLICT {
					if own, ok := e.ownMention(ctx, a, m, via); ok {
						req, err := e.store.ResolveRequest(ctx, own.RequestID)
						if err != nil {
							return nil, err
						}
						return &CaptureResult{Request: req, Mention: own}, nil
					}
					return nil, e.capturedConflict(ctx, m)
				}
				return nil, err
			}
			e.metrics.Captured(m.Platform, via)
			e.learn(mentionDecision(mention))
			req, err := e.store.ResolveRequest(ctx, root.RequestID)
			if err != nil {
				return nil, err
			}
			return &CaptureResult{Request: req, Mention: mention}, nil
		}
	}
	mention := mentionOf(m, a, via, text)
	req := &Request{Title: titleOf(text), Description: text, Status: StatusOpen}
	dups := e.startSimilar(ctx, req)
	if err := e.store.CreateRequest(ctx, req, mention); err != nil {
		dups.abandon()
		if ErrorCode(err) == ECONFLICT {
			if own, ok := e.ownMention(ctx, a, m, via); ok {
				return e.finishCapture(ctx, own)
			}
			return nil, e.capturedConflict(ctx, m)
		}
		return nil, err
	}
	e.metrics.Captured(m.Platform, via)
	return e.afterCreate(ctx, req, mention, true, dups.wait())
}

// capturedConflict is the ECONFLICT for a message already on the board,
// naming its request.
func (e *Engine) capturedConflict(ctx context.Context, m *Message) error {
	existing, err := e.store.FindMentionByMessage(ctx, m.Platform, m.Workspace, m.Channel, m.ID)
	if err != nil {
		return err
	}
	req, err := e.store.ResolveRequest(ctx, existing.RequestID)
	if err != nil {
		return err
	}
	return e.Text().errCapturedAs(req)
}

// captureWithoutMessage handles text that has no chat message of its own
// (a slash command on Slack or Discord): the bot posts the card at the top of
// the channel and the request's thread hangs on that card.
func (e *Engine) captureWithoutMessage(ctx context.Context, a Actor, m *Message, textID string) (*CaptureResult, error) {
	text, err := normalizeText(m.Text)
	if err != nil {
		return nil, err
	}
	p := e.platform(m.Platform)
	if p == nil || m.Channel == "" {
		// Nowhere to post (API capture): a mention with no thread.
		mm := *m
		mm.ID = "text-" + randomID()
		if textID != "" {
			mm.ID = textID
		}
		mention := mentionOf(&mm, a, ViaCommand, text)
		mention.ThreadID = ""
		if m.Platform == PlatformAPI {
			mention.Via = ViaAPI
		}
		req := &Request{Title: titleOf(text), Description: text, Status: StatusOpen}
		dups := e.startSimilar(ctx, req)
		if err := e.store.CreateRequest(ctx, req, mention); err != nil {
			dups.abandon()
			if ErrorCode(err) == ECONFLICT && textID != "" {
				return nil, e.capturedConflict(ctx, &mm)
			}
			return nil, err
		}
		e.metrics.Captured(m.Platform, mention.Via)
		return e.afterCreate(ctx, req, mention, false, dups.wait())
	}
	ref, err := e.post(ctx, p, OutMessage{Workspace: m.Workspace, Channel: m.Channel, Text: e.Text().newFeedbackCard(a.DisplayName(), titleOf(text))})
	if err != nil {
		return nil, wrapf(err, "post capture card")
	}
	mm := *m
	mm.ID = ref.ID
	mm.ThreadID = ""
	return e.capture(ctx, a, &mm, ViaCommand)
}

// normalizeText trims the text and checks its length.
// Valid UTF-8 (nearly every text) is not copied by ToValidUTF8, which
// builds a new string byte by byte, and a text of at most MaxTextRunes
// bytes has at most as many runes, uncounted.
func normalizeText(s string) (string, error) {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.TrimSpace(strings.ReplaceAll(s, "\x00", ""))
	if invisible(s) {
		return "", errNoText
	}
	if len(s) > MaxTextRunes {
		if n := utf8.RuneCountInString(s); n > MaxTextRunes {
			return "", errTooLong(n)
		}
	}
	return s, nil
}

// invisible reports whether s shows nothing: it is empty or made only of
// spaces, zero-width and other format characters (U+200B, U+200D, U+FEFF,
// direction marks and overrides…) and variation selectors.
func invisible(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r) && !unicode.Is(unicode.Variation_Selector, r) {
			return false
		}
	}
	return true
}

// titleOf returns the first non-empty line of s, at most MaxTitleRunes runes.
func titleOf(s string) string {
	for {
		line, rest, more := strings.Cut(s, "\n")
		if line = strings.TrimSpace(line); line != "" {
			return clip(line, MaxTitleRunes-1)
		}
		if !more {
			return ""
		}
		s = rest
	}
}
