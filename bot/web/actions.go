package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/feedbackbot/feedbackbot/bot"
)

// Board actions without JavaScript: HTML forms that POST with the
// session's CSRF token (403 without) and go through the same engine use
// cases as chat, so threads are told the same way. Anyone signed in votes,
// unvotes and submits feedback; team members also rename, tag, set the
// status, merge, unmerge, remove and restore.

func (s *Server) actionRoutes() {
	s.mux.HandleFunc("POST /feedback", s.formFeedback)
	for verb, h := range map[string]func(context.Context, bot.Actor, int64, url.Values) (string, error){
		"vote":    s.actVote,
		"unvote":  s.actUnvote,
		"status":  s.actStatus,
		"merge":   s.actMerge,
		"unmerge": s.actUnmerge,
		"rename":  s.actRename,
		"tags":    s.actTags,
		"remove":  s.actRemove,
		"restore": s.actRestore,
	} {
		s.mux.HandleFunc("POST /requests/{key}/"+verb, s.formAction(h))
	}
}

// formAction checks the form and the key, runs act and sends the browser
// back to the request page (303), or shows the refusal.
func (s *Server) formAction(act func(context.Context, bot.Actor, int64, url.Values) (string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := s.checkForm(w, r)
		if sess == nil {
			return
		}
		id, err := s.pathKey(r)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		ctx, cancel := writeContext(r)
		defer cancel()
		to, err := act(ctx, sessionActor(sess), id, r.PostForm)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		if to == "" {
			to = "/requests/" + url.PathEscape(s.key(id))
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
	}
}

func (s *Server) pageOf(req *bot.Request) string { return "/requests/" + url.PathEscape(s.key(req.ID)) }

func (s *Server) actVote(ctx context.Context, a bot.Actor, id int64, _ url.Values) (string, error) {
	res, err := s.e.Vote(ctx, a, bot.VoteInput{Request: id})
	if err != nil {
		return "", err
	}
	return s.pageOf(res.Request), nil
}

func (s *Server) actUnvote(ctx context.Context, a bot.Actor, id int64, _ url.Values) (string, error) {
	res, err := s.e.Unvote(ctx, a, bot.VoteInput{Request: id})
	if err != nil {
		return "", err
	}
	return s.pageOf(res.Request), nil
}

func (s *Server) actStatus(ctx context.Context, a bot.Actor, id int64, f url.Values) (string, error) {
	res, err := s.e.SetStatus(ctx, a, bot.SetStatusInput{Request: id, Status: bot.Status(strings.TrimSpace(f.Get("status"))), Note: strings.TrimSpace(f.Get("note"))})
	if err != nil {
		return "", err
	}
	return s.pageOf(res.Request), nil
}

func (s *Server) actMerge(ctx context.Context, a bot.Actor, id int64, f url.Values) (string, error) {
	into, err := s.e.ParseKey(strings.TrimSpace(f.Get("into")))
	if err != nil {
		return "", err
	}
	res, err := s.e.Merge(ctx, a, bot.MergeInput{Request: id, Into: into})
	if err != nil {
		return "", err
	}
	return s.pageOf(res.Into), nil
}

func (s *Server) actUnmerge(ctx context.Context, a bot.Actor, id int64, _ url.Values) (string, error) {
	res, err := s.e.Unmerge(ctx, a, bot.UnmergeInput{Request: id})
	if err != nil {
		return "", err
	}
	return s.pageOf(res.Request), nil
}

func (s *Server) actRename(ctx context.Context, a bot.Actor, id int64, f url.Values) (string, error) {
	res, err := s.e.Rename(ctx, a, bot.RenameInput{Request: id, Title: strings.TrimSpace(f.Get("title"))})
	if err != nil {
		return "", err
	}
	return s.pageOf(res.Request), nil
}

// actTags replaces the tags with the form's (space- or comma-separated).
func (s *Server) actTags(ctx context.Context, a bot.Actor, id int64, f url.Values) (string, error) {
	tags := bot.SplitTags(f.Get("tags"))
	if tags == nil {
		tags = []string{}
	}
	res, err := s.e.Edit(ctx, a, bot.EditInput{Request: id, Tags: &tags})
	if err != nil {
		return "", err
	}
	return s.pageOf(res.Request), nil
}

func (s *Server) actRemove(ctx context.Context, a bot.Actor, id int64, f url.Values) (string, error) {
	res, err := s.e.Remove(ctx, a, bot.RemoveInput{Request: id, Reason: strings.TrimSpace(f.Get("reason"))})
	if err != nil {
		return "", err
	}
	return s.pageOf(res.Request), nil
}

func (s *Server) actRestore(ctx context.Context, a bot.Actor, id int64, _ url.Values) (string, error) {
	res, err := s.e.Restore(ctx, a, bot.RestoreInput{Request: id})
	if err != nil {
		return "", err
	}
	return s.pageOf(res.Request), nil
}

// POST /feedback: a signed-in person submits feedback from the board.
func (s *Server) formFeedback(w http.ResponseWriter, r *http.Request) {
	sess := s.checkForm(w, r)
	if sess == nil {
		return
	}
	ctx, cancel := writeContext(r)
	defer cancel()
	a := sessionActor(sess)
	where := bot.Message{Platform: bot.PlatformWeb, Workspace: a.Identity.Workspace}
	if a.Identity.Platform != bot.PlatformWeb {
		where = bot.Message{Platform: a.Identity.Platform, Workspace: a.Identity.Workspace}
	}
	res, err := s.e.CaptureText(ctx, a, bot.CaptureTextInput{Where: where, Text: r.PostForm.Get("text")})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, s.pageOf(res.Request), http.StatusSeeOther)
}
