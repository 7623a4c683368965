// Package migrations holds feedbackbot's SQL schema as goose migrations, one
// directory per dialect (postgres/ and sqlite/) with matching file names, and
// embeds them into the binary. store applies them at start and for
// `feedbackbot migrate`.
//
// Allowed imports: the standard library only.
package migrations
