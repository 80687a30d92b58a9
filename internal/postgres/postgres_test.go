package postgres

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/postgres/pgtest"
	"github.com/kiosko/kiosko/internal/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := pgtest.DropReusable(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
	}
	os.Exit(code)
}

func TestStore(t *testing.T) {
	pgtest.Require(t)
	storetest.Run(t, func(t *testing.T) kiosko.Store {
		return openTest(t)
	})
}

// openTest opens a store on an empty schema of the test's own.
func openTest(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), pgtest.Reusable(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
