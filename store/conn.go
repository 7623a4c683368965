package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// This file wraps the database drivers' connections so that the store
// never waits on the database longer than its caller allows, and so that a
// connection that went bad is replaced instead of kept in the pool:
//
//   - PostgreSQL: lib/pq does not give up on a query whose context ends
//     while the server does not answer (it sends a cancel request and keeps
//     waiting), nor on the start-up handshake. Here the socket is cut when
//     the context ends (or after defaultBound for calls without a
//     deadline), so every wait is bounded; connect_timeout and
//     statement_timeout are forced too (see pgConfig).
//   - SQLite: a connection that was opened while the file could not be
//     written (or that met an I/O error) stays read-only for its life; it
//     is dropped from the pool after such an error so that the next write
//     opens a fresh one.
//   - Both: NUL characters are removed from every text argument.
//     PostgreSQL refuses them in text ("invalid byte sequence") and SQLite
//     would store them; removing them gives the same result on both.
//
// It also keeps the write health that /readyz reports (see WriteHealth).

// Bounds applied to PostgreSQL whatever DATABASE_URL says (a smaller value
// in the URL is kept).
const (
	// pgConnectTimeout bounds making a connection, handshake included.
	pgConnectTimeout = 5 * time.Second
	// pgStatementTimeout is the server-side statement_timeout of the
	// bot's connections.
	pgStatementTimeout = 30 * time.Second
	// defaultBound cuts a PostgreSQL call whose context has no deadline.
	defaultBound = pgStatementTimeout + 5*time.Second
)

// unboundedKey marks a context whose database calls may run as long as it
// lasts (migrations, bulk seeding).
type unboundedKey struct{}

// unbounded returns ctx marked so that calls without a deadline are not cut
// after defaultBound.
func unbounded(ctx context.Context) context.Context {
	return context.WithValue(ctx, unboundedKey{}, true)
}

// health tracks whether writes succeed, from every write the pool runs.
type health struct {
	failing atomic.Bool
	mu      sync.Mutex
	lastErr error
	since   time.Time
	log     atomic.Pointer[slog.Logger]
}

// writeFailed records a write that failed because the database cannot be
// written (read-only, full, I/O error) and logs the first one.
func (h *health) writeFailed(err error) {
	h.mu.Lock()
	h.lastErr = err
	first := !h.failing.Load()
	if first {
		h.since = time.Now()
		h.failing.Store(true)
	}
	h.mu.Unlock()
	if first {
		if l := h.log.Load(); l != nil {
			l.Warn("database writes are failing", "err", err)
		}
	}
}

// writeOK records a write that succeeded.
func (h *health) writeOK() {
	if !h.failing.Load() {
		return
	}
	h.mu.Lock()
	was := h.failing.Swap(false)
	since := h.since
	h.lastErr = nil
	h.mu.Unlock()
	if was {
		if l := h.log.Load(); l != nil {
			l.Warn("database writes succeed again", "failed_for", time.Since(since).Round(time.Millisecond).String())
		}
	}
}

// probeOK records a write probe that succeeded: it clears the faults a
// probe would have met (read-only, I/O), not a full disk, which only a real
// write that succeeds clears.
func (h *health) probeOK() {
	h.mu.Lock()
	full := isFull(h.lastErr)
	h.mu.Unlock()
	if !full {
		h.writeOK()
	}
}

func isFull(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL
}

// state returns the last write error while writes are failing, else nil.
func (h *health) state() error {
	if !h.failing.Load() {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lastErr
}

// isWriteFault reports whether err means the database file or server cannot
// take writes now (as opposed to a constraint violation or a busy lock).
func isWriteFault(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL:
			return true
		}
		return false
	}
	return false
}

// poisons reports whether err leaves a SQLite connection unable to write
// for the rest of its life: read-only (opened while the file could not be
// written), or an I/O error or a file that cannot be opened.
func poisons(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
			return true
		}
	}
	return false
}

// connector wraps a driver.Connector (see the top of this file).
type connector struct {
	inner  driver.Connector
	cut    bool // PostgreSQL: cut the socket when the context ends
	bound  time.Duration
	health *health
	// readOnly, for tests, makes new SQLite connections read-only
	// (PRAGMA query_only), as if opened while the file was not writable.
	readOnly atomic.Bool
	// writers, on SQLite, lets this process's read-write transactions in
	// one at a time, in the order they asked (see writeGate).
	writers chan struct{}
}

// writeGateWait is how long a read-write transaction waits for the write
// gate before it goes ahead anyway (SQLite's busy timeout then applies), so
// the gate can only ever reorder writers, never hang one.
const writeGateWait = 30 * time.Second

// writeGate waits for this process's turn to write (SQLite). SQLite lets
// waiting writers poll the lock (every 100 ms once they have waited a
// while), so on a busy machine a writer that keeps losing to newcomers
// could wait out the whole busy timeout; queued here, writers take turns.
// The returned function gives the turn back (it is safe to call twice).
func (c *connector) writeGate(ctx context.Context) (func(), error) {
	if c.writers == nil {
		return func() {}, nil
	}
	t := time.NewTimer(writeGateWait)
	defer t.Stop()
	select {
	case c.writers <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-c.writers }) }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return func() {}, nil
	}
}

func (c *connector) Driver() driver.Driver { return c.inner.Driver() }

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	var dh *dialHold
	if c.cut {
		dh = &dialHold{ctx: ctx}
		ctx = context.WithValue(ctx, dialHoldKey{}, dh)
	}
	inner, err := c.inner.Connect(ctx)
	var nc *cutConn
	if dh != nil {
		nc = dh.done()
		if err == nil && nc != nil && nc.isCut() {
			inner.Close()
			if cerr := context.Cause(dh.ctx); cerr != nil {
				return nil, cerr
			}
			return nil, errors.New("the database did not answer while connecting")
		}
	}
	if err != nil {
		return nil, err
	}
	w := &conn{inner: inner, nc: nc, c: c}
	if !c.cut {
		w.stmts = newStmtCache()
	}
	if c.readOnly.Load() {
		if ex, ok := inner.(driver.ExecerContext); ok {
			if _, err := ex.ExecContext(ctx, "PRAGMA query_only = 1", nil); err != nil {
				inner.Close()
				return nil, err
			}
		}
	}
	return w, nil
}

// dialHold carries the context of one Connect to the dialer, which ties the
// new socket to it for the length of the handshake.
type dialHold struct {
	ctx  context.Context
	mu   sync.Mutex
	nc   *cutConn
	stop func() bool
}

type dialHoldKey struct{}

func (h *dialHold) dialed(nc *cutConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stop != nil {
		h.stop()
	}
	h.nc = nc
	h.stop = context.AfterFunc(h.ctx, nc.cut)
}

func (h *dialHold) done() *cutConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stop != nil && !h.stop() && h.nc != nil {
		h.nc.cut()
	}
	return h.nc
}

// pgDialer dials PostgreSQL and wraps each socket in a cutConn.
type pgDialer struct{ d net.Dialer }

func (d *pgDialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

func (d *pgDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, address)
}

func (d *pgDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := d.d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	nc := &cutConn{Conn: c}
	if h, ok := ctx.Value(dialHoldKey{}).(*dialHold); ok {
		h.dialed(nc)
	}
	return nc, nil
}

// cutConn is a socket that can be cut from another goroutine: every
// blocked and later read or write then fails at once.
type cutConn struct {
	net.Conn
	mu   sync.Mutex
	dead bool
}

// errCut is returned by a cut connection; it is a net.Error (a timeout),
// which the store reports as the database being unavailable.
var errCut = &net.OpError{Op: "read", Net: "tcp", Err: cutError{}}

type cutError struct{}

func (cutError) Error() string   { return "the database did not answer in time" }
func (cutError) Timeout() bool   { return true }
func (cutError) Temporary() bool { return true }

func (c *cutConn) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dead = true
	c.Conn.SetDeadline(time.Unix(1, 0))
}

func (c *cutConn) isCut() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dead
}

func (c *cutConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return nil
	}
	return c.Conn.SetDeadline(t)
}

func (c *cutConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return nil
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *cutConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return nil
	}
	return c.Conn.SetWriteDeadline(t)
}

func (c *cutConn) Read(b []byte) (int, error) {
	if c.isCut() {
		return 0, errCut
	}
	n, err := c.Conn.Read(b)
	if err != nil && c.isCut() {
		return n, errCut
	}
	return n, err
}

func (c *cutConn) Write(b []byte) (int, error) {
	if c.isCut() {
		return 0, errCut
	}
	n, err := c.Conn.Write(b)
	if err != nil && c.isCut() {
		return n, errCut
	}
	return n, err
}

// conn wraps one driver connection.
type conn struct {
	inner driver.Conn
	nc    *cutConn // PostgreSQL socket, nil on SQLite
	c     *connector
	bad   atomic.Bool
	// txFault: a statement of the open transaction met a write fault, so
	// its commit (of what did not fail) does not mean writes work again.
	txFault bool
	stmts   *stmtCache // SQLite: statements kept prepared; nil on PostgreSQL
}

var (
	_ driver.Conn               = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.Pinger             = (*conn)(nil)
	_ driver.NamedValueChecker  = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
)

// guard bounds one call on the connection by ctx (and defaultBound when
// ctx has no deadline): when either ends first the socket is cut. The
// returned function ends the guard; a connection whose guard fired is
// never reused.
func (w *conn) guard(ctx context.Context) func() {
	if w.nc == nil {
		return func() {}
	}
	var stopCtx func() bool
	if ctx.Done() != nil {
		stopCtx = context.AfterFunc(ctx, w.nc.cut)
	}
	var t *time.Timer
	if _, ok := ctx.Deadline(); !ok && w.c.bound > 0 && ctx.Value(unboundedKey{}) == nil {
		t = time.AfterFunc(w.c.bound, w.nc.cut)
	}
	return func() {
		if stopCtx != nil && !stopCtx() {
			w.bad.Store(true)
		}
		if t != nil && !t.Stop() {
			w.bad.Store(true)
		}
		if w.nc.isCut() {
			w.bad.Store(true)
		}
	}
}

// after records what err says about the connection and the database.
func (w *conn) after(err error, write bool) error {
	if err == nil {
		if write {
			w.c.health.writeOK()
		}
		return nil
	}
	if poisons(err) {
		w.bad.Store(true)
	}
	if isWriteFault(err) {
		w.txFault = true
		w.c.health.writeFailed(err)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		w.bad.Store(true)
	}
	return err
}

func (w *conn) Prepare(query string) (driver.Stmt, error) {
	return w.PrepareContext(context.Background(), query)
}

func (w *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	end := w.guard(ctx)
	defer end()
	var st driver.Stmt
	var err error
	if p, ok := w.inner.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, query)
	} else {
		st, err = w.inner.Prepare(query)
	}
	if err != nil {
		return nil, w.after(err, false)
	}
	return &stmt{inner: st, w: w, write: isWrite(query)}, nil
}

func (w *conn) Close() error {
	if w.stmts != nil {
		w.stmts.close()
	}
	return w.inner.Close()
}

// Unwrap returns the driver's connection.
func (w *conn) Unwrap() driver.Conn { return w.inner }

func (w *conn) Begin() (driver.Tx, error) {
	return w.BeginTx(context.Background(), driver.TxOptions{})
}

func (w *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	release := func() {}
	if !opts.ReadOnly {
		var err error
		if release, err = w.c.writeGate(ctx); err != nil {
			return nil, err
		}
	}
	end := w.guard(ctx)
	defer end()
	w.txFault = false
	var tx driver.Tx
	var err error
	if b, ok := w.inner.(driver.ConnBeginTx); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else {
		tx, err = w.inner.Begin() //nolint:staticcheck // fallback for drivers without BeginTx
	}
	if err != nil {
		release()
		// Beginning is no write yet: only a failure says something.
		return nil, w.after(err, false)
	}
	return &txn{inner: tx, w: w, ctx: ctx, write: !opts.ReadOnly, release: release}, nil
}

func (w *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ex, ok := w.inner.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	end := w.guard(ctx)
	defer end()
	if w.stmts != nil {
		if cs := w.stmts.get(ctx, w.inner, query); cs != nil {
			res, err := cs.st.(driver.StmtExecContext).ExecContext(ctx, args)
			return res, w.after(err, isWrite(query))
		}
	}
	res, err := ex.ExecContext(ctx, query, args)
	if errors.Is(err, driver.ErrSkip) {
		return nil, err
	}
	return res, w.after(err, isWrite(query))
}

func (w *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := w.inner.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	end := w.guard(ctx)
	if w.stmts != nil {
		if cs := w.stmts.get(ctx, w.inner, query); cs != nil {
			r, err := cs.st.(driver.StmtQueryContext).QueryContext(ctx, args)
			if err != nil {
				end()
				return nil, w.after(err, isWrite(query))
			}
			cs.busy = true
			return &rows{Rows: r, end: func() { cs.done(); end() }, w: w}, nil
		}
	}
	r, err := q.QueryContext(ctx, query, args)
	if err != nil {
		end()
		if errors.Is(err, driver.ErrSkip) {
			return nil, err
		}
		return nil, w.after(err, isWrite(query))
	}
	return &rows{Rows: r, end: end, w: w}, nil
}

func (w *conn) Ping(ctx context.Context) error {
	p, ok := w.inner.(driver.Pinger)
	if !ok {
		return nil
	}
	end := w.guard(ctx)
	defer end()
	return w.after(p.Ping(ctx), false)
}

// CheckNamedValue removes NUL characters from text arguments, after the
// driver's own conversion.
func (w *conn) CheckNamedValue(nv *driver.NamedValue) error {
	err := driver.ErrSkip
	if ch, ok := w.inner.(driver.NamedValueChecker); ok {
		err = ch.CheckNamedValue(nv)
	}
	if errors.Is(err, driver.ErrSkip) {
		nv.Value, err = driver.DefaultParameterConverter.ConvertValue(nv.Value)
	}
	if err != nil {
		return err
	}
	if s, ok := nv.Value.(string); ok && strings.IndexByte(s, 0) >= 0 {
		nv.Value = strings.ReplaceAll(s, "\x00", "")
	}
	return nil
}

func (w *conn) ResetSession(ctx context.Context) error {
	if w.bad.Load() {
		return driver.ErrBadConn
	}
	if r, ok := w.inner.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (w *conn) IsValid() bool {
	if w.bad.Load() {
		return false
	}
	if v, ok := w.inner.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// isWrite guesses whether query changes data (for the write health).
func isWrite(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	if len(q) > 7 {
		q = q[:7]
	}
	q = strings.ToUpper(q)
	for _, p := range []string{"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "WITH"} {
		if strings.HasPrefix(q, p) {
			return p != "WITH"
		}
	}
	return false
}

type stmt struct {
	inner driver.Stmt
	w     *conn
	write bool
}

var (
	_ driver.StmtExecContext  = (*stmt)(nil)
	_ driver.StmtQueryContext = (*stmt)(nil)
)

func (s *stmt) Close() error  { return s.inner.Close() }
func (s *stmt) NumInput() int { return s.inner.NumInput() }

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(args))
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(args))
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	end := s.w.guard(ctx)
	defer end()
	var res driver.Result
	var err error
	if ex, ok := s.inner.(driver.StmtExecContext); ok {
		res, err = ex.ExecContext(ctx, args)
	} else {
		res, err = s.inner.Exec(values(args)) //nolint:staticcheck // fallback
	}
	return res, s.w.after(err, s.write)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	end := s.w.guard(ctx)
	var r driver.Rows
	var err error
	if q, ok := s.inner.(driver.StmtQueryContext); ok {
		r, err = q.QueryContext(ctx, args)
	} else {
		r, err = s.inner.Query(values(args)) //nolint:staticcheck // fallback
	}
	if err != nil {
		end()
		return nil, s.w.after(err, s.write)
	}
	return &rows{Rows: r, end: end, w: s.w}, nil
}

func named(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, v := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return out
}

func values(args []driver.NamedValue) []driver.Value {
	out := make([]driver.Value, len(args))
	for i, a := range args {
		out[i] = a.Value
	}
	return out
}

// rows ends its query's guard when closed, and records what an error
// while reading says (an INSERT … RETURNING fails there).
type rows struct {
	driver.Rows
	end  func()
	once sync.Once
	w    *conn
}

func (r *rows) Next(dest []driver.Value) error {
	err := r.Rows.Next(dest)
	if err != nil && err != io.EOF {
		return r.w.after(err, false)
	}
	return err
}

func (r *rows) Close() error {
	err := r.Rows.Close()
	r.once.Do(r.end)
	return err
}

func (r *rows) HasNextResultSet() bool {
	if n, ok := r.Rows.(driver.RowsNextResultSet); ok {
		return n.HasNextResultSet()
	}
	return false
}

func (r *rows) NextResultSet() error {
	if n, ok := r.Rows.(driver.RowsNextResultSet); ok {
		return n.NextResultSet()
	}
	return io.EOF
}

// txn bounds Commit and Rollback by the transaction's context.
type txn struct {
	inner   driver.Tx
	w       *conn
	ctx     context.Context
	write   bool
	release func() // gives the write gate back
}

func (t *txn) Commit() error {
	defer t.release()
	end := t.w.guard(t.ctx)
	defer end()
	return t.w.after(t.inner.Commit(), t.write && !t.w.txFault)
}

func (t *txn) Rollback() error {
	defer t.release()
	// database/sql rolls back when the context ends: bound that by
	// defaultBound, not by the context that just ended.
	end := t.w.guard(context.WithoutCancel(t.ctx))
	defer end()
	return t.w.after(t.inner.Rollback(), false)
}
