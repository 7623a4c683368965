package eval

import (
	"math"
	"strings"
)

// bm25 is the plain baseline of the data sets' READMEs: k1=1.2, b=0.75,
// idf = ln(1+(N-df+0.5)/(df+0.5)), lowercase [a-z0-9]+ tokens of
// title+body, query = the query document's title+body.
type bm25 struct {
	tf    []map[string]int
	dl    []float64
	avgdl float64
	df    map[string]int
}

func bm25Tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
}

func newBM25(c *corpus) *bm25 {
	b := &bm25{df: make(map[string]int)}
	sum := 0.0
	for i := range c.docs {
		toks := bm25Tokens(c.docs[i].Title + " " + c.docs[i].Body)
		tf := make(map[string]int)
		for _, t := range toks {
			tf[t]++
		}
		for t := range tf {
			b.df[t]++
		}
		b.tf = append(b.tf, tf)
		b.dl = append(b.dl, float64(len(toks)))
		sum += float64(len(toks))
	}
	b.avgdl = sum / float64(len(c.docs))
	return b
}

// score returns the BM25 score of document i for the query tokens.
func (b *bm25) score(q []string, i int) float64 {
	const k1, bb = 1.2, 0.75
	n := float64(len(b.tf))
	s := 0.0
	for _, t := range q {
		tf := float64(b.tf[i][t])
		if tf == 0 {
			continue
		}
		df := float64(b.df[t])
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		s += idf * tf * (k1 + 1) / (tf + k1*(1-bb+bb*b.dl[i]/b.avgdl))
	}
	return s
}
