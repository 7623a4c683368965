package store

import (
	"context"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// TestLinkByEmailUsesIndex: on SQLite the lookup of the person an email
// address joins searches identities through identities_email_idx instead
// of reading them all (what every new API author that is an email address
// ran; the partial index is only usable when the statement says the
// address is not empty).
func TestLinkByEmailUsesIndex(t *testing.T) {
	s := openForTest(t, storetest.SQLiteDSN(t))
	rows, err := s.db.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+linkByEmailSQL, "a@example.com", true, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(plan, "; ")
	if !strings.Contains(all, "USING INDEX identities_email_idx") || strings.Contains(all, "SCAN identities") {
		t.Errorf("plan %q: want a search of identities_email_idx", all)
	}
}
