package bot

import (
	"context"
	"fmt"
	"strings"
)

// RequestDetail is a request with everything the card, the board and the API
// show about it.
type RequestDetail struct {
	Request    *Request
	Mentions   []*Mention
	Duplicates []*Request // merged directly into it
	History    []*StatusChange
	// Failed deliveries of its release events, for "delivery outcomes".
	Deliveries []*Delivery
	// AskedFor is set when the key asked for was merged into Request.
	AskedFor int64
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
		return nil, Errorf(EINVALID, "Usage: /feedback search <words>")
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
		if err != nil || seen[r.ID] {
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

// RequestLine is the one-line form of a request used in lists.
func (e *Engine) RequestLine(r *Request) string {
	return fmt.Sprintf("%s %s · %s · %s", e.Key(r.ID), r.Title, r.Status, peopleCount(r.Demand))
}

// CardText is the request card shown by /feedback show and posted on capture.
func (e *Engine) CardText(r *Request) string { return e.cardText(r) }

// DetailText renders a request detail as chat text.
func (e *Engine) DetailText(d *RequestDetail) string {
	var b strings.Builder
	r := d.Request
	if d.AskedFor != 0 {
		fmt.Fprintf(&b, "%s was merged into %s.\n", e.Key(d.AskedFor), e.Key(r.ID))
	}
	b.WriteString(e.cardText(r))
	fmt.Fprintf(&b, " · %s", plural(r.Mentions, "mention"))
	if r.Description != r.Title && r.Description != "" {
		fmt.Fprintf(&b, "\n%s", clip(r.Description, 500))
	}
	if len(d.Duplicates) > 0 {
		keys := make([]string, len(d.Duplicates))
		for i, x := range d.Duplicates {
			keys[i] = e.Key(x.ID)
		}
		fmt.Fprintf(&b, "\nDuplicates merged in: %s", strings.Join(keys, ", "))
	}
	if len(d.Mentions) > 0 {
		b.WriteString("\nMentions:")
		for i, m := range d.Mentions {
			if i == 10 {
				fmt.Fprintf(&b, "\n  … and %d more", len(d.Mentions)-10)
				break
			}
			who := m.AuthorName
			if who == "" {
				who = m.AuthorID
			}
			fmt.Fprintf(&b, "\n  • %s (%s, %s): %s", who, m.Platform, m.Via, clip(strings.ReplaceAll(m.Text, "\n", " "), 80))
			if m.Permalink != "" {
				fmt.Fprintf(&b, " %s", m.Permalink)
			}
			if m.Deleted {
				b.WriteString(" [deleted]")
			}
		}
	}
	if len(d.History) > 0 {
		b.WriteString("\nHistory:")
		for _, h := range d.History {
			fmt.Fprintf(&b, "\n  • %s → %s by %s", h.From, h.To, h.Actor)
			if h.Version != "" {
				fmt.Fprintf(&b, " in %s", h.Version)
			}
			if h.Note != "" {
				fmt.Fprintf(&b, " (%s)", clip(h.Note, 80))
			}
		}
	}
	counts := map[string]int{}
	for _, x := range d.Deliveries {
		counts[x.State]++
	}
	if len(d.Deliveries) > 0 {
		fmt.Fprintf(&b, "\nThread replies: %d sent, %d failed", counts[DeliveryDone], counts[DeliveryFailed])
		if waiting := counts[DeliveryPending] + counts[DeliveryRunning]; waiting > 0 {
			fmt.Fprintf(&b, ", %d waiting", waiting)
		}
		for _, x := range d.Deliveries {
			if x.State == DeliveryFailed {
				fmt.Fprintf(&b, "\n  ✗ %s %s: %s", x.Platform, x.Channel, clip(x.LastError, 80))
			}
		}
	}
	return b.String()
}
