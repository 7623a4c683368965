package bot

import (
	"context"
	"strings"
)

// RequestDetail is a request with everything the card, the board and the API
// show about it.
type RequestDetail struct {
	Request    *Request
	Mentions   []*Mention
	Duplicates []*Request // merged directly into it
	History    []*StatusChange
	Edits      []*Edit // renames, descriptions, tags, removals and restores
	// Links are its tracker items (and its duplicates'), with their state.
	Links []*Link
	// Failed deliveries of its release events, for "delivery outcomes".
	Deliveries []*Delivery
	// AskedFor is set when the key asked for was merged into Request.
	AskedFor int64
	// Problems are the replies that reported a problem after its latest
	// ship (README "Regression signal").
	Problems []ProblemReport
}

// Detail loads a request (resolved through merges) with its mentions,
// duplicates, history and deliveries.
func (e *Engine) Detail(ctx context.Context, id int64) (*RequestDetail, error) {
	canon, err := e.resolve(ctx, id)
	if err != nil {
		return nil, err
	}
	req, err := e.store.FindRequestByID(ctx, canon.ID)
	if err != nil {
		return nil, err
	}
	d := &RequestDetail{Request: req}
	if canon.ID != id {
		d.AskedFor = id
	}
	if d.Mentions, err = e.store.FindMentions(ctx, req.ID); err != nil {
		return nil, err
	}
	if d.Duplicates, err = e.store.FindMergedInto(ctx, req.ID); err != nil {
		return nil, err
	}
	if d.History, err = e.store.FindHistory(ctx, req.ID); err != nil {
		return nil, err
	}
	if d.Edits, err = e.store.FindEdits(ctx, req.ID); err != nil {
		return nil, err
	}
	if d.Links, err = e.store.FindLinks(ctx, req.ID); err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	for _, h := range d.History {
		if h.EventID == nil || seen[*h.EventID] {
			continue
		}
		seen[*h.EventID] = true
		ds, err := e.store.FindDeliveries(ctx, *h.EventID)
		if err != nil {
			return nil, err
		}
		d.Deliveries = append(d.Deliveries, ds...)
	}
	d.Problems = postShipProblems(d.History, d.Mentions)
	return d, nil
}

// List returns canonical requests matching f.
func (e *Engine) List(ctx context.Context, f RequestFilter) ([]*Request, int, error) {
	return e.store.FindRequests(ctx, f)
}

// Search returns the canonical requests that best match query, best first.
func (e *Engine) Search(ctx context.Context, query string, limit int) ([]*Request, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return nil, errNoSearch
	}
	if limit <= 0 {
		limit = 10
	}
	var out []*Request
	seen := map[int64]bool{}
	cands, err := e.scorer.Similar(ctx, query, limit*2)
	if err != nil {
		e.log.Warn("search", "err", err)
	}
	for _, c := range cands {
		r, err := e.store.ResolveRequest(ctx, c.RequestID)
		if err != nil || seen[r.ID] || r.Removed() {
			continue
		}
		seen[r.ID] = true
		if r, err = e.store.FindRequestByID(ctx, r.ID); err == nil {
			out = append(out, r)
		}
		if len(out) == limit {
			return out, nil
		}
	}
	more, _, err := e.store.FindRequests(ctx, RequestFilter{Query: query, Limit: limit})
	if err != nil {
		return nil, err
	}
	for _, r := range more {
		if !seen[r.ID] && len(out) < limit {
			seen[r.ID] = true
			out = append(out, r)
		}
	}
	return out, nil
}
