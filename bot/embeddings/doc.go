// Package embeddings adds optional semantic scoring to the duplicate check:
// a client for any OpenAI-compatible /v1/embeddings endpoint (hosted APIs,
// Ollama, vLLM, llama.cpp server) and Hybrid, a bot.Scorer that re-ranks
// the lexical index's best candidates with the cosine similarity of their
// embeddings. It is off unless the bot is configured with an endpoint.
//
// Hybrid caches vectors by request id and a hash of the request's text
// (VectorCache: in memory, or in the store with store.DB.VectorCache), so a
// request is embedded once and again only after an edit. When the provider
// fails (HTTP error, timeout, malformed answer) Hybrid returns the lexical
// candidates and scores unchanged and logs the failure once per burst; the
// caller never sees an error from the provider.
//
// Allowed imports: bot, bot/dedup and the standard library.
package embeddings
