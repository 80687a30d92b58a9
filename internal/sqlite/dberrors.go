package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync/atomic"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// OnError sets fn to be told of every database error: a statement, a
// transaction or a ping that failed for a reason other than a constraint
// (a conflict the store answers as such) or a request that went away.
// Metrics count them (kiosko_database_errors_total).
func (db *DB) OnError(fn func(error)) { db.errs.fn.Store(&fn) }

// errorHook holds OnError's function, read on every failure.
type errorHook struct{ fn atomic.Pointer[func(error)] }

func (h *errorHook) seen(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, driver.ErrSkip) || errors.Is(err, driver.ErrBadConn) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		return err
	}
	if fn := h.fn.Load(); fn != nil {
		(*fn)(err)
	}
	return err
}

// connector opens connections of the registered "sqlite" driver that
// report their errors to hook.
type connector struct {
	dsn  string
	drv  driver.Driver
	hook *errorHook
}

func newConnector(dsn string, hook *errorHook) (*connector, error) {
	probe, err := sql.Open("sqlite", "")
	if err != nil {
		return nil, err
	}
	drv := probe.Driver()
	probe.Close()
	return &connector{dsn: dsn, drv: drv, hook: hook}, nil
}

func (c *connector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, c.hook.seen(err)
	}
	return &countingConn{conn: conn, hook: c.hook}, nil
}

func (c *connector) Driver() driver.Driver { return c.drv }

// inner is what the modernc connection implements.
type inner interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// countingConn passes everything to the driver's connection and reports
// what fails.
type countingConn struct {
	conn driver.Conn
	hook *errorHook
}

func (c *countingConn) in() inner { return c.conn.(inner) }

func (c *countingConn) Prepare(q string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), q)
}
func (c *countingConn) Close() error { return c.conn.Close() }
func (c *countingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.in().BeginTx(ctx, opts)
	if err != nil {
		return nil, c.hook.seen(err)
	}
	return countingTx{tx, c.hook}, nil
}

func (c *countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	s, err := c.in().PrepareContext(ctx, q)
	if err != nil {
		return nil, c.hook.seen(err)
	}
	return &countingStmt{s, c.hook}, nil
}

func (c *countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	r, err := c.in().ExecContext(ctx, q, args)
	return r, c.hook.seen(err)
}

func (c *countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	r, err := c.in().QueryContext(ctx, q, args)
	return r, c.hook.seen(err)
}

func (c *countingConn) Ping(ctx context.Context) error { return c.hook.seen(c.in().Ping(ctx)) }
func (c *countingConn) ResetSession(ctx context.Context) error {
	return c.in().ResetSession(ctx)
}
func (c *countingConn) IsValid() bool { return c.in().IsValid() }

type countingTx struct {
	tx   driver.Tx
	hook *errorHook
}

func (t countingTx) Commit() error   { return t.hook.seen(t.tx.Commit()) }
func (t countingTx) Rollback() error { return t.tx.Rollback() }

type countingStmt struct {
	stmt driver.Stmt
	hook *errorHook
}

func (s *countingStmt) Close() error  { return s.stmt.Close() }
func (s *countingStmt) NumInput() int { return s.stmt.NumInput() }
func (s *countingStmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(args))
}
func (s *countingStmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(args))
}

func named(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, v := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return out
}
func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	r, err := s.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	return r, s.hook.seen(err)
}
func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	r, err := s.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	return r, s.hook.seen(err)
}
