package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kiosko/kiosko"
)

// dayNanos buckets nanosecond times into UTC days by integer division,
// which SQLite and PostgreSQL compute alike.
const dayNanos = int64(kiosko.Day)

func dayOf(n int64) time.Time { return time.Unix(0, n*dayNanos).UTC() }

// ReadingByDay counts lease events per day and kind, and readers.
func (db *DB) ReadingByDay(ctx context.Context, from, to time.Time) ([]kiosko.ReadingDay, error) {
	days := map[int64]*kiosko.ReadingDay{}
	get := func(d int64) *kiosko.ReadingDay {
		if days[d] == nil {
			days[d] = &kiosko.ReadingDay{Day: dayOf(d)}
		}
		return days[d]
	}
	rows, err := db.read.QueryContext(ctx, `SELECT at / ?3, kind, count(*) FROM lease_events WHERE kind IN ('claim', 'conflict', 'takeover_contested', 'takeover_quiet', 'takeover_counted', 'warning_set', 'warning_cleared') AND at >= ?1 AND at < ?2 GROUP BY 1, 2`, nanos(from), nanos(to), dayNanos)
	if err != nil {
		return nil, fmt.Errorf("reading by day: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d, n int64
		var kind string
		if err := rows.Scan(&d, &kind, &n); err != nil {
			return nil, err
		}
		r := get(d)
		switch kind {
		case kiosko.EventClaim:
			r.Claims = n
		case kiosko.EventConflict:
			r.Conflicts = n
		case kiosko.EventTakeoverContested:
			r.Contested = n
		case kiosko.EventTakeoverQuiet:
			r.Quiet = n
		case kiosko.EventTakeoverCounted:
			r.Counted = n
		case kiosko.EventWarningSet:
			r.WarningsSet = n
		case kiosko.EventWarningCleared:
			r.WarningsCleared = n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	readers, err := db.read.QueryContext(ctx, `SELECT at / ?3, count(DISTINCT account_id) FROM lease_events WHERE kind = 'claim' AND at >= ?1 AND at < ?2 GROUP BY 1`, nanos(from), nanos(to), dayNanos)
	if err != nil {
		return nil, fmt.Errorf("readers by day: %w", err)
	}
	defer readers.Close()
	for readers.Next() {
		var d, n int64
		if err := readers.Scan(&d, &n); err != nil {
			return nil, err
		}
		get(d).Readers = n
	}
	if err := readers.Err(); err != nil {
		return nil, err
	}
	out := []kiosko.ReadingDay{}
	for d := nanos(from) / dayNanos; d*dayNanos < nanos(to); d++ {
		out = append(out, *get(d))
	}
	return out, nil
}

// sharingSQL sorts each seat read on a day: a warning interval (from a
// warning_set to the next warning_cleared of the seat) overlapping the
// day puts it under warning; else a contested takeover that day makes it
// possibly shared.
const sharingSQL = `WITH w AS (
	SELECT seat_id, kind, at, LEAD(at) OVER (PARTITION BY seat_id ORDER BY at, id) AS next_at
	FROM lease_events WHERE kind IN ('warning_set', 'warning_cleared') AND at < ?2),
iv AS (SELECT seat_id, at AS from_at, COALESCE(next_at, ?2) AS to_at FROM w WHERE kind = 'warning_set'),
daily AS (
	SELECT at / ?3 AS day, seat_id, SUM(CASE WHEN kind = 'takeover_contested' THEN 1 ELSE 0 END) AS contested
	FROM lease_events WHERE kind IN ('claim', 'takeover_contested', 'takeover_quiet') AND at >= ?1 AND at < ?2 AND seat_id <> 0
	GROUP BY 1, 2),
sorted AS (
	SELECT day, contested, (SELECT count(*) FROM iv WHERE iv.seat_id = daily.seat_id AND iv.from_at < (daily.day + 1) * ?3 AND iv.to_at > daily.day * ?3) AS warned
	FROM daily)
SELECT day, SUM(CASE WHEN warned = 0 AND contested = 0 THEN 1 ELSE 0 END), SUM(CASE WHEN warned = 0 AND contested > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN warned > 0 THEN 1 ELSE 0 END)
FROM sorted GROUP BY day ORDER BY day`

// SharingByDay sorts the seats read each day (see kiosko.SharingDay).
func (db *DB) SharingByDay(ctx context.Context, from, to time.Time) ([]kiosko.SharingDay, error) {
	got := map[int64]kiosko.SharingDay{}
	rows, err := db.read.QueryContext(ctx, sharingSQL, nanos(from), nanos(to), dayNanos)
	if err != nil {
		return nil, fmt.Errorf("sharing by day: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d int64
		var s kiosko.SharingDay
		if err := rows.Scan(&d, &s.NotShared, &s.Possibly, &s.Warned); err != nil {
			return nil, err
		}
		s.Day = dayOf(d)
		got[d] = s
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := []kiosko.SharingDay{}
	for d := nanos(from) / dayNanos; d*dayNanos < nanos(to); d++ {
		s, ok := got[d]
		if !ok {
			s.Day = dayOf(d)
		}
		out = append(out, s)
	}
	return out, nil
}

// GrowthByDay counts accounts created and subscriptions started per day.
func (db *DB) GrowthByDay(ctx context.Context, from, to time.Time) ([]kiosko.GrowthDay, error) {
	counts := func(table string) (map[int64]int64, error) {
		rows, err := db.read.QueryContext(ctx, `SELECT created_at / ?3, count(*) FROM `+table+` WHERE created_at >= ?1 AND created_at < ?2 GROUP BY 1`, nanos(from), nanos(to), dayNanos)
		if err != nil {
			return nil, fmt.Errorf("growth by day: %s: %w", table, err)
		}
		defer rows.Close()
		m := map[int64]int64{}
		for rows.Next() {
			var d, n int64
			if err := rows.Scan(&d, &n); err != nil {
				return nil, err
			}
			m[d] = n
		}
		return m, rows.Err()
	}
	accts, err := counts("accounts")
	if err != nil {
		return nil, err
	}
	subs, err := counts("subscriptions")
	if err != nil {
		return nil, err
	}
	out := []kiosko.GrowthDay{}
	for d := nanos(from) / dayNanos; d*dayNanos < nanos(to); d++ {
		out = append(out, kiosko.GrowthDay{Day: dayOf(d), SignUps: accts[d], Subscriptions: subs[d]})
	}
	return out, nil
}

// WarningOutcomes finds, for each warning set in [from, to), the reason
// of the first clearing of its seat within window.
func (db *DB) WarningOutcomes(ctx context.Context, from, to time.Time, window time.Duration) (map[string]int64, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT (SELECT c.reason FROM lease_events c
			WHERE c.seat_id = s.seat_id AND c.kind = 'warning_cleared' AND c.at >= s.at AND c.at <= s.at + ?3 ORDER BY c.at LIMIT 1)
		FROM lease_events s WHERE s.kind = 'warning_set' AND s.at >= ?1 AND s.at < ?2`, nanos(from), nanos(to), int64(window))
	if err != nil {
		return nil, fmt.Errorf("warning outcomes: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{kiosko.OutcomeUpgraded: 0, kiosko.OutcomePassword: 0, kiosko.OutcomeAdmin: 0, kiosko.OutcomeQuiet: 0, kiosko.OutcomeNothing: 0}
	for rows.Next() {
		var reason sql.NullString
		if err := rows.Scan(&reason); err != nil {
			return nil, err
		}
		out[kiosko.OutcomeOf(reason.String)]++
	}
	return out, rows.Err()
}

// NewsletterByDay counts addresses confirmed, unsubscribed and bounced per
// day, from the subscribers' own times.
func (db *DB) NewsletterByDay(ctx context.Context, from, to time.Time) ([]kiosko.NewsletterDay, error) {
	counts := func(col string) (map[int64]int64, error) {
		rows, err := db.read.QueryContext(ctx, `SELECT `+col+` / ?3, count(*) FROM newsletter_subscribers WHERE `+col+` >= ?1 AND `+col+` < ?2 GROUP BY 1`, nanos(from), nanos(to), dayNanos)
		if err != nil {
			return nil, fmt.Errorf("newsletter by day: %s: %w", col, err)
		}
		defer rows.Close()
		m := map[int64]int64{}
		for rows.Next() {
			var d, n int64
			if err := rows.Scan(&d, &n); err != nil {
				return nil, err
			}
			m[d] = n
		}
		return m, rows.Err()
	}
	var got [3]map[int64]int64
	for i, col := range []string{"confirmed_at", "unsubscribed_at", "bounced_at"} {
		m, err := counts(col)
		if err != nil {
			return nil, err
		}
		got[i] = m
	}
	out := []kiosko.NewsletterDay{}
	for d := nanos(from) / dayNanos; d*dayNanos < nanos(to); d++ {
		out = append(out, kiosko.NewsletterDay{Day: dayOf(d), Confirmed: got[0][d], Unsubscribed: got[1][d], Bounced: got[2][d]})
	}
	return out, nil
}
