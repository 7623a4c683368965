package slacktest

import (
	"encoding/json"
	"net/url"
	"strings"
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

// Unfurl is one chat.unfurl call: the previews by URL.
type Unfurl struct {
	Channel, TS string
	Unfurls     map[string]map[string]any
}

// Unfurls returns the chat.unfurl calls, oldest first.
func (s *Server) Unfurls() []Unfurl {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Unfurl(nil), s.unfurls...)
}

func (s *Server) chatUnfurl(p url.Values) (map[string]any, *apiError) {
	var u map[string]map[string]any
	if err := json.Unmarshal([]byte(p.Get("unfurls")), &u); err != nil || len(u) == 0 {
		s.violate("chat.unfurl: unfurls is not a JSON object of previews: %q", p.Get("unfurls"))
		return nil, &apiError{code: "invalid_unfurls"}
	}
	s.unfurls = append(s.unfurls, Unfurl{Channel: p.Get("channel"), TS: p.Get("ts"), Unfurls: u})
	return map[string]any{}, nil
}

// LinkSharedEvent is the link_shared event of user posting urls in message
// ts of channel.
func (s *Server) LinkSharedEvent(user, channel, ts string, urls ...string) []byte {
	var links []map[string]any
	for _, u := range urls {
		host := u
		if i := strings.Index(u, "://"); i >= 0 {
			host = u[i+3:]
		}
		if i := strings.IndexByte(host, '/'); i >= 0 {
			host = host[:i]
		}
		links = append(links, map[string]any{"domain": host, "url": u})
	}
	return s.eventCallback(map[string]any{"type": "link_shared", "user": user, "channel": channel, "message_ts": ts, "links": links, "event_ts": ts})
}
