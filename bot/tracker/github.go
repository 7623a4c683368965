package tracker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/go-github/v75/github"

	"github.com/feedbackbot/feedbackbot/bot"
)

// revertsRe finds "Reverts OWNER/REPO#N" (or "Reverts #N", same
// repository) in a pull request body, as GitHub's Revert button writes it.
var revertsRe = regexp.MustCompile(`(?i)\breverts\s+(?:([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+))?#([0-9]{1,12})\b`)

// readBody reads at most MaxBody bytes; false (after answering 413) when
// the body is larger.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "The body is larger than 1 MiB."})
		} else {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "The body could not be read."})
		}
		return nil, false
	}
	return body, true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func (s *Service) fail(w http.ResponseWriter, source string, err error) {
	code := http.StatusInternalServerError
	msg := "The delivery could not be processed; it can be redelivered."
	switch bot.ErrorCode(err) {
	case bot.EUNAVAILABLE:
		code = http.StatusServiceUnavailable
		msg = bot.ErrorMessage(err)
	}
	s.log.Error("tracker webhook", "source", source, "err", err)
	writeJSON(w, code, map[string]string{"error": msg})
}

// serveGitHub is POST /webhooks/github.
func (s *Service) serveGitHub(w http.ResponseWriter, r *http.Request) {
	if s.cfg.GitHubSecret == "" {
		http.NotFound(w, r)
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	sig := r.Header.Get("X-Hub-Signature-256")
	if !strings.HasPrefix(sig, "sha256=") || github.ValidateSignature(sig, body, []byte(s.cfg.GitHubSecret)) != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Missing or wrong X-Hub-Signature-256."})
		return
	}
	payload := body
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "The form body could not be read."})
			return
		}
		payload = []byte(form.Get("payload"))
	}
	event := github.WebHookType(r)
	id := github.DeliveryID(r)
	switch event {
	case "ping":
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "event": "ping", "changes": []ChangeMade{}})
		return
	case "issues", "pull_request", "release":
	default:
		writeJSON(w, http.StatusOK, &Outcome{Delivery: id, Event: event, Ignored: true, Changes: []ChangeMade{}})
		return
	}
	if id == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Missing X-GitHub-Delivery."})
		return
	}
	parsed, err := github.ParseWebHook(event, payload)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "The payload is not a " + event + " event."})
		return
	}
	d := s.githubDelivery(id, event, parsed)
	if d == nil {
		writeJSON(w, http.StatusOK, &Outcome{Delivery: id, Event: event, Ignored: true, Changes: []ChangeMade{}})
		return
	}
	out, err := s.process(r.Context(), d)
	if err != nil {
		s.fail(w, SourceGitHub, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func splitRepo(full string) (owner, repo string, ok bool) {
	owner, repo, ok = strings.Cut(full, "/")
	return owner, repo, ok && owner != "" && repo != ""
}

// githubDelivery decodes a parsed event; nil when it changes nothing.
func (s *Service) githubDelivery(id, event string, parsed any) *delivery {
	d := &delivery{source: SourceGitHub, id: id, revertedBy: map[string]string{}}
	switch ev := parsed.(type) {
	case *github.IssuesEvent:
		is := ev.GetIssue()
		owner, repo, ok := splitRepo(ev.GetRepo().GetFullName())
		if is == nil || !ok || is.GetNumber() == 0 {
			return nil
		}
		d.event = "issues." + ev.GetAction()
		state := bot.ItemOpen
		if is.GetState() == "closed" {
			switch is.GetStateReason() {
			case "not_planned":
				state = bot.ItemNotPlanned
			case "duplicate":
				state = bot.ItemDuplicate
			default: // completed, or null on issues closed before reasons existed
				state = bot.ItemCompleted
			}
		}
		if ev.GetAction() == "deleted" {
			state = bot.ItemRemoved
		}
		u := bot.ItemUpdate{
			Item: bot.GitHubItem(owner, repo, int64(is.GetNumber())), Kind: bot.LinkGitHubIssue, State: state,
			URL:       htmlURL(is.GetHTMLURL(), owner, repo, "issues", is.GetNumber()),
			Milestone: is.GetMilestone().GetTitle(), Title: is.GetTitle(),
			Mentions: s.Keys(is.GetTitle(), is.GetBody()),
		}
		d.items = []bot.ItemUpdate{u}
	case *github.PullRequestEvent:
		pr := ev.GetPullRequest()
		owner, repo, ok := splitRepo(ev.GetRepo().GetFullName())
		if pr == nil || !ok {
			return nil
		}
		n := pr.GetNumber()
		if n == 0 {
			n = ev.GetNumber()
		}
		d.event = "pull_request." + ev.GetAction()
		state := bot.ItemOpen
		switch {
		case pr.GetMerged() || (pr.GetState() == "closed" && pr.MergedAt != nil):
			state = bot.ItemMerged
		case pr.GetState() == "closed":
			state = bot.ItemClosed
		case pr.GetDraft():
			state = bot.ItemDraft
		}
		u := bot.ItemUpdate{
			Item: bot.GitHubItem(owner, repo, int64(n)), Kind: bot.LinkGitHubPull, State: state,
			URL:       htmlURL(pr.GetHTMLURL(), owner, repo, "pull", n),
			Milestone: pr.GetMilestone().GetTitle(), Title: pr.GetTitle(),
		}
		reverts := revertsRe.FindAllStringSubmatch(pr.GetBody(), -1)
		if len(reverts) == 0 {
			// Only request keys link: "Fixes #101" names an issue, not a request.
			u.Mentions = s.Keys(pr.GetTitle(), pr.GetBody())
		}
		d.items = []bot.ItemUpdate{u}
		if state == bot.ItemMerged {
			for _, m := range reverts {
				o, r := m[1], m[2]
				if o == "" {
					o, r = owner, repo
				}
				num, err := strconv.ParseInt(m[3], 10, 64)
				if err != nil || num == 0 {
					continue
				}
				item := bot.GitHubItem(o, r, num)
				if _, dup := d.revertedBy[item]; dup {
					continue
				}
				d.revertedBy[item] = "#" + strconv.Itoa(n)
				d.items = append(d.items, bot.ItemUpdate{Item: item, State: bot.ItemReverted})
			}
		}
	case *github.ReleaseEvent:
		rel := ev.GetRelease()
		owner, repo, ok := splitRepo(ev.GetRepo().GetFullName())
		if rel == nil || !ok || rel.GetTagName() == "" {
			return nil
		}
		d.event = "release." + ev.GetAction()
		tag := rel.GetTagName()
		switch ev.GetAction() {
		case "published":
			if s.cfg.ShipOn != ShipOnRelease {
				return nil
			}
			d.after = func(ctx context.Context, out *Outcome) error {
				return s.releasePublished(ctx, d, strings.TrimSuffix(bot.GitHubItem(owner, repo, 0), "0"), tag, rel.GetName(), rel.GetBody(), out)
			}
		case "unpublished", "deleted":
			d.after = func(ctx context.Context, out *Outcome) error {
				return s.releaseWithdrawn(ctx, d, tag, out)
			}
		default:
			return nil
		}
	default:
		return nil
	}
	return d
}

func htmlURL(u, owner, repo, kind string, n int) string {
	if strings.HasPrefix(u, "https://") {
		return u
	}
	return fmt.Sprintf("https://github.com/%s/%s/%s/%d", owner, repo, kind, n)
}

// releasePublished ships, with ship_on=release, every request linked to an
// item of the repository whose items are all done, and every request whose
// key is in the release body, in one event (version = tag, note = name).
func (s *Service) releasePublished(ctx context.Context, d *delivery, prefix, tag, name, body string, out *Outcome) error {
	ids, err := s.store.FindLinkedRequests(ctx, prefix)
	if err != nil {
		return err
	}
	named := s.Keys(body)
	var ship []int64
	var from []bot.Status
	seen := map[int64]bool{}
	for _, id := range append(ids, named...) {
		req, err := s.store.ResolveRequest(ctx, id)
		if bot.ErrorCode(err) == bot.ENOTFOUND {
			continue
		}
		if err != nil {
			return err
		}
		if seen[req.ID] {
			continue
		}
		seen[req.ID] = true
		links, err := s.store.FindLinks(ctx, req.ID)
		if err != nil {
			return err
		}
		inBody := false
		for _, n := range named {
			if n == id {
				inBody = true
			}
		}
		if t := DecidePublished(req.Status, links, inBody, tag, name); t != nil {
			ship = append(ship, req.ID)
			from = append(from, req.Status)
		}
	}
	if len(ship) == 0 {
		return nil
	}
	if err := s.eng.Release(ctx, d.source, bot.ActionShipped, ship, tag, strings.TrimSpace(name), d.source+":"+d.id); err != nil {
		return err
	}
	for i, id := range ship {
		out.Changes = append(out.Changes, ChangeMade{Key: bot.FormatKey(s.cfg.KeyPrefix, id), From: from[i], To: bot.StatusShipped})
	}
	return nil
}

// releaseWithdrawn rolls back the requests shipped in tag (GitHub sends both
// unpublished and deleted; the second finds nothing shipped).
func (s *Service) releaseWithdrawn(ctx context.Context, d *delivery, tag string, out *Outcome) error {
	ids, err := s.store.FindShippedIn(ctx, tag)
	if err != nil || len(ids) == 0 {
		return err
	}
	if err := s.eng.Release(ctx, d.source, bot.ActionRolledBack, ids, tag, WithdrawnReason(tag), d.source+":"+d.id); err != nil {
		return err
	}
	for _, id := range ids {
		out.Changes = append(out.Changes, ChangeMade{Key: bot.FormatKey(s.cfg.KeyPrefix, id), From: bot.StatusShipped, To: bot.StatusRolledBack})
	}
	return nil
}
