package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/atrest"
	"github.com/kiosko/kiosko/webhook"
)

var _ webhook.Store = (*DB)(nil)

func errEndpointNotFound() *kiosko.Error {
	return notFound("error.webhook_unknown", "No such webhook endpoint.")
}

const endpointColumns = `id, url, secret, events, enabled, created_at, failing_since, disabled_at`

func scanEndpoint(r pgx.Row) (*webhook.Endpoint, error) {
	var e webhook.Endpoint
	var events string
	var created int64
	var failing, disabled *int64
	if err := r.Scan(&e.ID, &e.URL, &e.Secret, &events, &e.Enabled, &created, &failing, &disabled); err != nil {
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
//
// It locks the endpoints' rows first, in id order, so two transactions
// that both write messages for an endpoint take their message ids in the
// order they commit: a worker that delivers by id delivers in commit order.
func enqueueWebhooks(ctx context.Context, tx pgx.Tx, events []kiosko.Event) error {
	deliverable := false
	for i := range events {
		deliverable = deliverable || webhook.Deliverable(events[i].Type)
	}
	if !deliverable {
		return nil
	}
	eps, err := queryList(ctx, tx, scanEndpoint, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE enabled ORDER BY id FOR NO KEY UPDATE`)
	if err != nil {
		return fail("webhook endpoints", err)
	}
	msgs := webhook.Enqueue(eps, events)
	if len(msgs) == 0 {
		return nil
	}
	var b pgx.Batch
	for _, m := range msgs {
		b.Queue(`INSERT INTO webhook_messages (endpoint_id, event_id, msg_id, type, body, status, next_attempt_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, m.EndpointID, m.EventID, m.MsgID, m.Type, string(m.Body), m.Status, nanos(m.NextAttemptAt), nanos(m.CreatedAt))
	}
	return fail("webhook messages", tx.SendBatch(ctx, &b).Close())
}

// emit writes events inside tx (with their webhook messages).
func emit(ctx context.Context, tx pgx.Tx, events ...kiosko.Event) error {
	return insertEvents(ctx, tx, events)
}

// CreateWebhookEndpoint stores e and sets its ID.
func (db *DB) CreateWebhookEndpoint(ctx context.Context, e *webhook.Endpoint) error {
	err := db.pool.QueryRow(ctx, `INSERT INTO webhook_endpoints (url, secret, events, enabled, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		e.URL, db.box.Load().SealString(e.Secret, atrest.WebhookSecretLabel), strings.Join(e.Events, ","), e.Enabled, nanos(e.CreatedAt)).Scan(&e.ID)
	return fail("create webhook endpoint", err)
}

// FindWebhookEndpoints lists every endpoint by id.
func (db *DB) FindWebhookEndpoints(ctx context.Context) ([]*webhook.Endpoint, error) {
	eps, err := queryList(ctx, db.pool, scanEndpoint, `SELECT `+endpointColumns+` FROM webhook_endpoints ORDER BY id`)
	if err == nil {
		err = db.openEndpoints(eps)
	}
	return eps, fail("find webhook endpoints", err)
}

// FindWebhookEndpoint returns an endpoint, or ENOTFOUND.
func (db *DB) FindWebhookEndpoint(ctx context.Context, id int64) (*webhook.Endpoint, error) {
	e, err := queryOne(ctx, db.pool, errEndpointNotFound(), scanEndpoint, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = $1`, id)
	if err == nil {
		err = db.openEndpoints([]*webhook.Endpoint{e})
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

// DeleteWebhookEndpoint removes an endpoint with its messages and log.
func (db *DB) DeleteWebhookEndpoint(ctx context.Context, id int64) error {
	return fail("delete webhook endpoint", db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM webhook_attempts WHERE endpoint_id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM webhook_messages WHERE endpoint_id = $1`, id); err != nil {
			return err
		}
		return execOne(ctx, tx, errEndpointNotFound(), `DELETE FROM webhook_endpoints WHERE id = $1`, id)
	}))
}

// ClaimWebhookEndpoints: see webhook.Store. Rows another worker is
// claiming are skipped, and the claim re-checks lock_until on the row it
// updates, so of two workers only one gets an endpoint.
func (db *DB) ClaimWebhookEndpoints(ctx context.Context, worker string, now, until time.Time, limit int) ([]*webhook.Endpoint, error) {
	eps, err := queryList(ctx, db.pool, scanEndpoint, `UPDATE webhook_endpoints SET lock_owner = $1, lock_until = $2
		WHERE id IN (SELECT e.id FROM webhook_endpoints e WHERE e.enabled AND e.lock_until <= $3
			AND (SELECT m.next_attempt_at FROM webhook_messages m WHERE m.endpoint_id = e.id AND m.status = 'pending' ORDER BY m.id LIMIT 1) <= $3
			ORDER BY e.id LIMIT $4 FOR UPDATE SKIP LOCKED)
		AND lock_until <= $3
		RETURNING `+endpointColumns, worker, nanos(until), nanos(now), limit)
	if err == nil {
		err = db.openEndpoints(eps)
	}
	return eps, fail("claim webhook endpoints", err)
}

// ReleaseWebhookEndpoint gives up worker's claim on an endpoint.
func (db *DB) ReleaseWebhookEndpoint(ctx context.Context, id int64, worker string) error {
	_, err := db.pool.Exec(ctx, `UPDATE webhook_endpoints SET lock_owner = '', lock_until = 0 WHERE id = $1 AND lock_owner = $2`, id, worker)
	return fail("release webhook endpoint", err)
}

const messageColumns = `id, endpoint_id, event_id, msg_id, type, body, status, attempts, next_attempt_at, created_at, done_at`

func scanMessage(r pgx.Row) (*webhook.Message, error) {
	var m webhook.Message
	var body string
	var next, created int64
	var done *int64
	if err := r.Scan(&m.ID, &m.EndpointID, &m.EventID, &m.MsgID, &m.Type, &body, &m.Status, &m.Attempts, &next, &created, &done); err != nil {
		return nil, err
	}
	m.Body = []byte(body)
	m.NextAttemptAt, m.CreatedAt, m.DoneAt = fromNanos(next), fromNanos(created), fromNullNanos(done)
	return &m, nil
}

// NextWebhookMessage returns the endpoint's first pending message.
func (db *DB) NextWebhookMessage(ctx context.Context, endpointID int64) (*webhook.Message, error) {
	return queryOne(ctx, db.pool, notFound("error.webhook_message_unknown", "No pending message."), scanMessage,
		`SELECT `+messageColumns+` FROM webhook_messages WHERE endpoint_id = $1 AND status = 'pending' ORDER BY id LIMIT 1`, endpointID)
}

// RecordWebhookAttempt: see webhook.Store. The endpoint's row is locked
// while the claim is checked, so a claim that changes hands meanwhile
// waits.
func (db *DB) RecordWebhookAttempt(ctx context.Context, worker string, a *webhook.Attempt, o webhook.Outcome, disable bool) error {
	return fail("record webhook attempt", db.inTx(ctx, func(tx pgx.Tx) error {
		var held bool
		err := tx.QueryRow(ctx, `SELECT lock_owner = $2 FROM webhook_endpoints WHERE id = $1 FOR UPDATE`, a.EndpointID, worker).Scan(&held)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if !held {
			return kiosko.Errorf(kiosko.ECONFLICT, "error.conflict", "Worker %s no longer holds webhook endpoint %d.", worker, a.EndpointID)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO webhook_attempts (message_id, endpoint_id, attempt, at, status_code, error, duration_ms, worker)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`, a.MessageID, a.EndpointID, a.N, nanos(a.At), a.StatusCode, a.Error, a.Duration.Milliseconds(), a.Worker).Scan(&a.ID); err != nil {
			return err
		}
		var done *int64
		if o.Status != webhook.StatusPending {
			n := nanos(a.At)
			done = &n
		}
		if _, err := tx.Exec(ctx, `UPDATE webhook_messages SET status = $1, attempts = $2, next_attempt_at = $3, done_at = $4 WHERE id = $5`,
			o.Status, a.N, nanos(o.Next), done, a.MessageID); err != nil {
			return err
		}
		switch {
		case o.Status == webhook.StatusDelivered:
			_, err = tx.Exec(ctx, `UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1`, a.EndpointID)
		case disable:
			_, err = tx.Exec(ctx, `UPDATE webhook_endpoints SET enabled = false, disabled_at = $2, failing_since = coalesce(failing_since, $2) WHERE id = $1`, a.EndpointID, nanos(a.At))
		default:
			_, err = tx.Exec(ctx, `UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $2) WHERE id = $1`, a.EndpointID, nanos(a.At))
		}
		return err
	}))
}

// FindWebhookMessages lists an endpoint's messages by id.
func (db *DB) FindWebhookMessages(ctx context.Context, endpointID int64) ([]*webhook.Message, error) {
	ms, err := queryList(ctx, db.pool, scanMessage, `SELECT `+messageColumns+` FROM webhook_messages WHERE endpoint_id = $1 ORDER BY id`, endpointID)
	return ms, fail("find webhook messages", err)
}

// FindWebhookAttempts lists a message's attempts, first first.
func (db *DB) FindWebhookAttempts(ctx context.Context, messageID int64) ([]*webhook.Attempt, error) {
	as, err := queryList(ctx, db.pool, func(r pgx.Row) (*webhook.Attempt, error) {
		var a webhook.Attempt
		var at, ms int64
		if err := r.Scan(&a.ID, &a.MessageID, &a.EndpointID, &a.N, &at, &a.StatusCode, &a.Error, &ms, &a.Worker); err != nil {
			return nil, err
		}
		a.At, a.Duration = fromNanos(at), time.Duration(ms)*time.Millisecond
		return &a, nil
	}, `SELECT id, message_id, endpoint_id, attempt, at, status_code, error, duration_ms, worker FROM webhook_attempts WHERE message_id = $1 ORDER BY id`, messageID)
	return as, fail("find webhook attempts", err)
}

// FindAdmins lists the admins' addresses and languages.
func (db *DB) FindAdmins(ctx context.Context) ([]webhook.Admin, error) {
	as, err := queryList(ctx, db.pool, func(r pgx.Row) (webhook.Admin, error) {
		var a webhook.Admin
		return a, r.Scan(&a.Email, &a.Lang)
	}, `SELECT email, lang FROM accounts WHERE role = $1 ORDER BY id`, kiosko.RoleAdmin)
	return as, fail("find admins", err)
}
