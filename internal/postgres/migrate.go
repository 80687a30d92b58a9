package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kiosko/kiosko/internal/migrations"
)

// Migrations are the files migrations/NNNN_name.sql, applied in order of
// NNNN, each in its own transaction together with its row in
// schema_migrations. A shipped file is never edited. They follow SQLite's
// migrations table for table, so migrate-data can copy one into the other.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

var migrationFS = migrations.Sub(migrationFiles, "migrations")

type migration = migrations.File

// loadMigrations reads NNNN_*.sql from the root of fsys, sorted by version.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	ms, err := migrations.Load(fsys)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return ms, nil
}

// MigrationCount returns how many migrations this binary embeds.
func MigrationCount() int {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		panic(err)
	}
	return len(ms)
}

// SchemaVersion returns the newest migration applied to the database.
func (db *DB) SchemaVersion() int { return db.version }

// migrationLock is the first key of the advisory lock that serialises
// migrations; the second is a hash of the schema, so installations sharing
// one database in different schemas do not wait for each other.
const migrationLock = 0x6b696f // "kio"

// migrate applies every migration newer than the database's version. It
// holds a session advisory lock on one connection for the whole run, so of
// several nodes starting at once one migrates and the others wait, then
// find nothing left to do. The lock goes with the connection if the node
// dies.
func (db *DB) migrate(ctx context.Context, fsys fs.FS) error {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return err
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fail("postgres: migrate", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext(current_schema()))`, migrationLock); err != nil {
		return fail("postgres: migration lock", err)
	}
	defer func() {
		// A failed unlock (connection gone) releases the lock anyway.
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, migrationLock)
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at BIGINT  NOT NULL
	)`); err != nil {
		return fail("postgres: schema_migrations", err)
	}
	current, err := schemaVersion(ctx, conn)
	if err != nil {
		return err
	}
	newest := 0
	if len(ms) > 0 {
		newest = ms[len(ms)-1].Version
	}
	if current > newest {
		return fmt.Errorf("postgres: database schema version %d is newer than this binary's newest migration %d; run a newer kiosko", current, newest)
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.Version, m.Name, time.Now().UnixNano())
			return err
		})
		if err != nil {
			return fail("postgres: migration "+m.Name, err)
		}
		current = m.Version
	}
	db.version = current
	return nil
}

func schemaVersion(ctx context.Context, q Querier) (int, error) {
	var v int
	if err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fail("postgres: schema version", err)
	}
	return v, nil
}
