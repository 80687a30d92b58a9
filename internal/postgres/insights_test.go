package postgres

import (
	"io/fs"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kiosko/kiosko/internal/postgres/pgtest"
	"github.com/kiosko/kiosko/internal/storetest"
)

// TestInsightsBackfill: lease events written before migration 0010 are
// counted by it exactly as the writers count new ones.
func TestInsightsBackfill(t *testing.T) {
	url := pgtest.URL(t)
	old := fstest.MapFS{}
	if err := fs.WalkDir(migrationFS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || name >= "0010" {
			return err
		}
		body, err := fs.ReadFile(migrationFS, name)
		old[name] = &fstest.MapFile{Data: body}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	db, err := open(ctx, url, old)
	if err != nil {
		t.Fatal(err)
	}
	day0 := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	evs := storetest.InsightEvents(day0)
	for _, e := range evs {
		if _, err := db.pool.Exec(ctx, `INSERT INTO lease_events (kind, seat_id, account_id, device, reason, at) VALUES ($1, $2, $3, $4, $5, $6)`,
			e.Kind, e.SeatID, e.AccountID, e.Device, e.Reason, nanos(e.At)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if db, err = Open(ctx, url); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.CheckInsights(t, db, evs, day0, storetest.InsightDays)
	more := storetest.InsightEvents(day0.AddDate(0, 0, storetest.InsightDays))
	if err := db.AppendLeaseEvents(ctx, more); err != nil {
		t.Fatal(err)
	}
	storetest.CheckInsights(t, db, append(evs, more...), day0, 2*storetest.InsightDays)
}
