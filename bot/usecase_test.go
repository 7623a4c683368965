package bot_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// The use cases are called directly, as bot/web and webhooks do, by each
// kind of actor: a chat person, the API and a webhook service.

var (
	chatMember = bot.PersonActor("test", "w", bot.User{ID: "U1", Name: "una", Org: "acme"})
	chatTeam   = bot.PersonActor("test", "w", bot.User{ID: "U2", Name: "tess", Org: "us", Team: true})
	chatLead   = bot.PersonActor("test", "w", bot.User{ID: "U3", Name: "lee", Org: "us", Team: true, ReleaseLead: true})
)

// captureAPI captures text through the API as the named person.
func captureAPI(t *testing.T, e *bot.Engine, author, org, text string) *bot.Request {
	t.Helper()
	a := bot.Actor{Kind: bot.ActorAPI, Identity: bot.Identity{Platform: bot.PlatformAPI, Workspace: "email", UserID: author}, Name: author, Org: org}
	res, err := e.CaptureText(context.Background(), a, bot.CaptureTextInput{Where: bot.Message{Platform: bot.PlatformAPI, Workspace: "email"}, Text: text})
	if err != nil {
		t.Fatalf("capture %q: %v", text, err)
	}
	if !res.Created || res.Request.ID == 0 || res.Request.Demand != 1 || res.Request.Orgs != 1 {
		t.Fatalf("capture result %+v %+v", res, res.Request)
	}
	return res.Request
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if bot.ErrorCode(err) != code {
		t.Fatalf("%s: error %v (code %q), want %q", what, err, bot.ErrorCode(err), code)
	}
}

func TestUseCasesChatPerson(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		rec := &recorder{}
		e := newEngine(t, openDB(t, dsn), rec)
		m := &bot.Message{Platform: "test", Workspace: "w", Channel: "ideas", ID: "m1", Author: bot.User{ID: "U9", Name: "nia", Org: "globex"}, Text: "Dark mode\nplease"}
		cap, err := e.CaptureMessage(ctx, chatMember, bot.CaptureMessageInput{Message: m, Via: bot.ViaReaction})
		if err != nil {
			t.Fatal(err)
		}
		if !cap.Created || cap.Request.Title != "Dark mode" || cap.Mention.CapturedBy != "una" || cap.Mention.AuthorID != "U9" {
			t.Fatalf("capture: %+v %+v", cap.Request, cap.Mention)
		}
		if !rec.posted("📌 FB-1: Dark mode") {
			t.Fatal("no card posted in the thread")
		}
		t.Run("CaptureTwice", func(t *testing.T) {
			_, err := e.CaptureMessage(ctx, chatMember, bot.CaptureMessageInput{Message: m, Via: bot.ViaReaction})
			wantCode(t, "capture twice", err, bot.ECONFLICT)
			if bot.ErrorMessage(err) != "This message is already on the board as FB-1: Dark mode." || bot.ErrorReason(err) != bot.ReasonCaptured {
				t.Fatalf("capture twice: %#v", err)
			}
		})
		t.Run("Vote", func(t *testing.T) {
			res, err := e.Vote(ctx, chatMember, bot.VoteInput{Request: cap.Request.ID})
			if err != nil || !res.Changed || res.Request.Demand != 2 || res.Request.Orgs != 2 {
				t.Fatalf("vote: %+v, %v", res, err)
			}
			res, err = e.Vote(ctx, chatMember, bot.VoteInput{Request: cap.Request.ID})
			if err != nil || res.Changed || res.Request.Demand != 2 {
				t.Fatalf("second vote: %+v, %v", res, err)
			}
			res, err = e.Unvote(ctx, chatMember, bot.VoteInput{Request: cap.Request.ID})
			if err != nil || !res.Changed || res.Request.Demand != 1 {
				t.Fatalf("unvote: %+v, %v", res, err)
			}
			_, err = e.Vote(ctx, chatMember, bot.VoteInput{Request: 99})
			wantCode(t, "vote unknown", err, bot.ENOTFOUND)
			if bot.ErrorMessage(err) != "There is no request FB-99." {
				t.Fatalf("vote unknown: %q", bot.ErrorMessage(err))
			}
		})
		other := captureAPI(t, e, "ann@example.com", "initech", "Export to CSV")
		t.Run("RefusedByRole", func(t *testing.T) {
			_, err := e.Merge(ctx, chatMember, bot.MergeInput{Request: other.ID, Into: cap.Request.ID})
			wantCode(t, "merge by member", err, bot.EFORBIDDEN)
			_, err = e.Unmerge(ctx, chatMember, bot.UnmergeInput{Request: other.ID})
			wantCode(t, "unmerge by member", err, bot.EFORBIDDEN)
			_, err = e.SetStatus(ctx, chatMember, bot.SetStatusInput{Request: other.ID, Status: bot.StatusPlanned})
			wantCode(t, "status by member", err, bot.EFORBIDDEN)
			_, err = e.SetChannel(ctx, chatMember, bot.SetChannelInput{Platform: "test", Workspace: "w", Channel: "ideas", Kind: bot.ChannelWatch, On: true})
			wantCode(t, "watch by member", err, bot.EFORBIDDEN)
			_, err = e.Link(ctx, chatMember, bot.LinkInput{Request: other.ID, Link: "https://x"})
			wantCode(t, "link by member", err, bot.EFORBIDDEN)
			_, err = e.DecideSuggestion(ctx, chatMember, bot.DecideInput{Suggestion: 1, State: bot.SuggestionDismissed})
			wantCode(t, "dismiss by member", err, bot.EFORBIDDEN)
			_, err = e.Release(ctx, chatTeam, bot.ReleaseCommand{Action: bot.ActionShipped, Keys: []string{"FB-1"}})
			wantCode(t, "ship by team member", err, bot.EFORBIDDEN)
			if bot.ErrorMessage(err) != "Only release leads can ship requests." {
				t.Fatalf("ship refusal: %q", bot.ErrorMessage(err))
			}
		})
		t.Run("MergeAndConflicts", func(t *testing.T) {
			res, err := e.Merge(ctx, chatTeam, bot.MergeInput{Request: other.ID, Into: cap.Request.ID})
			if err != nil || res.Merged != other.ID || res.Into.ID != cap.Request.ID || res.Into.Demand != 2 || res.Into.Orgs != 2 {
				t.Fatalf("merge: %+v, %v", res, err)
			}
			_, err = e.Merge(ctx, chatTeam, bot.MergeInput{Request: other.ID, Into: cap.Request.ID})
			wantCode(t, "merge again", err, bot.ECONFLICT)
			var be *bot.Error
			if !asError(err, &be) || be.Reason != bot.ReasonAlreadyMerged || !reflect.DeepEqual(be.IDs, []int64{other.ID, cap.Request.ID}) ||
				be.Message != "FB-2 is already merged into FB-1." {
				t.Fatalf("merge again: %#v", err)
			}
			_, err = e.Merge(ctx, chatTeam, bot.MergeInput{Request: cap.Request.ID, Into: other.ID})
			if !asError(err, &be) || be.Reason != bot.ReasonMergeCycle || !reflect.DeepEqual(be.IDs, []int64{other.ID, cap.Request.ID}) ||
				be.Message != "FB-2 is merged into FB-1, so merging FB-1 into it would make a cycle." {
				t.Fatalf("cycle: %#v", err)
			}
			un, err := e.Unmerge(ctx, chatTeam, bot.UnmergeInput{Request: other.ID})
			if err != nil || un.Request.ID != other.ID || un.Request.MergedInto != nil || un.Request.Demand != 1 {
				t.Fatalf("unmerge: %+v, %v", un, err)
			}
			_, err = e.Unmerge(ctx, chatTeam, bot.UnmergeInput{Request: other.ID})
			if !asError(err, &be) || be.Code != bot.ECONFLICT || be.Reason != bot.ReasonNotMerged || be.Message != "FB-2 is not merged into another request." {
				t.Fatalf("unmerge again: %#v", err)
			}
		})
		t.Run("StatusAndRelease", func(t *testing.T) {
			st, err := e.SetStatus(ctx, chatTeam, bot.SetStatusInput{Request: cap.Request.ID, Status: bot.StatusPlanned, Note: "soon"})
			if err != nil || st.Request.Status != bot.StatusPlanned || st.Change.Actor != "tess" || st.Change.From != bot.StatusOpen || st.Request.Demand != 1 {
				t.Fatalf("status: %+v %+v, %v", st, st.Change, err)
			}
			_, err = e.SetStatus(ctx, chatTeam, bot.SetStatusInput{Request: cap.Request.ID, Status: bot.StatusPlanned})
			wantCode(t, "same status", err, bot.ECONFLICT)
			if bot.ErrorReason(err) != bot.ReasonSameStatus || bot.ErrorMessage(err) != "FB-1 is already planned." {
				t.Fatalf("same status: %#v", err)
			}
			_, err = e.SetStatus(ctx, chatTeam, bot.SetStatusInput{Request: cap.Request.ID, Status: bot.StatusShipped})
			wantCode(t, "status shipped", err, bot.EINVALID)
			out, err := e.Release(ctx, chatLead, bot.ReleaseCommand{Action: bot.ActionShipped, Keys: []string{"FB-1", "FB-2"}, Version: "v1"})
			if err != nil || !reflect.DeepEqual(out.Changed, []string{"FB-1", "FB-2"}) || out.Threads != 1 {
				t.Fatalf("ship: %+v, %v", out, err)
			}
			if err := e.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if n := rec.threadReplies("🚀 Shipped in v1")["ideas/m1"]; n != 1 {
				t.Fatalf("thread replies %d, want 1", n)
			}
		})
		t.Run("Channels", func(t *testing.T) {
			res, err := e.SetChannel(ctx, chatTeam, bot.SetChannelInput{Platform: "test", Workspace: "w", Channel: "ideas", Kind: bot.ChannelWatch, On: true})
			if err != nil || !res.Changed || res.ChannelName != "ideas" {
				t.Fatalf("watch: %+v, %v", res, err)
			}
			res, err = e.SetChannel(ctx, chatTeam, bot.SetChannelInput{Platform: "test", Workspace: "w", Channel: "ideas", Kind: bot.ChannelWatch, On: true})
			if err != nil || res.Changed {
				t.Fatalf("watch again: %+v, %v", res, err)
			}
			_, err = e.SetChannel(ctx, chatTeam, bot.SetChannelInput{Platform: "test", Workspace: "w", Kind: bot.ChannelWatch, On: true})
			wantCode(t, "watch without channel", err, bot.EINVALID)
		})
	})
}

func TestUseCasesAPI(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEngine(t, openDB(t, dsn), &recorder{})
		a := captureAPI(t, e, "ann@example.com", "initech", "Single sign-on")
		b := captureAPI(t, e, "bob@example.com", "globex", "SAML login")
		if a.CreatedAt.IsZero() || a.Mentions != 1 {
			t.Fatalf("API capture result lacks what the JSON shows: %+v", a)
		}
		api := bot.APIActor()
		if api.Kind != bot.ActorAPI || !api.Team || !api.ReleaseLead {
			t.Fatalf("api actor %+v", api)
		}
		res, err := e.Merge(ctx, api, bot.MergeInput{Request: b.ID, Into: a.ID})
		if err != nil || res.Into.ID != a.ID || res.Into.Demand != 2 {
			t.Fatalf("merge: %+v, %v", res, err)
		}
		// What the use case returns is what a read returns: no second read needed.
		got, err := e.Store().FindRequestByID(ctx, a.ID)
		if err != nil || !reflect.DeepEqual(got, res.Into) {
			t.Fatalf("merge result %+v\nstore       %+v (%v)", res.Into, got, err)
		}
		st, err := e.SetStatus(ctx, api, bot.SetStatusInput{Request: b.ID, Status: bot.StatusInProgress})
		if err != nil || st.Request.ID != a.ID || st.Change.Actor != "api" {
			t.Fatalf("status through merged key: %+v, %v", st, err)
		}
		if got, _ := e.Store().FindRequestByID(ctx, a.ID); !reflect.DeepEqual(got, st.Request) {
			t.Fatalf("status result %+v\nstore        %+v", st.Request, got)
		}
		voter := bot.Actor{Kind: bot.ActorAPI, Identity: bot.Identity{Platform: bot.PlatformAPI, Workspace: "zendesk", UserID: "cy@example.com"}, Name: "cy@example.com", Org: "umbrella"}
		v, err := e.Vote(ctx, voter, bot.VoteInput{Request: a.ID})
		if err != nil || !v.Changed || v.Request.Demand != 3 || v.Request.Orgs != 3 {
			t.Fatalf("api vote: %+v, %v", v, err)
		}
		out, err := e.Release(ctx, api, bot.ReleaseCommand{Action: bot.ActionShipped, Keys: []string{"FB-1", "FB-77", "nonsense"}, AllowUnknown: true, IdempotencyKey: "ci-9"})
		if err != nil || !reflect.DeepEqual(out.Changed, []string{"FB-1"}) || !reflect.DeepEqual(out.Unknown, []string{"FB-77", "nonsense"}) {
			t.Fatalf("release: %+v, %v", out, err)
		}
		again, err := e.Release(ctx, api, bot.ReleaseCommand{Action: bot.ActionShipped, Keys: []string{"FB-1", "FB-77", "nonsense"}, AllowUnknown: true, IdempotencyKey: "ci-9"})
		if err != nil || !again.Replayed || again.EventID != out.EventID || !reflect.DeepEqual(again.Changed, out.Changed) {
			t.Fatalf("replay: %+v, %v", again, err)
		}
		// The key reused for another release is refused.
		if _, err := e.Release(ctx, api, bot.ReleaseCommand{Action: bot.ActionShipped, Keys: []string{"FB-1"}, IdempotencyKey: "ci-9"}); bot.ErrorCode(err) != bot.ECONFLICT {
			t.Fatalf("key reused for another release: %v", err)
		}
	})
}

func TestUseCasesWebhookActor(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newEngine(t, openDB(t, dsn), &recorder{})
		r := captureAPI(t, e, "ann@example.com", "initech", "Webhooks for releases")
		shipper := bot.ServiceActor(bot.ActorGitHub, "github", false, true)
		if shipper.Kind != bot.ActorGitHub || shipper.DisplayName() != "github" {
			t.Fatalf("github actor %+v", shipper)
		}
		_, err := e.SetStatus(ctx, shipper, bot.SetStatusInput{Request: r.ID, Status: bot.StatusPlanned})
		wantCode(t, "status by a release-only webhook", err, bot.EFORBIDDEN)
		_, err = e.Merge(ctx, shipper, bot.MergeInput{Request: r.ID, Into: r.ID})
		wantCode(t, "merge by a release-only webhook", err, bot.EFORBIDDEN)
		out, err := e.Release(ctx, shipper, bot.ReleaseCommand{Action: bot.ActionShipped, Keys: []string{"FB-1"}, Version: "v3"})
		if err != nil || !reflect.DeepEqual(out.Changed, []string{"FB-1"}) {
			t.Fatalf("ship: %+v, %v", out, err)
		}
		h, err := e.Store().FindHistory(ctx, r.ID)
		if err != nil || len(h) != 1 || h[0].Actor != "github" || h[0].To != bot.StatusShipped || h[0].Version != "v3" {
			t.Fatalf("history %+v, %v", h, err)
		}
		curator := bot.ServiceActor(bot.ActorLinear, "linear", true, false)
		st, err := e.SetStatus(ctx, curator, bot.SetStatusInput{Request: r.ID, Status: bot.StatusInProgress})
		if err != nil || st.Change.Actor != "linear" || st.Change.From != bot.StatusShipped {
			t.Fatalf("status by linear: %+v, %v", st, err)
		}
		_, err = e.Release(ctx, curator, bot.ReleaseCommand{Action: bot.ActionRolledBack, Keys: []string{"FB-1"}})
		wantCode(t, "rollback by a team-only webhook", err, bot.EFORBIDDEN)
		if bot.ErrorMessage(err) != "Only release leads can roll back releases." {
			t.Fatalf("refusal %q", bot.ErrorMessage(err))
		}
	})
}

func asError(err error, target **bot.Error) bool {
	be, ok := err.(*bot.Error)
	if ok {
		*target = be
	}
	return ok
}
