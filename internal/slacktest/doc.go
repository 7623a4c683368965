// Package slacktest is a fake Slack for tests and benchmarks: an httptest
// server speaking the Web API methods feedbackbot calls (each call's method
// name and required parameters validated against a method table taken from
// Slack's OpenAPI spec), a response_url endpoint, a Socket Mode websocket
// that sends envelopes and records acks, rate limiting (429 + Retry-After) on
// demand, payload builders for events, slash commands and interactions, and
// an HTTPSender that signs HTTP-mode requests as Slack does.
//
// It only listens on 127.0.0.1. Allowed imports: the standard library,
// github.com/slack-go/slack and github.com/gorilla/websocket.
package slacktest
