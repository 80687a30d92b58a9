package postgres

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/kiosko/kiosko/internal/postgres/pgtest"
)

func TestMigrationsFreshAndReopen(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	for range 2 {
		db, err := Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		// Versions are handed out to branches ahead of time, so one branch
		// may lack another's: the version is the newest file's, not the count.
		ms, err := loadMigrations(migrationFS)
		if err != nil {
			t.Fatal(err)
		}
		if got, newest := db.SchemaVersion(), ms[len(ms)-1].Version; got != newest {
			t.Errorf("SchemaVersion = %d, want %d", got, newest)
		}
		var rows int
		if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows != MigrationCount() {
			t.Errorf("schema_migrations has %d rows, want %d", rows, MigrationCount())
		}
		db.Close()
	}
}

// Nodes starting at once: one migrates, the others wait on the advisory
// lock and find nothing to do.
func TestMigrationsConcurrentOpen(t *testing.T) {
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			db, err := Open(context.Background(), url)
			if err == nil {
				db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
}

func TestMigrationsRefuseNewerDatabase(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	db, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(ctx, url)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open on a newer database: err = %v", err)
	}
}
