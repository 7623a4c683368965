package slacktest

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// MethodSpec is what the fake checks about one Web API method.
type MethodSpec struct {
	// Required parameters (besides the token).
	Required []string
	// Known parameters; any other parameter is reported as a violation.
	// Empty means "do not check".
	Known []string
}

// DefaultMethods is the hand-written table of the methods feedbackbot calls,
// taken from specs/slack/slack_web_openapi_v2.json (2021 snapshot) and
// tightened where the spec leaves everything optional (conversations.* need a
// channel). Parameters newer than the spec that slack-go sends are listed in
// Known too (include_all_metadata); apps.connections.open is newer than the
// spec altogether.
var DefaultMethods = map[string]MethodSpec{
	"auth.test":             {},
	"apps.connections.open": {},
	"chat.postMessage": {
		Required: []string{"channel"},
		Known:    []string{"as_user", "attachments", "blocks", "channel", "icon_emoji", "icon_url", "link_names", "mrkdwn", "parse", "reply_broadcast", "text", "thread_ts", "unfurl_links", "unfurl_media", "username"},
	},
	"chat.update": {
		Required: []string{"channel", "ts"},
		Known:    []string{"as_user", "attachments", "blocks", "channel", "link_names", "parse", "text", "ts"},
	},
	"chat.postEphemeral": {
		Required: []string{"channel", "user"},
		Known:    []string{"as_user", "attachments", "blocks", "channel", "icon_emoji", "icon_url", "link_names", "parse", "text", "thread_ts", "user", "username"},
	},
	"chat.getPermalink": {
		Required: []string{"channel", "message_ts"},
		Known:    []string{"channel", "message_ts"},
	},
	"users.info": {
		Required: []string{"user"},
		Known:    []string{"include_locale", "user"},
	},
	"usergroups.users.list": {
		Required: []string{"usergroup"},
		Known:    []string{"include_disabled", "usergroup", "team_id"},
	},
	"conversations.history": {
		Required: []string{"channel"},
		Known:    []string{"channel", "latest", "oldest", "inclusive", "limit", "cursor", "include_all_metadata"},
	},
	"conversations.info": {
		Required: []string{"channel"},
		Known:    []string{"channel", "include_locale", "include_num_members"},
	},
	"conversations.replies": {
		Required: []string{"channel", "ts"},
		Known:    []string{"channel", "ts", "latest", "oldest", "inclusive", "limit", "cursor", "include_all_metadata"},
	},
	"views.open": {
		Required: []string{"trigger_id", "view"},
		Known:    []string{"trigger_id", "view"},
	},
	"chat.unfurl": {
		Required: []string{"channel", "ts", "unfurls"},
		Known:    []string{"channel", "ts", "unfurls", "user_auth_message", "user_auth_required", "user_auth_url"},
	},
	"views.publish": {
		Required: []string{"user_id", "view"},
		Known:    []string{"user_id", "view", "hash"},
	},
	"views.update": {
		Required: []string{"view"},
		Known:    []string{"view_id", "external_id", "view", "hash"},
	},
	"reactions.add": {
		Required: []string{"channel", "name", "timestamp"},
		Known:    []string{"channel", "name", "timestamp"},
	},
}

// LoadSpec reads Slack's OpenAPI 2.0 Web API spec (slack_web_openapi_v2.json)
// and returns every method it lists with its required and known parameters
// (the token parameter left out). Methods and parameters that DefaultMethods
// adds for features newer than the spec are merged in.
func LoadSpec(path string) (map[string]MethodSpec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name     string `json:"name"`
				In       string `json:"in"`
				Required bool   `json:"required"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	out := make(map[string]MethodSpec, len(doc.Paths))
	for p, ops := range doc.Paths {
		var ms MethodSpec
		for _, op := range ops {
			for _, prm := range op.Parameters {
				if prm.Name == "token" {
					continue
				}
				if !slices.Contains(ms.Known, prm.Name) {
					ms.Known = append(ms.Known, prm.Name)
				}
				if prm.Required && !slices.Contains(ms.Required, prm.Name) {
					ms.Required = append(ms.Required, prm.Name)
				}
			}
		}
		out[strings.TrimPrefix(p, "/")] = ms
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s lists no methods", path)
	}
	for name, def := range DefaultMethods {
		ms, ok := out[name]
		if !ok {
			out[name] = def
			continue
		}
		for _, k := range def.Known {
			if len(ms.Known) > 0 && !slices.Contains(ms.Known, k) {
				ms.Known = append(ms.Known, k)
			}
		}
		for _, r := range def.Required {
			if !slices.Contains(ms.Required, r) {
				ms.Required = append(ms.Required, r)
			}
		}
		out[name] = ms
	}
	return out, nil
}
