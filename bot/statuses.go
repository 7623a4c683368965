package bot

import "context"

// SetStatusInput is a status change of one request.
type SetStatusInput struct {
	Request int64
	Status  Status
	Note    string
}

// SetStatusResult is the canonical request after the change (with counts)
// and the history row written.
type SetStatusResult struct {
	Request *Request
	Change  *StatusChange
}

// SetStatus changes a request's status to open, planned, in_progress or
// declined (team only); shipping and rolling back go through Release.
// EFORBIDDEN; EINVALID for another status; ENOTFOUND; ECONFLICT
// (ReasonSameStatus) when the request already has that status.
func (e *Engine) SetStatus(ctx context.Context, a Actor, in SetStatusInput) (*SetStatusResult, error) {
	if err := RequireTeam(a, doStatus); err != nil {
		return nil, err
	}
	switch in.Status {
	case StatusOpen, StatusPlanned, StatusInProgress, StatusDeclined:
	case StatusShipped, StatusRolledBack:
		return nil, errUseRelease
	default:
		return nil, errUnknownStatus(in.Status)
	}
	req, err := e.resolve(ctx, in.Request)
	if err != nil {
		return nil, err
	}
	var change *StatusChange
	if e.notifies(in.Status) {
		var n int
		change, n, err = e.store.SetStatusNotify(ctx, StatusNoticeInput{
			Request: req.ID, Status: in.Status, Actor: a.DisplayName(), Note: in.Note,
			Text: e.Text().StatusNotice(in.Status, in.Note), Schedule: e.outbox.Schedule,
		})
		if err == nil && n > 0 {
			e.outbox.Kick()
		}
	} else {
		change, err = e.store.SetStatus(ctx, req.ID, in.Status, a.DisplayName(), "", in.Note)
	}
	if err != nil {
		if ErrorCode(err) == ECONFLICT {
			return nil, e.Text().errSameStatus(req.ID, in.Status)
		}
		return nil, err
	}
	// The index needs the request as it is now; that read is the result.
	if after := e.reindexOne(ctx, req.ID); after != nil {
		req = after
	} else {
		req.Status = in.Status
	}
	return &SetStatusResult{Request: req, Change: change}, nil
}

// notifies reports whether a change to status is announced in the threads.
func (e *Engine) notifies(s Status) bool {
	for _, n := range e.cfg.NotifyStatuses {
		if n == s {
			return true
		}
	}
	return false
}
