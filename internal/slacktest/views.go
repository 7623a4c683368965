package slacktest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits Slack enforces on modal views (Block Kit reference:
// a modal's title, submit and close are plain_text of at most 24 characters,
// callback_id at most 255, private_metadata at most 3000, at most 100 blocks).
const (
	MaxViewTitle       = 24
	MaxViewBlocks      = 100
	MaxCallbackID      = 255
	MaxPrivateMetadata = 3000
	MaxInputLabel      = 2000
	MaxInputLength     = 3000
)

// DefaultTriggerTTL is how long a trigger_id may be used to open a view:
// Slack expires it after 3 seconds.
const DefaultTriggerTTL = 3 * time.Second

// Input is a plain_text_input of a modal view.
type Input struct {
	BlockID   string
	ActionID  string
	Label     string
	Multiline bool
	Initial   string
	Optional  bool
	MaxLength int
}

// View is a modal the bot opened (views.open) or updated (views.update).
type View struct {
	ID              string
	TriggerID       string
	User            string // who clicked: the trigger's user
	CallbackID      string
	PrivateMetadata string
	Title           string
	Submit          string
	Inputs          []Input
	Raw             json.RawMessage
	// Opened is how long after the trigger was issued views.open came.
	Opened time.Duration
	// Updates counts views.update calls.
	Updates int
}

type trigger struct {
	user   string
	issued time.Time
	used   bool
}

// newTriggerLocked issues a trigger_id for user.
func (s *Server) newTriggerLocked(user string) string {
	s.idSeq++
	id := fmt.Sprintf("%d.%d.trigger-%s", s.idSeq, time.Now().UnixNano()%1e9, user)
	s.triggers[id] = &trigger{user: user, issued: time.Now()}
	return id
}

// NewTrigger returns a fresh trigger_id for user, as Slack puts in every
// interaction payload.
func (s *Server) NewTrigger(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newTriggerLocked(user)
}

// Views returns the views opened so far, in order, as last updated.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]View, len(s.views))
	for i, v := range s.views {
		out[i] = *v
		out[i].Inputs = append([]Input(nil), v.Inputs...)
	}
	return out
}

// viewsOpen opens a modal. Slack answers invalid_trigger_id for an unknown
// trigger and expired_trigger_id for one used already or older than
// Options.TriggerTTL.
func (s *Server) viewsOpen(p url.Values) (map[string]any, *apiError) {
	id := p.Get("trigger_id")
	tr, ok := s.triggers[id]
	if !ok {
		s.violate("views.open: unknown trigger_id %q", id)
		return nil, &apiError{code: "invalid_trigger_id"}
	}
	age := time.Since(tr.issued)
	if tr.used || age > s.opts.TriggerTTL {
		s.violate("views.open: trigger_id %q used again or after %s (used=%v)", id, age.Round(time.Millisecond), tr.used)
		return nil, &apiError{code: "expired_trigger_id"}
	}
	tr.used = true
	v, aerr := s.parseView(p.Get("view"))
	if aerr != nil {
		return nil, aerr
	}
	v.ID = s.nextIDLocked("V")
	v.TriggerID, v.User, v.Opened = id, tr.user, age
	s.views = append(s.views, v)
	return map[string]any{"view": s.wireView(v)}, nil
}

// viewsUpdate replaces an open view (by view_id).
func (s *Server) viewsUpdate(p url.Values) (map[string]any, *apiError) {
	id := p.Get("view_id")
	if id == "" {
		s.violate("views.update: no view_id (the fake does not implement external_id)")
		return nil, &apiError{code: "invalid_arguments"}
	}
	var cur *View
	for _, v := range s.views {
		if v.ID == id {
			cur = v
		}
	}
	if cur == nil {
		return nil, &apiError{code: "not_found"}
	}
	if p.Get("view") == "" {
		s.violate("views.update: no view")
		return nil, &apiError{code: "invalid_arguments"}
	}
	v, aerr := s.parseView(p.Get("view"))
	if aerr != nil {
		return nil, aerr
	}
	v.ID, v.TriggerID, v.User, v.Opened, v.Updates = cur.ID, cur.TriggerID, cur.User, cur.Opened, cur.Updates+1
	*cur = *v
	return map[string]any{"view": s.wireView(cur)}, nil
}

type plainText struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

// parseView checks a modal view against Block Kit's rules.
func (s *Server) parseView(raw string) (*View, *apiError) {
	var w struct {
		Type            string     `json:"type"`
		Title           *plainText `json:"title"`
		Submit          *plainText `json:"submit"`
		Close           *plainText `json:"close"`
		CallbackID      string     `json:"callback_id"`
		PrivateMetadata string     `json:"private_metadata"`
		Blocks          []struct {
			Type     string     `json:"type"`
			BlockID  string     `json:"block_id"`
			Label    *plainText `json:"label"`
			Optional bool       `json:"optional"`
			Text     *plainText `json:"text"`
			Element  *struct {
				Type         string     `json:"type"`
				ActionID     string     `json:"action_id"`
				Multiline    bool       `json:"multiline"`
				InitialValue string     `json:"initial_value"`
				MaxLength    int        `json:"max_length"`
				Placeholder  *plainText `json:"placeholder"`
			} `json:"element"`
		} `json:"blocks"`
	}
	bad := func(format string, a ...any) (*View, *apiError) {
		msg := fmt.Sprintf(format, a...)
		s.violate("invalid view: %s", msg)
		return nil, &apiError{code: "invalid_arguments", message: "[ERROR] " + msg}
	}
	if err := json.Unmarshal([]byte(raw), &w); err != nil {
		return bad("not a JSON view: %v", err)
	}
	if w.Type != "modal" {
		return bad("type %q (want modal)", w.Type)
	}
	checkText := func(name string, t *plainText, required bool, max int) string {
		if t == nil {
			if required {
				return name + " is required"
			}
			return ""
		}
		if t.Type != "plain_text" {
			return fmt.Sprintf("%s must be plain_text, not %q", name, t.Type)
		}
		if n := utf8.RuneCountInString(t.Text); n == 0 || n > max {
			return fmt.Sprintf("%s of %d characters (1..%d)", name, n, max)
		}
		return ""
	}
	for _, c := range []string{
		checkText("title", w.Title, true, MaxViewTitle),
		checkText("submit", w.Submit, false, MaxViewTitle),
		checkText("close", w.Close, false, MaxViewTitle),
	} {
		if c != "" {
			return bad("%s", c)
		}
	}
	if len(w.CallbackID) > MaxCallbackID {
		return bad("callback_id of %d characters", len(w.CallbackID))
	}
	if n := utf8.RuneCountInString(w.PrivateMetadata); n > MaxPrivateMetadata {
		return bad("private_metadata of %d characters (max %d)", n, MaxPrivateMetadata)
	}
	if len(w.Blocks) == 0 || len(w.Blocks) > MaxViewBlocks {
		return bad("%d blocks (1..%d)", len(w.Blocks), MaxViewBlocks)
	}
	v := &View{CallbackID: w.CallbackID, PrivateMetadata: w.PrivateMetadata, Title: w.Title.Text, Raw: json.RawMessage(raw)}
	if w.Submit != nil {
		v.Submit = w.Submit.Text
	}
	ids := map[string]bool{}
	for i, b := range w.Blocks {
		if b.BlockID != "" {
			if ids[b.BlockID] {
				return bad("duplicate block_id %q", b.BlockID)
			}
			ids[b.BlockID] = true
		}
		switch b.Type {
		case "input":
			if c := checkText(fmt.Sprintf("block %d label", i), b.Label, true, MaxInputLabel); c != "" {
				return bad("%s", c)
			}
			if b.Element == nil || b.Element.Type != "plain_text_input" {
				return bad("block %d: input without a plain_text_input element (the fake knows only that one)", i)
			}
			e := b.Element
			if e.ActionID == "" || len(e.ActionID) > MaxActionID {
				return bad("block %d: bad action_id %q", i, e.ActionID)
			}
			if e.MaxLength < 0 || e.MaxLength > MaxInputLength {
				return bad("block %d: max_length %d (0..%d)", i, e.MaxLength, MaxInputLength)
			}
			if n := utf8.RuneCountInString(e.InitialValue); n > MaxInputLength || (e.MaxLength > 0 && n > e.MaxLength) {
				return bad("block %d: initial_value of %d characters over max_length", i, n)
			}
			if c := checkText(fmt.Sprintf("block %d placeholder", i), e.Placeholder, false, 150); c != "" {
				return bad("%s", c)
			}
			if b.BlockID == "" {
				return bad("block %d: input without block_id (its value could not be read back)", i)
			}
			v.Inputs = append(v.Inputs, Input{BlockID: b.BlockID, ActionID: e.ActionID, Label: b.Label.Text,
				Multiline: e.Multiline, Initial: e.InitialValue, Optional: b.Optional, MaxLength: e.MaxLength})
		case "section", "context", "divider", "header":
		default:
			return bad("block %d: type %q not known to the fake", i, b.Type)
		}
	}
	if len(v.Inputs) > 0 && v.Submit == "" {
		return bad("a view with inputs needs submit")
	}
	return v, nil
}

// wireView is a view as the Web API returns it.
func (s *Server) wireView(v *View) map[string]any {
	var out map[string]any
	_ = json.Unmarshal(v.Raw, &out)
	out["id"] = v.ID
	out["team_id"] = s.opts.TeamID
	out["app_id"] = "A0FAKE"
	out["bot_id"] = s.opts.BotID
	out["hash"] = fmt.Sprintf("%s.%d", v.ID, v.Updates)
	out["state"] = map[string]any{"values": map[string]any{}}
	return out
}

// ViewSubmission is the view_submission payload of the view's user pressing
// submit on view id with the given values (block_id → typed text; inputs not
// named keep their initial value). It is delivered like every interaction
// (Send(EnvelopeInteractive, …) or HTTPSender.InteractionResponse); the
// bot's answer (empty, or {"response_action":"errors",…}) is in the
// interaction's response (HTTP body or Socket Mode ack payload).
func (s *Server) ViewSubmission(viewID string, values map[string]string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var v *View
	for _, x := range s.views {
		if x.ID == viewID {
			v = x
		}
	}
	if v == nil {
		return nil, fmt.Errorf("slacktest: no view %s", viewID)
	}
	state := map[string]any{}
	for _, in := range v.Inputs {
		val, typed := values[in.BlockID]
		if !typed {
			val = in.Initial
		}
		field := map[string]any{"type": "plain_text_input", "value": val}
		if strings.TrimSpace(val) == "" {
			field["value"] = nil // Slack sends null for an empty input
		}
		state[in.BlockID] = map[string]any{in.ActionID: field}
	}
	for k := range values {
		found := false
		for _, in := range v.Inputs {
			found = found || in.BlockID == k
		}
		if !found {
			return nil, fmt.Errorf("slacktest: view %s has no input block %q", viewID, k)
		}
	}
	wv := s.wireView(v)
	wv["state"] = map[string]any{"values": state}
	wv["callback_id"] = v.CallbackID
	wv["private_metadata"] = v.PrivateMetadata
	user := v.User
	team := s.opts.TeamID
	if u, ok := s.users[user]; ok && u.TeamID != "" {
		team = u.TeamID
	}
	b, _ := json.Marshal(map[string]any{
		"type": "view_submission", "token": "fake-verification-token", "api_app_id": "A0FAKE",
		"team":       map[string]any{"id": s.opts.TeamID, "domain": s.opts.TeamDomain},
		"user":       map[string]any{"id": user, "username": user, "name": user, "team_id": team},
		"trigger_id": s.newTriggerLocked(user),
		"view":       wv, "response_urls": []any{}, "is_enterprise_install": false,
	})
	return b, nil
}
