package store

import (
	"strconv"
	"strings"
	"time"
)

// pgArrays builds the array arguments of a batch statement (PostgreSQL),
// one per column, in their text form ({"a","b"}), all in one buffer:
// pq.Array encodes each column into a buffer of its own, grown element by
// element, and copies it into a string, which cost the capture hot path
// about six allocations per column. Each column is added with one of the
// typed methods, in argument order; Args returns them. Text elements are
// always quoted, with '"' and '\' escaped; NUL characters are left out
// (the connection removes them from every text argument anyway, see
// conn.CheckNamedValue). The values are those pq.Array sends: times in
// UTC as RFC 3339 with nanoseconds, floats in the shortest form that
// reads back the same.
type pgArrays struct {
	b    []byte
	ends []int
}

// newPGArrays returns a builder for cols columns, its buffer sized for
// about size bytes.
func newPGArrays(cols, size int) *pgArrays {
	return &pgArrays{b: make([]byte, 0, size), ends: make([]int, 0, cols)}
}

func (a *pgArrays) open() { a.b = append(a.b, '{') }

func (a *pgArrays) close() {
	a.b = append(a.b, '}')
	a.ends = append(a.ends, len(a.b))
}

// Text adds a text[] column of n elements, element i being elem(i).
func (a *pgArrays) Text(n int, elem func(i int) string) {
	a.open()
	for i := range n {
		if i > 0 {
			a.b = append(a.b, ',')
		}
		a.b = appendArrayText(a.b, elem(i))
	}
	a.close()
}

// Int adds an integer array column (int[] or bigint[]).
func (a *pgArrays) Int(n int, elem func(i int) int64) {
	a.open()
	for i := range n {
		if i > 0 {
			a.b = append(a.b, ',')
		}
		a.b = strconv.AppendInt(a.b, elem(i), 10)
	}
	a.close()
}

// Bool adds a bool[] column.
func (a *pgArrays) Bool(n int, elem func(i int) bool) {
	a.open()
	for i := range n {
		if i > 0 {
			a.b = append(a.b, ',')
		}
		if elem(i) {
			a.b = append(a.b, 't')
		} else {
			a.b = append(a.b, 'f')
		}
	}
	a.close()
}

// Float adds a float8[] column.
func (a *pgArrays) Float(n int, elem func(i int) float64) {
	a.open()
	for i := range n {
		if i > 0 {
			a.b = append(a.b, ',')
		}
		a.b = strconv.AppendFloat(a.b, elem(i), 'f', -1, 64)
	}
	a.close()
}

// Time adds a timestamptz[] column.
func (a *pgArrays) Time(n int, elem func(i int) time.Time) {
	a.open()
	for i := range n {
		if i > 0 {
			a.b = append(a.b, ',')
		}
		a.b = append(a.b, '"')
		a.b = elem(i).UTC().AppendFormat(a.b, time.RFC3339Nano)
		a.b = append(a.b, '"')
	}
	a.close()
}

// Args returns the columns added, in order, as statement arguments (text:
// the literals are passed as strings, whatever the connection's parameter
// format).
func (a *pgArrays) Args() []any {
	return a.AppendArgs(make([]any, 0, len(a.ends)))
}

// AppendArgs appends the columns added to args.
func (a *pgArrays) AppendArgs(args []any) []any {
	all := string(a.b)
	start := 0
	for _, end := range a.ends {
		args = append(args, all[start:end])
		start = end
	}
	return args
}

// appendArrayText appends s as a quoted array element.
func appendArrayText(b []byte, s string) []byte {
	b = append(b, '"')
	if strings.IndexByte(s, '"') < 0 && strings.IndexByte(s, '\\') < 0 && strings.IndexByte(s, 0) < 0 {
		// Most texts: nothing to escape (three vectorised scans).
		b = append(b, s...)
		return append(b, '"')
	}
	start := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b = append(b, s[start:i]...)
			b = append(b, '\\', c)
			start = i + 1
		case 0:
			b = append(b, s[start:i]...)
			start = i + 1
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
