package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kiosko/kiosko"
)

func errSubscriberNotFound() *kiosko.Error {
	return notFound("error.newsletter_link_invalid", "No such newsletter subscriber.")
}
func errIssueNotFound() *kiosko.Error {
	return notFound("error.not_found", "No such newsletter issue.")
}
func errDeliveryNotFound() *kiosko.Error {
	return notFound("error.not_found", "No such newsletter delivery.")
}

const subscriberColumns = `id, edition, email, name, status, source, confirm_hash, confirm_sent_at, unsubscribe_token,
	created_at, confirmed_at, unsubscribed_at, bounced_at, bounce_reason`

func scanSubscriber(r scanner) (*kiosko.Subscriber, error) {
	var s kiosko.Subscriber
	var sent, created int64
	var confirmed, unsub, bounced sql.NullInt64
	if err := r.Scan(&s.ID, &s.Edition, &s.Email, &s.Name, &s.Status, &s.Source, &s.ConfirmHash, &sent, &s.UnsubscribeToken,
		&created, &confirmed, &unsub, &bounced, &s.BounceReason); err != nil {
		return nil, err
	}
	s.ConfirmSentAt, s.CreatedAt = fromNanos(sent), fromNanos(created)
	s.ConfirmedAt, s.UnsubscribedAt, s.BouncedAt = fromNullNanos(confirmed), fromNullNanos(unsub), fromNullNanos(bounced)
	return &s, nil
}

func nullBlob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// CreateSubscriber stores s and sets its ID; ECONFLICT when the edition
// already has the email.
func (db *DB) CreateSubscriber(ctx context.Context, s *kiosko.Subscriber) error {
	if s.Status != kiosko.SubscriberConfirmed {
		return createSubscriber(ctx, db.write, s)
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := createSubscriber(ctx, tx, s); err != nil {
			return err
		}
		return emit(ctx, tx, kiosko.NewsletterEvent(kiosko.EventNewsletterSubscribed, s, s.CreatedAt))
	})
}

func createSubscriber(ctx context.Context, q querier, s *kiosko.Subscriber) error {
	err := q.QueryRowContext(ctx, `INSERT INTO newsletter_subscribers (edition, email, name, status, source, confirm_hash, confirm_sent_at,
		unsubscribe_token, created_at, confirmed_at, unsubscribed_at, bounced_at, bounce_reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		s.Edition, s.Email, s.Name, s.Status, s.Source, nullBlob(s.ConfirmHash), nanos(s.ConfirmSentAt), s.UnsubscribeToken,
		nanos(s.CreatedAt), nullNanos(s.ConfirmedAt), nullNanos(s.UnsubscribedAt), nullNanos(s.BouncedAt), s.BounceReason).Scan(&s.ID)
	if err != nil {
		return fmt.Errorf("create subscriber: %w", constraintErr(err, kiosko.Errorf(kiosko.ECONFLICT, "error.newsletter_already", "%s is already on the %s newsletter.", s.Email, s.Edition)))
	}
	return nil
}

// FindSubscriber looks up an edition's subscriber by email.
func (db *DB) FindSubscriber(ctx context.Context, edition, email string) (*kiosko.Subscriber, error) {
	return queryOne(ctx, db.read, errSubscriberNotFound(), scanSubscriber,
		`SELECT `+subscriberColumns+` FROM newsletter_subscribers WHERE edition = ? AND email = ?`, edition, email)
}

// FindSubscriberByConfirmHash looks up the subscriber of a confirmation link.
func (db *DB) FindSubscriberByConfirmHash(ctx context.Context, hash []byte) (*kiosko.Subscriber, error) {
	return queryOne(ctx, db.read, errSubscriberNotFound(), scanSubscriber,
		`SELECT `+subscriberColumns+` FROM newsletter_subscribers WHERE confirm_hash = ?`, hash)
}

// FindSubscriberByUnsubscribeToken looks up the subscriber of an unsubscribe link.
func (db *DB) FindSubscriberByUnsubscribeToken(ctx context.Context, token string) (*kiosko.Subscriber, error) {
	return queryOne(ctx, db.read, errSubscriberNotFound(), scanSubscriber,
		`SELECT `+subscriberColumns+` FROM newsletter_subscribers WHERE unsubscribe_token = ?`, token)
}

// UpdateSubscriber writes every field of s but ID, Edition and Email.
func (db *DB) UpdateSubscriber(ctx context.Context, s *kiosko.Subscriber) error {
	return execOne(ctx, db.write, errSubscriberNotFound(), `UPDATE newsletter_subscribers SET name = ?, status = ?, source = ?,
		confirm_hash = ?, confirm_sent_at = ?, unsubscribe_token = ?, confirmed_at = ?, unsubscribed_at = ?, bounced_at = ?, bounce_reason = ?
		WHERE id = ?`,
		s.Name, s.Status, s.Source, nullBlob(s.ConfirmHash), nanos(s.ConfirmSentAt), s.UnsubscribeToken,
		nullNanos(s.ConfirmedAt), nullNanos(s.UnsubscribedAt), nullNanos(s.BouncedAt), s.BounceReason, s.ID)
}

// ConfirmSubscriber moves a pending subscriber to confirmed.
func (db *DB) ConfirmSubscriber(ctx context.Context, id int64, at time.Time) (bool, error) {
	confirmed := false
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		s, err := queryOne(ctx, tx, errSubscriberNotFound(), scanSubscriber, `UPDATE newsletter_subscribers SET status = 'confirmed', confirmed_at = ?
			WHERE id = ? AND status = 'pending' RETURNING `+subscriberColumns, nanos(at), id)
		if kiosko.IsNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		confirmed = true
		return emit(ctx, tx, kiosko.NewsletterEvent(kiosko.EventNewsletterSubscribed, s, at))
	})
	if err != nil {
		return false, fmt.Errorf("confirm subscriber: %w", err)
	}
	return confirmed, nil
}

// UnsubscribeSubscriber marks the subscriber unsubscribed.
func (db *DB) UnsubscribeSubscriber(ctx context.Context, id int64, at time.Time) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		before, err := queryOne(ctx, tx, errSubscriberNotFound(), scanSubscriber, `SELECT `+subscriberColumns+` FROM newsletter_subscribers WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if err := execOne(ctx, tx, errSubscriberNotFound(), `UPDATE newsletter_subscribers
		SET status = 'unsubscribed', unsubscribed_at = coalesce(CASE WHEN status = 'unsubscribed' THEN unsubscribed_at END, ?) WHERE id = ?`, nanos(at), id); err != nil {
			return err
		}
		if before.Status == kiosko.SubscriberUnsubscribed {
			return nil
		}
		return emit(ctx, tx, kiosko.NewsletterEvent(kiosko.EventNewsletterUnsubscribed, before, at))
	})
}

// ImportSubscribers adds confirmed subscribers in one transaction.
func (db *DB) ImportSubscribers(ctx context.Context, subs []*kiosko.Subscriber, at time.Time, progress func(done int)) ([]string, error) {
	out := make([]string, len(subs))
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		find, err := tx.PrepareContext(ctx, `SELECT id, status FROM newsletter_subscribers WHERE edition = ? AND email = ?`)
		if err != nil {
			return err
		}
		defer find.Close()
		confirm, err := tx.PrepareContext(ctx, `UPDATE newsletter_subscribers SET status = 'confirmed', confirmed_at = ?,
			name = CASE WHEN name = '' THEN ? ELSE name END WHERE id = ?`)
		if err != nil {
			return err
		}
		defer confirm.Close()
		for i, s := range subs {
			var id int64
			var status string
			err := find.QueryRowContext(ctx, s.Edition, s.Email).Scan(&id, &status)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				if err := createSubscriber(ctx, tx, s); err != nil {
					return err
				}
				if err := emit(ctx, tx, kiosko.NewsletterEvent(kiosko.EventNewsletterSubscribed, s, at)); err != nil {
					return err
				}
				out[i] = kiosko.ImportAdded
			case err != nil:
				return err
			case status == kiosko.SubscriberPending:
				if _, err := confirm.ExecContext(ctx, nanos(at), s.Name, id); err != nil {
					return err
				}
				s.ID = id
				if err := emit(ctx, tx, kiosko.NewsletterEvent(kiosko.EventNewsletterSubscribed, s, at)); err != nil {
					return err
				}
				out[i] = kiosko.ImportConfirmed
			case status == kiosko.SubscriberConfirmed:
				s.ID = id
				out[i] = kiosko.ImportUnchanged
			case status == kiosko.SubscriberUnsubscribed:
				out[i] = kiosko.ImportUnsubscribed
			default:
				out[i] = kiosko.ImportBounced
			}
			if progress != nil && (i%500 == 499 || i == len(subs)-1) {
				progress(i + 1)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("import subscribers: %w", err)
	}
	return out, nil
}

// CountSubscribers counts an edition's subscribers by status.
func (db *DB) CountSubscribers(ctx context.Context, edition string) (map[string]int, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT status, count(*) FROM newsletter_subscribers WHERE edition = ? GROUP BY status`, edition)
	if err != nil {
		return nil, fmt.Errorf("count subscribers: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

const issueColumns = `id, edition, week, since, until, article_ids, created_at`

func scanIssue(r scanner) (*kiosko.Issue, error) {
	var i kiosko.Issue
	var since, until, created int64
	var ids string
	if err := r.Scan(&i.ID, &i.Edition, &i.Week, &since, &until, &ids, &created); err != nil {
		return nil, err
	}
	i.Since, i.Until, i.CreatedAt = fromNanos(since), fromNanos(until), fromNanos(created)
	if err := json.Unmarshal([]byte(ids), &i.ArticleIDs); err != nil {
		return nil, fmt.Errorf("issue %d: article ids: %w", i.ID, err)
	}
	return &i, nil
}

// CreateIssue stores i; ECONFLICT when the edition has that week's issue.
func (db *DB) CreateIssue(ctx context.Context, i *kiosko.Issue) error {
	ids, err := json.Marshal(append([]string{}, i.ArticleIDs...))
	if err != nil {
		return err
	}
	err = db.write.QueryRowContext(ctx, `INSERT INTO newsletter_issues (edition, week, since, until, article_ids, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, i.Edition, i.Week, nanos(i.Since), nanos(i.Until), string(ids), nanos(i.CreatedAt)).Scan(&i.ID)
	if err != nil {
		return fmt.Errorf("create issue: %w", constraintErr(err, kiosko.Errorf(kiosko.ECONFLICT, "error.conflict", "Edition %s has an issue for %s already.", i.Edition, i.Week)))
	}
	return nil
}

// FindIssue returns an edition's issue of a week.
func (db *DB) FindIssue(ctx context.Context, edition, week string) (*kiosko.Issue, error) {
	return queryOne(ctx, db.read, errIssueNotFound(), scanIssue,
		`SELECT `+issueColumns+` FROM newsletter_issues WHERE edition = ? AND week = ?`, edition, week)
}

// LockIssue makes owner the issue's only sender until until.
func (db *DB) LockIssue(ctx context.Context, issueID int64, owner string, now, until time.Time) (bool, error) {
	res, err := db.write.ExecContext(ctx, `UPDATE newsletter_issues SET lock_owner = ?, lock_until = ?
		WHERE id = ? AND (lock_owner = '' OR lock_owner = ? OR lock_until < ?)`, owner, nanos(until), issueID, owner, nanos(now))
	if err != nil {
		return false, fmt.Errorf("lock issue: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// UnlockIssue releases owner's lock.
func (db *DB) UnlockIssue(ctx context.Context, issueID int64, owner string) error {
	_, err := db.write.ExecContext(ctx, `UPDATE newsletter_issues SET lock_owner = '', lock_until = 0 WHERE id = ? AND lock_owner = ?`, issueID, owner)
	if err != nil {
		return fmt.Errorf("unlock issue: %w", err)
	}
	return nil
}

// EnqueueDeliveries adds a pending delivery for every confirmed subscriber
// of the issue's edition that has none.
func (db *DB) EnqueueDeliveries(ctx context.Context, issueID int64, at time.Time) (int, error) {
	res, err := db.write.ExecContext(ctx, `INSERT INTO newsletter_deliveries (issue_id, subscriber_id, status, next_attempt_at)
		SELECT i.id, s.id, 'pending', 0 FROM newsletter_issues i JOIN newsletter_subscribers s ON s.edition = i.edition AND s.status = 'confirmed'
		WHERE i.id = ? ORDER BY s.id
		ON CONFLICT (issue_id, subscriber_id) DO NOTHING`, issueID)
	if err != nil {
		return 0, fmt.Errorf("enqueue deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// EnqueueDeliveriesAfter adds the pending deliveries of up to limit
// confirmed subscribers after subscriber id after.
func (db *DB) EnqueueDeliveriesAfter(ctx context.Context, issueID, after int64, limit int, at time.Time) (int, int64, error) {
	var last sql.NullInt64
	if err := db.write.QueryRowContext(ctx, `SELECT max(id) FROM (SELECT s.id FROM newsletter_issues i
		JOIN newsletter_subscribers s ON s.edition = i.edition AND s.status = 'confirmed'
		WHERE i.id = ? AND s.id > ? ORDER BY s.id LIMIT ?)`, issueID, after, limit).Scan(&last); err != nil {
		return 0, 0, fmt.Errorf("enqueue deliveries: %w", err)
	}
	if !last.Valid {
		return 0, 0, nil
	}
	res, err := db.write.ExecContext(ctx, `INSERT INTO newsletter_deliveries (issue_id, subscriber_id, status, next_attempt_at)
		SELECT i.id, s.id, 'pending', 0 FROM newsletter_issues i JOIN newsletter_subscribers s ON s.edition = i.edition AND s.status = 'confirmed'
		WHERE i.id = ? AND s.id > ? AND s.id <= ? ORDER BY s.id
		ON CONFLICT (issue_id, subscriber_id) DO NOTHING`, issueID, after, last.Int64)
	if err != nil {
		return 0, 0, fmt.Errorf("enqueue deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), last.Int64, err
}

// SkipDeliveries marks skipped the pending deliveries of subscribers no
// longer confirmed.
func (db *DB) SkipDeliveries(ctx context.Context, issueID int64) (int, error) {
	return db.execCount(ctx, `UPDATE newsletter_deliveries SET status = 'skipped' WHERE issue_id = ? AND status = 'pending'
		AND subscriber_id IN (SELECT id FROM newsletter_subscribers WHERE status <> 'confirmed')`, issueID)
}

// InterruptedDeliveries marks unknown the deliveries left committing.
func (db *DB) InterruptedDeliveries(ctx context.Context, issueID int64) (int, error) {
	return db.execCount(ctx, `UPDATE newsletter_deliveries SET status = 'unknown',
		last_error = 'interrupted after the message was committed; the server may have accepted it'
		WHERE issue_id = ? AND status = 'committing'`, issueID)
}

// ResendUnknownDeliveries puts unknown deliveries back to pending.
func (db *DB) ResendUnknownDeliveries(ctx context.Context, issueID int64) (int, error) {
	return db.execCount(ctx, `UPDATE newsletter_deliveries SET status = 'pending', next_attempt_at = 0 WHERE issue_id = ? AND status = 'unknown'`, issueID)
}

func (db *DB) execCount(ctx context.Context, query string, args ...any) (int, error) {
	res, err := db.write.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("newsletter deliveries: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// FindDueDeliveries lists pending deliveries due at now with id > after.
func (db *DB) FindDueDeliveries(ctx context.Context, issueID int64, now time.Time, after int64, limit int) ([]*kiosko.Delivery, error) {
	out, err := queryList(ctx, db.read, func(r scanner) (*kiosko.Delivery, error) {
		d := &kiosko.Delivery{Subscriber: &kiosko.Subscriber{}}
		var next int64
		var sent sql.NullInt64
		s := d.Subscriber
		if err := r.Scan(&d.ID, &d.IssueID, &d.Status, &d.Attempts, &next, &d.LastError, &sent,
			&s.ID, &s.Edition, &s.Email, &s.Name, &s.Status, &s.UnsubscribeToken); err != nil {
			return nil, err
		}
		d.NextAttemptAt, d.SentAt = fromNanos(next), fromNullNanos(sent)
		return d, nil
	}, `SELECT d.id, d.issue_id, d.status, d.attempts, d.next_attempt_at, d.last_error, d.sent_at,
			s.id, s.edition, s.email, s.name, s.status, s.unsubscribe_token
		FROM newsletter_deliveries d JOIN newsletter_subscribers s ON s.id = d.subscriber_id
		WHERE d.issue_id = ? AND d.status = 'pending' AND d.next_attempt_at <= ? AND d.id > ? AND s.status = 'confirmed'
		ORDER BY d.id LIMIT ?`, issueID, nanos(now), after, limit)
	if err != nil {
		return nil, fmt.Errorf("find due deliveries: %w", err)
	}
	return out, nil
}

// MarkDeliveryCommitting moves a pending delivery to committing; ECONFLICT
// when it was not pending (another sender took it).
func (db *DB) MarkDeliveryCommitting(ctx context.Context, id int64) error {
	n, err := db.execCount(ctx, `UPDATE newsletter_deliveries SET status = 'committing' WHERE id = ? AND status = 'pending'`, id)
	if err != nil {
		return fmt.Errorf("mark delivery committing: %w", err)
	}
	if n == 0 {
		return kiosko.Errorf(kiosko.ECONFLICT, "error.conflict", "Delivery %d is not pending any more.", id)
	}
	return nil
}

// MarkDeliverySent records the server's acceptance.
func (db *DB) MarkDeliverySent(ctx context.Context, id int64, at time.Time) error {
	return execOne(ctx, db.write, errDeliveryNotFound(), `UPDATE newsletter_deliveries SET status = 'sent', sent_at = ?, last_error = '' WHERE id = ?`, nanos(at), id)
}

// deliveryStmts are the statements of RecordDeliveries, prepared once on
// the writer connection: preparing them again in every transaction cost
// more than running them.
type deliveryStmts struct {
	once         sync.Once
	err          error
	sent, commit *sql.Stmt
}

func (db *DB) recordStmts(ctx context.Context) (*deliveryStmts, error) {
	st := &db.deliveryStmts
	st.once.Do(func() {
		st.sent, st.err = db.write.PrepareContext(ctx, `UPDATE newsletter_deliveries SET status = 'sent', sent_at = ?, last_error = ''
			WHERE id IN (SELECT value FROM json_each(?))`)
		if st.err != nil {
			return
		}
		st.commit, st.err = db.write.PrepareContext(ctx, `UPDATE newsletter_deliveries SET status = 'committing'
			WHERE id IN (SELECT value FROM json_each(?)) AND status = 'pending' RETURNING id`)
	})
	return st, st.err
}

// RecordDeliveries writes a sender's batch in one transaction. The ids go
// in as one JSON array each: one statement per batch, not per row.
func (db *DB) RecordDeliveries(ctx context.Context, b kiosko.DeliveryBatch) ([]int64, error) {
	st, err := db.recordStmts(context.WithoutCancel(ctx))
	if err != nil {
		return nil, fmt.Errorf("record deliveries: %w", err)
	}
	var refused []int64
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		refused = nil
		if len(b.Sent) > 0 {
			ids, err := json.Marshal(b.Sent)
			if err != nil {
				return err
			}
			if _, err := tx.StmtContext(ctx, st.sent).ExecContext(ctx, nanos(b.SentAt), string(ids)); err != nil {
				return err
			}
		}
		if len(b.Commit) == 0 {
			return nil
		}
		ids, err := json.Marshal(b.Commit)
		if err != nil {
			return err
		}
		rows, err := tx.StmtContext(ctx, st.commit).QueryContext(ctx, string(ids))
		if err != nil {
			return err
		}
		defer rows.Close()
		ok := make(map[int64]bool, len(b.Commit))
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ok[id] = true
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range b.Commit {
			if !ok[id] {
				refused = append(refused, id)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record deliveries: %w", err)
	}
	return refused, nil
}

// MarkDeliveryUnknown records that a committed message got no answer.
func (db *DB) MarkDeliveryUnknown(ctx context.Context, id int64, lastErr string) error {
	return execOne(ctx, db.write, errDeliveryNotFound(), `UPDATE newsletter_deliveries SET status = 'unknown', last_error = ? WHERE id = ?`, truncateErr(lastErr), id)
}

// RetryDelivery puts a delivery back to pending for a retry at next.
func (db *DB) RetryDelivery(ctx context.Context, id int64, attempts int, next time.Time, lastErr string) error {
	return execOne(ctx, db.write, errDeliveryNotFound(), `UPDATE newsletter_deliveries SET status = 'pending', attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?`,
		attempts, nanos(next), truncateErr(lastErr), id)
}

// FailDelivery marks a delivery failed, and its subscriber bounced if bounce.
func (db *DB) FailDelivery(ctx context.Context, id int64, attempts int, lastErr string, bounce bool, at time.Time) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := execOne(ctx, tx, errDeliveryNotFound(), `UPDATE newsletter_deliveries SET status = 'failed', attempts = ?, last_error = ? WHERE id = ?`,
			attempts, truncateErr(lastErr), id); err != nil {
			return err
		}
		if !bounce {
			return nil
		}
		_, err := tx.ExecContext(ctx, `UPDATE newsletter_subscribers SET status = 'bounced', bounced_at = ?, bounce_reason = ?
			WHERE id = (SELECT subscriber_id FROM newsletter_deliveries WHERE id = ?) AND status IN ('confirmed', 'pending')`,
			nanos(at), truncateErr(lastErr), id)
		return err
	})
}

func truncateErr(s string) string {
	if len(s) > 1000 {
		return s[:1000]
	}
	return s
}

// CountDeliveries counts an issue's deliveries by status.
func (db *DB) CountDeliveries(ctx context.Context, issueID int64) (kiosko.DeliveryCounts, error) {
	var c kiosko.DeliveryCounts
	rows, err := db.read.QueryContext(ctx, `SELECT status, count(*), min(next_attempt_at) FROM newsletter_deliveries WHERE issue_id = ? GROUP BY status`, issueID)
	if err != nil {
		return c, fmt.Errorf("count deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var n int
		var next int64
		if err := rows.Scan(&s, &n, &next); err != nil {
			return c, err
		}
		switch s {
		case kiosko.DeliveryPending:
			c.Pending, c.NextAttemptAt = n, fromNanos(next)
		case kiosko.DeliveryCommitting:
			c.Committing = n
		case kiosko.DeliverySent:
			c.Sent = n
		case kiosko.DeliveryFailed:
			c.Failed = n
		case kiosko.DeliveryUnknown:
			c.Unknown = n
		case kiosko.DeliverySkipped:
			c.Skipped = n
		}
	}
	return c, rows.Err()
}
