package sqlite

import (
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// BenchmarkInsights measures every insights query over the last 30 days
// of a database holding KIOSKO_BENCH_EVENTS lease events (default
// 10,000,000, spread over 90 days and 1,000,000 seats) and 1,000,000
// accounts. The events are inserted by one generated statement and
// counted by migration 0010's backfill, the same SQL an upgraded database
// runs once. Loading takes minutes; the figures are in BENCHMARKS.md.
//
//	go test ./internal/sqlite -run '^$' -bench BenchmarkInsights -benchtime 20x -timeout 60m
func BenchmarkInsights(b *testing.B) {
	if testing.Short() {
		b.Skip("loads 10,000,000 events")
	}
	events := 10_000_000
	if n, err := strconv.Atoi(os.Getenv("KIOSKO_BENCH_EVENTS")); err == nil && n > 0 {
		events = n
	}
	start := time.Now()
	db, err := Open(filepath.Join(b.TempDir(), "kiosko.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ctx := b.Context()
	now := time.Now().UTC()
	span := int64(90 * kiosko.Day)
	if _, err := db.write.ExecContext(ctx, `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?1)
		INSERT INTO lease_events (kind, seat_id, account_id, device, at)
		SELECT CASE WHEN r < 850 THEN 'claim' WHEN r < 900 THEN 'conflict' WHEN r < 940 THEN 'takeover_quiet' WHEN r < 980 THEN 'takeover_contested'
				WHEN r < 990 THEN 'takeover_counted' WHEN r < 995 THEN 'warning_set' ELSE 'warning_cleared' END,
			s, s, 'd', ?2 - (abs(random()) % ?3)
		FROM (SELECT n, abs(random()) % 1000 AS r, 1 + abs(random()) % 1000000 AS s FROM seq)`, events, nanos(now), span); err != nil {
		b.Fatal(err)
	}
	loaded := time.Since(start)
	body, err := fs.ReadFile(migrationFS, "0010_insights.sql")
	if err != nil {
		b.Fatal(err)
	}
	_, backfill, ok := strings.Cut(string(body), "-- backfill")
	if !ok {
		b.Fatal("0010_insights.sql has no backfill part")
	}
	if _, err := db.write.ExecContext(ctx, "--"+backfill); err != nil {
		b.Fatal(err)
	}
	// Accounts after the backfill: the insert trigger counts them.
	if _, err := db.write.ExecContext(ctx, `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 1000000)
		INSERT INTO accounts (email, name, password_hash, role, lang, password_changed_at, created_at)
		SELECT 'r' || n || '@x.test', '', 'h', 'reader', 'es', 0, ?1 - (abs(random()) % ?2) FROM seq`, nanos(now), span); err != nil {
		b.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d lease events and 1,000,000 accounts in %s, counted them in %s", events, loaded.Round(time.Second), (time.Since(start) - loaded).Round(time.Second))
	from, to := now.Truncate(kiosko.Day).Add(-29*kiosko.Day), now.Truncate(kiosko.Day).Add(kiosko.Day)
	for _, q := range []struct {
		name string
		run  func() error
	}{
		{"reading", func() error { _, err := db.ReadingByDay(ctx, from, to); return err }},
		{"sharing", func() error { _, err := db.SharingByDay(ctx, from, to); return err }},
		{"growth", func() error { _, err := db.GrowthByDay(ctx, from, to); return err }},
		{"outcomes", func() error { _, err := db.WarningOutcomes(ctx, from, to, 30*kiosko.Day); return err }},
		{"paywall", func() error { _, err := db.PaywallByDay(ctx, from, to); return err }},
		{"newsletter", func() error { _, err := db.NewsletterByDay(ctx, from, to); return err }},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if err := q.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// What counting costs the event writer: a batch of 256 events (the
	// writer's batch) stored bare, as before 0010, and stored with the
	// counters, at this size of database.
	batch := func(i int) []kiosko.LeaseEvent {
		evs := make([]kiosko.LeaseEvent, 256)
		for j := range evs {
			seat := int64(1 + (i*256+j)*7919%1000000)
			kind := kiosko.EventClaim
			switch j % 50 {
			case 1:
				kind = kiosko.EventTakeoverContested
			case 2:
				kind = kiosko.EventConflict
			case 3:
				kind = kiosko.EventWarningSet
			}
			evs[j] = kiosko.LeaseEvent{Kind: kind, SeatID: seat, AccountID: seat, Device: "d", At: now.Add(time.Duration(i*256+j) * time.Millisecond)}
		}
		return evs
	}
	b.Run("write-256-bare", func(b *testing.B) {
		i := 0
		for b.Loop() {
			evs := batch(i)
			i++
			err := db.inTx(ctx, func(tx *sql.Tx) error {
				for _, e := range evs {
					if _, err := tx.ExecContext(ctx, `INSERT INTO lease_events (kind, seat_id, account_id, device, other_device, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
						e.Kind, e.SeatID, e.AccountID, e.Device, e.OtherDevice, e.Reason, nanos(e.At)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("write-256-counted", func(b *testing.B) {
		i := 1 << 20
		for b.Loop() {
			if err := db.AppendLeaseEvents(ctx, batch(i)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
