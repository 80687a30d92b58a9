package sqlite

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) kiosko.Store {
		return openTest(t)
	})
}

func openTest(t testing.TB) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "kiosko.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenCreatesDirectoryAndSetsPragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "nested", "kiosko.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	for pool, q := range map[string]querier{"writer": db.write, "reader": db.read} {
		for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "10000"} {
			var got string
			if err := q.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s: %s = %s, want %s", pool, pragma, got, want)
			}
		}
	}
	if _, err := db.read.ExecContext(ctx, `DELETE FROM accounts`); err == nil {
		t.Error("a reader connection could write")
	}
}

func TestMigrationsFreshDatabase(t *testing.T) {
	db := openTest(t)
	if MigrationCount() < 1 {
		t.Fatal("no embedded migrations")
	}
	if got, want := db.SchemaVersion(), newestMigration(t); got != want {
		t.Errorf("SchemaVersion = %d, want %d", got, want)
	}
	wantMigrationRows(t, db)
}

// newestMigration is the version of the newest embedded migration, which a
// migrated database has.
func newestMigration(t *testing.T) int {
	t.Helper()
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	return ms[len(ms)-1].Version
}

// wantMigrationRows checks schema_migrations has one row per migration.
func wantMigrationRows(t *testing.T, db *DB) {
	t.Helper()
	var rows int
	if err := db.read.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != MigrationCount() {
		t.Errorf("schema_migrations has %d rows, want %d", rows, MigrationCount())
	}
}

func TestMigrationsReopenIsNoOp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosko.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	a := &kiosko.Account{Email: "ana@example.com", PasswordHash: "h", Role: kiosko.RoleReader, Lang: "es", CreatedAt: time.Now(), PasswordChangedAt: time.Now()}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got, want := db.SchemaVersion(), newestMigration(t); got != want {
		t.Errorf("SchemaVersion = %d, want %d", got, want)
	}
	counts, err := db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts["accounts"] != 1 {
		t.Errorf("accounts after reopening = %d, want 1", counts["accounts"])
	}
	wantMigrationRows(t, db)
}

func TestMigrationsRefuseNewerDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosko.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	newest := newestMigration(t)
	newer := newest + 7
	if _, err := db.write.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from_the_future.sql', 0)`, newer); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(path)
	if err == nil {
		t.Fatal("Open accepted a database newer than the binary")
	}
	for _, want := range []string{strconv.Itoa(newer), strconv.Itoa(newest), "newer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestMigrationFailureRollsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosko.db")
	good := fstest.MapFS{"0001_first.sql": {Data: []byte(`CREATE TABLE first (x INTEGER);`)}}
	bad := fstest.MapFS{
		"0001_first.sql": good["0001_first.sql"],
		"0002_broken.sql": {Data: []byte(`CREATE TABLE second (x INTEGER);
			INSERT INTO first (x) VALUES (1);
			INSERT INTO no_such_table (x) VALUES (1);`)},
	}
	if _, err := open(path, bad); err == nil || !strings.Contains(err.Error(), "0002_broken.sql") {
		t.Fatalf("open with a broken migration: %v, want an error naming it", err)
	}
	db, err := open(path, good)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := db.SchemaVersion(); got != 1 {
		t.Errorf("SchemaVersion = %d, want 1", got)
	}
	counts, err := db.Counts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := counts["second"]; ok {
		t.Error("table of the failed migration exists")
	}
	if counts["first"] != 0 {
		t.Errorf("rows written by the failed migration: %d", counts["first"])
	}
}

func TestMigrationNames(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"no number":   {"init.sql": {Data: []byte(`SELECT 1;`)}},
		"same number": {"0001_a.sql": {Data: []byte(`SELECT 1;`)}, "001_b.sql": {Data: []byte(`SELECT 1;`)}},
	} {
		if _, err := loadMigrations(fsys); err == nil {
			t.Errorf("%s: loadMigrations accepted it", name)
		}
	}
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	// Versions are handed out to branches ahead of time, so one branch may
	// lack another's number: they must rise, not run without gaps.
	for i, m := range ms {
		if i > 0 && m.Version <= ms[i-1].Version {
			t.Errorf("migration %s has version %d after %d: versions must rise", m.Name, m.Version, ms[i-1].Version)
		}
	}
}

func TestCounts(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	counts, err := db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"accounts", "sessions", "devices", "subscriptions", "seats", "articles", "editions", "lease_events", "metered_reads"} {
		if n, ok := counts[table]; !ok || n != 0 {
			t.Errorf("counts[%s] = %d, %v; want 0, true", table, n, ok)
		}
	}
	if _, ok := counts["schema_migrations"]; ok {
		t.Error("Counts includes schema_migrations")
	}
	a := &kiosko.Account{Email: "ana@example.com", PasswordHash: "h", Role: kiosko.RoleReader, Lang: "es", CreatedAt: time.Now(), PasswordChangedAt: time.Now()}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSubscription(ctx, &kiosko.Subscription{OwnerID: a.ID, PlanCode: "premium", Status: kiosko.StatusActive, Seats: 2, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	counts, err = db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts["accounts"] != 1 || counts["subscriptions"] != 1 || counts["seats"] != 2 {
		t.Errorf("counts = %v", counts)
	}
}

func TestOpenRefusesMemory(t *testing.T) {
	if _, err := Open(":memory:"); err == nil {
		t.Error("Open(:memory:) succeeded; readers and writer would see different databases")
	}
}
