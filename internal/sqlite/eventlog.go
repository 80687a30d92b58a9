package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/kiosko/kiosko"
)

// AppendEvents stores events in one transaction and sets their IDs.
func (db *DB) AppendEvents(ctx context.Context, events []kiosko.Event) error {
	if len(events) == 0 {
		return nil
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error { return insertEvents(ctx, tx, events) })
	if err != nil {
		return fmt.Errorf("append events: %w", err)
	}
	return nil
}

// insertEvents writes events inside tx and sets their IDs.
func insertEvents(ctx context.Context, tx *sql.Tx, events []kiosko.Event) error {
	if len(events) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO events (type, account_id, actor_id, data, at) VALUES (?, ?, ?, ?, ?) RETURNING id`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := range events {
		e := &events[i]
		data := string(e.Data)
		if data == "" {
			data = "{}"
		}
		if err := stmt.QueryRowContext(ctx, e.Type, e.AccountID, e.ActorID, data, nanos(e.At)).Scan(&e.ID); err != nil {
			return fmt.Errorf("event %s: %w", e.Type, err)
		}
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
		types, _ := json.Marshal(f.Types)
		c.add("type IN (SELECT value FROM json_each(?))", string(types))
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
	events, err := queryList(ctx, db.read, func(r scanner) (*kiosko.Event, error) {
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
		return nil, fmt.Errorf("find events: %w", err)
	}
	return events, nil
}
