package capture

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A small run of each mode on SQLite: seed, start-up, capture.
func TestRun(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "bench.db")
	ctx := t.Context()
	if _, err := Seed(ctx, dsn, 200, 3, 1, nil); err != nil {
		t.Fatal(err)
	}
	st, err := Startup(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if st.Docs != 200 || st.Ready.RSS == 0 {
		t.Fatalf("start-up %+v", st)
	}
	var progress, out bytes.Buffer
	o := Options{DSN: dsn, Concurrency: 4, Count: 100, Duration: time.Minute, Seed: 1, Progress: &progress}
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	res.Print(&out, o)
	if res.Sent != 100 || res.Captured != 100 || res.Errors != 0 || res.Board != 200 || res.P99 <= 0 {
		t.Fatalf("result %+v\n%s", res, out.String())
	}
	if res.Suggest == 0 {
		t.Fatalf("no duplicate suggestions among 100 captures with near-duplicates:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "captures/s") {
		t.Fatalf("report:\n%s", out.String())
	}
}
