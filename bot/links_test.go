package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

func TestTrackUntrack(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEngine(t, openDB(t, dsn), &recorder{})
		r := captureAPI(t, e, "ann@example.com", "initech", "Dark mode")
		url := "https://github.com/Acme/App/issues/12#issuecomment-1"

		_, err := e.Track(ctx, chatMember, bot.TrackInput{Request: r.ID, URL: url})
		wantCode(t, "track by a member", err, bot.EFORBIDDEN)
		if bot.ErrorMessage(err) != "Only team members can link requests to issues." {
			t.Fatalf("refusal %q", bot.ErrorMessage(err))
		}
		_, err = e.Track(ctx, chatTeam, bot.TrackInput{Request: r.ID, URL: "https://gitlab.com/a/b/issues/1"})
		wantCode(t, "track a gitlab URL", err, bot.EINVALID)
		_, err = e.Track(ctx, chatTeam, bot.TrackInput{Request: 99, URL: url})
		wantCode(t, "track unknown request", err, bot.ENOTFOUND)

		res, err := e.Track(ctx, chatTeam, bot.TrackInput{Request: r.ID, URL: url})
		if err != nil || !res.Changed || res.Status == nil || res.Status.To != bot.StatusPlanned || res.Status.Actor != "tess" || res.Request.Status != bot.StatusPlanned {
			t.Fatalf("track: %+v %v", res, err)
		}
		if l := res.Link; l.URL != "https://github.com/Acme/App/issues/12" || l.Kind != bot.LinkGitHubIssue || l.State != bot.ItemUnknown || l.Item != "github:acme/app#12" {
			t.Fatalf("link %+v", l)
		}
		if got := e.Text().Tracked(res); got != "🔗 Linked FB-1 to https://github.com/Acme/App/issues/12. I'll follow it: when it is done, the request ships and every thread hears about it. FB-1 is now planned." {
			t.Fatalf("text %q", got)
		}
		// Again (another spelling of the same issue): nothing changes.
		res, err = e.Track(ctx, chatTeam, bot.TrackInput{Request: r.ID, URL: "<https://github.com/acme/app/pull/12|#12>"})
		if err != nil || res.Changed || res.Status != nil {
			t.Fatalf("track again: %+v %v", res, err)
		}
		// A second item on a planned request does not change its status.
		res, err = e.Track(ctx, bot.APIActor(), bot.TrackInput{Request: r.ID, URL: "eng-7"})
		if err != nil || !res.Changed || res.Status != nil || res.Link.URL != "ENG-7" || res.Link.Kind != bot.LinkLinear {
			t.Fatalf("track linear: %+v %v", res, err)
		}
		d, err := e.Detail(ctx, r.ID)
		if err != nil || len(d.Links) != 2 || d.Links[0].Kind != bot.LinkGitHubIssue || d.Links[1].Item != "linear:ENG-7" {
			t.Fatalf("detail links %+v %v", d.Links, err)
		}
		if txt := e.Text().Detail(d); !contains(txt, "Links:\n  • https://github.com/Acme/App/issues/12 (unknown)\n  • ENG-7 (unknown)") {
			t.Fatalf("detail text:\n%s", txt)
		}

		_, err = e.Untrack(ctx, chatMember, bot.TrackInput{Request: r.ID, URL: "ENG-7"})
		wantCode(t, "untrack by a member", err, bot.EFORBIDDEN)
		un, err := e.Untrack(ctx, chatTeam, bot.TrackInput{Request: r.ID, URL: "https://linear.app/acme/issue/ENG-7/slug"})
		if err != nil || !un.Changed || e.Text().Untracked(un) != "Unlinked FB-1 from https://linear.app/acme/issue/ENG-7; its status stays planned." {
			t.Fatalf("untrack: %+v %v", un, err)
		}
		_, err = e.Untrack(ctx, chatTeam, bot.TrackInput{Request: r.ID, URL: "ENG-7"})
		wantCode(t, "untrack twice", err, bot.ENOTFOUND)
		if bot.ErrorMessage(err) != "FB-1 is not linked to ENG-7." {
			t.Fatalf("untrack twice: %q", bot.ErrorMessage(err))
		}
		// A request that is not open keeps its status when linked.
		r2 := captureAPI(t, e, "bo@example.com", "globex", "Export")
		if _, err := e.SetStatus(ctx, chatTeam, bot.SetStatusInput{Request: r2.ID, Status: bot.StatusDeclined}); err != nil {
			t.Fatal(err)
		}
		res, err = e.Track(ctx, chatTeam, bot.TrackInput{Request: r2.ID, URL: "https://github.com/acme/app/issues/12"})
		if err != nil || !res.Changed || res.Status != nil || res.Request.Status != bot.StatusDeclined {
			t.Fatalf("track declined: %+v %v", res, err)
		}
	})
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
