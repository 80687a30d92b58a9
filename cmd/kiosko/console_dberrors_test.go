package main

import (
	"database/sql"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/sqlite"
)

// TestDatabaseErrorsCounted: kiosko_database_errors_total counts store
// calls that fail inside the database, not the answers "not found" and
// "already taken".
func TestDatabaseErrorsCounted(t *testing.T) {
	m := startMain(t)
	ctx := t.Context()
	errs := func() float64 { return value(scrape(t, m, ""), "kiosko_database_errors_total", nil) }
	b := newBrowser(t, m)
	b.get("/es/no-such-article")
	b.post("/signup", url.Values{"email": {"digital@kiosko.test"}, "password": {"una frase bastante larga"}})
	b.post("/signin", url.Values{"email": {"nobody@kiosko.test"}, "password": {"una frase bastante larga"}})
	if n := errs(); n != 0 {
		t.Fatalf("%v database errors counted for not found and taken", n)
	}
	if err := m.Store.CreateIssue(ctx, &kiosko.Issue{Edition: "es", Week: "2026-W01", Since: time.Now().Add(-time.Hour), Until: time.Now(), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	db, ok := kiosko.StoreAs[*sqlite.DB](m.Store)
	if !ok {
		t.Skip("the test breaks the SQLite file under the server")
	}
	raw, err := sql.Open("sqlite", db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`DROP TABLE newsletter_deliveries`); err != nil {
		t.Fatal(err)
	}
	admin := newBrowser(t, m)
	admin.signIn("admin@kiosko.test", demo.Password)
	if code, _ := admin.get("/admin/newsletter"); code != http.StatusInternalServerError {
		t.Fatalf("the newsletter page without its table: %d", code)
	}
	if n := errs(); n != 1 {
		t.Fatalf("%v database errors counted, want 1", n)
	}
}
