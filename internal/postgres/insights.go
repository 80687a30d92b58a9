package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kiosko/kiosko"
)

// dayNanos buckets nanosecond times into UTC days by integer division,
// which SQLite and PostgreSQL compute alike.
const dayNanos = int64(kiosko.Day)

func dayOf(n int64) time.Time { return time.Unix(0, n*dayNanos).UTC() }

// insightsLock is the first key of the transaction advisory lock that
// makes lease-event batches of several nodes count one after another, so
// "an earlier claim of the day" is never two batches each missing the
// other's uncommitted claim.
const insightsLock = 0x696e73 // "ins"

// tallyLeaseEvents adds a batch of lease events to the daily counters in
// the transaction that stores them, before it does (see the SQLite store):
// one round trip for what is stored already, one for the additions.
func tallyLeaseEvents(ctx context.Context, tx pgx.Tx, events []kiosko.LeaseEvent) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))`, insightsLock); err != nil {
		return fmt.Errorf("tally: lock: %w", err)
	}
	t := kiosko.TallyLeaseEvents(events)
	type seatState struct {
		wasRead bool
		was     int
		last    string
	}
	var look pgx.Batch
	for r := range t.Readers {
		look.Queue(`SELECT EXISTS (SELECT 1 FROM lease_events WHERE account_id = $1 AND at >= $2 AND at < $3 AND kind = 'claim')`,
			r.AccountID, r.Day*dayNanos, (r.Day+1)*dayNanos).QueryRow(func(row pgx.Row) error {
			var seen bool
			if err := row.Scan(&seen); err != nil {
				return err
			}
			if !seen {
				t.Reader(r.Day)
			}
			return nil
		})
	}
	states := map[kiosko.SeatDay]*seatState{}
	for k, m := range t.Seats {
		st := &seatState{last: m.Before}
		states[k] = st
		look.Queue(`SELECT was_read, category FROM insight_seat_days WHERE day = $1 AND seat_id = $2`, k.Day, k.SeatID).QueryRow(func(row pgx.Row) error {
			if err := row.Scan(&st.wasRead, &st.was); err != nil && err != pgx.ErrNoRows {
				return err
			}
			return nil
		})
		if m.Before == "" && !m.Warned {
			look.Queue(`SELECT kind FROM lease_events WHERE seat_id = $1 AND kind IN ('warning_set', 'warning_cleared') AND at < $2 ORDER BY at DESC, id DESC LIMIT 1`,
				k.SeatID, k.Day*dayNanos).QueryRow(func(row pgx.Row) error {
				if err := row.Scan(&st.last); err != nil && err != pgx.ErrNoRows {
					return err
				}
				return nil
			})
		}
	}
	if look.Len() > 0 {
		if err := tx.SendBatch(ctx, &look).Close(); err != nil {
			return fmt.Errorf("tally: %w", err)
		}
	}
	var add pgx.Batch
	for k, m := range t.Seats {
		st := states[k]
		atStart := st.was == 0 && st.last == kiosko.EventWarningSet
		read, now := st.wasRead || m.Read, m.Category(st.was, atStart)
		if read == st.wasRead && now == st.was {
			continue
		}
		add.Queue(`INSERT INTO insight_seat_days (day, seat_id, was_read, category) VALUES ($1, $2, $3, $4)
			ON CONFLICT (day, seat_id) DO UPDATE SET was_read = excluded.was_read, category = excluded.category`, k.Day, k.SeatID, read, now)
		t.Seat(k.Day, st.wasRead, st.was, read, now)
	}
	for _, w := range t.Warnings {
		if w.Kind == kiosko.EventWarningSet {
			add.Queue(`INSERT INTO insight_warnings (seat_id, set_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, w.SeatID, nanos(w.At))
		} else {
			add.Queue(`UPDATE insight_warnings SET cleared_at = $1, reason = $2 WHERE seat_id = $3 AND cleared_at IS NULL AND set_at <= $1`, nanos(w.At), w.Reason, w.SeatID)
		}
	}
	queueCounts(&add, t.List())
	if add.Len() > 0 {
		if err := tx.SendBatch(ctx, &add).Close(); err != nil {
			return fmt.Errorf("tally: %w", err)
		}
	}
	return nil
}

func queueCounts(b *pgx.Batch, counts []kiosko.InsightCount) {
	for _, c := range counts {
		b.Queue(`INSERT INTO insight_days (day, kind, dim, n) VALUES ($1, $2, $3, $4)
			ON CONFLICT (day, kind, dim) DO UPDATE SET n = insight_days.n + excluded.n`, c.Day, c.Kind, c.Dim, c.N)
	}
}

// AddInsightCounts adds to daily counters in one transaction.
func (db *DB) AddInsightCounts(ctx context.Context, counts []kiosko.InsightCount) error {
	if len(counts) == 0 {
		return nil
	}
	sorted := append([]kiosko.InsightCount(nil), counts...)
	slices.SortFunc(sorted, func(a, b kiosko.InsightCount) int { // one order for every writer: no deadlocks
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Dim, b.Dim))
	})
	return fail("add insight counts", db.inTx(ctx, func(tx pgx.Tx) error {
		var b pgx.Batch
		queueCounts(&b, sorted)
		return tx.SendBatch(ctx, &b).Close()
	}))
}

// counters reads the daily counters of some kinds over [from, to), keyed
// by day number, then "kind/dim".
func (db *DB) counters(ctx context.Context, from, to time.Time, kinds ...string) (map[int64]map[string]int64, error) {
	rows, err := db.pool.Query(ctx, `SELECT day, kind, dim, n FROM insight_days WHERE day >= $1 AND day < $2 AND kind = ANY($3)`,
		kiosko.DayNumber(from), dayAfter(to), kinds)
	if err != nil {
		return nil, fail("insight counters", err)
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

// SharingByDay reads how the seats read each day were sorted.
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
	rows, err := db.pool.Query(ctx, `SELECT CASE WHEN cleared_at <= set_at + $3 THEN reason ELSE '' END, count(*)
		FROM insight_warnings WHERE set_at >= $1 AND set_at < $2 GROUP BY 1`, nanos(from), nanos(to), int64(window))
	if err != nil {
		return nil, fail("warning outcomes", err)
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
		rows, err := db.pool.Query(ctx, `SELECT `+col+` / $3, count(*) FROM newsletter_subscribers WHERE `+col+` >= $1 AND `+col+` < $2 GROUP BY 1`, nanos(from), nanos(to), dayNanos)
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
