// Package discord is feedbackbot's Discord adapter. It connects to the
// Discord gateway through github.com/bwmarrin/discordgo, registers the
// /feedback slash command and the "Send to feedback board" message command,
// translates gateway events and interactions into platform-neutral
// *bot.Event values for a Handler, answers interactions, and implements
// bot.Platform (plus bot.Pacer, bot.Throttle, bot.Reactor, bot.LinkFetcher
// and bot.ChannelNamer) to post and edit messages, in threads or as replies
// to the original message. Posts that carry an idempotency key are sent
// with a message nonce and enforce_nonce, so Discord de-duplicates them.
//
// discordgo is hidden behind the small unexported discordAPI interface so
// that the translation can be unit-tested; end-to-end tests run the real
// discordgo client against the fake Discord in internal/discordtest.
//
// Allowed imports: bot, discordgo, gorilla/websocket (discordgo's, and the
// gateway dialer's read deadlines),
// golang.org/x/time/rate, internal/lru and the standard library. It never imports another
// adapter, commands or store (its end-to-end tests do, to run the real
// engine against the fake Discord).
package discord
