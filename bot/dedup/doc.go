// Package dedup is the duplicate index: pure normalisation, tokenisation and
// similarity over requests, with no I/O. *Index implements bot.Scorer.
//
// Allowed imports: bot, the standard library, golang.org/x/text (Unicode
// normalisation) and github.com/kljensen/snowball (stemming).
//
// # Text
//
// StripMarkup removes Slack and Discord markup (user, role and channel ids,
// custom emoji, shortcodes, timestamps, code fences) but keeps link labels,
// URLs, channel names and code. Fold applies NFKC, strips accents and folds
// case. Tokenize keeps versions whole (v2.4 and 2.4 are the same token;
// 1.2.3 also yields 1.2), turns URLs into host/path tokens, and yields both
// the whole identifier and its parts for camelCase, snake_case, dotted and
// hyphenated names. Analyze drops stop words (the Snowball list,
// contractions and chat filler such as "hi" and "thanks") and stems words
// with the Snowball English stemmer.
//
// # Scoring
//
// A request has three fields: title, description and extra (mention
// texts). The score of a request for a query is BM25F (per-field length
// normalisation, title weighted 8, description 1, extra 0.5, k1 1.2) over
// the query's terms, where the query's first line (the new request's title)
// counts twice, plus evidence for pairs of adjacent query words that are
// adjacent in the request (weight 0.5 of a word of the same rarity).
// Similar's first pass reads the postings of the rarest query terms (at most
// Config.MaxPostings in all) with precomputed impacts, keeps the best
// Config.RerankDepth requests, and scores those exactly.
//
// The score in [0,1] has a fixed meaning: qcov^0.7 x dcov^0.3, where qcov is
// the BM25F score divided by the query's score against itself (1 for an
// identical text) and dcov the idf-weighted share of the request's terms
// that the query contains. A request equal to the query scores about 1;
// one sharing nothing scores 0; the same score means about the same
// overlap whatever the texts' lengths, so one threshold serves all.
// Callers should pass title + "\n" + description as the query text.
//
// # Tuning
//
// The few parameters of DefaultConfig were chosen on the development data
// only (SemEval-2016 task 3 B dev, GitBugs SeaMonkey and Hadoop train
// map), preferring round values on plateaus; run
//
//	feedbackbot dedup eval --corpus FILE --queries FILE --baseline bm25
//
// to measure a change. Dev figures with DefaultConfig:
//
//	data        ours                     plain BM25 (same run)
//	SemEval     MAP 71.88 (order 71.35)  MAP 69.63
//	SeaMonkey   R@5 80.00, MRR 61.73     R@5 65.78, MRR 48.85
//	Hadoop      R@5 80.00, MRR 66.49     R@5 72.00, MRR 56.65
//
// DefaultSuggestThreshold and DefaultAutoMergeThreshold document the
// precision and recall behind the thresholds.
package dedup
