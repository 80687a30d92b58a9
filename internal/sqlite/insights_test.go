package sqlite

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kiosko/kiosko/internal/storetest"
)

// before returns the migrations older than version v.
func before(t *testing.T, v string) fstest.MapFS {
	t.Helper()
	old := fstest.MapFS{}
	err := fs.WalkDir(migrationFS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || name >= v {
			return err
		}
		body, err := fs.ReadFile(migrationFS, name)
		old[name] = &fstest.MapFile{Data: body}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return old
}

// TestInsightsBackfill: lease events written before migration 0010 are
// counted by it exactly as the writers count new ones.
func TestInsightsBackfill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosko.db")
	db, err := open(path, before(t, "0010"))
	if err != nil {
		t.Fatal(err)
	}
	day0 := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	evs := storetest.InsightEvents(day0)
	for _, e := range evs {
		if _, err := db.write.Exec(`INSERT INTO lease_events (kind, seat_id, account_id, device, reason, at) VALUES (?, ?, ?, ?, ?, ?)`,
			e.Kind, e.SeatID, e.AccountID, e.Device, e.Reason, nanos(e.At)); err != nil {
			t.Fatal(err)
		}
	}
	for i, day := range []int{0, 0, 3} {
		if _, err := db.write.Exec(`INSERT INTO accounts (email, password_hash, role, lang, password_changed_at, created_at) VALUES (?, 'h', 'reader', 'es', 1, ?)`,
			fmt.Sprintf("old%d@x.test", i), nanos(day0.AddDate(0, 0, day).Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if db, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.CheckInsights(t, db, evs, day0, storetest.InsightDays)
	g, err := db.GrowthByDay(t.Context(), day0, day0.AddDate(0, 0, 4))
	if err != nil || g[0].SignUps != 2 || g[3].SignUps != 1 || g[1].SignUps != 0 {
		t.Fatalf("sign-ups from before 0010: %+v, %v", g, err)
	}
	// New events then add to the backfilled counters.
	more := storetest.InsightEvents(day0.AddDate(0, 0, storetest.InsightDays))
	if err := db.AppendLeaseEvents(t.Context(), more); err != nil {
		t.Fatal(err)
	}
	storetest.CheckInsights(t, db, append(evs, more...), day0, 2*storetest.InsightDays)
}

// TestInsightsQueriesUseIndexes: the writers' look-ups find their rows
// through an index, never by scanning lease_events.
func TestInsightsQueriesUseIndexes(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "kiosko.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`SELECT EXISTS (SELECT 1 FROM lease_events WHERE account_id = ?1 AND at >= ?2 AND at < ?3 AND kind = 'claim')`,
		`SELECT kind FROM lease_events WHERE seat_id = ?1 AND kind IN ('warning_set', 'warning_cleared') AND at < ?2 ORDER BY at DESC, id DESC LIMIT 1`,
		`SELECT day, kind, dim, n FROM insight_days WHERE day >= ?1 AND day < ?2 AND kind IN (?3, ?4)`,
		`SELECT CASE WHEN cleared_at <= set_at + ?3 THEN reason ELSE '' END, count(*) FROM insight_warnings WHERE set_at >= ?1 AND set_at < ?2 GROUP BY 1`,
	} {
		rows, err := db.read.Query(`EXPLAIN QUERY PLAN `+q, 1, 2, 3, 4)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if !strings.Contains(p, "INDEX") && !strings.Contains(p, "PRIMARY KEY") || strings.Contains(p, "SCAN lease_events") || strings.Contains(p, "SCAN insight") {
			t.Errorf("%s\nplan: %s", q, p)
		}
	}
}
