package discordtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Limits of a modal (interaction callback type 9) and its text inputs,
// from Discord's component reference: custom_id 1-100, title 1-45, 1-5
// action rows of one text input each; a text input's label 1-45, style 1
// (short) or 2 (paragraph), min_length 0-4000, max_length 1-4000, value and
// placeholder at most 4000 and 100 characters.
const (
	MaxModalTitle     = 45
	MaxModalRows      = 5
	MaxTextInputLabel = 45
	MaxTextInputValue = 4000
	MaxPlaceholder    = 100
)

// TextInput is a text input of a modal.
type TextInput struct {
	CustomID  string `json:"custom_id"`
	Label     string `json:"label"`
	Style     int    `json:"style"`
	Value     string `json:"value"`
	Required  *bool  `json:"required"`
	MinLength *int   `json:"min_length"`
	MaxLength *int   `json:"max_length"`
}

// Modal is a modal the bot answered an interaction with.
type Modal struct {
	InteractionID string // the interaction it answered
	CustomID      string
	Title         string
	Inputs        []TextInput
	Raw           json.RawMessage
}

// Modals returns the modals opened so far, in order.
func (s *Server) Modals() []Modal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Modal(nil), s.modals...)
}

// modalCallback answers an interaction with a modal (type 9). Discord allows
// it only for application command and message component interactions, not
// for a modal submit or a ping.
func (s *Server) modalCallback(w http.ResponseWriter, id, token string, body []byte) int {
	var cb struct {
		Type int `json:"type"`
		Data struct {
			CustomID   string `json:"custom_id"`
			Title      string `json:"title"`
			Components []struct {
				Type       int `json:"type"`
				Components []struct {
					Type        int     `json:"type"`
					Placeholder *string `json:"placeholder"`
					TextInput
				} `json:"components"`
			} `json:"components"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &cb); err != nil {
		return s.badBody(w, "modal", []string{err.Error()})
	}
	d := cb.Data
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	if n := len(d.CustomID); n < 1 || n > 100 {
		bad("custom_id of %d characters, want 1-100", n)
	}
	if n := len([]rune(d.Title)); n < 1 || n > MaxModalTitle {
		bad("title of %d characters, want 1-%d", n, MaxModalTitle)
	}
	if n := len(d.Components); n < 1 || n > MaxModalRows {
		bad("%d components, want 1-%d action rows", n, MaxModalRows)
	}
	m := &Modal{InteractionID: id, CustomID: d.CustomID, Title: d.Title, Raw: append(json.RawMessage(nil), body...)}
	ids := map[string]bool{}
	for i, row := range d.Components {
		if row.Type != 1 || len(row.Components) != 1 {
			bad("components[%d]: want an action row (1) with one text input", i)
			continue
		}
		c := row.Components[0]
		at := fmt.Sprintf("components[%d].components[0]", i)
		if c.Type != 4 {
			bad("%s: type %d, want text input 4", at, c.Type)
			continue
		}
		if n := len(c.CustomID); n < 1 || n > 100 || ids[c.CustomID] {
			bad("%s: bad or duplicate custom_id %q", at, c.CustomID)
		}
		ids[c.CustomID] = true
		if n := len([]rune(c.Label)); n < 1 || n > MaxTextInputLabel {
			bad("%s: label of %d characters, want 1-%d", at, n, MaxTextInputLabel)
		}
		if c.Style != 1 && c.Style != 2 {
			bad("%s: style %d, want 1 (short) or 2 (paragraph)", at, c.Style)
		}
		if c.MinLength != nil && (*c.MinLength < 0 || *c.MinLength > MaxTextInputValue) {
			bad("%s: min_length %d", at, *c.MinLength)
		}
		if c.MaxLength != nil && (*c.MaxLength < 1 || *c.MaxLength > MaxTextInputValue) {
			bad("%s: max_length %d", at, *c.MaxLength)
		}
		if n := len([]rune(c.Value)); n > MaxTextInputValue || (c.MaxLength != nil && n > *c.MaxLength) {
			bad("%s: value of %d characters over max_length", at, n)
		}
		if c.Placeholder != nil && len([]rune(*c.Placeholder)) > MaxPlaceholder {
			bad("%s: placeholder over %d characters", at, MaxPlaceholder)
		}
		m.Inputs = append(m.Inputs, c.TextInput)
	}
	if len(errs) > 0 {
		return s.badBody(w, "modal", errs)
	}
	s.mu.Lock()
	in, ok := s.interactions[id]
	if !ok || in.Token != token || time.Since(in.Created) > s.opts.InteractionDeadline {
		if ok {
			s.problem("interaction %s answered after %v (Discord allows %v)", id, time.Since(in.Created).Round(time.Millisecond), s.opts.InteractionDeadline)
		}
		s.mu.Unlock()
		writeJSON(w, 404, apiError{Code: 10062, Message: "Unknown interaction"})
		return 404
	}
	if in.Acked {
		s.problem("interaction %s acknowledged twice", id)
		s.mu.Unlock()
		writeJSON(w, 400, apiError{Code: 40060, Message: "Interaction has already been acknowledged."})
		return 400
	}
	if in.Type != 2 && in.Type != 3 {
		s.problem("interaction %s of type %d answered with a modal (only commands and components may)", id, in.Type)
		s.mu.Unlock()
		writeJSON(w, 400, apiError{Code: 50035, Message: "Invalid Form Body"})
		return 400
	}
	in.Acked = true
	in.Modal = m
	in.Responses = append(in.Responses, InteractionResponse{Kind: "callback", Type: 9, Raw: m.Raw})
	s.modals = append(s.modals, *m)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent
}

// SubmitModal submits the modal that answered interaction id, as the person
// who opened it, with values by text input custom_id (inputs not named keep
// their prefilled value), and dispatches the modal submit interaction (type
// 5). A modal opened from a button carries that button's message. It
// returns the new interaction's id.
func (s *Server) SubmitModal(id string, values map[string]string) (string, error) {
	s.mu.Lock()
	opened, ok := s.interactions[id]
	if !ok || opened.Modal == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("discordtest: interaction %s opened no modal", id)
	}
	mod := opened.Modal
	for k := range values {
		found := false
		for _, in := range mod.Inputs {
			found = found || in.CustomID == k
		}
		if !found {
			s.mu.Unlock()
			return "", fmt.Errorf("discordtest: modal %s has no input %q", mod.CustomID, k)
		}
	}
	var rows []any
	for _, in := range mod.Inputs {
		v, typed := values[in.CustomID]
		if !typed {
			v = in.Value
		}
		if in.Required == nil || *in.Required {
			if v == "" {
				s.mu.Unlock()
				return "", fmt.Errorf("discordtest: input %q is required (Discord does not submit the modal)", in.CustomID)
			}
		}
		if in.MaxLength != nil && len([]rune(v)) > *in.MaxLength {
			s.mu.Unlock()
			return "", fmt.Errorf("discordtest: input %q longer than max_length (Discord does not submit the modal)", in.CustomID)
		}
		rows = append(rows, map[string]any{"type": 1, "components": []any{
			map[string]any{"type": 4, "custom_id": in.CustomID, "value": v},
		}})
	}
	data := map[string]any{"custom_id": mod.CustomID, "components": rows}
	p, in, err := s.newInteractionLocked(5, opened.ChannelID, opened.Who, data, opened.Message)
	if in != nil {
		in.Data = data
	}
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	s.Dispatch("INTERACTION_CREATE", p)
	return in.ID, nil
}

// lastSubmitData returns the data of a modal submit interaction.
func (s *Server) lastSubmitData(id string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in, ok := s.interactions[id]; ok {
		return in.Data
	}
	return nil
}
