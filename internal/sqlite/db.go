// Package sqlite keeps kiosko's data in an embedded SQLite database, with the
// pure-Go modernc.org/sqlite driver: one writer connection, so writes queue in
// the process instead of fighting over the file lock, and a pool of readers
// that WAL mode lets run alongside the writer.
//
// Times are stored as INTEGER nanoseconds since the Unix epoch, UTC; 0 (or
// NULL for optional times) stands for the zero time.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/atrest"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// DB is a kiosko.Store on one SQLite file.
type DB struct {
	path  string
	write *sql.DB // one connection: every write goes through it
	read  *sql.DB // a pool of query-only connections

	version int // schema version after Open

	lastPrune atomic.Int64 // unix nanos of the last failed sign-in prune

	box           atomic.Pointer[atrest.Box] // seals secrets at rest (secrets.go); nil: kept clear
	deliveryStmts deliveryStmts              // newsletter.go: prepared once, reused by every batch
	errs          *errorHook                 // OnError (dberrors.go)
}

var _ kiosko.Store = (*DB)(nil)

// Open opens (creating it and its directory if missing) the database at path
// and applies every embedded migration it lacks. It refuses a database whose
// schema is newer than this binary knows.
func Open(path string) (*DB, error) {
	return open(path, migrationFS)
}

func open(path string, migrations fs.FS) (*DB, error) {
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: a file path is required, got %q", path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: create directory: %w", err)
		}
	}
	errs := &errorHook{}
	wc, err := newConnector(dsn(path, "_txlock=immediate"), errs)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	write := sql.OpenDB(wc)
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	rc, err := newConnector(dsn(path, "_pragma=query_only(1)"), errs)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open readers: %w", err)
	}
	read := sql.OpenDB(rc)
	n := max(4, runtime.NumCPU())
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)

	db := &DB{path: path, write: write, read: read, errs: errs}
	ctx := context.Background()
	// The writer connects first so WAL mode is set before any reader opens.
	if err := write.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	if err := db.migrate(ctx, migrations); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// dsn builds the connection string: WAL so readers never block the writer,
// a busy timeout so another process (the CLI) writing waits rather than
// fails, foreign keys on, and synchronous=NORMAL, which is durable enough in
// WAL mode and much faster.
func dsn(path string, extra ...string) string {
	q := []string{
		"_pragma=busy_timeout(10000)",
		"_pragma=journal_mode(WAL)",
		"_pragma=foreign_keys(1)",
		"_pragma=synchronous(NORMAL)",
	}
	q = append(q, extra...)
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + strings.Join(q, "&")
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Ping checks that both pools answer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite ping: %w", err)
	}
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite ping: %w", err)
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	return errors.Join(db.read.Close(), db.write.Close())
}

// Counts returns the number of rows of every table but schema_migrations,
// so a data migration can be checked table by table.
func (db *DB) Counts(ctx context.Context) (map[string]int64, error) {
	tables, err := queryList(ctx, db.read, scanString, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("counts: %w", err)
	}
	counts := make(map[string]int64, len(tables))
	for _, t := range tables {
		var n int64
		if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM "`+strings.ReplaceAll(t, `"`, `""`)+`"`).Scan(&n); err != nil {
			return nil, fmt.Errorf("counts: %s: %w", t, err)
		}
		counts[t] = n
	}
	return counts, nil
}

// inTx runs fn in a write transaction (BEGIN IMMEDIATE), committing when fn
// returns nil.
//
// Events pending in ctx (kiosko.WithEvents) are written in the same
// transaction, so a change and the events that describe it commit together.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	events := kiosko.TakeEvents(ctx)
	if err := insertEvents(ctx, tx, events); err != nil {
		_ = tx.Rollback()
		kiosko.ReturnEvents(ctx, events)
		return err
	}
	if err := tx.Commit(); err != nil {
		kiosko.ReturnEvents(ctx, events)
		return err
	}
	return nil
}

// writer runs fn on the writer connection, inside a transaction when ctx
// carries pending events (so they commit with fn's change), directly
// otherwise (one statement needs no transaction of its own).
func (db *DB) writer(ctx context.Context, fn func(q querier) error) error {
	if kiosko.HasPendingEvents(ctx) {
		return db.inTx(ctx, func(tx *sql.Tx) error { return fn(tx) })
	}
	return fn(db.write)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// querier is a *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// queryList runs a query and scans every row with scan. It returns an empty,
// non-nil slice when there are no rows.
func queryList[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
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
func queryOne[T any](ctx context.Context, q querier, notFound *kiosko.Error, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(q.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		var zero T
		return zero, notFound
	}
	return v, err
}

// execOne runs a statement that must change one row; none is notFound.
func execOne(ctx context.Context, q querier, notFound *kiosko.Error, query string, args ...any) error {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound
	}
	return nil
}

func notFound(key, message string) *kiosko.Error {
	return &kiosko.Error{Code: kiosko.ENOTFOUND, Key: key, Message: message}
}

// constraintErr turns a constraint violation into conflict (unique) or an
// EINVALID error (a reference to a missing row); other errors pass through.
func constraintErr(err error, conflict *kiosko.Error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_CONSTRAINT {
		return err
	}
	switch {
	case se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE, se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY,
		strings.Contains(se.Error(), "UNIQUE constraint"):
		if conflict == nil {
			return err
		}
		return conflict
	case se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, strings.Contains(se.Error(), "FOREIGN KEY constraint"):
		return &kiosko.Error{Code: kiosko.EINVALID, Key: "error.invalid", Message: "A referenced record does not exist."}
	}
	return err
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
func nullNanos(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixNano()
}

// fromNullNanos reads a time stored by nullNanos.
func fromNullNanos(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := time.Unix(0, n.Int64).UTC()
	return &t
}

// conds builds the WHERE clause of a filtered query.
type conds struct {
	terms []string
	args  []any
}

func (c *conds) add(term string, arg any) {
	c.terms = append(c.terms, term)
	c.args = append(c.args, arg)
}

// where returns " WHERE a AND b", or "" without terms.
func (c *conds) where() string {
	if len(c.terms) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.terms, " AND ")
}

// limit appends " LIMIT ?" when n > 0.
func (c *conds) limit(n int) string {
	if n <= 0 {
		return ""
	}
	c.args = append(c.args, n)
	return " LIMIT ?"
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
func scanString(r scanner) (string, error) {
	var s string
	return s, r.Scan(&s)
}
