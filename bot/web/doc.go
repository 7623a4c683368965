// Package web serves feedbackbot over HTTP: the board (server-rendered
// html/template pages with embedded CSS, no JavaScript needed), the JSON API
// under /api/v1 with its OpenAPI document, the release webhook, and the
// operations endpoints /metrics, /healthz and /readyz.
//
// Chat text is untrusted: every page is rendered with html/template, so a
// mention containing markup is shown as text. The API token is compared in
// constant time and never written to logs, URLs or pages; a private board is
// opened with the token through an Authorization header or a login form that
// sets an HttpOnly cookie holding an HMAC of the token.
//
// Allowed imports: bot, the standard library and the Prometheus client.
package web
