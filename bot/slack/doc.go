// Package slack is feedbackbot's Slack adapter. It turns Slack events, slash
// commands, message shortcuts and button clicks into platform-neutral
// *bot.Event values for a Handler, sends the Handler's answer back only to the
// person who caused the event (ephemeral message or response_url), and
// implements bot.Platform, bot.Reactor, bot.Pacer and bot.Throttle so the
// engine can post request cards, duplicate suggestions and release replies.
//
// Two connection modes: Socket Mode (Config.AppToken set) and the HTTP Events
// API, interactivity and slash-command endpoints mounted with Routes (requests
// verified with Config.SigningSecret). Roles (team member, release lead) are
// resolved here from users.info and user groups on every event.
//
// The slack-go SDK is hidden behind the small slackAPI interface.
//
// Allowed imports: the standard library, bot, internal/lru and
// github.com/slack-go/slack.
// Package internal/slacktest is a fake Slack for tests and benchmarks.
package slack
