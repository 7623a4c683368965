package bot

import "context"

// VoteInput names the request to vote for or to take a vote back from.
type VoteInput struct {
	Request int64
}

// VoteResult is the canonical request after the vote, with its counts.
// Changed is false when nothing changed: the person already counted (Vote)
// or had no vote to remove (Unvote).
type VoteResult struct {
	Request *Request
	Changed bool
}

// Vote adds a's vote to the request (resolved through merges). Anyone may
// vote; the voter is a.Identity with a.Org. ENOTFOUND for an unknown request.
func (e *Engine) Vote(ctx context.Context, a Actor, in VoteInput) (*VoteResult, error) {
	req, err := e.resolve(ctx, in.Request)
	if err != nil {
		return nil, err
	}
	added, err := e.store.AddVote(ctx, voterOf(req.ID, a))
	if err != nil {
		return nil, err
	}
	if req, err = e.store.FindRequestByID(ctx, req.ID); err != nil {
		return nil, err
	}
	return &VoteResult{Request: req, Changed: added}, nil
}

// Unvote removes a's vote from the request (resolved through merges). An
// authorship is never removed. ENOTFOUND for an unknown request.
func (e *Engine) Unvote(ctx context.Context, a Actor, in VoteInput) (*VoteResult, error) {
	req, err := e.resolve(ctx, in.Request)
	if err != nil {
		return nil, err
	}
	removed, err := e.store.RemoveVote(ctx, req.ID, a.Identity.Platform, a.Identity.Workspace, a.Identity.UserID)
	if err != nil {
		return nil, err
	}
	if req, err = e.store.FindRequestByID(ctx, req.ID); err != nil {
		return nil, err
	}
	return &VoteResult{Request: req, Changed: removed}, nil
}

func voterOf(reqID int64, a Actor) Voter {
	return Voter{RequestID: reqID, Platform: a.Identity.Platform, Workspace: a.Identity.Workspace, UserID: a.Identity.UserID, Org: a.Org, Kind: VoteVote}
}

// voteByReaction adds or removes a's vote on the request the message
// belongs to (a captured mention or the bot's card); messages that are
// neither are ignored.
func (e *Engine) voteByReaction(ctx context.Context, a Actor, m *Message, added bool) error {
	reqID, err := e.requestOfMessage(ctx, m)
	if ErrorCode(err) == ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	if added {
		_, err = e.store.AddVote(ctx, voterOf(reqID, a))
	} else {
		_, err = e.store.RemoveVote(ctx, reqID, a.Identity.Platform, a.Identity.Workspace, a.Identity.UserID)
	}
	return err
}

// requestOfMessage returns the request a chat message belongs to: a
// captured mention, or the bot's card.
func (e *Engine) requestOfMessage(ctx context.Context, m *Message) (int64, error) {
	mention, err := e.store.FindMentionByMessage(ctx, m.Platform, m.Workspace, m.Channel, m.ID)
	if err == nil {
		return mention.RequestID, nil
	}
	if ErrorCode(err) != ENOTFOUND {
		return 0, err
	}
	return e.store.FindCard(ctx, m.Platform, m.Workspace, m.Channel, m.ID)
}

// resolve returns the canonical request for id, or ENOTFOUND with the key.
func (e *Engine) resolve(ctx context.Context, id int64) (*Request, error) {
	req, err := e.store.ResolveRequest(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return nil, e.Text().errNoRequest(id)
	}
	return req, err
}
