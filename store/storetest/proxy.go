package storetest

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// FreezeProxy forwards TCP connections to upstream until frozen: then it
// still accepts connections but answers nothing, on new and open ones
// alike, as a database server that stopped answering would (a hung host,
// a network partition that drops packets). Thaw resumes forwarding.
//
// Cut stands in for a server that went away instead (a restart, a
// failover): every open connection is closed and new ones are refused until
// Restore.
type FreezeProxy struct {
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	frozen   bool
	cut      bool
	thawed   chan struct{}
	conns    map[net.Conn]bool
	wg       sync.WaitGroup
}

// NewFreezeProxy starts a proxy to upstream (host:port), closed when the
// test ends.
func NewFreezeProxy(t testing.TB, upstream string) *FreezeProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &FreezeProxy{ln: ln, upstream: upstream, thawed: make(chan struct{}), conns: map[net.Conn]bool{}}
	close(p.thawed)
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.Thaw()
		p.mu.Lock()
		for c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// ViaFreezeProxy returns dsn with its host replaced by a FreezeProxy to it.
func ViaFreezeProxy(t testing.TB, dsn string) (string, *FreezeProxy) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := NewFreezeProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	return u.String(), p
}

func (p *FreezeProxy) track(c net.Conn) {
	p.mu.Lock()
	p.conns[c] = true
	p.mu.Unlock()
}

func (p *FreezeProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *FreezeProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		cut := p.cut
		p.mu.Unlock()
		if cut {
			c.Close()
			continue
		}
		p.track(c)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.wait() // a frozen server accepts and says nothing
			u, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
			if err != nil {
				c.Close()
				return
			}
			p.track(u)
			p.wg.Add(2)
			go p.pipe(c, u)
			go p.pipe(u, c)
		}()
	}
}

// wait blocks while the proxy is frozen.
func (p *FreezeProxy) wait() {
	p.mu.Lock()
	ch := p.thawed
	p.mu.Unlock()
	<-ch
}

func (p *FreezeProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.wait()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			if err != io.EOF {
				break
			}
			break
		}
	}
	dst.Close()
	src.Close()
	p.untrack(dst)
	p.untrack(src)
}

// Freeze stops answering.
func (p *FreezeProxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.frozen {
		p.frozen = true
		p.thawed = make(chan struct{})
	}
}

// Thaw forwards again, also what was held while frozen.
func (p *FreezeProxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen {
		p.frozen = false
		close(p.thawed)
	}
}

// Cut closes every open connection and refuses new ones until Restore.
func (p *FreezeProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
}

// Restore accepts connections again after Cut.
func (p *FreezeProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}
