package eval

import (
	"math"
	"testing"
)

func TestMetrics(t *testing.T) {
	tests := []struct {
		name           string
		rel            []bool
		positives      int
		ap, rr, p1, p5 float64
		r1, r5, r10    float64
	}{
		// Hand-computed: positives at ranks 1, 3 -> AP (1/1 + 2/3)/2.
		{"Ranks1and3", []bool{true, false, true, false}, 2, (1 + 2.0/3) / 2, 1, 1, 2.0 / 5, 0.5, 1, 1},
		// Positive at rank 2 only; a third positive never retrieved.
		{"Rank2Of3", []bool{false, true, false}, 3, 0.5, 0.5, 0, 1.0 / 5, 0, 1.0 / 3, 1.0 / 3},
		// Positive at rank 7.
		{"Rank7", []bool{false, false, false, false, false, false, true}, 1, 1.0 / 7, 1.0 / 7, 0, 0, 0, 0, 1},
		// No positive: AP 0 and recall 0 (ev.py convention).
		{"NoPositive", []bool{false, false}, 0, 0, 0, 0, 0, 0, 0, 0},
		// Ranks 2, 3, 5 of 5: AP = (1/2 + 2/3 + 3/5)/3.
		{"Ranks235", []bool{false, true, true, false, true}, 3, (0.5 + 2.0/3 + 0.6) / 3, 0.5, 0, 0.6, 0, 1, 1},
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AveragePrecision(tt.rel); !near(got, tt.ap) {
				t.Errorf("AP = %v, want %v", got, tt.ap)
			}
			if got := ReciprocalRank(tt.rel); !near(got, tt.rr) {
				t.Errorf("RR = %v, want %v", got, tt.rr)
			}
			if got := PrecisionAt(tt.rel, 1); !near(got, tt.p1) {
				t.Errorf("P@1 = %v, want %v", got, tt.p1)
			}
			if got := PrecisionAt(tt.rel, 5); !near(got, tt.p5) {
				t.Errorf("P@5 = %v, want %v", got, tt.p5)
			}
			for _, k := range []struct {
				k    int
				want float64
			}{{1, tt.r1}, {5, tt.r5}, {10, tt.r10}} {
				if got := RecallAt(tt.rel, k.k, tt.positives); !near(got, k.want) {
					t.Errorf("R@%d = %v, want %v", k.k, got, k.want)
				}
			}
		})
	}
}

func TestSummaryLine(t *testing.T) {
	m := Metrics{Queries: 2, MAP: 0.7135, MRR: 0.76667, P1: 0.7, P5: 0.544, R1: 0.2, R5: 0.5, R10: 1}
	want := "queries=2 MAP=71.35 MRR=76.67 P@1=70.00 P@5=54.40 R@1=20.00 R@5=50.00 R@10=100.00"
	if got := SummaryLine(m); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
