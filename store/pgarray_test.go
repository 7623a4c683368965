package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// oddTexts are text elements that need quoting or escaping in an array
// literal, or that pq.Array and a careless encoder could tell apart.
var oddTexts = []string{
	"", " ", "plain", `"`, `""`, `\`, `\\`, `\"`, `a"b\c`, "{", "}", "{a,b}", ",", "a,b", "NULL", "null",
	"'single'", "tab\tnew\nline\r", "  padded  ", "ünïcödé ✓ 日本語 🎉", "\u200b\ufeff", "x\x00y", "\x00",
	strings.Repeat(`long "text" \ with {braces}, `, 2000),
}

// pgArrays writes what pq.Array writes, NUL characters left out (as the
// connection would remove them).
func TestPGArraysAsPQArray(t *testing.T) {
	a := newPGArrays(6, 0)
	a.Text(len(oddTexts), func(i int) string { return oddTexts[i] })
	ints := []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 42}
	a.Int(len(ints), func(i int) int64 { return ints[i] })
	floats := []float64{0, 1, -1, 0.1, 1.0 / 3, 1e-300, 1e300, 0.9999999999999999, math.SmallestNonzeroFloat64}
	a.Float(len(floats), func(i int) float64 { return floats[i] })
	bools := []bool{true, false, true}
	a.Bool(len(bools), func(i int) bool { return bools[i] })
	loc := time.FixedZone("x", 5*3600+1800)
	times := []time.Time{time.Date(2026, 12, 2, 1, 6, 6, 123456789, time.UTC), time.Date(1999, 1, 2, 3, 4, 5, 0, loc), time.Date(2026, 1, 1, 0, 0, 0, 1000, time.UTC)}
	a.Time(len(times), func(i int) time.Time { return times[i] })
	a.Text(0, func(int) string { return "never" })
	got := a.Args()

	stamps := make([]string, len(times))
	for i, tm := range times {
		stamps[i] = tm.UTC().Format(time.RFC3339Nano)
	}
	for i, want := range []any{pq.Array(oddTexts), pq.Array(ints), pq.Array(floats), pq.Array(bools), pq.Array(stamps), pq.Array([]string{})} {
		v, err := want.(driver.Valuer).Value()
		if err != nil {
			t.Fatal(err)
		}
		if w := strings.ReplaceAll(v.(string), "\x00", ""); got[i] != w {
			t.Errorf("column %d:\n got %.200q\nwant %.200q", i, got[i], w)
		}
	}
}

// The literals read back as the values on PostgreSQL.
func TestPGArraysRoundTrip(t *testing.T) {
	s, err := Open(context.Background(), storetest.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	a := newPGArrays(5, 0)
	a.Text(len(oddTexts), func(i int) string { return oddTexts[i] })
	ints := []int64{0, -1, math.MaxInt64, math.MinInt64}
	a.Int(len(ints), func(i int) int64 { return ints[i] })
	floats := []float64{0, -1.5, 0.1, 1.0 / 3, 1e-300, 1e300, math.SmallestNonzeroFloat64}
	a.Float(len(floats), func(i int) float64 { return floats[i] })
	bools := []bool{true, false}
	a.Bool(len(bools), func(i int) bool { return bools[i] })
	times := []time.Time{time.Date(2026, 12, 2, 1, 6, 6, 123456000, time.UTC), time.Date(1999, 1, 2, 3, 4, 5, 0, time.FixedZone("x", -7*3600))}
	a.Time(len(times), func(i int) time.Time { return times[i] })
	args := a.Args()

	var texts pq.StringArray
	var gotInts pq.Int64Array
	var gotFloats pq.Float64Array
	var gotBools pq.BoolArray
	if err := s.db.QueryRowContext(ctx, `SELECT $1::text[], $2::bigint[], $3::float8[], $4::bool[]`, args[0], args[1], args[2], args[3]).
		Scan(&texts, &gotInts, &gotFloats, &gotBools); err != nil {
		t.Fatal(err)
	}
	if len(texts) != len(oddTexts) {
		t.Fatalf("%d texts, want %d", len(texts), len(oddTexts))
	}
	for i, want := range oddTexts {
		if want = strings.ReplaceAll(want, "\x00", ""); texts[i] != want {
			t.Errorf("text %d: got %.200q, want %.200q", i, texts[i], want)
		}
	}
	for i := range ints {
		if gotInts[i] != ints[i] {
			t.Errorf("int %d: got %d, want %d", i, gotInts[i], ints[i])
		}
	}
	for i := range floats {
		if gotFloats[i] != floats[i] {
			t.Errorf("float %d: got %v, want %v", i, gotFloats[i], floats[i])
		}
	}
	if len(gotBools) != 2 || !gotBools[0] || gotBools[1] {
		t.Errorf("bools %v", gotBools)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT unnest($1::timestamptz[])`, args[4])
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var gotTimes []time.Time
	for rows.Next() {
		var tm sql.NullTime
		if err := rows.Scan(&tm); err != nil {
			t.Fatal(err)
		}
		gotTimes = append(gotTimes, tm.Time)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(gotTimes) != len(times) {
		t.Fatalf("times %v", gotTimes)
	}
	for i := range times {
		if !gotTimes[i].Equal(times[i]) {
			t.Errorf("time %d: got %v, want %v", i, gotTimes[i], times[i])
		}
	}
}

// intDest and int64Dest take what database/sql would scan into an int or
// an int64, and refuse what it would refuse.
func TestIntDest(t *testing.T) {
	for _, src := range []any{int64(-7), "-7", []byte("-7"), float64(-7)} {
		var i int
		var i64 int64
		if err := (intDest{&i}).Scan(src); err != nil || i != -7 {
			t.Errorf("int from %T: %d, %v", src, i, err)
		}
		if err := (int64Dest{&i64}).Scan(src); err != nil || i64 != -7 {
			t.Errorf("int64 from %T: %d, %v", src, i64, err)
		}
	}
	for _, src := range []any{nil, "x", 1.5, true} {
		var i int
		var i64 int64
		if err := (intDest{&i}).Scan(src); err == nil {
			t.Errorf("int from %v: no error", src)
		}
		if err := (int64Dest{&i64}).Scan(src); err == nil {
			t.Errorf("int64 from %v: no error", src)
		}
	}
}
