// Package pgtest gives tests a fresh, empty PostgreSQL schema of their own
// on the local server. Without a reachable server the test is skipped, or
// fails when KIOSKO_REQUIRE_SERVICES=1 (CI, where PostgreSQL must run).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultURL is the local server of the dev machines (trust auth).
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// AdminURL is KIOSKO_TEST_POSTGRES, or DefaultURL.
func AdminURL() string {
	if u := os.Getenv("KIOSKO_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultURL
}

var (
	reachOnce sync.Once
	reachErr  error
)

// reachable connects once per test binary.
func reachable() error {
	reachOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			reachErr = err
			return
		}
		reachErr = conn.Ping(ctx)
		conn.Close(ctx)
	})
	return reachErr
}

// Require skips (or, with KIOSKO_REQUIRE_SERVICES=1, fails) the test when
// the PostgreSQL server is not reachable.
func Require(t testing.TB) {
	t.Helper()
	if err := reachable(); err != nil {
		msg := "PostgreSQL not reachable at " + redact(AdminURL()) + " (set KIOSKO_TEST_POSTGRES): " + err.Error()
		if os.Getenv("KIOSKO_REQUIRE_SERVICES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// URL creates a schema of its own for the test and returns a URL whose
// connections use it (search_path), with a small pool so many parallel
// tests fit in max_connections. The schema is dropped when the test ends.
// A schema rather than a database: creating one is a catalog insert, not a
// copy of template1.
func URL(t testing.TB) string {
	t.Helper()
	Require(t)
	schema := newSchema(t)
	t.Cleanup(func() {
		if err := exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schemaURL(t, schema)
}

// Reusable is URL for suites of many short tests: when the test ends its
// schema is emptied (TRUNCATE … RESTART IDENTITY) and handed to the next
// test, which then finds the tables already migrated. Creating and
// migrating a schema costs ~40 DDL statements; emptying one costs one. The
// package's TestMain must call DropReusable after m.Run.
func Reusable(t testing.TB) string {
	t.Helper()
	Require(t)
	mu.Lock()
	var schema string
	if n := len(free); n > 0 {
		schema, free = free[n-1], free[:n-1]
	}
	mu.Unlock()
	if schema == "" {
		schema = newSchema(t)
		mu.Lock()
		all = append(all, schema)
		mu.Unlock()
	}
	t.Cleanup(func() {
		if err := empty(schema); err != nil {
			t.Errorf("empty schema %s: %v", schema, err)
			return // not reused: DropReusable drops it
		}
		mu.Lock()
		free = append(free, schema)
		mu.Unlock()
	})
	return schemaURL(t, schema)
}

var (
	mu        sync.Mutex
	free, all []string
)

// DropReusable drops every schema Reusable made in this process.
func DropReusable() error {
	mu.Lock()
	defer mu.Unlock()
	var errs []error
	for _, s := range all {
		errs = append(errs, exec(`DROP SCHEMA IF EXISTS `+s+` CASCADE`))
	}
	all, free = nil, nil
	return errors.Join(errs...)
}

// empty deletes every row of schema but schema_migrations and restarts
// its identity sequences. DELETE with foreign-key triggers off
// (session_replication_role, superuser only) is ~10 times faster than
// TRUNCATE on tables this small, which makes new files for every table and
// index; without the privilege it falls back to TRUNCATE.
func empty(schema string) error {
	ctx := context.Background()
	conn, err := admin(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	rows, err := conn.Query(ctx, `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables
		WHERE table_schema = $1 AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'`, schema)
	if err != nil {
		return err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) == 0 {
		return err
	}
	rows, err = conn.Query(ctx, `SELECT pg_get_serial_sequence(quote_ident(table_schema) || '.' || quote_ident(table_name), column_name)
		FROM information_schema.columns WHERE table_schema = $1 AND is_identity = 'YES'`, schema)
	if err != nil {
		return err
	}
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("BEGIN; SET LOCAL session_replication_role = replica;")
	for _, tb := range tables {
		b.WriteString(" DELETE FROM " + tb + ";")
	}
	for _, sq := range seqs {
		b.WriteString(" SELECT setval('" + sq + "', 1, false);")
	}
	b.WriteString(" COMMIT;")
	if _, err = conn.Exec(ctx, b.String()); err == nil {
		return nil
	}
	_, _ = conn.Exec(ctx, "ROLLBACK")
	_, err = conn.Exec(ctx, `TRUNCATE `+strings.Join(tables, ", ")+` RESTART IDENTITY CASCADE`)
	return err
}

func newSchema(t testing.TB) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "kiosko_test_" + hex.EncodeToString(b)
	if err := exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	return schema
}

func exec(sql string) error {
	ctx := context.Background()
	pool, err := adminPool()
	if err != nil {
		return err
	}
	_, err = pool.Exec(ctx, sql)
	return err
}

var (
	poolOnce sync.Once
	pool     *pgxpool.Pool
	poolErr  error
)

// adminPool is one small pool per test binary for creating and emptying
// schemas: a new connection costs more than the work it does.
func adminPool() (*pgxpool.Pool, error) {
	poolOnce.Do(func() {
		cfg, err := pgxpool.ParseConfig(AdminURL())
		if err != nil {
			poolErr = err
			return
		}
		cfg.MaxConns = 2
		pool, poolErr = pgxpool.NewWithConfig(context.Background(), cfg)
	})
	return pool, poolErr
}

// admin takes one connection of the admin pool: emptying a schema runs a
// multi-statement transaction that must stay on it.
func admin(ctx context.Context) (*pgxpool.Conn, error) {
	p, err := adminPool()
	if err != nil {
		return nil, err
	}
	return p.Acquire(ctx)
}

func schemaURL(t testing.TB, schema string) string {
	u, err := url.Parse(AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	if q.Get("pool_max_conns") == "" {
		q.Set("pool_max_conns", "4")
	}
	// Production connects within 2 s (postgres.DefaultConnectTimeout); a
	// shared CI machine under -race can take longer to accept.
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", "10")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Redacted()
}
