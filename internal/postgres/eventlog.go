package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/kiosko/kiosko"
)

// AppendEvents stores events in one transaction and sets their IDs.
func (db *DB) AppendEvents(ctx context.Context, events []kiosko.Event) error {
	if len(events) == 0 {
		return nil
	}
	return fail("append events", db.inTx(ctx, func(tx pgx.Tx) error { return insertEvents(ctx, tx, events) }))
}

// insertEvents writes events inside tx, as one batch, and sets their IDs.
func insertEvents(ctx context.Context, tx pgx.Tx, events []kiosko.Event) error {
	if len(events) == 0 {
		return nil
	}
	var b pgx.Batch
	for i := range events {
		e := &events[i]
		data := string(e.Data)
		if data == "" {
			data = "{}"
		}
		b.Queue(`INSERT INTO events (type, account_id, actor_id, data, at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			e.Type, e.AccountID, e.ActorID, data, nanos(e.At)).QueryRow(func(r pgx.Row) error {
			if err := r.Scan(&e.ID); err != nil {
				return fmt.Errorf("event %s: %w", e.Type, err)
			}
			return nil
		})
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return err
	}
	return enqueueWebhooks(ctx, tx, events)
}

// FindEvents lists events by ID, oldest first.
func (db *DB) FindEvents(ctx context.Context, f kiosko.EventFilter) ([]*kiosko.Event, error) {
	var c conds
	if f.AccountID != 0 {
		c.add("account_id = ?", f.AccountID)
	}
	if len(f.Types) > 0 {
		c.add("type = ANY(?)", f.Types)
	}
	if f.AfterID != 0 {
		c.add("id > ?", f.AfterID)
	}
	if !f.Since.IsZero() {
		c.add("at >= ?", nanos(f.Since))
	}
	if !f.Until.IsZero() {
		c.add("at < ?", nanos(f.Until))
	}
	q := `SELECT id, type, account_id, actor_id, data, at FROM events` + c.where() + ` ORDER BY id` + c.limit(f.Limit)
	events, err := queryList(ctx, db.pool, func(r pgx.Row) (*kiosko.Event, error) {
		var e kiosko.Event
		var data string
		var at int64
		if err := r.Scan(&e.ID, &e.Type, &e.AccountID, &e.ActorID, &data, &at); err != nil {
			return nil, err
		}
		e.Data = json.RawMessage(data)
		e.At = fromNanos(at)
		return &e, nil
	}, q, c.args...)
	if err != nil {
		return nil, fail("find events", err)
	}
	return events, nil
}
