// Package eval implements `feedbackbot dedup eval`: it builds the duplicate
// index of package dedup with dedup.DefaultConfig (the configuration the bot
// uses) over a labelled corpus, ranks each query's candidates, and prints
// the ranking metrics, precision and recall at score thresholds, and
// optionally a baseline measured in the same run.
//
// Input files are JSON Lines. Corpus lines are {"id","title","body"}
// (title is the request title, body its description). Query lines are
// {"id","candidates","positives"}: the query's text is its own corpus
// entry (title, a newline, body); a non-empty candidates list is re-ranked
// (SemEval-2016 task 3 B), an empty one means every corpus document except
// the query (retrieval, GitBugs).
//
// Metrics (percentages): MAP and MRR follow the SemEval scorer ev.py (AP is
// the mean of the precisions at the ranks of the positives found; a query
// without positives counts as AP 0, RR 0); P@k is the fraction of the top k
// that is positive; R@k = |positives in top k| / |positives| (0 for a query
// without positives). Ranks are over the candidates for re-ranking and over
// the full ranking of the corpus for retrieval.
//
// Allowed imports: bot, bot/dedup and the standard library. It does no I/O
// besides reading the files it is given and writing to the given writers.
package eval
