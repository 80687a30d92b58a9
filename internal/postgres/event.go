package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/kiosko/kiosko"
)

// AppendLeaseEvents stores events in one transaction (one round trip, as a
// batch) and sets their IDs.
func (db *DB) AppendLeaseEvents(ctx context.Context, events []kiosko.LeaseEvent) error {
	if len(events) == 0 {
		return nil
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := tallyLeaseEvents(ctx, tx, events); err != nil { // insights.go
			return err
		}
		var b pgx.Batch
		for i := range events {
			e := &events[i]
			b.Queue(`INSERT INTO lease_events (kind, seat_id, account_id, device, other_device, reason, at)
				VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
				e.Kind, e.SeatID, e.AccountID, e.Device, e.OtherDevice, e.Reason, nanos(e.At)).QueryRow(func(r pgx.Row) error {
				return r.Scan(&e.ID)
			})
		}
		return tx.SendBatch(ctx, &b).Close()
	})
	return fail("append lease events", err)
}

// FindLeaseEvents lists events oldest first.
func (db *DB) FindLeaseEvents(ctx context.Context, f kiosko.LeaseEventFilter) ([]*kiosko.LeaseEvent, error) {
	var c conds
	if f.SeatID != 0 {
		c.add("seat_id = ?", f.SeatID)
	}
	if f.AccountID != 0 {
		c.add("account_id = ?", f.AccountID)
	}
	if f.Kind != "" {
		c.add("kind = ?", f.Kind)
	}
	if !f.Since.IsZero() {
		c.add("at >= ?", nanos(f.Since))
	}
	q := `SELECT id, kind, seat_id, account_id, device, other_device, reason, at FROM lease_events` + c.where() + ` ORDER BY at, id` + c.limit(f.Limit)
	events, err := queryList(ctx, db.pool, func(r pgx.Row) (*kiosko.LeaseEvent, error) {
		var e kiosko.LeaseEvent
		var at int64
		if err := r.Scan(&e.ID, &e.Kind, &e.SeatID, &e.AccountID, &e.Device, &e.OtherDevice, &e.Reason, &at); err != nil {
			return nil, err
		}
		e.At = fromNanos(at)
		return &e, nil
	}, q, c.args...)
	if err != nil {
		return nil, fail("find lease events", err)
	}
	return events, nil
}
