package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/atrest"
	"github.com/kiosko/kiosko/webhook"
)

var _ webhook.Store = (*DB)(nil)

func errEndpointNotFound() *kiosko.Error {
	return notFound("error.webhook_unknown", "No such webhook endpoint.")
}

const endpointColumns = `id, url, secret, events, enabled, created_at, failing_since, disabled_at`

func scanEndpoint(sc scanner) (*webhook.Endpoint, error) {
	var e webhook.Endpoint
	var events string
	var created int64
	var failing, disabled sql.NullInt64
	if err := sc.Scan(&e.ID, &e.URL, &e.Secret, &events, &e.Enabled, &created, &failing, &disabled); err != nil {
		return nil, err
	}
	if events != "" {
		e.Events = strings.Split(events, ",")
	}
	e.CreatedAt, e.FailingSince, e.DisabledAt = fromNanos(created), fromNullNanos(failing), fromNullNanos(disabled)
	return &e, nil
}

// enqueueWebhooks writes, inside the transaction of events, one message
// for every enabled endpoint that wants each event (webhook.Enqueue).
func enqueueWebhooks(ctx context.Context, tx *sql.Tx, events []kiosko.Event) error {
	deliverable := false
	for i := range events {
		deliverable = deliverable || webhook.Deliverable(events[i].Type)
	}
	if !deliverable {
		return nil
	}
	eps, err := queryList(ctx, tx, scanEndpoint, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE enabled ORDER BY id`)
	if err != nil {
		return fmt.Errorf("webhook endpoints: %w", err)
	}
	for _, m := range webhook.Enqueue(eps, events) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_messages (endpoint_id, event_id, msg_id, type, body, status, next_attempt_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, m.EndpointID, m.EventID, m.MsgID, m.Type, string(m.Body), m.Status, nanos(m.NextAttemptAt), nanos(m.CreatedAt)); err != nil {
			return fmt.Errorf("webhook message: %w", err)
		}
	}
	return nil
}

// emit writes events inside tx (with their webhook messages).
func emit(ctx context.Context, tx *sql.Tx, events ...kiosko.Event) error {
	return insertEvents(ctx, tx, events)
}

// CreateWebhookEndpoint stores e and sets its ID.
func (db *DB) CreateWebhookEndpoint(ctx context.Context, e *webhook.Endpoint) error {
	err := db.write.QueryRowContext(ctx, `INSERT INTO webhook_endpoints (url, secret, events, enabled, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		e.URL, db.box.Load().SealString(e.Secret, atrest.WebhookSecretLabel), strings.Join(e.Events, ","), e.Enabled, nanos(e.CreatedAt)).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("create webhook endpoint: %w", err)
	}
	return nil
}

// FindWebhookEndpoints lists every endpoint by id.
func (db *DB) FindWebhookEndpoints(ctx context.Context) ([]*webhook.Endpoint, error) {
	eps, err := queryList(ctx, db.read, scanEndpoint, `SELECT `+endpointColumns+` FROM webhook_endpoints ORDER BY id`)
	if err == nil {
		err = db.openEndpoints(eps)
	}
	if err != nil {
		return nil, fmt.Errorf("find webhook endpoints: %w", err)
	}
	return eps, nil
}

// FindWebhookEndpoint returns an endpoint, or ENOTFOUND.
func (db *DB) FindWebhookEndpoint(ctx context.Context, id int64) (*webhook.Endpoint, error) {
	e, err := queryOne(ctx, db.read, errEndpointNotFound(), scanEndpoint, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = ?`, id)
	if err == nil {
		err = db.openEndpoints([]*webhook.Endpoint{e})
	}
	if err != nil {
		return nil, fmt.Errorf("find webhook endpoint: %w", err)
	}
	return e, nil
}

// DeleteWebhookEndpoint removes an endpoint with its messages and log.
func (db *DB) DeleteWebhookEndpoint(ctx context.Context, id int64) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_attempts WHERE endpoint_id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_messages WHERE endpoint_id = ?`, id); err != nil {
			return err
		}
		return execOne(ctx, tx, errEndpointNotFound(), `DELETE FROM webhook_endpoints WHERE id = ?`, id)
	})
	if err != nil {
		return fmt.Errorf("delete webhook endpoint: %w", err)
	}
	return nil
}

// ClaimWebhookEndpoints: see webhook.Store. One statement on the single
// writer, so two claims never overlap.
func (db *DB) ClaimWebhookEndpoints(ctx context.Context, worker string, now, until time.Time, limit int) ([]*webhook.Endpoint, error) {
	eps, err := queryList(ctx, db.write, scanEndpoint, `UPDATE webhook_endpoints SET lock_owner = ?, lock_until = ?
		WHERE id IN (SELECT e.id FROM webhook_endpoints e WHERE e.enabled AND e.lock_until <= ?
			AND (SELECT m.next_attempt_at FROM webhook_messages m WHERE m.endpoint_id = e.id AND m.status = 'pending' ORDER BY m.id LIMIT 1) <= ?
			ORDER BY e.id LIMIT ?)
		RETURNING `+endpointColumns, worker, nanos(until), nanos(now), nanos(now), limit)
	if err == nil {
		err = db.openEndpoints(eps)
	}
	if err != nil {
		return nil, fmt.Errorf("claim webhook endpoints: %w", err)
	}
	return eps, nil
}

// ReleaseWebhookEndpoint gives up worker's claim on an endpoint.
func (db *DB) ReleaseWebhookEndpoint(ctx context.Context, id int64, worker string) error {
	_, err := db.write.ExecContext(ctx, `UPDATE webhook_endpoints SET lock_owner = '', lock_until = 0 WHERE id = ? AND lock_owner = ?`, id, worker)
	if err != nil {
		return fmt.Errorf("release webhook endpoint: %w", err)
	}
	return nil
}

const messageColumns = `id, endpoint_id, event_id, msg_id, type, body, status, attempts, next_attempt_at, created_at, done_at`

func scanMessage(sc scanner) (*webhook.Message, error) {
	var m webhook.Message
	var body string
	var next, created int64
	var done sql.NullInt64
	if err := sc.Scan(&m.ID, &m.EndpointID, &m.EventID, &m.MsgID, &m.Type, &body, &m.Status, &m.Attempts, &next, &created, &done); err != nil {
		return nil, err
	}
	m.Body = []byte(body)
	m.NextAttemptAt, m.CreatedAt, m.DoneAt = fromNanos(next), fromNanos(created), fromNullNanos(done)
	return &m, nil
}

// NextWebhookMessage returns the endpoint's first pending message.
func (db *DB) NextWebhookMessage(ctx context.Context, endpointID int64) (*webhook.Message, error) {
	return queryOne(ctx, db.read, notFound("error.webhook_message_unknown", "No pending message."), scanMessage,
		`SELECT `+messageColumns+` FROM webhook_messages WHERE endpoint_id = ? AND status = 'pending' ORDER BY id LIMIT 1`, endpointID)
}

// RecordWebhookAttempt: see webhook.Store.
func (db *DB) RecordWebhookAttempt(ctx context.Context, worker string, a *webhook.Attempt, o webhook.Outcome, disable bool) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var held int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM webhook_endpoints WHERE id = ? AND lock_owner = ?`, a.EndpointID, worker).Scan(&held); err != nil {
			return err
		}
		if held == 0 {
			return kiosko.Errorf(kiosko.ECONFLICT, "error.conflict", "Worker %s no longer holds webhook endpoint %d.", worker, a.EndpointID)
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO webhook_attempts (message_id, endpoint_id, attempt, at, status_code, error, duration_ms, worker)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, a.MessageID, a.EndpointID, a.N, nanos(a.At), a.StatusCode, a.Error, a.Duration.Milliseconds(), a.Worker).Scan(&a.ID); err != nil {
			return err
		}
		var done any
		if o.Status != webhook.StatusPending {
			done = nanos(a.At)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_messages SET status = ?, attempts = ?, next_attempt_at = ?, done_at = ? WHERE id = ?`,
			o.Status, a.N, nanos(o.Next), done, a.MessageID); err != nil {
			return err
		}
		var err error
		switch {
		case o.Status == webhook.StatusDelivered:
			_, err = tx.ExecContext(ctx, `UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?`, a.EndpointID)
		case disable:
			_, err = tx.ExecContext(ctx, `UPDATE webhook_endpoints SET enabled = 0, disabled_at = ?, failing_since = coalesce(failing_since, ?) WHERE id = ?`, nanos(a.At), nanos(a.At), a.EndpointID)
		default:
			_, err = tx.ExecContext(ctx, `UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, ?) WHERE id = ?`, nanos(a.At), a.EndpointID)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("record webhook attempt: %w", err)
	}
	return nil
}

// FindWebhookMessages lists an endpoint's messages by id.
func (db *DB) FindWebhookMessages(ctx context.Context, endpointID int64) ([]*webhook.Message, error) {
	ms, err := queryList(ctx, db.read, scanMessage, `SELECT `+messageColumns+` FROM webhook_messages WHERE endpoint_id = ? ORDER BY id`, endpointID)
	if err != nil {
		return nil, fmt.Errorf("find webhook messages: %w", err)
	}
	return ms, nil
}

// FindWebhookAttempts lists a message's attempts, first first.
func (db *DB) FindWebhookAttempts(ctx context.Context, messageID int64) ([]*webhook.Attempt, error) {
	as, err := queryList(ctx, db.read, func(sc scanner) (*webhook.Attempt, error) {
		var a webhook.Attempt
		var at, ms int64
		if err := sc.Scan(&a.ID, &a.MessageID, &a.EndpointID, &a.N, &at, &a.StatusCode, &a.Error, &ms, &a.Worker); err != nil {
			return nil, err
		}
		a.At, a.Duration = fromNanos(at), time.Duration(ms)*time.Millisecond
		return &a, nil
	}, `SELECT id, message_id, endpoint_id, attempt, at, status_code, error, duration_ms, worker FROM webhook_attempts WHERE message_id = ? ORDER BY id`, messageID)
	if err != nil {
		return nil, fmt.Errorf("find webhook attempts: %w", err)
	}
	return as, nil
}

// FindAdmins lists the admins' addresses and languages.
func (db *DB) FindAdmins(ctx context.Context) ([]webhook.Admin, error) {
	as, err := queryList(ctx, db.read, func(sc scanner) (webhook.Admin, error) {
		var a webhook.Admin
		return a, sc.Scan(&a.Email, &a.Lang)
	}, `SELECT email, lang FROM accounts WHERE role = ? ORDER BY id`, kiosko.RoleAdmin)
	if err != nil {
		return nil, fmt.Errorf("find admins: %w", err)
	}
	return as, nil
}
