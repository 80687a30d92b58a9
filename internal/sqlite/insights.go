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

// tallyLeaseEvents adds a batch of lease events to the daily counters,
// in the transaction that stores them and before it does (so "an earlier
// claim of the day" means one already stored). SQLite has one writer, so
// batches are counted one after another: each event exactly once.
func tallyLeaseEvents(ctx context.Context, tx *sql.Tx, events []kiosko.LeaseEvent) error {
	t := kiosko.TallyLeaseEvents(events)
	var stmts []*sql.Stmt
	defer func() {
		for _, s := range stmts {
			s.Close()
		}
	}()
	prep := func(q string) (*sql.Stmt, error) {
		s, err := tx.PrepareContext(ctx, q)
		if err == nil {
			stmts = append(stmts, s)
		}
		return s, err
	}
	if len(t.Readers) > 0 {
		seen, err := prep(`SELECT EXISTS (SELECT 1 FROM lease_events WHERE account_id = ?1 AND at >= ?2 AND at < ?3 AND kind = 'claim')`)
		if err != nil {
			return fmt.Errorf("tally readers: %w", err)
		}
		for r := range t.Readers {
			var yes bool
			if err := seen.QueryRowContext(ctx, r.AccountID, r.Day*dayNanos, (r.Day+1)*dayNanos).Scan(&yes); err != nil {
				return fmt.Errorf("tally readers: %w", err)
			}
			if !yes {
				t.Reader(r.Day)
			}
		}
	}
	if len(t.Seats) > 0 {
		stored, err := prep(`SELECT was_read, category FROM insight_seat_days WHERE day = ? AND seat_id = ?`)
		if err != nil {
			return fmt.Errorf("tally seats: %w", err)
		}
		lastWarning, err := prep(`SELECT kind FROM lease_events WHERE seat_id = ?1 AND kind IN ('warning_set', 'warning_cleared') AND at < ?2 ORDER BY at DESC, id DESC LIMIT 1`)
		if err != nil {
			return fmt.Errorf("tally seats: %w", err)
		}
		save, err := prep(`INSERT INTO insight_seat_days (day, seat_id, was_read, category) VALUES (?, ?, ?, ?)
			ON CONFLICT (day, seat_id) DO UPDATE SET was_read = excluded.was_read, category = excluded.category`)
		if err != nil {
			return fmt.Errorf("tally seats: %w", err)
		}
		for k, m := range t.Seats {
			var wasRead bool
			var was int
			if err := stored.QueryRowContext(ctx, k.Day, k.SeatID).Scan(&wasRead, &was); err != nil && err != sql.ErrNoRows {
				return fmt.Errorf("tally seats: %w", err)
			}
			atStart := false
			if was == 0 && !m.Warned {
				// A new seat-day: did the seat begin it under warning?
				last := m.Before
				if last == "" {
					if err := lastWarning.QueryRowContext(ctx, k.SeatID, k.Day*dayNanos).Scan(&last); err != nil && err != sql.ErrNoRows {
						return fmt.Errorf("tally seats: warning: %w", err)
					}
				}
				atStart = last == kiosko.EventWarningSet
			}
			read, now := wasRead || m.Read, m.Category(was, atStart)
			if read == wasRead && now == was {
				continue
			}
			if _, err := save.ExecContext(ctx, k.Day, k.SeatID, read, now); err != nil {
				return fmt.Errorf("tally seats: %w", err)
			}
			t.Seat(k.Day, wasRead, was, read, now)
		}
	}
	for _, w := range t.Warnings {
		var err error
		if w.Kind == kiosko.EventWarningSet {
			_, err = tx.ExecContext(ctx, `INSERT INTO insight_warnings (seat_id, set_at) VALUES (?, ?) ON CONFLICT DO NOTHING`, w.SeatID, nanos(w.At))
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE insight_warnings SET cleared_at = ?1, reason = ?2 WHERE seat_id = ?3 AND cleared_at IS NULL AND set_at <= ?1`, nanos(w.At), w.Reason, w.SeatID)
		}
		if err != nil {
			return fmt.Errorf("tally warnings: %w", err)
		}
	}
	return addCounts(ctx, tx, t.List())
}

func addCounts(ctx context.Context, tx *sql.Tx, counts []kiosko.InsightCount) error {
	if len(counts) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO insight_days (day, kind, dim, n) VALUES (?, ?, ?, ?)
		ON CONFLICT (day, kind, dim) DO UPDATE SET n = insight_days.n + excluded.n`)
	if err != nil {
		return fmt.Errorf("add insight counts: %w", err)
	}
	defer stmt.Close()
	for _, c := range counts {
		if _, err := stmt.ExecContext(ctx, c.Day, c.Kind, c.Dim, c.N); err != nil {
			return fmt.Errorf("add insight counts: %w", err)
		}
	}
	return nil
}

// AddInsightCounts adds to daily counters in one transaction.
func (db *DB) AddInsightCounts(ctx context.Context, counts []kiosko.InsightCount) error {
	if len(counts) == 0 {
		return nil
	}
	return db.inTx(ctx, func(tx *sql.Tx) error { return addCounts(ctx, tx, counts) })
}

// counters reads the daily counters of some kinds over [from, to),
// keyed by day number, then kind, then dimension.
func (db *DB) counters(ctx context.Context, from, to time.Time, kinds ...string) (map[int64]map[string]int64, error) {
	q := `SELECT day, kind, dim, n FROM insight_days WHERE day >= ?1 AND day < ?2 AND kind IN (` + placeholders(len(kinds), 3) + `)`
	args := []any{kiosko.DayNumber(from), dayAfter(to)}
	for _, k := range kinds {
		args = append(args, k)
	}
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("insight counters: %w", err)
	}
	defer rows.Close()
	out := map[int64]map[string]int64{}
	for rows.Next() {
		var d, n int64
		var kind, dim string
		if err := rows.Scan(&d, &kind, &dim, &n); err != nil {
			return nil, err
		}
		if out[d] == nil {
			out[d] = map[string]int64{}
		}
		out[d][kind+"/"+dim] = n
	}
	return out, rows.Err()
}

func placeholders(n, first int) string {
	var b []byte
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = fmt.Appendf(b, "?%d", first+i)
	}
	return string(b)
}

// days lists the day numbers of the days [from, to) touches.
func days(from, to time.Time) []int64 {
	var out []int64
	for d := kiosko.DayNumber(from); d < dayAfter(to); d++ {
		out = append(out, d)
	}
	return out
}

// dayAfter is the first day number not in a range ending at to: the day
// of to, or the next one when to is not midnight.
func dayAfter(to time.Time) int64 {
	d := kiosko.DayNumber(to)
	if !kiosko.DayStart(d).Equal(to) {
		d++
	}
	return d
}

// ReadingByDay reads the lease event and reader counters.
func (db *DB) ReadingByDay(ctx context.Context, from, to time.Time) ([]kiosko.ReadingDay, error) {
	c, err := db.counters(ctx, from, to, kiosko.CountLease, kiosko.CountReaders)
	if err != nil {
		return nil, fmt.Errorf("reading by day: %w", err)
	}
	out := []kiosko.ReadingDay{}
	for _, d := range days(from, to) {
		m := c[d]
		out = append(out, kiosko.ReadingDay{Day: kiosko.DayStart(d), Readers: m["readers/"],
			Claims: m["lease/claim"], Conflicts: m["lease/conflict"], Contested: m["lease/takeover_contested"], Quiet: m["lease/takeover_quiet"],
			Counted: m["lease/takeover_counted"], WarningsSet: m["lease/warning_set"], WarningsCleared: m["lease/warning_cleared"]})
	}
	return out, nil
}

// SharingByDay reads how the seats read each day were sorted (see
// kiosko.SharingDay).
func (db *DB) SharingByDay(ctx context.Context, from, to time.Time) ([]kiosko.SharingDay, error) {
	c, err := db.counters(ctx, from, to, kiosko.CountSeats)
	if err != nil {
		return nil, fmt.Errorf("sharing by day: %w", err)
	}
	out := []kiosko.SharingDay{}
	for _, d := range days(from, to) {
		m := c[d]
		out = append(out, kiosko.SharingDay{Day: kiosko.DayStart(d), NotShared: m["seats/not_shared"], Possibly: m["seats/possibly"], Warned: m["seats/warned"]})
	}
	return out, nil
}

// PaywallByDay reads the page-view and wall counters.
func (db *DB) PaywallByDay(ctx context.Context, from, to time.Time) ([]kiosko.PaywallDay, error) {
	c, err := db.counters(ctx, from, to, kiosko.CountView, kiosko.CountWall)
	if err != nil {
		return nil, fmt.Errorf("paywall by day: %w", err)
	}
	out := []kiosko.PaywallDay{}
	for _, d := range days(from, to) {
		m := c[d]
		out = append(out, kiosko.PaywallDay{Day: kiosko.DayStart(d), Anonymous: m["article_view/anonymous"], Registered: m["article_view/registered"],
			Subscriber: m["article_view/subscriber"], RegistrationWalls: m["wall/registration"], SubscriptionWalls: m["wall/subscription"]})
	}
	return out, nil
}

// GrowthByDay reads the sign-up and subscription counters, which the
// database's triggers keep (migration 0010).
func (db *DB) GrowthByDay(ctx context.Context, from, to time.Time) ([]kiosko.GrowthDay, error) {
	c, err := db.counters(ctx, from, to, kiosko.CountSignUps, kiosko.CountSubscriptions)
	if err != nil {
		return nil, fmt.Errorf("growth by day: %w", err)
	}
	out := []kiosko.GrowthDay{}
	for _, d := range days(from, to) {
		out = append(out, kiosko.GrowthDay{Day: kiosko.DayStart(d), SignUps: c[d]["signups/"], Subscriptions: c[d]["subscriptions/"]})
	}
	return out, nil
}

// WarningOutcomes counts the warnings set in [from, to) by the reason
// of the first clearing of their seat within window.
func (db *DB) WarningOutcomes(ctx context.Context, from, to time.Time, window time.Duration) (map[string]int64, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT CASE WHEN cleared_at <= set_at + ?3 THEN reason ELSE '' END, count(*)
		FROM insight_warnings WHERE set_at >= ?1 AND set_at < ?2 GROUP BY 1`, nanos(from), nanos(to), int64(window))
	if err != nil {
		return nil, fmt.Errorf("warning outcomes: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{kiosko.OutcomeUpgraded: 0, kiosko.OutcomePassword: 0, kiosko.OutcomeAdmin: 0, kiosko.OutcomeQuiet: 0, kiosko.OutcomeNothing: 0}
	for rows.Next() {
		var reason string
		var n int64
		if err := rows.Scan(&reason, &n); err != nil {
			return nil, err
		}
		out[kiosko.OutcomeOf(reason)] += n
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
