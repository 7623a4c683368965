package dedup

import (
	"sync"

	"github.com/feedbackbot/feedbackbot/bot"
)

// sharedAnalyses keeps the analyses of the last few texts Similar was
// asked about, so that the Upsert of the request just checked (the
// engine checks a new request's "title\ndescription", then indexes it)
// does not analyse the same text again: analysis is about a tenth of a
// capture's duplicate check. A query analysis has the terms, counts,
// lengths and bigrams of the request's analysis (analyzeDoc) when the
// query's title and body are the request's title and description; only
// the bigrams' weights differ (the query's field weights), and Upsert sets
// them from their fields.
type sharedAnalyses struct {
	mu   sync.Mutex
	ring [sharedMax]sharedAnalysis
	next int
	hits int // analyses Upsert took (tests)
}

// sharedMax bounds the analyses kept: more than the captures in flight
// (the bench runs 16), each a few kilobytes.
const sharedMax = 64

type sharedAnalysis struct {
	text string
	a    *analyzed
}

// put keeps a, Similar's analysis of text (the oldest kept is released).
func (sh *sharedAnalyses) put(text string, a *analyzed) {
	sh.mu.Lock()
	old := sh.ring[sh.next]
	sh.ring[sh.next] = sharedAnalysis{text: text, a: a}
	sh.next = (sh.next + 1) % sharedMax
	sh.mu.Unlock()
	if old.a != nil {
		old.a.release()
	}
}

// take returns and forgets the analysis of title + "\n" + description
// and that text, or nil.
func (sh *sharedAnalyses) take(title, description string) (string, *analyzed) {
	n := len(title) + 1 + len(description)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for i := range sh.ring {
		e := &sh.ring[i]
		if e.a == nil || len(e.text) != n || e.text[len(title)] != '\n' ||
			e.text[:len(title)] != title || e.text[len(title)+1:] != description {
			continue
		}
		text, a := e.text, e.a
		*e = sharedAnalysis{}
		sh.hits++
		return text, a
	}
	return "", nil
}

// sharedAnalysis returns the analysis of doc that Similar made of its
// title and description, with the bigram weights of a request, or nil.
func (ix *Index) sharedAnalysis(doc bot.Doc) *analyzed {
	if len(doc.Extra) > 0 {
		return nil
	}
	text, a := ix.shared.take(doc.Title, doc.Description)
	if a == nil {
		return nil
	}
	// Similar read the first line as the title (splitTitle): only then
	// are its fields the request's.
	if title, body := splitTitle(text); title != doc.Title || body != doc.Description {
		a.release()
		return nil
	}
	for i := range a.bigrams {
		switch a.bigrams[i].field {
		case fieldTitle:
			a.bigrams[i].w = ix.cfg.TitleWeight
		case fieldBody:
			a.bigrams[i].w = ix.cfg.BodyWeight
		default:
			a.bigrams[i].w = ix.cfg.ExtraWeight
		}
	}
	return a
}
