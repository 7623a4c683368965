package capture

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// A small run of each mode on SQLite: seed, start-up, capture.
func TestRun(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "bench.db")
	ctx := t.Context()
	if _, err := Seed(ctx, dsn, 200, 3, 1, nil, false); err != nil {
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
	o := Options{DSN: dsn, Load: Load{Concurrency: 4, Count: 100, Duration: time.Minute, Progress: &progress}, Seed: 1}
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

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Progress to something that is not a terminal is plain lines, without
// carriage returns; to a terminal it is one redrawn line.
func TestProgress(t *testing.T) {
	for _, lines := range []bool{true, false} {
		var out syncBuffer
		l := Load{Concurrency: 2, Count: 10, Progress: &out}
		if lines {
			l.ProgressEvery = 5 * time.Millisecond
		}
		st := drive(t.Context(), l, func(ctx context.Context, k int) error {
			if k == 9 {
				// The last operation waits for a progress report, however
				// slow the machine is.
				deadline := time.Now().Add(60 * time.Second)
				for !strings.Contains(out.String(), "errors 1") && time.Now().Before(deadline) {
					time.Sleep(time.Millisecond)
				}
			}
			if k == 3 {
				return errors.New("boom")
			}
			return nil
		})
		if st.sent != 10 || st.errs != 1 || st.first != "boom" || len(st.lat) != 10 {
			t.Fatalf("stats %+v", st)
		}
		s := out.String()
		if lines {
			if strings.Contains(s, "\r") || !strings.HasPrefix(s, "progress: ") || !strings.HasSuffix(s, "\n") {
				t.Fatalf("line progress %q", s)
			}
		} else if !strings.HasPrefix(s, "\r[") || !strings.Contains(s, "errors 1") {
			t.Fatalf("terminal progress %q", s)
		}
	}
}
