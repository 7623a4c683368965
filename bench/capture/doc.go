// Package capture is the load harness for the capture path (targets in
// docs/performance.md): a load driver that sends bot.EventMessage events
// with synthetic feedback (internal/textgen, near-duplicates included) in
// watched channels through the real engine (store, duplicate index, card
// post to a fake platform that answers at once) at a chosen concurrency or
// rate and reports throughput, latency percentiles and resident memory, a
// bulk seeder of requests and mentions, and the start-up measurement (store
// open, migrations and the duplicate index loaded, as `feedbackbot` does
// before it serves).
//
// `feedbackbot bench capture|seed|startup` runs it.
//
// Allowed imports: bot, bot/dedup, store, internal/textgen, the standard
// library.
package capture
