package slacktest

import (
	"encoding/json"
	"net/url"
)

// HomeView is a home tab the bot published (views.publish).
type HomeView struct {
	User   string
	Blocks []map[string]any
	Raw    json.RawMessage
}

// Homes returns the published home tabs, oldest first.
func (s *Server) Homes() []HomeView {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]HomeView(nil), s.homes...)
}

// viewsPublish checks a home tab as Slack does: a view of type "home" with
// at most 100 blocks, each with a type; section text at most 3000
// characters; header text plain_text of at most 150.
func (s *Server) viewsPublish(p url.Values) (map[string]any, *apiError) {
	var v struct {
		Type   string           `json:"type"`
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal([]byte(p.Get("view")), &v); err != nil {
		s.violate("views.publish: view is not JSON: %v", err)
		return nil, &apiError{code: "invalid_arguments"}
	}
	if v.Type != "home" {
		s.violate("views.publish: view type %q, want home", v.Type)
		return nil, &apiError{code: "invalid_arguments"}
	}
	if len(v.Blocks) == 0 || len(v.Blocks) > MaxViewBlocks {
		s.violate("views.publish: %d blocks", len(v.Blocks))
		return nil, &apiError{code: "invalid_blocks"}
	}
	for _, b := range v.Blocks {
		typ, _ := b["type"].(string)
		text, _ := b["text"].(map[string]any)
		t, _ := text["text"].(string)
		switch typ {
		case "section":
			if len([]rune(t)) == 0 || len([]rune(t)) > 3000 {
				s.violate("views.publish: section text of %d characters", len([]rune(t)))
				return nil, &apiError{code: "invalid_blocks"}
			}
		case "header":
			if text["type"] != "plain_text" || len([]rune(t)) > 150 {
				s.violate("views.publish: header %v", text)
				return nil, &apiError{code: "invalid_blocks"}
			}
		case "divider", "context", "actions":
		default:
			s.violate("views.publish: block type %q", typ)
			return nil, &apiError{code: "invalid_blocks"}
		}
	}
	s.homes = append(s.homes, HomeView{User: p.Get("user_id"), Blocks: v.Blocks, Raw: json.RawMessage(p.Get("view"))})
	return map[string]any{"view": map[string]any{"id": "VHOME", "type": "home"}}, nil
}

// AppHomeOpenedEvent is the app_home_opened event of user opening the
// bot's tab ("home" or "messages").
func (s *Server) AppHomeOpenedEvent(user, tab string) []byte {
	s.mu.Lock()
	ts := s.nextTSLocked()
	s.mu.Unlock()
	return s.eventCallback(map[string]any{"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": tab, "event_ts": ts})
}
