// Package bot holds feedbackbot's domain: requests, mentions, voters, merges,
// suggestions, release events and deliveries; the error codes; the interfaces
// it consumes (Store, Scorer, Platform, CommandRunner); and the Engine that
// turns platform-neutral Events into state changes and replies.
//
// Allowed imports: the standard library only. Adapters (bot/slack,
// bot/discord, bot/console), the web board (bot/web), the duplicate index
// (bot/dedup), commands and store import bot, never the other way round.
package bot
