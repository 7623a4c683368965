package bot

import "context"

// TrackInput links a request to a tracker item named by URL: a GitHub
// issue or pull request URL, a Linear issue URL or identifier (ParseItem).
type TrackInput struct {
	Request int64
	URL     string
}

// TrackResult is the canonical request after /feedback track or untrack.
type TrackResult struct {
	Request *Request
	Link    *Link
	// Changed is false when the link already existed (track) or did not
	// exist (untrack is then ENOTFOUND instead).
	Changed bool
	// Status is the status change linking made (an open request becomes
	// planned), nil if none.
	Status *StatusChange
}

// itemIsOpen reports whether a linked item in state counts as opened: it
// makes an open request planned (an open pull request too: linking it is
// not the tracker saying that work started).
func itemIsOpen(state string) bool {
	switch state {
	case ItemUnknown, ItemOpen, ItemDraft, ItemTriage, ItemBacklog, ItemUnstarted:
		return true
	}
	return false
}

// Track links a request to a GitHub issue or pull request or a Linear issue
// (team only). Linking an open item (or one the tracker has said nothing
// about yet) makes an open request planned, recorded under the actor. From
// then on the tracker's webhooks move the request (see bot/tracker).
// EFORBIDDEN; EINVALID for a URL that names no item; ENOTFOUND.
func (e *Engine) Track(ctx context.Context, a Actor, in TrackInput) (*TrackResult, error) {
	if err := RequireTeam(a, doTrack); err != nil {
		return nil, err
	}
	l, err := ParseItem(in.URL)
	if err != nil {
		return nil, err
	}
	req, err := e.resolve(ctx, in.Request)
	if err != nil {
		return nil, err
	}
	l.RequestID = req.ID
	l.CreatedBy = a.DisplayName()
	added, err := e.store.AddLink(ctx, l)
	if err != nil {
		return nil, err
	}
	res := &TrackResult{Request: req, Link: l, Changed: added}
	if added && req.Status == StatusOpen && itemIsOpen(l.State) {
		// Through the status use case, so the change is announced like any
		// other (status notices) and the index sees it.
		st, err := e.SetStatus(ctx, a, SetStatusInput{Request: req.ID, Status: StatusPlanned, Note: l.URL})
		switch {
		case err == nil:
			res.Status, res.Request = st.Change, st.Request
		case ErrorCode(err) != ECONFLICT:
			return nil, err
		}
	}
	return res, nil
}

// Untrack removes a link made by Track or automatically (team only). The
// request's status stays as it is. EFORBIDDEN; EINVALID; ENOTFOUND when the
// request does not exist or is not linked to the item.
func (e *Engine) Untrack(ctx context.Context, a Actor, in TrackInput) (*TrackResult, error) {
	if err := RequireTeam(a, doUntrack); err != nil {
		return nil, err
	}
	l, err := ParseItem(in.URL)
	if err != nil {
		return nil, err
	}
	req, err := e.resolve(ctx, in.Request)
	if err != nil {
		return nil, err
	}
	removed, err := e.store.RemoveLink(ctx, req.ID, l.Item)
	if err != nil {
		return nil, err
	}
	if !removed {
		return nil, e.Text().errNotTracked(req.ID, l.URL)
	}
	l.RequestID = req.ID
	return &TrackResult{Request: req, Link: l, Changed: true}, nil
}
