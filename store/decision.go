package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
)

var _ bot.DecisionSource = (*DB)(nil)

// decisionRow is one row of the three decision queries.
type decisionRow struct {
	At   time.Time `db:"at"`
	ID   int64     `db:"id"`
	A    int64     `db:"a"`
	B    int64     `db:"b"`
	Kind string    `db:"kind"`
	Text string    `db:"text"`
	Rank int       `db:"rank"`
}

// DecisionsSince returns the team's decisions made at or after since,
// oldest first, at most limit (the newest limit when more were made):
//
//   - a merge (by hand, from a suggestion or an auto-merge) of src into dst:
//     Key "merge:src:dst", A src, B dst, Same;
//   - an unmerge: the same Key with Undo;
//   - a dismissed suggestion: one decision per candidate, Key
//     "dismiss:suggestion:candidate", A the suggested request, B the
//     candidate;
//   - a further mention of a request that someone attached to it (any but
//     its first, not deleted, not a reply in a captured thread, which is
//     conversation rather than a restatement): Key "mention:id", B the
//     request, Text the mention's text, Same.
//
// The keys are the ones the engine uses when it tells its own index, so a
// replica that reads a decision it already learned changes nothing.
func (s *DB) DecisionsSince(ctx context.Context, since time.Time, limit int) ([]bot.Decision, error) {
	if limit <= 0 {
		return nil, nil
	}
	since = since.UTC()
	queries := []string{
		`SELECT created_at AS at, id, src_id AS a, dst_id AS b, action AS kind, '' AS text, 0 AS rank
		FROM merges WHERE created_at >= ? ORDER BY created_at DESC, id DESC LIMIT ?`,
		`SELECT s.decided_at AS at, s.id, s.request_id AS a, c.request_id AS b, 'dismiss' AS kind, '' AS text, c.rank
		FROM suggestions s JOIN suggestion_candidates c ON c.suggestion_id = s.id
		WHERE s.state = 'dismissed' AND s.decided_at >= ? ORDER BY s.decided_at DESC, s.id DESC, c.rank DESC LIMIT ?`,
		`SELECT m.created_at AS at, m.id, 0 AS a, m.request_id AS b, 'mention' AS kind, m.text, 0 AS rank
		FROM mentions m
		WHERE m.created_at >= ? AND NOT m.deleted AND m.text <> '' AND m.via <> 'thread'
		  AND m.id > (SELECT MIN(f.id) FROM mentions f WHERE f.request_id = m.request_id)
		ORDER BY m.created_at DESC, m.id DESC LIMIT ?`,
	}
	var rows []decisionRow
	for _, q := range queries {
		var part []decisionRow
		if err := s.selectAll(ctx, &part, q, since, limit); err != nil {
			return nil, fmt.Errorf("decisions since %s: %w", since.Format(time.RFC3339), err)
		}
		rows = append(rows, part...)
	}
	// Oldest first; within one instant merges before unmerges before the
	// rest, then by id and candidate rank.
	rank := map[string]int{mergeActionMerge: 0, mergeActionUnmerge: 1, "dismiss": 2, "mention": 3}
	slices.SortStableFunc(rows, func(x, y decisionRow) int {
		if c := x.At.Compare(y.At); c != 0 {
			return c
		}
		if c := cmp.Compare(rank[x.Kind], rank[y.Kind]); c != 0 {
			return c
		}
		if c := cmp.Compare(x.ID, y.ID); c != 0 {
			return c
		}
		return cmp.Compare(x.Rank, y.Rank)
	})
	if len(rows) > limit {
		rows = rows[len(rows)-limit:]
	}
	out := make([]bot.Decision, 0, len(rows))
	for _, r := range rows {
		switch r.Kind {
		case mergeActionMerge, mergeActionUnmerge:
			out = append(out, bot.Decision{Key: bot.MergeDecisionKey(r.A, r.B), A: r.A, B: r.B, Same: true, Undo: r.Kind == mergeActionUnmerge})
		case "dismiss":
			out = append(out, bot.Decision{Key: bot.DismissDecisionKey(r.ID, r.B), A: r.A, B: r.B})
		case "mention":
			out = append(out, bot.Decision{Key: bot.MentionDecisionKey(r.ID), B: r.B, Text: r.Text, Same: true})
		}
	}
	return out, nil
}
