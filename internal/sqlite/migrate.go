package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/kiosko/kiosko/internal/migrations"
)

// Migrations are the files migrations/NNNN_name.sql, applied in order of
// NNNN, each in its own transaction together with its row in
// schema_migrations. A feature adds its own file (0002_newsletter.sql…);
// a shipped file is never edited.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

var migrationFS = migrations.Sub(migrationFiles, "migrations")

type migration = migrations.File

// loadMigrations reads NNNN_*.sql from the root of fsys, sorted by version.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	ms, err := migrations.Load(fsys)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return ms, nil
}

// MigrationCount returns how many migrations this binary embeds; the newest
// version is this number too as long as versions run 1, 2, 3…
func MigrationCount() int {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		panic(err)
	}
	return len(ms)
}

// SchemaVersion returns the newest migration applied to the database.
func (db *DB) SchemaVersion() int { return db.version }

// migrate applies every migration newer than the database's version.
func (db *DB) migrate(ctx context.Context, fsys fs.FS) error {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return err
	}
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("sqlite: schema_migrations: %w", err)
	}
	current, err := schemaVersion(ctx, db.write)
	if err != nil {
		return err
	}
	newest := 0
	if len(ms) > 0 {
		newest = ms[len(ms)-1].Version
	}
	if current > newest {
		return fmt.Errorf("sqlite: %s: database schema version %d is newer than this binary's newest migration %d; run a newer kiosko", db.path, current, newest)
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			// Another process may have applied it since we looked.
			v, err := schemaVersion(ctx, tx)
			if err != nil || v >= m.Version {
				return err
			}
			if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, time.Now().UnixNano())
			return err
		})
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
		current = m.Version
	}
	db.version, err = schemaVersion(ctx, db.write)
	return err
}

func schemaVersion(ctx context.Context, q querier) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite: schema version: %w", err)
	}
	return v, nil
}
