package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// consoleBenchAccounts is how many accounts the console benchmarks load
// (KIOSKO_BENCH_ACCOUNTS overrides; BENCHMARKS.md uses 1,000,000).
func consoleBenchAccounts() int {
	if n, err := strconv.Atoi(os.Getenv("KIOSKO_BENCH_ACCOUNTS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// loadAccounts fills the accounts table with n generated accounts in one
// statement (a recursive CTE), so a million take seconds, and gives the
// first one a timeline of 200 events and 200 lease events.
func loadAccounts(b *testing.B, n int) *DB {
	b.Helper()
	start := time.Now()
	db, err := Open(filepath.Join(b.TempDir(), "kiosko.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	now := nanos(time.Now())
	_, err = db.write.ExecContext(b.Context(), `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
		INSERT INTO accounts (email, name, password_hash, role, lang, password_changed_at, created_at)
		SELECT
			(CASE n % 7 WHEN 0 THEN 'maria' WHEN 1 THEN 'jose' WHEN 2 THEN 'lucia' WHEN 3 THEN 'ana' WHEN 4 THEN 'pablo' WHEN 5 THEN 'carmen' ELSE 'sam' END)
				|| '.' || n || '@' || (CASE n % 5 WHEN 0 THEN 'gmail.test' WHEN 1 THEN 'diario.test' WHEN 2 THEN 'empresa.test' WHEN 3 THEN 'correo.test' ELSE 'mail.test' END),
			(CASE n % 7 WHEN 0 THEN 'María' WHEN 1 THEN 'José' WHEN 2 THEN 'Lucía' WHEN 3 THEN 'Ana' WHEN 4 THEN 'Pablo' WHEN 5 THEN 'Carmen' ELSE 'Sam' END)
				|| ' ' || (CASE (n / 7) % 6 WHEN 0 THEN 'García' WHEN 1 THEN 'Martín' WHEN 2 THEN 'López' WHEN 3 THEN 'Smith' WHEN 4 THEN 'Ruiz' ELSE 'Navarro' END) || ' ' || n,
			'h', 'reader', 'es', ?, ? - n * 1000000000
		FROM seq`, n, now, now)
	if err != nil {
		b.Fatal(err)
	}
	var evs []kiosko.Event
	var les []kiosko.LeaseEvent
	for i := range 200 {
		at := time.Now().Add(-time.Duration(i) * time.Minute)
		evs = append(evs, kiosko.NewEvent(kiosko.EventSignedIn, 1, 1, map[string]string{"device": "Firefox"}, at))
		les = append(les, kiosko.LeaseEvent{Kind: kiosko.EventClaim, SeatID: 1, AccountID: 1, Device: "d", At: at})
	}
	if err := db.AppendEvents(b.Context(), evs); err != nil {
		b.Fatal(err)
	}
	if err := db.AppendLeaseEvents(b.Context(), les); err != nil {
		b.Fatal(err)
	}
	if _, err := db.write.ExecContext(b.Context(), `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d accounts in %s", n, time.Since(start).Round(time.Millisecond))
	return db
}

// BenchmarkConsoleSearch measures the console's accounts page at a
// million accounts: the first page, a deep page, and searches by email and
// name prefix (broad and narrow), 51 rows each like the page asks.
//
//	go test ./internal/sqlite -run '^$' -bench BenchmarkConsole -benchtime 200x
func BenchmarkConsoleSearch(b *testing.B) {
	if testing.Short() {
		b.Skip("loads 1,000,000 accounts")
	}
	n := consoleBenchAccounts()
	db := loadAccounts(b, n)
	for _, c := range []struct {
		name string
		q    kiosko.AccountQuery
		min  int
	}{
		{"first-page", kiosko.AccountQuery{Limit: 51}, 51},
		{"deep-page", kiosko.AccountQuery{BeforeID: int64(n / 2), Limit: 51}, 51},
		{"email-broad", kiosko.AccountQuery{Text: "maria", Limit: 51}, 51}, // 1 in 7 accounts
		{"email-broad-deep", kiosko.AccountQuery{Text: "maria", BeforeID: int64(n / 3), Limit: 51}, 51},
		{"email-narrow", kiosko.AccountQuery{Text: fmt.Sprintf("lucia.%d@", n/2+2), Limit: 51}, 0},
		{"name-broad", kiosko.AccountQuery{Text: "ana", Limit: 51}, 51}, // "ana" starts emails and names
		{"name-narrow", kiosko.AccountQuery{Text: "pablo garcía 4", Limit: 51}, 0},
		{"none", kiosko.AccountQuery{Text: "zz-nobody", Limit: 51}, 0},
		{"by-id", kiosko.AccountQuery{Text: fmt.Sprintf("#%d", n/4), Limit: 51}, 1},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				got, err := db.SearchAccounts(b.Context(), c.q)
				if err != nil {
					b.Fatal(err)
				}
				if len(got) < c.min {
					b.Fatalf("%d accounts, want at least %d", len(got), c.min)
				}
			}
		})
	}
	b.Run("timeline", func(b *testing.B) {
		for b.Loop() {
			got, err := db.FindTimeline(b.Context(), 1, time.Time{}, 101)
			if err != nil || len(got) != 101 {
				b.Fatalf("%d entries, %v", len(got), err)
			}
		}
	})
}
