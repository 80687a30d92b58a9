package postgres

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// OnError sets fn to be told of every database error: a statement, a
// batch or a connection that failed for a reason other than an integrity
// constraint (a conflict the store answers as such) or a request that
// went away. Metrics count them (kiosko_database_errors_total).
func (db *DB) OnError(fn func(error)) { db.errs.fn.Store(&fn) }

// errorTracer is the pool's tracer: it sees the end of every query, batch
// and connection acquisition.
type errorTracer struct{ fn atomic.Pointer[func(error)] }

var (
	_ pgx.QueryTracer       = (*errorTracer)(nil)
	_ pgx.BatchTracer       = (*errorTracer)(nil)
	_ pgxpool.AcquireTracer = (*errorTracer)(nil)
)

func (t *errorTracer) seen(err error) {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, pgx.ErrNoRows) {
		return
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && strings.HasPrefix(pe.Code, "23") { // integrity_constraint_violation
		return
	}
	if fn := t.fn.Load(); fn != nil {
		(*fn)(err)
	}
}

func (t *errorTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}
func (t *errorTracer) TraceQueryEnd(_ context.Context, _ *pgx.Conn, d pgx.TraceQueryEndData) {
	t.seen(d.Err)
}

func (t *errorTracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}
func (t *errorTracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

// A failed batch is one error, however many of its queries it aborts.
func (t *errorTracer) TraceBatchEnd(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchEndData) {
	t.seen(d.Err)
}

func (t *errorTracer) TraceAcquireStart(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireStartData) context.Context {
	return ctx
}
func (t *errorTracer) TraceAcquireEnd(_ context.Context, _ *pgxpool.Pool, d pgxpool.TraceAcquireEndData) {
	t.seen(d.Err)
}
