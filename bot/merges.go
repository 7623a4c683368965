package bot

import "context"

// MergeInput names the request to merge and the one to merge it into.
type MergeInput struct {
	Request int64
	Into    int64
}

// MergeResult is a merge that happened: Merged is the request merged, Into
// the canonical request it now counts for (after the merge, with counts).
type MergeResult struct {
	Merged int64
	Into   *Request
}

// Merge merges in.Request into in.Into's canonical request (team only).
// EFORBIDDEN; ENOTFOUND for an unknown request; ECONFLICT (Reason
// ReasonAlreadyMerged, ReasonMergeSelf or ReasonMergeCycle) when the merge
// cannot be made.
func (e *Engine) Merge(ctx context.Context, a Actor, in MergeInput) (*MergeResult, error) {
	if err := RequireTeam(a, doMerge); err != nil {
		return nil, err
	}
	if _, err := e.resolve(ctx, in.Request); err != nil {
		return nil, err
	}
	if _, err := e.resolve(ctx, in.Into); err != nil {
		return nil, err
	}
	target, err := e.store.Merge(ctx, in.Request, in.Into, a.DisplayName())
	if err != nil {
		return nil, e.Text().storeError(err)
	}
	e.metrics.Merged()
	e.reindex(ctx, in.Request)
	e.learn(Decision{Key: MergeDecisionKey(in.Request, target.ID), A: in.Request, B: target.ID, Same: true})
	return &MergeResult{Merged: in.Request, Into: target}, nil
}

// UnmergeInput names a merged request to restore.
type UnmergeInput struct {
	Request int64
}

// UnmergeResult is the restored request with exactly its own counts.
type UnmergeResult struct {
	Request *Request
}

// Unmerge restores a merged request (team only). EFORBIDDEN; ENOTFOUND;
// ECONFLICT (ReasonNotMerged) when it is not merged.
func (e *Engine) Unmerge(ctx context.Context, a Actor, in UnmergeInput) (*UnmergeResult, error) {
	if err := RequireTeam(a, doUnmerge); err != nil {
		return nil, err
	}
	if _, err := e.resolve(ctx, in.Request); err != nil {
		return nil, err
	}
	var parent int64
	if _, ok := e.scorer.(Learner); ok {
		if r, err := e.store.FindRequestByID(ctx, in.Request); err == nil && r.MergedInto != nil {
			parent = *r.MergedInto
		}
	}
	req, err := e.store.Unmerge(ctx, in.Request, a.DisplayName())
	if err != nil {
		return nil, e.Text().storeError(err)
	}
	e.reindex(ctx, in.Request)
	if parent != 0 {
		e.learn(Decision{Key: MergeDecisionKey(in.Request, parent), Undo: true})
	}
	return &UnmergeResult{Request: req}, nil
}
