// Package postgres keeps kiosko's data in PostgreSQL, for installations that
// run several kiosko nodes on one database. It passes the same conformance
// suite as internal/sqlite, whose semantics are the reference, and its
// tables and columns are SQLite's one for one (kiosko migrate-data copies
// an installation across).
//
// Times are stored as BIGINT nanoseconds since the Unix epoch, UTC, as in
// SQLite; 0 (or NULL for optional times) stands for the zero time.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/atrest"
)

// DB is a kiosko.Store on one PostgreSQL database (or one schema of it,
// when the URL sets search_path).
type DB struct {
	pool    *pgxpool.Pool
	version int // schema version after Open

	lastPrune atomic.Int64 // unix nanos of the last failed sign-in prune

	box  atomic.Pointer[atrest.Box] // seals secrets at rest (secrets.go); nil: kept clear
	errs *errorTracer               // OnError (dberrors.go)
}

var _ kiosko.Store = (*DB)(nil)

// DefaultConnectTimeout bounds a connection attempt when the URL sets no
// connect_timeout, so a database that went away makes requests and /readyz
// fail within seconds instead of hanging on a dead address.
const DefaultConnectTimeout = 2 * time.Second

// Open connects to the database at url (postgres://user:pass@host:port/db?…,
// any libpq or pgx parameter, e.g. pool_max_conns, search_path) and applies
// every embedded migration it lacks, under an advisory lock so nodes that
// start together do not race. It refuses a database whose schema is newer
// than this binary knows.
func Open(ctx context.Context, url string) (*DB, error) {
	return open(ctx, url, migrationFS)
}

func open(ctx context.Context, url string, migrations fs.FS) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error may quote the URL, password included.
		return nil, errors.New("postgres: the database URL is not valid")
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	// A broken connection is found by the health check, not by a reader.
	cfg.HealthCheckPeriod = 15 * time.Second
	errs := &errorTracer{}
	cfg.ConnConfig.Tracer = errs
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := &DB{pool: pool, errs: errs}
	if err := db.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := db.migrate(ctx, migrations); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Pool returns the connection pool, for tools (migrate-data) that work
// below the kiosko.Store interface.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Ping checks the database answers (readiness). It fails within the
// connect timeout when PostgreSQL is down.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, DefaultConnectTimeout+time.Second)
	defer cancel()
	if err := db.pool.Ping(ctx); err != nil {
		return fail("postgres ping", err)
	}
	return nil
}

// Close closes the pool, waiting for connections in use to come back.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Counts returns the number of rows of every table of the schema but
// schema_migrations, so a data migration can be checked table by table.
func (db *DB) Counts(ctx context.Context) (map[string]int64, error) {
	tables, err := Tables(ctx, db.pool)
	if err != nil {
		return nil, fmt.Errorf("counts: %w", err)
	}
	counts := make(map[string]int64, len(tables))
	for _, t := range tables {
		var n int64
		if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{t}.Sanitize()).Scan(&n); err != nil {
			return nil, fail("counts: "+t, err)
		}
		counts[t] = n
	}
	return counts, nil
}

// Tables lists the tables of the current schema but schema_migrations, by
// name.
func Tables(ctx context.Context, q Querier) ([]string, error) {
	return queryList(ctx, q, scanString, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'
		ORDER BY table_name`)
}

// Querier is a *pgxpool.Pool, a *pgx.Conn or a pgx.Tx.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// inTx runs fn in a transaction, committing when fn returns nil. Anything
// fn wrote is rolled back on error, so a request cut short by a lost
// connection leaves nothing half-written.
//
// Events pending in ctx (kiosko.WithEvents) are written in the same
// transaction, so a change and the events that describe it commit together.
func (db *DB) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	var events []kiosko.Event
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		events = kiosko.TakeEvents(ctx)
		return insertEvents(ctx, tx, events)
	})
	if err != nil {
		kiosko.ReturnEvents(ctx, events)
	}
	return err
}

// writer runs fn inside a transaction when ctx carries pending events (so
// they commit with fn's change), directly on the pool otherwise.
func (db *DB) writer(ctx context.Context, fn func(q Querier) error) error {
	if kiosko.HasPendingEvents(ctx) {
		return db.inTx(ctx, func(tx pgx.Tx) error { return fn(tx) })
	}
	return fn(db.pool)
}

// queryList runs a query and scans every row with scan. It returns an empty,
// non-nil slice when there are no rows.
func queryList[T any](ctx context.Context, q Querier, scan func(pgx.Row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// queryOne runs a query for one row; no row is notFound.
func queryOne[T any](ctx context.Context, q Querier, notFound *kiosko.Error, scan func(pgx.Row) (T, error), query string, args ...any) (T, error) {
	v, err := scan(q.QueryRow(ctx, query, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		var zero T
		return zero, notFound
	}
	return v, fail("", err)
}

// execOne runs a statement that must change one row; none is notFound.
func execOne(ctx context.Context, q Querier, notFound *kiosko.Error, query string, args ...any) error {
	tag, err := q.Exec(ctx, query, args...)
	if err != nil {
		return fail("", err)
	}
	if tag.RowsAffected() == 0 {
		return notFound
	}
	return nil
}

// execCount runs a statement and returns how many rows it changed.
func execCount(ctx context.Context, q Querier, query string, args ...any) (int, error) {
	tag, err := q.Exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

func notFound(key, message string) *kiosko.Error {
	return &kiosko.Error{Code: kiosko.ENOTFOUND, Key: key, Message: message}
}

// PostgreSQL error codes this package maps to kiosko codes.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

// constraintErr turns a constraint violation into conflict (unique) or an
// EINVALID error (a reference to a missing row); other errors pass through.
func constraintErr(err error, conflict *kiosko.Error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case pgUniqueViolation:
		if conflict == nil {
			return err
		}
		return conflict
	case pgForeignKeyViolation:
		return &kiosko.Error{Code: kiosko.EINVALID, Key: "error.invalid", Message: "A referenced record does not exist."}
	}
	return err
}

// fail prefixes err with op and marks a lost or refused connection as
// EUNAVAILABLE (a 503 for the reader, "try again"), keeping the cause in
// the chain for the log. A kiosko error passes through unchanged but for
// the prefix.
func fail(op string, err error) error {
	if err == nil {
		return nil
	}
	var ke *kiosko.Error
	if !errors.As(err, &ke) && unavailable(err) {
		err = errors.Join(&kiosko.Error{Code: kiosko.EUNAVAILABLE, Key: "error.unavailable", Message: "The database is not reachable."}, err)
	}
	if op == "" {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// unavailable reports whether err means the database could not be reached
// or the connection broke, rather than that the statement was wrong.
func unavailable(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe):
		// Class 08: connection exception; 57P01-57P03: shutting down or
		// starting up; 53300: too many connections.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || pe.Code == "53300"
	case errors.As(err, &ce), errors.As(err, &ne),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, net.ErrClosed),
		pgconn.Timeout(err):
		return true
	}
	return strings.Contains(err.Error(), "conn closed")
}

// nanos stores a time; the zero time is 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos reads a time stored by nanos.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// nullNanos stores an optional time; nil is NULL.
func nullNanos(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	n := t.UnixNano()
	return &n
}

// fromNullNanos reads a time stored by nullNanos.
func fromNullNanos(n *int64) *time.Time {
	if n == nil {
		return nil
	}
	t := time.Unix(0, *n).UTC()
	return &t
}

// conds builds the WHERE clause of a filtered query with numbered
// placeholders.
type conds struct {
	terms []string
	args  []any
}

// add appends a term whose one placeholder is written "?".
func (c *conds) add(term string, arg any) {
	c.args = append(c.args, arg)
	c.terms = append(c.terms, strings.Replace(term, "?", fmt.Sprintf("$%d", len(c.args)), 1))
}

// where returns " WHERE a AND b", or "" without terms.
func (c *conds) where() string {
	if len(c.terms) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.terms, " AND ")
}

// limit appends " LIMIT $n" when n > 0.
func (c *conds) limit(n int) string {
	if n <= 0 {
		return ""
	}
	c.args = append(c.args, n)
	return fmt.Sprintf(" LIMIT $%d", len(c.args))
}

// qualified prefixes each of a list of columns with table.
func qualified(table, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = table + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// scanString scans a one-column row of text.
func scanString(r pgx.Row) (string, error) {
	var s string
	return s, r.Scan(&s)
}
