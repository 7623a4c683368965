package store

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/feedbackbot/feedbackbot/bot"

	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// TestBatchPlansUseKeys: the generic plans of the batch statements, made
// on a board of a few dozen requests (where reading a whole table costs
// less than a few index lookups), find every row of the board's tables
// through an index condition: no sequential scan, no full index scan
// (hashed, or materialised for a nested loop), which each batch would
// repeat as the board grows. The cards' statement once read all
// suggestions in every batch that pointed one at its card, and all
// requests in every batch with a card other than a new one. The
// suggestions' batch statement finds each call's requests through their
// keys too.
func TestBatchPlansUseKeys(t *testing.T) {
	s := openForTest(t, storetest.PostgresDSN(t))
	ctx := context.Background()
	var ids, sugg []int64
	for k := range 5 {
		var cs []newCapture
		for i := range 8 {
			cs = append(cs, capture(fmt.Sprintf("plan%d-%d", k, i), "u"))
		}
		b := batchOf(cs...)
		s.createRequests(ctx, b)
		for _, it := range b {
			if it.err != nil {
				t.Fatal(it.err)
			}
			ids = append(ids, it.in.r.ID)
		}
	}
	for i := 1; i < len(ids); i += 4 {
		sg := &bot.Suggestion{RequestID: ids[i], Platform: "slack", Workspace: "T1", Channel: "C1", ThreadID: "t"}
		if _, err := s.CreateSuggestionFrom(ctx, sg, []bot.Candidate{{RequestID: ids[i-1], Score: 0.5}}, 3); err != nil || sg.ID == 0 {
			t.Fatalf("suggestion: %v (id %d)", err, sg.ID)
		}
		sugg = append(sugg, sg.ID)
	}
	// Voters and identities of several people (the captures above are all
	// by one author, for whom every index on voters' person reads all).
	var others []newCapture
	for i := range 16 {
		others = append(others, capture(fmt.Sprintf("plan-p%d", i), fmt.Sprintf("p%d", i)))
	}
	s.createRequests(ctx, batchOf(others...))
	for i := range 8 {
		if _, err := s.SetIdentityEmail(ctx, bot.Identity{Platform: bot.PlatformAPI, Workspace: "s", UserID: fmt.Sprintf("p%d@ex.com", i)}, "", fmt.Sprintf("p%d@ex.com", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.db.Exec(`ANALYZE`); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	cards := []*groupItem[cardSave]{
		{in: cardSave{requestID: ids[1], ref: cardRef("plan-c1"), at: now, shown: "h", withShown: true, suggestion: sugg[0], out: &newCard{}}},
		{in: cardSave{requestID: ids[2], ref: cardRef("plan-c2"), at: now, shown: "h", withShown: true, out: &newCard{}}},
		{in: cardSave{requestID: ids[3], ref: cardRef("plan-c3"), at: now, shown: "h", withShown: true}},
		{in: cardSave{requestID: ids[4], ref: cardRef("plan-c4"), at: now}},
	}
	a := newPGArrays(2, 64)
	a.Int(2, func(i int) int64 { return ids[i+5] })
	a.Float(2, func(i int) float64 { return 0.5 })
	found := a.Args()
	var idx []struct {
		Index string `db:"indexname"`
		Table string `db:"tablename"`
		Def   string `db:"indexdef"`
	}
	if err := s.db.Select(&idx, `SELECT indexname, tablename, indexdef FROM pg_indexes WHERE schemaname = current_schema()`); err != nil {
		t.Fatal(err)
	}
	index, lead := map[string]string{}, map[string]string{}
	for _, x := range idx {
		index[x.Index] = x.Table
		if m := leadingColumn.FindStringSubmatch(x.Def); m != nil {
			lead[x.Index] = m[1]
		}
	}
	for _, q := range []struct {
		name, sql string
		args      []any
	}{
		{"captures", createRequestsPostgresSQL, createArgs(batchOf(capture("plan-new1", "u"), capture("plan-new2", "v")))},
		{"cards", saveCardsPostgresSQL, cardArgs(cards)},
		{"email identities", newEmailIdentitiesSQL, newEmailIdentityArgs(emailBatch(s, []emailCall{
			{bot.Identity{Platform: bot.PlatformAPI, Workspace: "s", UserID: "n1@ex.com"}, "", "n1@ex.com"},
			{bot.Identity{Platform: bot.PlatformSlack, Workspace: "T1", UserID: "U1"}, "N", "n2@ex.com"}}))},
		{"suggestion", createSuggestionFromSQL, []any{ids[9], "slack", "T1", "C1", "", "t", now, found[0], found[1], 3}},
		{"suggestions", createSuggestionsSQL, suggestionsArgs([]*groupItem[suggestionFrom]{
			{in: suggestionFrom{sg: bot.Suggestion{RequestID: ids[9], Platform: "slack", Workspace: "T1", Channel: "C1", ThreadID: "t"},
				found: []bot.Candidate{{RequestID: ids[5], Score: 0.5}, {RequestID: ids[6], Score: 0.4}}, max: 3, at: now}},
			{in: suggestionFrom{sg: bot.Suggestion{RequestID: ids[10], Platform: "slack", Workspace: "T1", Channel: "C1", ThreadID: "u"},
				found: []bot.Candidate{{RequestID: ids[7], Score: 0.5}}, max: 3, at: now}},
		})},
	} {
		plan := genericPlan(t, s, q.sql, q.args...)
		if bad := fullScans(plan, index, lead, q.name == "email identities"); len(bad) > 0 {
			t.Errorf("%s: the generic plan reads %s without a key:\n%s", q.name, strings.Join(bad, ", "), plan)
		}
	}
}

// boardTables are the tables that grow with the board.
var boardTables = map[string]bool{"requests": true, "mentions": true, "voters": true, "suggestions": true, "suggestion_candidates": true, "cards": true}

// peopleTables are the people tables, which grow with the authors: the
// new identities' statement reads them through keys too.
var peopleTables = map[string]bool{"identities": true, "persons": true}

// leadingColumn is the first column of an index (pg_indexes.indexdef).
var leadingColumn = regexp.MustCompile(`USING \w+ \((\w+)`)

// scanNode is a plan line that reads a table (EXPLAIN's text format).
var scanNode = regexp.MustCompile(`^(Seq Scan|Index Scan|Index Only Scan|Bitmap Index Scan|Tid Scan|Tid Range Scan)(?: Backward)?(?: using (\S+))? on (\w+)`)

// fullScans lists the scans of board tables in plan that have no index
// condition on the index's leading column (lead: an index's first column),
// which reads the whole index (a node's details are the lines up to the
// next node); index maps an index to its table (a bitmap index scan names
// the index); with people, scans of the people tables count too.
func fullScans(plan string, index, lead map[string]string, people bool) []string {
	var bad []string
	lines := strings.Split(plan, "\n")
	for i, l := range lines {
		node := strings.TrimPrefix(strings.TrimSpace(l), "->  ")
		m := scanNode.FindStringSubmatch(node)
		if m == nil {
			continue
		}
		table, ix := m[3], m[2]
		if m[1] == "Bitmap Index Scan" {
			table, ix = index[m[3]], m[3]
		}
		keyed := false
		for _, d := range lines[i+1:] {
			d = strings.TrimSpace(d)
			if strings.HasPrefix(d, "->") {
				break
			}
			if strings.HasPrefix(d, "Index Cond:") && (lead[ix] == "" || strings.Contains(d, "("+lead[ix]+" ")) || strings.HasPrefix(d, "TID Cond:") {
				keyed = true
			}
		}
		if (boardTables[table] || people && peopleTables[table]) && (m[1] == "Seq Scan" || !keyed) {
			bad = append(bad, node)
		}
	}
	return bad
}

// genericPlan returns the generic plan of query as the batch pool makes it
// (its settings), through PREPARE and EXPLAIN EXECUTE on one of its
// connections, for args.
func genericPlan(t *testing.T, s *DB, query string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	conn, err := s.gen.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PREPARE plan_probe AS `+query); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, `DEALLOCATE plan_probe`)
	// EXECUTE under EXPLAIN takes no bind parameters: literals.
	ps := make([]string, len(args))
	for i, a := range args {
		switch a := a.(type) {
		case string:
			ps[i] = pq.QuoteLiteral(a)
		case time.Time:
			ps[i] = pq.QuoteLiteral(a.Format(time.RFC3339Nano))
		default:
			ps[i] = pq.QuoteLiteral(fmt.Sprint(a))
		}
	}
	var lines []string
	if err := conn.SelectContext(ctx, &lines, `EXPLAIN (COSTS OFF) EXECUTE plan_probe(`+strings.Join(ps, ", ")+`)`); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
