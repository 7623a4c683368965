package eval

// Metrics are averaged ranking metrics, as fractions in [0,1].
type Metrics struct {
	Queries          int
	MAP, MRR, P1, P5 float64
	R1, R5, R10      float64
}

// AveragePrecision follows ev.py: the mean of the precisions at the ranks of
// the positives found in ranked (0 when none is found). rel reports whether
// the item at a rank is a positive.
func AveragePrecision(rel []bool) float64 {
	found, sum := 0, 0.0
	for i, r := range rel {
		if r {
			found++
			sum += float64(found) / float64(i+1)
		}
	}
	if found == 0 {
		return 0
	}
	return sum / float64(found)
}

// ReciprocalRank is 1/rank of the first positive, 0 when there is none.
func ReciprocalRank(rel []bool) float64 {
	for i, r := range rel {
		if r {
			return 1 / float64(i+1)
		}
	}
	return 0
}

// PrecisionAt is the fraction of the first k ranks that hold a positive
// (ranks past the end of a shorter list count as misses).
func PrecisionAt(rel []bool, k int) float64 {
	n := 0
	for i := 0; i < k && i < len(rel); i++ {
		if rel[i] {
			n++
		}
	}
	return float64(n) / float64(k)
}

// RecallAt is |positives in the first k ranks| / positives, 0 when
// positives is 0.
func RecallAt(rel []bool, k, positives int) float64 {
	if positives == 0 {
		return 0
	}
	n := 0
	for i := 0; i < k && i < len(rel); i++ {
		if rel[i] {
			n++
		}
	}
	return float64(n) / float64(positives)
}

// accumulate adds one query's ranking to m (sums; call mean at the end).
func (m *Metrics) add(rel []bool, positives int) {
	m.Queries++
	m.MAP += AveragePrecision(rel)
	m.MRR += ReciprocalRank(rel)
	m.P1 += PrecisionAt(rel, 1)
	m.P5 += PrecisionAt(rel, 5)
	m.R1 += RecallAt(rel, 1, positives)
	m.R5 += RecallAt(rel, 5, positives)
	m.R10 += RecallAt(rel, 10, positives)
}

func (m Metrics) mean() Metrics {
	if m.Queries == 0 {
		return m
	}
	n := float64(m.Queries)
	return Metrics{Queries: m.Queries, MAP: m.MAP / n, MRR: m.MRR / n, P1: m.P1 / n, P5: m.P5 / n,
		R1: m.R1 / n, R5: m.R5 / n, R10: m.R10 / n}
}
