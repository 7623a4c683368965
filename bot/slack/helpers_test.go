package slack

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/slack-go/slack"
)

// fakeAPI is a hand-written slackAPI: users, groups and messages in maps,
// every call recorded.
type fakeAPI struct {
	mu       sync.Mutex
	self     slack.AuthTestResponse
	users    map[string]slack.User
	groups   map[string][]string
	msgs     map[string]slack.Msg // channel/ts
	calls    []string
	posts    []sent
	postErr  error
	ephErr   error
	userErr  error
	reacts   []string
	permaErr error
	views    []slack.ModalViewRequest
	shared   map[string]bool // channels shared with other organisations
}

// sent is a message call decoded with slack.UnsafeApplyMsgOptions.
type sent struct {
	Method   string // endpoint
	Channel  string
	User     string
	Values   url.Values
	Response bool // to a response_url
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{
		self:   slack.AuthTestResponse{URL: "https://acme.slack.com/", TeamID: "T1", UserID: "UBOT", BotID: "BBOT"},
		users:  map[string]slack.User{},
		groups: map[string][]string{},
		msgs:   map[string]slack.Msg{},
	}
}

func (f *fakeAPI) record(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
}

func (f *fakeAPI) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == name {
			n++
		}
	}
	return n
}

func (f *fakeAPI) sent() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sent(nil), f.posts...)
}

func (f *fakeAPI) decode(channel, user string, opts []slack.MsgOption) sent {
	endpoint, values, err := slack.UnsafeApplyMsgOptions("tok", channel, "https://api/", opts...)
	if err != nil {
		panic(err)
	}
	return sent{Method: endpoint, Channel: channel, User: user, Values: values, Response: !strings.HasPrefix(endpoint, "https://api/")}
}

func (f *fakeAPI) AuthTestContext(context.Context) (*slack.AuthTestResponse, error) {
	f.record("auth.test")
	r := f.self
	return &r, nil
}

func (f *fakeAPI) PostMessageContext(_ context.Context, ch string, opts ...slack.MsgOption) (string, string, error) {
	f.record("chat.postMessage")
	s := f.decode(ch, "", opts)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.postErr != nil {
		return "", "", f.postErr
	}
	f.posts = append(f.posts, s)
	return ch, "1700000000.000100", nil
}

func (f *fakeAPI) UpdateMessageContext(_ context.Context, ch, ts string, opts ...slack.MsgOption) (string, string, string, error) {
	f.record("chat.update")
	s := f.decode(ch, "", append(opts, slack.MsgOptionUpdate(ts)))
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.postErr != nil {
		return "", "", "", f.postErr
	}
	f.posts = append(f.posts, s)
	return ch, ts, "", nil
}

func (f *fakeAPI) PostEphemeralContext(_ context.Context, ch, user string, opts ...slack.MsgOption) (string, error) {
	f.record("chat.postEphemeral")
	s := f.decode(ch, user, append(opts, slack.MsgOptionPostEphemeral(user)))
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ephErr != nil {
		return "", f.ephErr
	}
	f.posts = append(f.posts, s)
	return "1700000000.000200", nil
}

func (f *fakeAPI) GetPermalinkContext(_ context.Context, p *slack.PermalinkParameters) (string, error) {
	f.record("chat.getPermalink")
	if f.permaErr != nil {
		return "", f.permaErr
	}
	return "https://acme.slack.com/archives/" + p.Channel + "/p" + p.Ts, nil
}

func (f *fakeAPI) GetUserInfoContext(_ context.Context, id string, _ ...slack.GetUserInfoOption) (*slack.User, error) {
	f.record("users.info")
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.userErr != nil {
		return nil, f.userErr
	}
	u, ok := f.users[id]
	if !ok {
		return nil, slack.SlackErrorResponse{Err: "user_not_found"}
	}
	return &u, nil
}

func (f *fakeAPI) GetUserGroupMembersContext(_ context.Context, g string, _ ...slack.GetUserGroupMembersOption) ([]string, error) {
	f.record("usergroups.users.list")
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.groups[g]
	if !ok {
		return nil, slack.SlackErrorResponse{Err: "no_such_subteam"}
	}
	return m, nil
}

func (f *fakeAPI) GetConversationHistoryContext(_ context.Context, p *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error) {
	f.record("conversations.history")
	f.mu.Lock()
	defer f.mu.Unlock()
	r := &slack.GetConversationHistoryResponse{}
	if m, ok := f.msgs[p.ChannelID+"/"+p.Latest]; ok && (m.ThreadTimestamp == "" || m.ThreadTimestamp == m.Timestamp) {
		r.Messages = []slack.Message{{Msg: m}}
	}
	return r, nil
}

func (f *fakeAPI) GetConversationRepliesContext(_ context.Context, p *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error) {
	f.record("conversations.replies")
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.msgs[p.ChannelID+"/"+p.Timestamp]
	if !ok {
		return nil, false, "", slack.SlackErrorResponse{Err: "thread_not_found"}
	}
	root := f.msgs[p.ChannelID+"/"+m.ThreadTimestamp]
	return []slack.Message{{Msg: root}, {Msg: m}}, false, "", nil
}

func (f *fakeAPI) AddReactionContext(_ context.Context, name string, item slack.ItemRef) error {
	f.record("reactions.add")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reacts = append(f.reacts, item.Channel+"/"+item.Timestamp+":"+name)
	return nil
}

func (f *fakeAPI) UnfurlMessageContext(_ context.Context, channelID, timestamp string, unfurls map[string]slack.Attachment, options ...slack.MsgOption) (string, string, string, error) {
	f.record("chat.unfurl")
	return channelID, timestamp, "", nil
}

func (f *fakeAPI) PublishViewContext(_ context.Context, req slack.PublishViewContextRequest) (*slack.ViewResponse, error) {
	f.record("views.publish")
	return &slack.ViewResponse{}, nil
}

func (f *fakeAPI) OpenViewContext(_ context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error) {
	f.record("views.open")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.views = append(f.views, view)
	return &slack.ViewResponse{}, nil
}

// recorder is a Handler that records events and answers with resp/err.
type recorder struct {
	mu     sync.Mutex
	events []*bot.Event
	resp   *bot.Response
	err    error
	ch     chan *bot.Event
}

func newRecorder() *recorder { return &recorder{ch: make(chan *bot.Event, 100)} }

func (r *recorder) Handle(ctx context.Context, ev *bot.Event) (*bot.Response, error) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	resp, err := r.resp, r.err
	r.mu.Unlock()
	select {
	case r.ch <- ev:
	case <-ctx.Done(): // nobody reads any more: the adapter is shutting down
	}
	return resp, err
}

// waitJobs waits for the adapter's running jobs, at most a minute.
func waitJobs(t *testing.T, a *Adapter) {
	t.Helper()
	done := make(chan struct{})
	go func() { a.jobs.wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("jobs still running after a minute")
	}
}

func (r *recorder) all() []*bot.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*bot.Event(nil), r.events...)
}

// next waits for the next handled event.
func (r *recorder) next(t *testing.T) *bot.Event {
	t.Helper()
	select {
	case ev := <-r.ch:
		return ev
	case <-time.After(time.Minute):
		t.Fatal("no event handled within a minute")
		return nil
	}
}

// none checks that no further event is handled within d.
func (r *recorder) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev := <-r.ch:
		t.Fatalf("unexpected event %s %+v", ev.Kind, ev)
	case <-time.After(d):
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newTestAdapter is an adapter over a fakeAPI.
func newTestAdapter(t *testing.T, cfg Config, h Handler) (*Adapter, *fakeAPI) {
	t.Helper()
	api := newFakeAPI()
	a := newAdapter(cfg, api, h, discardLogger())
	t.Cleanup(func() { a.jobs.stop(time.Second) })
	return a, api
}

// sharedFile returns a path under ../shared (the repo's sibling). Outside CI
// the test skips when it is absent; in CI (CI=true) it fails.
func sharedFile(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", p, err)
		}
		t.Skipf("%s absent: %v", p, err)
	}
	return p
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *fakeAPI) GetConversationInfoContext(_ context.Context, in *slack.GetConversationInfoInput) (*slack.Channel, error) {
	f.record("conversations.info")
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := &slack.Channel{}
	ch.ID = in.ChannelID
	ch.IsExtShared = f.shared[in.ChannelID]
	return ch, nil
}
