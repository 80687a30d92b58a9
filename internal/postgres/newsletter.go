package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
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

func scanSubscriber(r pgx.Row) (*kiosko.Subscriber, error) {
	var s kiosko.Subscriber
	var sent, created int64
	var confirmed, unsub, bounced *int64
	if err := r.Scan(&s.ID, &s.Edition, &s.Email, &s.Name, &s.Status, &s.Source, &s.ConfirmHash, &sent, &s.UnsubscribeToken,
		&created, &confirmed, &unsub, &bounced, &s.BounceReason); err != nil {
		return nil, err
	}
	s.ConfirmSentAt, s.CreatedAt = fromNanos(sent), fromNanos(created)
	s.ConfirmedAt, s.UnsubscribedAt, s.BouncedAt = fromNullNanos(confirmed), fromNullNanos(unsub), fromNullNanos(bounced)
	return &s, nil
}

// nullBlob stores an optional hash; empty is NULL.
func nullBlob(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// CreateSubscriber stores s and sets its ID; ECONFLICT when the edition
// already has the email.
func (db *DB) CreateSubscriber(ctx context.Context, s *kiosko.Subscriber) error {
	if s.Status != kiosko.SubscriberConfirmed {
		return fail("", createSubscriber(ctx, db.pool, s))
	}
	return fail("", db.inTx(ctx, func(tx pgx.Tx) error {
		if err := createSubscriber(ctx, tx, s); err != nil {
			return err
		}
		return emit(ctx, tx, kiosko.NewsletterEvent(kiosko.EventNewsletterSubscribed, s, s.CreatedAt))
	}))
}

func createSubscriber(ctx context.Context, q Querier, s *kiosko.Subscriber) error {
	err := q.QueryRow(ctx, `INSERT INTO newsletter_subscribers (edition, email, name, status, source, confirm_hash, confirm_sent_at,
		unsubscribe_token, created_at, confirmed_at, unsubscribed_at, bounced_at, bounce_reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		s.Edition, s.Email, s.Name, s.Status, s.Source, nullBlob(s.ConfirmHash), nanos(s.ConfirmSentAt), s.UnsubscribeToken,
		nanos(s.CreatedAt), nullNanos(s.ConfirmedAt), nullNanos(s.UnsubscribedAt), nullNanos(s.BouncedAt), s.BounceReason).Scan(&s.ID)
	if err != nil {
		return fmt.Errorf("create subscriber: %w", constraintErr(err, kiosko.Errorf(kiosko.ECONFLICT, "error.newsletter_already", "%s is already on the %s newsletter.", s.Email, s.Edition)))
	}
	return nil
}

// FindSubscriber looks up an edition's subscriber by email.
func (db *DB) FindSubscriber(ctx context.Context, edition, email string) (*kiosko.Subscriber, error) {
	return queryOne(ctx, db.pool, errSubscriberNotFound(), scanSubscriber,
		`SELECT `+subscriberColumns+` FROM newsletter_subscribers WHERE edition = $1 AND email = $2`, edition, email)
}

// FindSubscriberByConfirmHash looks up the subscriber of a confirmation link.
func (db *DB) FindSubscriberByConfirmHash(ctx context.Context, hash []byte) (*kiosko.Subscriber, error) {
	return queryOne(ctx, db.pool, errSubscriberNotFound(), scanSubscriber,
		`SELECT `+subscriberColumns+` FROM newsletter_subscribers WHERE confirm_hash = $1`, hash)
}

// FindSubscriberByUnsubscribeToken looks up the subscriber of an unsubscribe link.
func (db *DB) FindSubscriberByUnsubscribeToken(ctx context.Context, token string) (*kiosko.Subscriber, error) {
	return queryOne(ctx, db.pool, errSubscriberNotFound(), scanSubscriber,
		`SELECT `+subscriberColumns+` FROM newsletter_subscribers WHERE unsubscribe_token = $1`, token)
}

// UpdateSubscriber writes every field of s but ID, Edition and Email.
func (db *DB) UpdateSubscriber(ctx context.Context, s *kiosko.Subscriber) error {
	err := execOne(ctx, db.pool, errSubscriberNotFound(), `UPDATE newsletter_subscribers SET name = $1, status = $2, source = $3,
		confirm_hash = $4, confirm_sent_at = $5, unsubscribe_token = $6, confirmed_at = $7, unsubscribed_at = $8, bounced_at = $9, bounce_reason = $10
		WHERE id = $11`,
		s.Name, s.Status, s.Source, nullBlob(s.ConfirmHash), nanos(s.ConfirmSentAt), s.UnsubscribeToken,
		nullNanos(s.ConfirmedAt), nullNanos(s.UnsubscribedAt), nullNanos(s.BouncedAt), s.BounceReason, s.ID)
	return constraintErr(err, kiosko.Errorf(kiosko.ECONFLICT, "error.conflict", "The confirmation or unsubscribe token is in use."))
}

// ConfirmSubscriber moves a pending subscriber to confirmed.
func (db *DB) ConfirmSubscriber(ctx context.Context, id int64, at time.Time) (bool, error) {
	confirmed := false
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		s, err := queryOne(ctx, tx, errSubscriberNotFound(), scanSubscriber, `UPDATE newsletter_subscribers SET status = 'confirmed', confirmed_at = $1
			WHERE id = $2 AND status = 'pending' RETURNING `+subscriberColumns, nanos(at), id)
		if kiosko.IsNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		confirmed = true
		return emit(ctx, tx, kiosko.NewsletterEvent(kiosko.EventNewsletterSubscribed, s, at))
	})
	if err != nil {
		return false, fail("confirm subscriber", err)
	}
	return confirmed, nil
}

// UnsubscribeSubscriber marks the subscriber unsubscribed.
func (db *DB) UnsubscribeSubscriber(ctx context.Context, id int64, at time.Time) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		before, err := queryOne(ctx, tx, errSubscriberNotFound(), scanSubscriber, `SELECT `+subscriberColumns+` FROM newsletter_subscribers WHERE id = $1 FOR UPDATE`, id)
		if err != nil {
			return err
		}
		if err := execOne(ctx, tx, errSubscriberNotFound(), `UPDATE newsletter_subscribers
		SET status = 'unsubscribed', unsubscribed_at = coalesce(CASE WHEN status = 'unsubscribed' THEN unsubscribed_at END, $1) WHERE id = $2`, nanos(at), id); err != nil {
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
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		for i, s := range subs {
			var id int64
			var status string
			// FOR UPDATE: a sign-up confirming the same address at the same
			// time waits for the import instead of being overwritten.
			err := tx.QueryRow(ctx, `SELECT id, status FROM newsletter_subscribers WHERE edition = $1 AND email = $2 FOR UPDATE`, s.Edition, s.Email).Scan(&id, &status)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
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
				if _, err := tx.Exec(ctx, `UPDATE newsletter_subscribers SET status = 'confirmed', confirmed_at = $1,
					name = CASE WHEN name = '' THEN $2 ELSE name END WHERE id = $3`, nanos(at), s.Name, id); err != nil {
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
		return nil, fail("import subscribers", err)
	}
	return out, nil
}

// CountSubscribers counts an edition's subscribers by status.
func (db *DB) CountSubscribers(ctx context.Context, edition string) (map[string]int, error) {
	type count struct {
		status string
		n      int
	}
	counts, err := queryList(ctx, db.pool, func(r pgx.Row) (count, error) {
		var c count
		return c, r.Scan(&c.status, &c.n)
	}, `SELECT status, count(*) FROM newsletter_subscribers WHERE edition = $1 GROUP BY status`, edition)
	if err != nil {
		return nil, fail("count subscribers", err)
	}
	out := map[string]int{}
	for _, c := range counts {
		out[c.status] = c.n
	}
	return out, nil
}

const issueColumns = `id, edition, week, since, until, article_ids, created_at`

func scanIssue(r pgx.Row) (*kiosko.Issue, error) {
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
	err = db.pool.QueryRow(ctx, `INSERT INTO newsletter_issues (edition, week, since, until, article_ids, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, i.Edition, i.Week, nanos(i.Since), nanos(i.Until), string(ids), nanos(i.CreatedAt)).Scan(&i.ID)
	return fail("create issue", constraintErr(err, kiosko.Errorf(kiosko.ECONFLICT, "error.conflict", "Edition %s has an issue for %s already.", i.Edition, i.Week)))
}

// FindIssue returns an edition's issue of a week.
func (db *DB) FindIssue(ctx context.Context, edition, week string) (*kiosko.Issue, error) {
	return queryOne(ctx, db.pool, errIssueNotFound(), scanIssue,
		`SELECT `+issueColumns+` FROM newsletter_issues WHERE edition = $1 AND week = $2`, edition, week)
}

// LockIssue makes owner the issue's only sender until until. The UPDATE
// re-checks its WHERE after a concurrent one commits, so of two nodes
// locking at once one gets it.
func (db *DB) LockIssue(ctx context.Context, issueID int64, owner string, now, until time.Time) (bool, error) {
	n, err := execCount(ctx, db.pool, `UPDATE newsletter_issues SET lock_owner = $1, lock_until = $2
		WHERE id = $3 AND (lock_owner = '' OR lock_owner = $1 OR lock_until < $4)`, owner, nanos(until), issueID, nanos(now))
	if err != nil {
		return false, fail("lock issue", err)
	}
	return n == 1, nil
}

// UnlockIssue releases owner's lock.
func (db *DB) UnlockIssue(ctx context.Context, issueID int64, owner string) error {
	_, err := db.pool.Exec(ctx, `UPDATE newsletter_issues SET lock_owner = '', lock_until = 0 WHERE id = $1 AND lock_owner = $2`, issueID, owner)
	return fail("unlock issue", err)
}

// EnqueueDeliveries adds a pending delivery for every confirmed subscriber
// of the issue's edition that has none.
func (db *DB) EnqueueDeliveries(ctx context.Context, issueID int64, at time.Time) (int, error) {
	n, err := execCount(ctx, db.pool, `INSERT INTO newsletter_deliveries (issue_id, subscriber_id, status, next_attempt_at)
		SELECT i.id, s.id, 'pending', 0 FROM newsletter_issues i JOIN newsletter_subscribers s ON s.edition = i.edition AND s.status = 'confirmed'
		WHERE i.id = $1 ORDER BY s.id
		ON CONFLICT (issue_id, subscriber_id) DO NOTHING`, issueID)
	if err != nil {
		return 0, fail("enqueue deliveries", err)
	}
	return n, nil
}

// EnqueueDeliveriesAfter adds the pending deliveries of up to limit
// confirmed subscribers after subscriber id after.
func (db *DB) EnqueueDeliveriesAfter(ctx context.Context, issueID, after int64, limit int, at time.Time) (int, int64, error) {
	var last *int64
	if err := db.pool.QueryRow(ctx, `SELECT max(id) FROM (SELECT s.id FROM newsletter_issues i
		JOIN newsletter_subscribers s ON s.edition = i.edition AND s.status = 'confirmed'
		WHERE i.id = $1 AND s.id > $2 ORDER BY s.id LIMIT $3) AS chunk`, issueID, after, limit).Scan(&last); err != nil {
		return 0, 0, fail("enqueue deliveries", err)
	}
	if last == nil {
		return 0, 0, nil
	}
	n, err := execCount(ctx, db.pool, `INSERT INTO newsletter_deliveries (issue_id, subscriber_id, status, next_attempt_at)
		SELECT i.id, s.id, 'pending', 0 FROM newsletter_issues i JOIN newsletter_subscribers s ON s.edition = i.edition AND s.status = 'confirmed'
		WHERE i.id = $1 AND s.id > $2 AND s.id <= $3 ORDER BY s.id
		ON CONFLICT (issue_id, subscriber_id) DO NOTHING`, issueID, after, *last)
	if err != nil {
		return 0, 0, fail("enqueue deliveries", err)
	}
	return n, *last, nil
}

// SkipDeliveries marks skipped the pending deliveries of subscribers no
// longer confirmed.
func (db *DB) SkipDeliveries(ctx context.Context, issueID int64) (int, error) {
	return db.execDeliveries(ctx, `UPDATE newsletter_deliveries SET status = 'skipped' WHERE issue_id = $1 AND status = 'pending'
		AND subscriber_id IN (SELECT id FROM newsletter_subscribers WHERE status <> 'confirmed')`, issueID)
}

// InterruptedDeliveries marks unknown the deliveries left committing.
func (db *DB) InterruptedDeliveries(ctx context.Context, issueID int64) (int, error) {
	return db.execDeliveries(ctx, `UPDATE newsletter_deliveries SET status = 'unknown',
		last_error = 'interrupted after the message was committed; the server may have accepted it'
		WHERE issue_id = $1 AND status = 'committing'`, issueID)
}

// ResendUnknownDeliveries puts unknown deliveries back to pending.
func (db *DB) ResendUnknownDeliveries(ctx context.Context, issueID int64) (int, error) {
	return db.execDeliveries(ctx, `UPDATE newsletter_deliveries SET status = 'pending', next_attempt_at = 0 WHERE issue_id = $1 AND status = 'unknown'`, issueID)
}

func (db *DB) execDeliveries(ctx context.Context, query string, args ...any) (int, error) {
	n, err := execCount(ctx, db.pool, query, args...)
	return n, fail("newsletter deliveries", err)
}

// FindDueDeliveries lists pending deliveries due at now with id > after.
func (db *DB) FindDueDeliveries(ctx context.Context, issueID int64, now time.Time, after int64, limit int) ([]*kiosko.Delivery, error) {
	out, err := queryList(ctx, db.pool, func(r pgx.Row) (*kiosko.Delivery, error) {
		d := &kiosko.Delivery{Subscriber: &kiosko.Subscriber{}}
		var next int64
		var sent *int64
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
		WHERE d.issue_id = $1 AND d.status = 'pending' AND d.next_attempt_at <= $2 AND d.id > $3 AND s.status = 'confirmed'
		ORDER BY d.id LIMIT $4`, issueID, nanos(now), after, limit)
	if err != nil {
		return nil, fail("find due deliveries", err)
	}
	return out, nil
}

// MarkDeliveryCommitting moves a pending delivery to committing; ECONFLICT
// when it was not pending (another sender took it).
func (db *DB) MarkDeliveryCommitting(ctx context.Context, id int64) error {
	n, err := execCount(ctx, db.pool, `UPDATE newsletter_deliveries SET status = 'committing' WHERE id = $1 AND status = 'pending'`, id)
	if err != nil {
		return fail("mark delivery committing", err)
	}
	if n == 0 {
		return kiosko.Errorf(kiosko.ECONFLICT, "error.conflict", "Delivery %d is not pending any more.", id)
	}
	return nil
}

// MarkDeliverySent records the server's acceptance.
func (db *DB) MarkDeliverySent(ctx context.Context, id int64, at time.Time) error {
	return execOne(ctx, db.pool, errDeliveryNotFound(), `UPDATE newsletter_deliveries SET status = 'sent', sent_at = $1, last_error = '' WHERE id = $2`, nanos(at), id)
}

// RecordDeliveries writes a sender's batch in one transaction: one
// statement, so one round trip and one commit. The sent rows are
// committing and the rows to commit pending, so its two updates never
// touch the same row. The newsletter's senders wait on this commit, and
// on a busy machine every round trip to the server waits for it to be
// scheduled: four of them (BEGIN, two updates, COMMIT) capped a send at a
// few thousand messages a second.
func (db *DB) RecordDeliveries(ctx context.Context, b kiosko.DeliveryBatch) ([]int64, error) {
	if kiosko.HasPendingEvents(ctx) {
		return db.recordDeliveriesTx(ctx, b)
	}
	sent, commit := b.Sent, b.Commit
	if sent == nil {
		sent = []int64{}
	}
	if commit == nil {
		commit = []int64{}
	}
	got, err := queryList(ctx, db.pool, func(r pgx.Row) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, `WITH sent AS (
			UPDATE newsletter_deliveries SET status = 'sent', sent_at = $1, last_error = '' WHERE id = ANY($2)
		)
		UPDATE newsletter_deliveries SET status = 'committing' WHERE id = ANY($3) AND status = 'pending' RETURNING id`,
		nanos(b.SentAt), sent, commit)
	if err != nil {
		return nil, fail("record deliveries", err)
	}
	return refusedOf(b.Commit, got), nil
}

// refusedOf returns the ids of asked that are not in got.
func refusedOf(asked, got []int64) []int64 {
	ok := make(map[int64]bool, len(got))
	for _, id := range got {
		ok[id] = true
	}
	var refused []int64
	for _, id := range asked {
		if !ok[id] {
			refused = append(refused, id)
		}
	}
	return refused
}

// recordDeliveriesTx is RecordDeliveries in a transaction of its own, for
// a ctx whose pending events must commit with it.
func (db *DB) recordDeliveriesTx(ctx context.Context, b kiosko.DeliveryBatch) ([]int64, error) {
	var refused []int64
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		refused = nil
		if len(b.Sent) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE newsletter_deliveries SET status = 'sent', sent_at = $1, last_error = '' WHERE id = ANY($2)`,
				nanos(b.SentAt), b.Sent); err != nil {
				return err
			}
		}
		if len(b.Commit) == 0 {
			return nil
		}
		got, err := queryList(ctx, tx, func(r pgx.Row) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		}, `UPDATE newsletter_deliveries SET status = 'committing' WHERE id = ANY($1) AND status = 'pending' RETURNING id`, b.Commit)
		if err != nil {
			return err
		}
		refused = refusedOf(b.Commit, got)
		return nil
	})
	if err != nil {
		return nil, fail("record deliveries", err)
	}
	return refused, nil
}

// MarkDeliveryUnknown records that a committed message got no answer.
func (db *DB) MarkDeliveryUnknown(ctx context.Context, id int64, lastErr string) error {
	return execOne(ctx, db.pool, errDeliveryNotFound(), `UPDATE newsletter_deliveries SET status = 'unknown', last_error = $1 WHERE id = $2`, truncateErr(lastErr), id)
}

// RetryDelivery puts a delivery back to pending for a retry at next.
func (db *DB) RetryDelivery(ctx context.Context, id int64, attempts int, next time.Time, lastErr string) error {
	return execOne(ctx, db.pool, errDeliveryNotFound(), `UPDATE newsletter_deliveries SET status = 'pending', attempts = $1, next_attempt_at = $2, last_error = $3 WHERE id = $4`,
		attempts, nanos(next), truncateErr(lastErr), id)
}

// FailDelivery marks a delivery failed, and its subscriber bounced if bounce.
func (db *DB) FailDelivery(ctx context.Context, id int64, attempts int, lastErr string, bounce bool, at time.Time) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := execOne(ctx, tx, errDeliveryNotFound(), `UPDATE newsletter_deliveries SET status = 'failed', attempts = $1, last_error = $2 WHERE id = $3`,
			attempts, truncateErr(lastErr), id); err != nil {
			return err
		}
		if !bounce {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE newsletter_subscribers SET status = 'bounced', bounced_at = $1, bounce_reason = $2
			WHERE id = (SELECT subscriber_id FROM newsletter_deliveries WHERE id = $3) AND status IN ('confirmed', 'pending')`,
			nanos(at), truncateErr(lastErr), id)
		return err
	})
	return fail("", err)
}

// truncateErr keeps the first 1000 bytes of an error, without a character
// cut in half: PostgreSQL refuses invalid UTF-8 where SQLite would store it.
func truncateErr(s string) string {
	if len(s) <= 1000 {
		return s
	}
	return strings.ToValidUTF8(s[:1000], "")
}

// CountDeliveries counts an issue's deliveries by status.
func (db *DB) CountDeliveries(ctx context.Context, issueID int64) (kiosko.DeliveryCounts, error) {
	var c kiosko.DeliveryCounts
	type row struct {
		status string
		n      int
		next   int64
	}
	rows, err := queryList(ctx, db.pool, func(r pgx.Row) (row, error) {
		var x row
		return x, r.Scan(&x.status, &x.n, &x.next)
	}, `SELECT status, count(*), min(next_attempt_at) FROM newsletter_deliveries WHERE issue_id = $1 GROUP BY status`, issueID)
	if err != nil {
		return c, fail("count deliveries", err)
	}
	for _, x := range rows {
		switch x.status {
		case kiosko.DeliveryPending:
			c.Pending, c.NextAttemptAt = x.n, fromNanos(x.next)
		case kiosko.DeliveryCommitting:
			c.Committing = x.n
		case kiosko.DeliverySent:
			c.Sent = x.n
		case kiosko.DeliveryFailed:
			c.Failed = x.n
		case kiosko.DeliveryUnknown:
			c.Unknown = x.n
		case kiosko.DeliverySkipped:
			c.Skipped = x.n
		}
	}
	return c, nil
}
