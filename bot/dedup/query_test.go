package dedup

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestAppendDedupBigrams checks appendDedupBigrams against dedupBigrams on
// random bigrams with many equal hashes and weights.
func TestAppendDedupBigrams(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var dst []bigram
	var buf []uint64
	for n := 0; n < 400; n++ {
		bs := make([]bigram, n%60)
		for i := range bs {
			bs[i] = bigram{h: uint32(rng.IntN(20)) * 0x9E3779B1, a: int32(i), b: int32(rng.IntN(9)), field: int32(rng.IntN(3)), w: float64(rng.IntN(4))}
		}
		orig := slices.Clone(bs)
		dst, buf = appendDedupBigrams(dst[:0], bs, buf)
		if !slices.Equal(bs, orig) {
			t.Fatal("appendDedupBigrams changed its input")
		}
		if want := dedupBigrams(slices.Clone(bs)); !slices.Equal(dst, want) {
			t.Fatalf("appendDedupBigrams(%v) =\n%v, want\n%v", bs, dst, want)
		}
	}
}
