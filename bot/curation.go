package bot

import "context"

// RenameInput gives a request a new title (at most MaxTitleRunes runes:
// refused beyond, never truncated).
type RenameInput struct {
	Request int64
	Title   string
}

// DescribeInput gives a request a new description.
type DescribeInput struct {
	Request int64
	Text    string
}

// TagInput adds (Tag) or removes (Untag) tags.
type TagInput struct {
	Request int64
	Tags    []string
}

// EditInput changes any of a request's title, description and tags (the
// edit forms and PATCH /api/v1/requests/{key}); nil fields are left alone
// and Tags replaces the tags.
type EditInput struct {
	Request     int64
	Title       *string
	Description *string
	Tags        *[]string
}

// EditResult is the canonical request after an edit (with counts) and the
// history rows written, one per field that changed (none when nothing did).
type EditResult struct {
	Request *Request
	Edits   []*Edit
}

// RemoveInput takes a request off the board.
type RemoveInput struct {
	Request int64
	Reason  string
}

// RestoreInput puts a removed request back.
type RestoreInput struct{ Request int64 }

// RemoveResult is the request after a remove or restore and its history row.
type RemoveResult struct {
	Request *Request
	Edit    *Edit
}

// Rename gives a request a new title (team only). EFORBIDDEN; EINVALID for
// an empty or too long title; ENOTFOUND. Renaming to the same title changes
// nothing (no edit).
func (e *Engine) Rename(ctx context.Context, a Actor, in RenameInput) (*EditResult, error) {
	if err := RequireTeam(a, doRename); err != nil {
		return nil, err
	}
	title, err := CheckTitle(in.Title)
	if err != nil {
		return nil, err
	}
	return e.edit(ctx, a, in.Request, RequestUpdate{Title: &title})
}

// Describe gives a request a new description (team only). EFORBIDDEN;
// EINVALID for a too long one; ENOTFOUND.
func (e *Engine) Describe(ctx context.Context, a Actor, in DescribeInput) (*EditResult, error) {
	if err := RequireTeam(a, doDescribe); err != nil {
		return nil, err
	}
	text, err := CheckDescription(in.Text)
	if err != nil {
		return nil, err
	}
	return e.edit(ctx, a, in.Request, RequestUpdate{Description: &text})
}

// Tag adds tags to a request (team only). EFORBIDDEN; EINVALID, changing
// nothing, when a tag is invalid or the request would pass MaxTags;
// ENOTFOUND.
func (e *Engine) Tag(ctx context.Context, a Actor, in TagInput) (*EditResult, error) {
	if err := RequireTeam(a, doTag); err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	return e.edit(ctx, a, in.Request, RequestUpdate{AddTags: tags})
}

// Untag removes tags from a request (team only). Same errors as Tag.
func (e *Engine) Untag(ctx context.Context, a Actor, in TagInput) (*EditResult, error) {
	if err := RequireTeam(a, doTag); err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	return e.edit(ctx, a, in.Request, RequestUpdate{RemoveTags: tags})
}

// Edit changes any of title, description and tags in one transaction (team
// only). The errors are those of Rename, Describe and Tag; with FieldErrors
// the caller can say which field was refused.
func (e *Engine) Edit(ctx context.Context, a Actor, in EditInput) (*EditResult, error) {
	if err := RequireTeam(a, doEdit); err != nil {
		return nil, err
	}
	if errs := EditFieldErrors(in); len(errs) > 0 {
		for _, f := range []string{FieldTitle, FieldDescription, FieldTags} {
			if msg, ok := errs[f]; ok {
				return nil, Errorf(EINVALID, "%s", msg)
			}
		}
	}
	return e.edit(ctx, a, in.Request, RequestUpdate{Title: in.Title, Description: in.Description, Tags: in.Tags})
}

// Form field ids of the edit form (and keys of EditFieldErrors).
const (
	FieldTitle       = "title"
	FieldDescription = "description"
	FieldTags        = "tags"
)

// EditFieldErrors checks an edit field by field and returns the refusal of
// each bad one, by field id (nil when all are fine).
func EditFieldErrors(in EditInput) map[string]string {
	errs := map[string]string{}
	if in.Title != nil {
		if _, err := CheckTitle(*in.Title); err != nil {
			errs[FieldTitle] = ErrorMessage(err)
		}
	}
	if in.Description != nil {
		if _, err := CheckDescription(*in.Description); err != nil {
			errs[FieldDescription] = ErrorMessage(err)
		}
	}
	if in.Tags != nil {
		if _, err := checkTags(*in.Tags); err != nil {
			errs[FieldTags] = ErrorMessage(err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func checkTags(tags []string) ([]string, error) {
	n, err := NormalizeTags(tags)
	if err != nil {
		return nil, err
	}
	if len(n) > MaxTags {
		return nil, errTooManyTags(len(n))
	}
	return n, nil
}

// edit applies u to the canonical request of id and updates the index.
func (e *Engine) edit(ctx context.Context, a Actor, id int64, u RequestUpdate) (*EditResult, error) {
	req, err := e.resolve(ctx, id)
	if err != nil {
		return nil, err
	}
	res, err := e.store.UpdateRequest(ctx, req.ID, u, a.DisplayName())
	if err != nil {
		if be, ok := err.(*Error); ok && be.Code == EINVALID && len(u.AddTags) > 0 {
			return nil, e.Text().errTagLimit(req.ID)
		}
		return nil, e.Text().storeError(err)
	}
	if len(res.Edits) > 0 {
		e.scorer.Upsert(docOf(res.Request))
	}
	return &EditResult{Request: res.Request, Edits: res.Edits}, nil
}

// Remove takes a request (resolved through merges) off the board, the lists,
// search and the duplicate check (team only); its mentions, votes and merges
// stay. EFORBIDDEN; ENOTFOUND; ECONFLICT when it is already removed.
func (e *Engine) Remove(ctx context.Context, a Actor, in RemoveInput) (*RemoveResult, error) {
	if err := RequireTeam(a, doRemove); err != nil {
		return nil, err
	}
	req, err := e.resolve(ctx, in.Request)
	if err != nil {
		return nil, err
	}
	ed, err := e.store.RemoveRequest(ctx, req.ID, a.DisplayName(), clip(in.Reason, 500))
	if err != nil {
		if ErrorCode(err) == ECONFLICT {
			return nil, e.Text().errAlreadyRemoved(req.ID)
		}
		return nil, e.Text().storeError(err)
	}
	return e.afterRemove(ctx, req, ed), nil
}

// Restore puts a removed request back exactly as it was (team only).
// EFORBIDDEN; ENOTFOUND; ECONFLICT when it is not removed.
func (e *Engine) Restore(ctx context.Context, a Actor, in RestoreInput) (*RemoveResult, error) {
	if err := RequireTeam(a, doRestore); err != nil {
		return nil, err
	}
	req, err := e.resolve(ctx, in.Request)
	if err != nil {
		return nil, err
	}
	ed, err := e.store.RestoreRequest(ctx, req.ID, a.DisplayName())
	if err != nil {
		if ErrorCode(err) == ECONFLICT {
			return nil, e.Text().errNotRemoved(req.ID)
		}
		return nil, e.Text().storeError(err)
	}
	return e.afterRemove(ctx, req, ed), nil
}

func (e *Engine) afterRemove(ctx context.Context, req *Request, ed *Edit) *RemoveResult {
	if after := e.reindexOne(ctx, req.ID); after != nil {
		req = after
	}
	return &RemoveResult{Request: req, Edit: ed}
}
