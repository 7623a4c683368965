package bot_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/bot/dedup"
	"github.com/feedbackbot/feedbackbot/store/storetest"
)

// tcpProxy forwards connections to upstream until cut: then it closes every
// open connection and refuses new ones until restore. It stands in for a
// PostgreSQL restart without touching the shared server.
type tcpProxy struct {
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	down     bool
	conns    map[net.Conn]bool
	wg       sync.WaitGroup
}

func newTCPProxy(t *testing.T, upstream string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, upstream: upstream, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *tcpProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		u, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[u] = true, true
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, u)
		go p.pipe(u, c)
	}
}

func (p *tcpProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// cut closes every connection and refuses new ones.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
}

func (p *tcpProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// viaProxy returns dsn with its host replaced by a proxy to that host.
func viaProxy(t *testing.T, dsn string) (string, *tcpProxy) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := newTCPProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	return u.String(), p
}

func message(channel, id, text string) *bot.Event {
	m := &bot.Message{Platform: "test", Workspace: "w", Channel: channel, ID: id, Author: bot.User{ID: "u-" + id, Name: "u-" + id}, Text: text}
	return &bot.Event{Kind: bot.EventMessage, Platform: "test", Workspace: "w", Channel: channel, User: m.Author, Message: m}
}

// PostgreSQL goes away while the bot runs (every connection cut, new ones
// refused) and comes back. The platform was acknowledged before each event
// was handled, so a capture that meets the database away is kept: the
// person is told nothing, and when the database is back the bot
// reconnects by itself and stores each kept message once. A redelivered
// message changes nothing; nothing is lost or doubled.
func TestFault_PostgresUnavailable(t *testing.T) {
	dsn, proxy := viaProxy(t, storetest.PostgresDSN(t))
	db := openDB(t, dsn)
	cfg := bot.DefaultConfig()
	cfg.CommandTimeout = 5 * time.Second
	cfg.CaptureRetryBackoff = 20 * time.Millisecond
	e := bot.NewEngine(db, dedup.New(dedup.DefaultConfig()), cfg, nil)
	rec := &recorder{}
	e.AddPlatform(rec)
	ctx := context.Background()
	if _, err := db.SetChannel(ctx, bot.ChannelSetting{Platform: "test", Workspace: "w", Channel: "ideas", Kind: bot.ChannelWatch}, true); err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	send := func(id string) error {
		_, err := e.Handle(ctx, message("ideas", id, "Idea number "+id+"\nplease build feature "+id))
		return err
	}
	for i := range 5 {
		id := fmt.Sprintf("before-%d", i)
		if err := send(id); err != nil {
			t.Fatalf("capture %s: %v", id, err)
		}
		stored[id] = true
	}

	proxy.cut()
	for i := range 5 {
		id := fmt.Sprintf("during-%d", i)
		if err := send(id); err != nil {
			t.Fatalf("capture %s while the database is away: %v, want it kept (nil)", id, err)
		}
		stored[id] = true
	}
	if err := db.Ping(ctx); bot.ErrorCode(err) != bot.EUNAVAILABLE {
		t.Fatalf("Ping with the database away = %v, want EUNAVAILABLE", err)
	}
	if n := e.PendingCaptures(); n != 5 {
		t.Fatalf("%d captures kept while the database is away, want 5", n)
	}

	proxy.restore()
	waitFor(t, "the kept captures stored", time.Minute, func() bool { return e.PendingCaptures() == 0 })
	for i := range 5 {
		id := fmt.Sprintf("after-%d", i)
		if err := send(id); err != nil {
			t.Fatalf("capture %s: %v", id, err)
		}
		stored[id] = true
	}
	// Redelivering a captured message changes nothing.
	if err := send("during-0"); err != nil {
		t.Fatalf("redelivered capture: %v", err)
	}

	_, total, err := db.FindRequests(ctx, bot.RequestFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if total != len(stored) {
		t.Fatalf("%d requests on the board, want %d", total, len(stored))
	}
	for id := range stored {
		if _, err := db.FindMentionByMessage(ctx, "test", "w", "ideas", id); err != nil {
			t.Fatalf("message %s lost: %v", id, err)
		}
		if n := rec.threadReplies("FB-")["ideas/"+id]; n != 1 {
			t.Fatalf("%d cards for message %s, want 1", n, id)
		}
	}
}

// hangingPlatform is a chat API that never answers: each call waits until
// its context ends (or release is closed, when it is set). It counts the
// calls waiting and those its caller's deadline cut.
type hangingPlatform struct {
	release chan struct{}
	mu      sync.Mutex
	waiting int
	cut     int
}

func (p *hangingPlatform) Name() string { return "test" }
func (p *hangingPlatform) Post(ctx context.Context, _ bot.OutMessage) (bot.MessageRef, error) {
	return bot.MessageRef{}, p.hang(ctx)
}
func (p *hangingPlatform) Update(ctx context.Context, _ bot.MessageRef, _ bot.OutMessage) error {
	return p.hang(ctx)
}

func (p *hangingPlatform) hang(ctx context.Context) error {
	p.mu.Lock()
	p.waiting++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.waiting--
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			p.cut++
		}
		p.mu.Unlock()
	}()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-p.release:
		return errors.New("chat API gone")
	}
}

func (p *hangingPlatform) counts() (waiting, cut int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waiting, p.cut
}

// waitCond waits up to a minute for cond.
func waitCond(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// A chat API that hangs holds no capture back: each request is stored while
// its card post hangs, the posts hang side by side (not one after the
// other), another event is answered meanwhile, and a post that never
// answers is cut by the command timeout. Checked by the order of events,
// not by how long a loaded machine takes.
func TestFault_ChatAPITimeout(t *testing.T) {
	db := openDB(t, storetest.SQLiteDSN(t))
	cfg := bot.DefaultConfig()
	cfg.CommandTimeout = 10 * time.Minute // outlasts every wait below: the posts end when released
	e := bot.NewEngine(db, dedup.New(dedup.DefaultConfig()), cfg, nil)
	p := &hangingPlatform{release: make(chan struct{})}
	e.AddPlatform(p)
	ctx := context.Background()
	if _, err := db.SetChannel(ctx, bot.ChannelSetting{Platform: "test", Workspace: "w", Channel: "ideas", Kind: bot.ChannelWatch}, true); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := e.Handle(ctx, message("ideas", fmt.Sprintf("m%d", i), fmt.Sprintf("Feature %d please", i)))
			errs <- err
		})
	}
	waitCond(t, "all eight card posts waiting at once", func() bool { w, _ := p.counts(); return w == n })
	if _, total, err := db.FindRequests(ctx, bot.RequestFilter{}); err != nil || total != n {
		t.Fatalf("%d requests stored (%v) while their cards hang, want %d", total, err, n)
	}
	// A command answered from the store alone is not held up: it returns
	// while all eight posts still hang.
	if _, err := e.Handle(ctx, &bot.Event{Kind: bot.EventMessageDeleted, Platform: "test", Workspace: "w", Message: &bot.Message{Platform: "test", Workspace: "w", Channel: "ideas", ID: "m0"}}); err != nil {
		t.Fatal(err)
	}
	if w, _ := p.counts(); w != n {
		t.Fatalf("%d posts still waiting after the delete, want %d: it waited for them", w, n)
	}
	close(p.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("capture whose card post failed: %v (the capture is kept; the card is given up)", err)
		}
	}

	// A post that never answers is cut by the command timeout (10 s: the
	// capture's store work fits in it even on a loaded machine).
	cfg.CommandTimeout = 10 * time.Second
	e2 := bot.NewEngine(db, dedup.New(dedup.DefaultConfig()), cfg, nil)
	never := &hangingPlatform{}
	e2.AddPlatform(never)
	done := make(chan error, 1)
	go func() {
		_, err := e2.Handle(ctx, message("ideas", "m9", "Offline mode"))
		done <- err
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Minute): // against a hang only
		t.Fatal("a capture whose card post never answers did not return")
	}
	if _, cut := never.counts(); cut == 0 {
		t.Fatal("the hanging post was not cut by the command timeout")
	}
}
