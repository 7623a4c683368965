// Package bot holds feedbackbot's domain: requests, mentions, voters, merges,
// suggestions, release events and deliveries; the error codes; the interfaces
// it consumes (Store, Scorer, Platform, CommandRunner); and the Engine, whose
// methods are the board's use cases.
//
// Every state-changing use case is a method
//
//	func (e *Engine) X(ctx context.Context, a Actor, in XInput) (*XResult, error)
//
// that checks a's roles, changes state and returns what changed. Chat
// adapters call Engine.Handle with platform-neutral Events, which it turns
// into use-case calls (commands does so for /feedback); bot/web and the
// webhooks call the use cases directly with their own Actor.
//
// Files by concern: capture.go (capture paths, link), votes.go, merges.go,
// statuses.go, channels.go, releases.go and announce.go, suggestions.go,
// deliveries.go (the Outbox), index.go (the duplicate index), query.go
// (reads), and text.go, the presenter that holds every sentence the engine
// says. docs/architecture.md walks through them.
//
// Allowed imports: the standard library only. Adapters (bot/slack,
// bot/discord, bot/console), the web board (bot/web), the duplicate index
// (bot/dedup), commands and store import bot, never the other way round.
package bot
