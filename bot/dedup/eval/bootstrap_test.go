package eval

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"testing"
)

func TestBootstrap(t *testing.T) {
	base := []figures{{0.5, 1}, {0.2, 0}, {1, 1}, {0.1, 0.5}, {0.3, 0.5}}
	twice := make([]figures, len(base))
	for i, f := range base {
		twice[i] = figures{2 * f.ap, 2 * f.r5}
	}
	t.Run("Same", func(t *testing.T) {
		b := bootstrap(base, base, 500)
		for _, r := range []RatioInterval{b.R5, b.MAP} {
			if r.Ratio != 1 || r.Lo != 1 || r.Hi != 1 || r.AtLeast != 0 {
				t.Errorf("ours = baseline: %+v, want ratio 1 in [1, 1], none >= 1.25", r)
			}
		}
	})
	t.Run("Twice", func(t *testing.T) {
		b := bootstrap(twice, base, 500)
		for _, r := range []RatioInterval{b.R5, b.MAP} {
			if math.Abs(r.Ratio-2) > 1e-9 || math.Abs(r.Lo-2) > 1e-9 || math.Abs(r.Hi-2) > 1e-9 || r.AtLeast != 1 {
				t.Errorf("ours = 2 x baseline: %+v, want 2 in [2, 2], all >= 1.25", r)
			}
		}
	})
	t.Run("Spread", func(t *testing.T) {
		// Ours better on some queries only: the interval spans the ratio,
		// and the same data gives the same report.
		ours := []figures{{0.5, 1}, {0.2, 0}, {1, 1}, {0.6, 1}, {0.9, 1}}
		b := bootstrap(ours, base, 2000)
		if b.Samples != 2000 {
			t.Errorf("samples %d", b.Samples)
		}
		if want := 4.0 / 3.0; math.Abs(b.R5.Ratio-want) > 1e-9 {
			t.Errorf("R@5 ratio %v, want %v", b.R5.Ratio, want)
		}
		for _, r := range []RatioInterval{b.R5, b.MAP} {
			if !(r.Lo < r.Ratio && r.Ratio < r.Hi) || r.AtLeast <= 0 || r.AtLeast >= 1 {
				t.Errorf("interval %+v does not span its ratio", r)
			}
		}
		if again := bootstrap(ours, base, 2000); *again != *b {
			t.Errorf("not reproducible: %+v then %+v", b, again)
		}
	})
	t.Run("BaselineZero", func(t *testing.T) {
		zero := []figures{{0, 0}, {0, 0}}
		b := bootstrap([]figures{{1, 1}, {0, 0}}, zero, 100)
		if !math.IsInf(b.R5.Ratio, 1) || b.R5.AtLeast == 0 {
			t.Errorf("baseline finds nothing: %+v, want an infinite ratio", b.R5)
		}
		js, err := json.Marshal(b)
		if err != nil || !strings.Contains(string(js), `"R@5":{"ratio":null,`) {
			t.Errorf("JSON of an infinite ratio: %s, %v", js, err)
		}
		if b := bootstrap(zero, zero, 100); b.R5.Ratio != 1 || b.R5.Hi != 1 {
			t.Errorf("neither finds anything: %+v, want 1", b.R5)
		}
	})
	if bootstrap(base, base, 0) != nil || bootstrap(nil, nil, 10) != nil || bootstrap(base, base[:2], 10) != nil {
		t.Error("no samples, no queries or unpaired figures should give no bootstrap")
	}
}

var reBootstrap = regexp.MustCompile(`^# bootstrap over queries \(300 samples of 2 queries, paired with bm25\): R@5 ratio \d+\.\d{3}, 95% interval \d+\.\d{3}-\d+\.\d{3}, \d+\.\d% of samples >= 1\.25; MAP ratio \d+\.\d{3}, 95% interval \d+\.\d{3}-\d+\.\d{3}, \d+\.\d% of samples >= 1\.25$`)

func TestMain_Bootstrap(t *testing.T) {
	args := []string{"--corpus", "testdata/corpus.jsonl", "--queries", "testdata/queries.jsonl", "--baseline", "bm25", "--bootstrap", "300"}
	var out, errb bytes.Buffer
	if err := Main(args, &out, &errb); err != nil {
		t.Fatalf("Main: %v (%s)", err, errb.String())
	}
	ls := lines(out.String())
	// The summary lines stay last: baseline, then ours; the bootstrap's
	// comment comes just before them.
	summary(t, ls[len(ls)-1])
	if !strings.HasPrefix(ls[len(ls)-2], "baseline=bm25 ") {
		t.Fatalf("baseline line moved: %q", ls[len(ls)-2])
	}
	if !reBootstrap.MatchString(ls[len(ls)-3]) {
		t.Errorf("bootstrap line: %q", ls[len(ls)-3])
	}

	out.Reset()
	if err := Main(append(args, "--json"), &out, &errb); err != nil {
		t.Fatalf("Main --json: %v", err)
	}
	ls = lines(out.String())
	var s struct {
		Bootstrap *Bootstrap `json:"bootstrap"`
	}
	if err := json.Unmarshal([]byte(ls[len(ls)-1]), &s); err != nil {
		t.Fatal(err)
	}
	if s.Bootstrap == nil || s.Bootstrap.Samples != 300 || s.Bootstrap.R5.Lo > s.Bootstrap.R5.Hi {
		t.Errorf("JSON bootstrap: %+v", s.Bootstrap)
	}

	// Without --bootstrap nothing changes.
	out.Reset()
	if err := Main(args[:6], &out, &errb); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "# bootstrap") {
		t.Errorf("bootstrap line without --bootstrap:\n%s", out.String())
	}
}

func TestDevBootstrap(t *testing.T) {
	// The README's intervals come from this command (with 5,000 samples)
	// on the dev splits.
	corpus, queries := sharedData(t, "gitbugs/hadoop-corpus.jsonl"), sharedData(t, "gitbugs/hadoop-dev-queries.jsonl")
	var out, errb bytes.Buffer
	if err := Main([]string{"--corpus", corpus, "--queries", queries, "--baseline", "bm25", "--bootstrap", "1000", "--json"}, &out, &errb); err != nil {
		t.Fatalf("Main: %v (%s)", err, errb.String())
	}
	ls := lines(out.String())
	var s struct {
		Summary   map[string]float64 `json:"summary"`
		Baseline  map[string]float64 `json:"baseline"`
		Bootstrap *Bootstrap         `json:"bootstrap"`
	}
	if err := json.Unmarshal([]byte(ls[len(ls)-1]), &s); err != nil {
		t.Fatal(err)
	}
	b := s.Bootstrap
	if b == nil {
		t.Fatal("no bootstrap in the summary")
	}
	// The measured ratio is the summary's, and 100 queries leave room
	// on both sides of it.
	if got, want := b.R5.Ratio, s.Summary["R@5"]/s.Baseline["R@5"]; math.Abs(got-want) > 0.001 {
		t.Errorf("R@5 ratio %.4f, summary gives %.4f", got, want)
	}
	if !(b.R5.Lo < b.R5.Ratio-0.02 && b.R5.Hi > b.R5.Ratio+0.02) {
		t.Errorf("R@5 interval %.3f-%.3f around %.3f", b.R5.Lo, b.R5.Hi, b.R5.Ratio)
	}
	t.Logf("Hadoop R@5 ratio %.3f, 95%% interval %.3f-%.3f, %.1f%% >= 1.25", b.R5.Ratio, b.R5.Lo, b.R5.Hi, 100*b.R5.AtLeast)
}
