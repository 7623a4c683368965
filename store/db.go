package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"maps"
	"math/bits"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/feedbackbot/feedbackbot/bot"
	"github.com/feedbackbot/feedbackbot/migrations"
)

// Dialects returned by DB.Dialect.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// DefaultSQLitePath is the database file used when the DSN is empty.
const DefaultSQLitePath = "./feedbackbot.db"

// sqliteParams are added to every SQLite DSN so that each pooled connection
// gets them: WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE for
// read-write transactions (writers queue on the busy timeout instead of
// failing to upgrade a read lock). Times are written as
// "2006-01-02 15:04:05.999999999-07:00", always in UTC, so that they
// compare correctly as text.
var sqliteParams = []string{
	"_pragma=busy_timeout(10000)",
	"_pragma=foreign_keys(1)",
	"_pragma=journal_mode(WAL)",
	"_pragma=synchronous(NORMAL)",
	"_txlock=immediate",
	"_time_format=sqlite",
}

// DB is the feedbackbot store. It implements bot.Store.
type DB struct {
	db      *sqlx.DB
	dialect string
	dsn     string // PostgreSQL: the URL, for the notification listener
	now     func() time.Time
	// stmts caches the prepared statements of the hot paths, by query text
	// (see prepared), as mainStmts; retired holds those replaced for a
	// larger board until no call can still be using them.
	stmts    sync.Map
	retireMu sync.Mutex
	retired  []retiredStmt
	// gen (PostgreSQL) is a pool of its own for the group-commit batch
	// statements, which run prepared with generic plans (queryGeneric);
	// genStmts caches its prepared statements.
	gen      *sqlx.DB
	genMu    sync.Mutex
	genStmts map[string]genStmt
	// grown is the largest mention id written (see queryGeneric).
	grown atomic.Int64
	// conn is the pool's connector (see conn.go) and health what it
	// learned about writes.
	conn   *connector
	health *health
	// creates batches CreateRequest calls (group commit, group.go).
	creates group[newCapture]
	// cards batches SaveCard calls.
	cards group[cardSave]
	// finishes batches FinishDelivery calls (delivery.go).
	finishes group[finishing]
	// suggestions batches CreateSuggestionFrom calls (PostgreSQL,
	// suggestion.go).
	suggestions group[suggestionFrom]
	// emails batches SetIdentityEmail calls for new identities
	// (PostgreSQL, emailidentity.go).
	emails group[*newEmailIdentity]
}

var _ bot.Store = (*DB)(nil)

// ParseDSN returns the dialect and the driver name and data source for dsn:
// "postgres://…" and "postgresql://…" are PostgreSQL; "sqlite:PATH", a plain
// path, or "" (DefaultSQLitePath) are SQLite.
func ParseDSN(dsn string) (dialect, driver, source string) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return DialectPostgres, "postgres", dsn
	}
	path := dsn
	switch {
	case strings.HasPrefix(path, "sqlite://"):
		path = strings.TrimPrefix(path, "sqlite://")
	case strings.HasPrefix(path, "sqlite3:"):
		path = strings.TrimPrefix(path, "sqlite3:")
	case strings.HasPrefix(path, "sqlite:"):
		path = strings.TrimPrefix(path, "sqlite:")
	}
	if path == "" {
		path = DefaultSQLitePath
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return DialectSQLite, "sqlite", path + sep + strings.Join(sqliteParams, "&")
}

// connect opens the database without migrating it. With forMigrations the
// PostgreSQL connections keep the statement_timeout of the URL (a schema
// change may take long); the bot's own pool gets pgStatementTimeout.
func connect(ctx context.Context, dsn string, forMigrations bool) (*DB, error) {
	dialect, driverName, source := ParseDSN(dsn)
	h := &health{}
	c := &connector{health: h}
	var gc *connector
	var err error
	if dialect == DialectSQLite {
		c.inner, err = sqlite.NewConnector(source)
		c.writers = make(chan struct{}, 1)
	} else {
		var cfg pq.Config
		cfg, err = pgConfig(source, forMigrations)
		if err == nil {
			c, err = pgConnector(cfg, h, forMigrations)
		}
		if err == nil && !forMigrations {
			// The batch statements' pool (see queryGeneric).
			gcfg := cfg
			gcfg.Runtime = maps.Clone(cfg.Runtime)
			for k, v := range genericPoolSettings {
				gcfg.Runtime[k] = v
			}
			gcfg.Runtime[genericPlanSetting] = "force_generic_plan"
			gc, err = pgConnector(gcfg, h, false)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	db := sqlx.NewDb(sql.OpenDB(c), driverName)
	if dialect == DialectSQLite {
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
		db.SetConnMaxIdleTime(0)
	} else {
		// As many idle connections as open ones: under load a smaller idle
		// pool closes and reopens connections (and their prepared
		// statements) all the time. 16 is plenty for two cores (captures
		// share transactions through group commit) and leaves room under
		// PostgreSQL's default 100 connections for replicas and tests that
		// open several stores at once.
		db.SetMaxOpenConns(16)
		db.SetMaxIdleConns(16)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	pctx, cancel := context.WithTimeout(ctx, pgConnectTimeout+5*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	s := &DB{db: db, dialect: dialect, conn: c, health: h, now: func() time.Time { return time.Now().UTC() }}
	if gc != nil {
		// Three batches are written at a time at most (one of captures,
		// one of cards, one of the suggestions of the captures with
		// duplicates); the rest is room for a statement being prepared.
		gen := sqlx.NewDb(sql.OpenDB(gc), driverName)
		gen.SetMaxOpenConns(8)
		gen.SetMaxIdleConns(8)
		gen.SetConnMaxIdleTime(5 * time.Minute)
		// A plan is made once per connection (see queryGeneric): renewing
		// the connections now and then re-plans the batch statements
		// for the board as it has grown.
		gen.SetConnMaxLifetime(10 * time.Minute)
		// A server without the setting (PostgreSQL before 12) refuses
		// the connection: the batch statements are then planned at each
		// batch, as before, on the bot's pool.
		err := gen.PingContext(pctx)
		var pe *pq.Error
		if errors.As(err, &pe) && pe.Code == "42704" {
			gen.Close()
			slog.Warn("PostgreSQL has no " + genericPlanSetting + ": batch statements are planned at each batch")
		} else {
			s.gen = gen
		}
	}
	if dialect == DialectPostgres {
		s.dsn = source
	}
	s.creates.run = s.createRequests
	s.cards.run = s.saveCards
	s.finishes.run = s.finishDeliveries
	s.suggestions.run = s.createSuggestions
	s.emails.run, s.emails.parallel = s.newEmailIdentities, 1
	s.creates.parallel, s.cards.parallel, s.finishes.parallel, s.suggestions.parallel = 1, 1, 1, 1 // SQLite: one writer at a time
	if dialect == DialectPostgres {
		// Captures and cards: one batch at a time. With two, a capture
		// arriving while a batch was written started another at once,
		// mostly of one, and PostgreSQL spent about a third more CPU per
		// capture on the extra statements and commits (docs/performance.md).
		// Suggestions likewise.
		s.finishes.parallel = 2
	}
	return s, nil
}

// pgConnector is the pool's connector for cfg (conn.go): the context
// cuts the socket, and unless forMigrations each statement is bounded.
func pgConnector(cfg pq.Config, h *health, forMigrations bool) (*connector, error) {
	pc, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, err
	}
	pc.Dialer(&pgDialer{})
	c := &connector{inner: pc, cut: true, health: h}
	if !forMigrations {
		c.bound = defaultBound
	}
	return c, nil
}

// pgConfig parses a PostgreSQL URL and bounds its waits whatever it says:
// connect_timeout at most pgConnectTimeout and, unless forMigrations,
// statement_timeout at most pgStatementTimeout (smaller values are kept).
func pgConfig(dsn string, forMigrations bool) (pq.Config, error) {
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		return cfg, err
	}
	if cfg.ConnectTimeout <= 0 || cfg.ConnectTimeout > pgConnectTimeout {
		cfg.ConnectTimeout = pgConnectTimeout
	}
	if !forMigrations {
		if cfg.Runtime == nil {
			cfg.Runtime = map[string]string{}
		}
		if ms, err := strconv.Atoi(cfg.Runtime["statement_timeout"]); err != nil || ms <= 0 || ms > int(pgStatementTimeout/time.Millisecond) {
			cfg.Runtime["statement_timeout"] = strconv.Itoa(int(pgStatementTimeout / time.Millisecond))
		}
	}
	return cfg, nil
}

// Open connects to the database named by dsn (see ParseDSN), applies every
// pending migration and returns the store.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if dialect, _, _ := ParseDSN(dsn); dialect == DialectPostgres {
		// Migrate over a pool of its own, without the bot's statement
		// timeout.
		m, err := connect(ctx, dsn, true)
		if err != nil {
			return nil, err
		}
		err = m.migrateUp(ctx)
		m.Close()
		if err != nil {
			return nil, err
		}
		return connect(ctx, dsn, false)
	}
	s, err := connect(ctx, dsn, false)
	if err != nil {
		return nil, err
	}
	if err := s.migrateUp(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *DB) migrateUp(ctx context.Context) error {
	ctx = unbounded(ctx)
	p, err := s.provider(ctx)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// Migrate runs a migration command against dsn and reports to out: "up"
// applies every pending migration, "down" rolls back the latest one, and
// "status" prints each migration and whether it is applied. EINVALID for
// any other command.
func Migrate(ctx context.Context, dsn, command string, out io.Writer) error {
	switch command {
	case "up", "down", "status":
	default:
		return bot.Errorf(bot.EINVALID, "Unknown migrate command %q (expected up, down or status).", command)
	}
	s, err := connect(ctx, dsn, true)
	if err != nil {
		return err
	}
	defer s.Close()
	ctx = unbounded(ctx)
	p, err := s.provider(ctx)
	if err != nil {
		return err
	}
	switch command {
	case "up":
		res, err := p.Up(ctx)
		for _, r := range res {
			fmt.Fprintf(out, "applied %s (%s)\n", r.Source.Path, r.Duration.Round(time.Millisecond))
		}
		if err != nil {
			return fmt.Errorf("migrate up: %w", err)
		}
		if len(res) == 0 {
			fmt.Fprintln(out, "no pending migrations")
		}
	case "down":
		r, err := p.Down(ctx)
		if errors.Is(err, goose.ErrNoNextVersion) {
			fmt.Fprintln(out, "no migration to roll back")
			return nil
		}
		if err != nil {
			return fmt.Errorf("migrate down: %w", err)
		}
		fmt.Fprintf(out, "rolled back %s (%s)\n", r.Source.Path, r.Duration.Round(time.Millisecond))
	case "status":
		st, err := p.Status(ctx)
		if err != nil {
			return fmt.Errorf("migrate status: %w", err)
		}
		for _, m := range st {
			applied := "pending"
			if m.State == goose.StateApplied {
				applied = "applied " + m.AppliedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(out, "%-30s %s\n", m.Source.Path, applied)
		}
	}
	return nil
}

// provider returns a goose provider for the store's dialect. On PostgreSQL a
// session advisory lock, keyed by the current schema, keeps replicas that
// start together from migrating at the same time.
func (s *DB) provider(ctx context.Context) (*goose.Provider, error) {
	fsys, err := migrations.Dialect(s.dialect)
	if err != nil {
		return nil, err
	}
	// Helpers number their migrations in ranges, so a database may have a
	// later one applied before an earlier one is added: apply those too.
	opts := []goose.ProviderOption{goose.WithAllowOutofOrder(true)}
	dialect := goose.DialectSQLite3
	if s.dialect == DialectPostgres {
		dialect = goose.DialectPostgres
		var schema string
		if err := s.db.GetContext(ctx, &schema, `SELECT current_schema()`); err != nil {
			return nil, fmt.Errorf("current schema: %w", err)
		}
		h := fnv.New64a()
		io.WriteString(h, "feedbackbot migrations "+schema)
		locker, err := lock.NewPostgresSessionLocker(
			lock.WithLockID(int64(h.Sum64()>>1)),
			lock.WithLockTimeout(1, 300),
		)
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, s.db.DB, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// Dialect returns DialectPostgres or DialectSQLite.
func (s *DB) Dialect() string { return s.dialect }

// DB returns the underlying connection pool, for tests and tools.
func (s *DB) DB() *sqlx.DB { return s.db }

// Ping checks that the database answers.
func (s *DB) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return bot.Errorf(bot.EUNAVAILABLE, "The database is unavailable.")
	}
	return nil
}

// SetLogger sets where the store logs what it notices about the database
// (writes that start failing, and succeed again), at warning level.
func (s *DB) SetLogger(l *slog.Logger) {
	if l != nil {
		s.health.log.Store(l)
	}
}

// CheckWritable reports whether the database takes writes: nil, or
// EUNAVAILABLE saying why not. On SQLite it tries a write transaction that
// it rolls back (a file that turned read-only is noticed even when nothing
// is being written); on both it also fails while the latest write failed
// because the database could not be written. A write lock held by someone
// else is not a failure.
func (s *DB) CheckWritable(ctx context.Context) error {
	if s.dialect == DialectSQLite {
		err := s.probeWrite(ctx)
		if err != nil && isWriteFault(err) {
			s.health.writeFailed(err)
			return storageError(err)
		}
		if err == nil {
			s.health.probeOK()
		}
	}
	if err := s.health.state(); err != nil {
		return storageError(err)
	}
	return nil
}

func (s *DB) probeWrite(ctx context.Context) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// The comment keeps this out of the write health (isWrite): the probe
	// itself decides what its outcome means.
	_, err = tx.ExecContext(ctx, `/* probe */ DELETE FROM requests WHERE id < 0`)
	return err
}

// Close closes the prepared statements and the connection pool.
func (s *DB) Close() error {
	s.stmts.Range(func(k, v any) bool {
		v.(mainStmt).stmt.Close()
		s.stmts.Delete(k)
		return true
	})
	s.retireMu.Lock()
	for _, r := range s.retired {
		r.stmt.Close()
	}
	s.retired = nil
	s.retireMu.Unlock()
	s.genMu.Lock()
	for q, g := range s.genStmts {
		g.stmt.Close()
		delete(s.genStmts, q)
	}
	s.genMu.Unlock()
	if s.gen != nil {
		s.gen.Close()
	}
	return s.db.Close()
}

// prepared returns query (with ? placeholders) prepared on the pool, once
// per DB and board size class: database/sql prepares it again on each
// connection that runs it and after a reconnection. It is for the
// single-statement hot paths (capture, duplicate check, cards), which then
// take one round trip and no parse on PostgreSQL.
//
// PostgreSQL plans a prepared statement for its arguments five times, then
// keeps a generic plan when that costs no more, until the tables are
// analysed again. A plan kept on a board of a few requests reads whole
// tables (a sequential scan costs less than an index lookup there), and on
// a board that grows fast it went on doing so for minutes: ResolveRequests
// took 3.3 ms per call with 11,000 requests. So, as with the batch
// statements (queryGeneric), a statement is prepared again each time the
// board (the largest mention id written) has doubled since it was
// prepared, which makes PostgreSQL choose its plan again.
// TestPreparedFollowsTheBoard checks it.
func (s *DB) prepared(ctx context.Context, query string) (*sqlx.Stmt, error) {
	class := bits.Len64(uint64(s.grown.Load()))
	v, ok := s.stmts.Load(query)
	if ok && v.(mainStmt).class >= class {
		return v.(mainStmt).stmt, nil
	}
	st, err := s.db.PreparexContext(ctx, s.db.Rebind(query))
	if err != nil {
		return nil, storageError(fmt.Errorf("prepare: %w", err))
	}
	next := mainStmt{class: class, stmt: st}
	if !ok {
		if prev, loaded := s.stmts.LoadOrStore(query, next); loaded {
			// Another call prepared it first.
			st.Close()
			return prev.(mainStmt).stmt, nil
		}
		return st, nil
	}
	if !s.stmts.CompareAndSwap(query, v, next) {
		st.Close()
		cur, _ := s.stmts.Load(query)
		return cur.(mainStmt).stmt, nil
	}
	s.retire(v.(mainStmt).stmt)
	return st, nil
}

// mainStmt is a statement prepared by prepared for boards of one size
// class (the bit length of the largest mention id).
type mainStmt struct {
	class int
	stmt  *sqlx.Stmt
}

// retiredStmt is a statement replaced at since.
type retiredStmt struct {
	stmt  *sqlx.Stmt
	since time.Time
}

// retireAfter is how long a replaced statement stays open: a call that
// loaded it just before may still run it (a closed statement would fail
// that call), and no statement runs longer than the server's timeout.
const retireAfter = pgStatementTimeout + time.Minute

// retire keeps st open for retireAfter and closes the statements retired
// longer ago. A board doubles a few dozen times at most, so few are kept.
func (s *DB) retire(st *sqlx.Stmt) {
	now := time.Now()
	s.retireMu.Lock()
	defer s.retireMu.Unlock()
	keep := s.retired[:0]
	for _, r := range s.retired {
		if now.Sub(r.since) >= retireAfter {
			r.stmt.Close()
			continue
		}
		keep = append(keep, r)
	}
	s.retired = append(keep, retiredStmt{stmt: st, since: now})
}

// get runs a one-row query as one prepared statement, outside an explicit
// transaction (a single statement is atomic and sees one snapshot).
func (s *DB) get(ctx context.Context, dest any, query string, args ...any) error {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return err
	}
	return storageError(st.GetContext(ctx, dest, args...))
}

// selectAll is get for many rows.
func (s *DB) selectAll(ctx context.Context, dest any, query string, args ...any) error {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return err
	}
	return storageError(st.SelectContext(ctx, dest, args...))
}

// genericPlanSetting is the setting that makes the batch pool's plans
// generic (a variable for tests of a server without it).
var genericPlanSetting = "plan_cache_mode"

// genericPoolSettings are the batch pool's other planner settings. A
// generic plan is made once for tables of whatever size they have then: on
// a small board a sequential scan (hashed, or materialised for a nested
// loop) costs less than a few index lookups, and the plan keeps reading
// the whole table at each batch as the board grows. Each batch statement
// finds every row it touches through a key, so the pool plans no
// sequential scan where an index can be used (enable_seqscan off adds a
// prohibitive cost to a sequential scan; one is still made where nothing
// else can be done). TestBatchPlansUseKeys checks the plans on a small board.
var genericPoolSettings = map[string]string{"enable_seqscan": "off"}

// genericFrom is the board size (the largest mention id this store has
// written) from which the batch statements run with generic plans; below
// it they are planned for their arguments at every batch.
const genericFrom = 512

// queryGeneric runs a query of the batch statements of group commit
// (PostgreSQL). Planning them at every batch was as much CPU as running
// them, so they are prepared on a pool of their own (DB.gen), where
// plan_cache_mode is force_generic_plan, and each connection plans them
// once. A generic plan cannot see the arrays' sizes, nor the tables
// growing after it was made: a plan made while a table was small reads it
// in full (a hash join over it, a sequential scan per row), and went on
// doing so as the board grew. So the statements are written for plans
// that find each row through its key (correlated subqueries per input
// row, OFFSET 0 so PostgreSQL cannot turn them into joins; a range of one
// id where a join cannot be avoided), and the plans follow the board: a
// board under genericFrom is planned at every batch, and each time the
// board has doubled since the plans were made the statements are
// prepared again, so a plan is never used on tables more than twice the
// size it was made for. Connections are also renewed every few minutes
// (DB.gen's lifetime). TestBatchStatementsFollowTheBoard checks the plans.
func (s *DB) queryGeneric(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	grown := s.grown.Load()
	if !s.plannedAt(grown) {
		rows, err := s.db.QueryContext(ctx, s.db.Rebind(query), args...)
		return rows, storageError(err)
	}
	st, err := s.genericStmt(ctx, query, bits.Len64(uint64(grown)))
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	return rows, storageError(err)
}

// scanRows reads rows, which it closes: the column named c is scanned
// into target(c) (the targets are chosen once, by name, as sqlx would;
// a column without one is an error), and row is called after each row.
// Errors are storageError's.
func scanRows(rows *sql.Rows, target func(col string) any, row func() error) error {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return storageError(err)
	}
	dest := make([]any, len(cols))
	for i, c := range cols {
		if dest[i] = target(c); dest[i] == nil {
			return fmt.Errorf("missing destination name %s", c)
		}
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return storageError(err)
		}
		if err := row(); err != nil {
			return err
		}
	}
	return storageError(rows.Err())
}

// intDest and int64Dest scan an integer column into an int or an int64
// (scanRows): database/sql does it through reflection, which was most of
// the cost of scanning the hot rows. Anything but an int64 from the driver
// is left to database/sql's conversion, as before.
type (
	intDest   struct{ p *int }
	int64Dest struct{ p *int64 }
)

func (d intDest) Scan(src any) error {
	if v, ok := src.(int64); ok && int64(int(v)) == v {
		*d.p = int(v)
		return nil
	}
	var n int64
	if err := scanInt64(&n, src); err != nil {
		return err
	}
	if int64(int(n)) != n {
		return fmt.Errorf("converting driver.Value type %T (%q) to a int: value out of range", src, fmt.Sprint(src))
	}
	*d.p = int(n)
	return nil
}

func (d int64Dest) Scan(src any) error {
	if v, ok := src.(int64); ok {
		*d.p = v
		return nil
	}
	return scanInt64(d.p, src)
}

// scanInt64 converts src as database/sql scans it into an int64.
func scanInt64(p *int64, src any) error {
	if src == nil {
		return fmt.Errorf("converting NULL to int64 is unsupported")
	}
	var n sql.NullInt64
	if err := n.Scan(src); err != nil {
		return err
	}
	*p = n.Int64
	return nil
}

// requestScan is the scan targets of a bot.Request's columns
// (requestColumns) for scanRows.
type requestScan struct {
	r       bot.Request
	status  string
	merged  sql.NullInt64
	removed sql.NullTime
}

// target returns where column col of a request goes, or nil when col is
// none of its columns.
func (q *requestScan) target(col string) any {
	switch col {
	case "id":
		return int64Dest{&q.r.ID}
	case "title":
		return &q.r.Title
	case "description":
		return &q.r.Description
	case "status":
		return &q.status
	case "merged_into":
		return &q.merged
	case "root_id":
		return int64Dest{&q.r.RootID}
	case "demand":
		return intDest{&q.r.Demand}
	case "orgs":
		return intDest{&q.r.Orgs}
	case "mentions":
		return intDest{&q.r.Mentions}
	case "companies":
		return intDest{&q.r.Companies}
	case "value_cents":
		return int64Dest{&q.r.ValueCents}
	case "created_at":
		return &q.r.CreatedAt
	case "updated_at":
		return &q.r.UpdatedAt
	case "tags":
		return &q.r.Tags
	case "removed_at":
		return &q.removed
	}
	return nil
}

// request returns the request of the row just scanned.
func (q *requestScan) request() *bot.Request {
	r := q.r
	r.Status = bot.Status(q.status)
	r.MergedInto, r.RemovedAt = nil, nil
	if q.merged.Valid {
		id := q.merged.Int64
		r.MergedInto = &id
	}
	if q.removed.Valid {
		t := q.removed.Time
		r.RemovedAt = &t
	}
	return &r
}

// planned tells whether the batch statements run with plans made once
// (queryGeneric), not planned at each call.
func (s *DB) planned() bool {
	return s.plannedAt(s.grown.Load())
}

// plannedAt is planned for a board whose largest mention id is grown.
func (s *DB) plannedAt(grown int64) bool {
	return s.gen != nil && grown >= genericFrom
}

// genStmt is a batch statement prepared on DB.gen for boards of one size
// class (the bit length of the largest mention id).
type genStmt struct {
	class int
	stmt  *sqlx.Stmt
}

// genericStmt returns query prepared for size class, preparing it again
// (and closing the statement of the smaller class) when the class is new.
func (s *DB) genericStmt(ctx context.Context, query string, class int) (*sqlx.Stmt, error) {
	s.genMu.Lock()
	defer s.genMu.Unlock()
	if g, ok := s.genStmts[query]; ok && g.class >= class {
		return g.stmt, nil
	}
	st, err := s.gen.PreparexContext(ctx, query)
	if err != nil {
		return nil, storageError(fmt.Errorf("prepare: %w", err))
	}
	if g, ok := s.genStmts[query]; ok {
		// Closed on each connection once no batch uses it.
		g.stmt.Close()
	}
	if s.genStmts == nil {
		s.genStmts = map[string]genStmt{}
	}
	s.genStmts[query] = genStmt{class: class, stmt: st}
	return st, nil
}

// grew records the id of a mention just written (the board's size, for
// queryGeneric).
func (s *DB) grew(mentionID int64) {
	for {
		cur := s.grown.Load()
		if mentionID <= cur || s.grown.CompareAndSwap(cur, mentionID) {
			return
		}
	}
}

// exec runs one prepared write statement in its own (implicit) transaction.
func (s *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := s.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := st.ExecContext(ctx, args...)
	return res, storageError(err)
}

// storageError turns the driver errors that mean the database cannot serve
// now into EUNAVAILABLE with a message that says why: a read-only or full
// SQLite file (or disk), PostgreSQL in read-only mode, out of disk or
// shutting down, or a connection that cannot be made or was lost. Callers
// answer the person (or the platform, which then redelivers) instead of
// dropping what they were saving. Other errors, nil included, are returned
// unchanged.
func storageError(err error) error {
	if err == nil {
		return nil
	}
	var be *bot.Error
	if errors.As(err, &be) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_READONLY:
			return bot.Errorf(bot.EUNAVAILABLE, "The database is read-only, so nothing can be saved (%s).", se.Error())
		case sqlite3.SQLITE_FULL:
			return bot.Errorf(bot.EUNAVAILABLE, "The database or its disk is full, so nothing can be saved (%s).", se.Error())
		case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
			return bot.Errorf(bot.EUNAVAILABLE, "The database file cannot be written (%s).", se.Error())
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			// Another writer held the file for the whole busy timeout (another
			// process on the same file, or a very loaded machine): transient.
			return bot.Errorf(bot.EUNAVAILABLE, "The database is busy; try again in a moment (%s).", se.Error())
		}
		return err
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "25006":
			return bot.Errorf(bot.EUNAVAILABLE, "The database is read-only, so nothing can be saved.")
		case pe.Code == "53100":
			return bot.Errorf(bot.EUNAVAILABLE, "The database disk is full, so nothing can be saved.")
		case strings.HasPrefix(string(pe.Code), "08"), strings.HasPrefix(string(pe.Code), "57P"), strings.HasPrefix(string(pe.Code), "53"):
			return bot.Errorf(bot.EUNAVAILABLE, "The database is unavailable; try again in a moment.")
		}
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return bot.Errorf(bot.EUNAVAILABLE, "The database did not answer in time; try again in a moment.")
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return bot.Errorf(bot.EUNAVAILABLE, "The database is unavailable; try again in a moment.")
	}
	return err
}

// beginTx starts a read-write transaction. On SQLite it is BEGIN IMMEDIATE
// (see sqliteParams).
func (s *DB) beginTx(ctx context.Context) (*sqlx.Tx, error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, storageError(fmt.Errorf("begin: %w", err))
	}
	return tx, nil
}

// beginReadTx starts a read-only transaction (a deferred BEGIN on SQLite, so
// readers never wait for the write lock).
func (s *DB) beginReadTx(ctx context.Context) (*sqlx.Tx, error) {
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, storageError(fmt.Errorf("begin: %w", err))
	}
	return tx, nil
}

// isUniqueViolation reports whether err is a uniqueness or primary key
// violation, by driver error code.
func isUniqueViolation(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isForeignKeyViolation reports whether err is a foreign key violation.
func isForeignKeyViolation(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// person is the voters.person value of (platform, workspace, userID).
func person(platform, workspace, userID string) string {
	return platform + "\x1f" + workspace + "\x1f" + userID
}

// likePattern returns a LIKE pattern matching q anywhere, with \ as escape.
func likePattern(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + strings.ToLower(r.Replace(q)) + "%"
}

// SetClock replaces the store's clock, which stamps every row it writes and
// decides what is due (deliveries, digests): for tests and simulations that
// move time on by hand. Call it before the store is used.
func (s *DB) SetClock(now func() time.Time) { s.now = now }
