package sqlite

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// BenchmarkInsights measures every insights query over the last 30 days
// of a database holding KIOSKO_BENCH_EVENTS lease events (default
// 10,000,000, spread over 90 days and 1,000,000 seats) and 1,000,000
// accounts. Loading takes a minute or two; the figures are in BENCHMARKS.md.
//
//	go test ./internal/sqlite -run '^$' -bench BenchmarkInsights -benchtime 5x -timeout 30m
func BenchmarkInsights(b *testing.B) {
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
	if _, err := db.write.ExecContext(ctx, `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 1000000)
		INSERT INTO accounts (email, name, password_hash, role, lang, password_changed_at, created_at)
		SELECT 'r' || n || '@x.test', '', 'h', 'reader', 'es', 0, ?1 - (abs(random()) % ?2) FROM seq`, nanos(now), span); err != nil {
		b.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d lease events and 1,000,000 accounts in %s", events, time.Since(start).Round(time.Second))
	from, to := now.Truncate(kiosko.Day).Add(-29*kiosko.Day), now.Truncate(kiosko.Day).Add(kiosko.Day)
	for _, q := range []struct {
		name string
		run  func() error
	}{
		{"reading", func() error { _, err := db.ReadingByDay(ctx, from, to); return err }},
		{"sharing", func() error { _, err := db.SharingByDay(ctx, from, to); return err }},
		{"growth", func() error { _, err := db.GrowthByDay(ctx, from, to); return err }},
		{"outcomes", func() error { _, err := db.WarningOutcomes(ctx, from, to, 30*kiosko.Day); return err }},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if err := q.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
