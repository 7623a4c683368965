package dedup

import (
	"slices"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/internal/textgen"
)

// TestDocTotalColdMemo checks that dfs holds every term's df and whether
// it is a concept (checkDFs) after a load, upserts, edits and removals,
// and that docTotal with a memo that holds no idf yet (each one computed
// in the loop) is the plain sum, bit for bit.
func TestDocTotalColdMemo(t *testing.T) {
	docs := synthDocs(textgen.New(31), 1200)
	for i := range docs {
		if i%9 == 0 {
			docs[i].Extra = []string{"the drop down export to csv is broken for me too"}
		}
	}
	ix := New(DefaultConfig())
	ix.Load(docs[:800])
	for _, d := range docs[800:] {
		ix.Upsert(d)
	}
	for i := 0; i < 200; i += 3 {
		d := docs[i]
		d.Description += " dark mode please, log in fails"
		ix.Upsert(d)
		ix.Remove(docs[i+1].ID)
	}
	ix.Upsert(bot.Doc{ID: 5001, Title: "Dark mode", Description: "a dark theme for the dashboard", Active: true})
	checkDFs(t, ix)
	if !slices.Contains(ix.concept, true) {
		t.Fatal("no concept on the board")
	}
	qa := ix.analyzeQuery("Dark mode\nfor the dashboard export")
	defer qa.release()
	sc := ix.getScratch()
	defer ix.putScratch(sc)
	z := ix.newScorer(ix.buildQuery(qa, sc), sc)
	for s := range ix.slots {
		fwd := ix.slots[s].fwd
		clear(sc.idfMemo)
		clear(sc.idfBig[:])
		got := z.docTotal(fwd)
		want := 0.0
		for _, p := range fwd {
			if !ix.concept[p.slot()] {
				want += ix.idf(ix.df(p.slot())) * ix.docTermWeight(p)
			}
		}
		if got != want {
			t.Fatalf("slot %d: docTotal %v, plain sum %v", s, got, want)
		}
	}
}
