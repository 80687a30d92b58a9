package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/kiosko/kiosko"
)

// AppendLeaseEvents stores events in one transaction and sets their IDs.
func (db *DB) AppendLeaseEvents(ctx context.Context, events []kiosko.LeaseEvent) error {
	if len(events) == 0 {
		return nil
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := tallyLeaseEvents(ctx, tx, events); err != nil { // insights.go
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO lease_events (kind, seat_id, account_id, device, other_device, reason, at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range events {
			e := &events[i]
			if err := stmt.QueryRowContext(ctx, e.Kind, e.SeatID, e.AccountID, e.Device, e.OtherDevice, e.Reason, nanos(e.At)).Scan(&e.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append lease events: %w", err)
	}
	return nil
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
	events, err := queryList(ctx, db.read, func(r scanner) (*kiosko.LeaseEvent, error) {
		var e kiosko.LeaseEvent
		var at int64
		if err := r.Scan(&e.ID, &e.Kind, &e.SeatID, &e.AccountID, &e.Device, &e.OtherDevice, &e.Reason, &at); err != nil {
			return nil, err
		}
		e.At = fromNanos(at)
		return &e, nil
	}, q, c.args...)
	if err != nil {
		return nil, fmt.Errorf("find lease events: %w", err)
	}
	return events, nil
}
