package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// TestSearchBroadPrefix: past broadSearch matches the search walks the
// table newest first; it must find exactly what the narrow path would.
func TestSearchBroadPrefix(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	now := nanos(time.Now())
	if _, err := db.write.ExecContext(ctx, `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 60000)
		INSERT INTO accounts (email, name, password_hash, role, lang, password_changed_at, created_at)
		SELECT CASE WHEN n % 3 = 0 THEN 'mar' || n || '@x.test' ELSE 'o' || n || '@x.test' END,
			CASE WHEN n % 5 = 0 THEN 'Marta ' || n ELSE 'Otro' END, 'h', 'reader', 'es', ?1, ?1 FROM seq`, now); err != nil {
		t.Fatal(err)
	}
	var want []int64
	for n := int64(60000); n >= 1; n-- {
		if n%3 == 0 || n%5 == 0 {
			want = append(want, n)
		}
	}
	if len(want) <= broadSearch {
		t.Fatalf("only %d matches: the test does not reach the broad path", len(want))
	}
	var got []int64
	before := int64(0)
	for {
		page, err := db.SearchAccounts(ctx, kiosko.AccountQuery{Text: "MAR", BeforeID: before, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, a := range page {
			got = append(got, a.ID)
		}
		before = page[len(page)-1].ID
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("broad search found %d accounts, want %d", len(got), len(want))
	}
}
