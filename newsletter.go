package kiosko

import (
	"context"
	"time"
)

// Statuses of a newsletter subscriber.
const (
	SubscriberPending      = "pending"      // signed up, confirmation email sent, not clicked yet
	SubscriberConfirmed    = "confirmed"    // receives issues
	SubscriberUnsubscribed = "unsubscribed" // asked to stop; an import never brings them back
	SubscriberBounced      = "bounced"      // the mail server refused the address permanently
)

// Subscriber is one address on one edition's newsletter.
type Subscriber struct {
	ID      int64
	Edition string
	Email   string // normalised
	Name    string
	Status  string
	Source  string // "form" or "import"
	// ConfirmHash is the hash of the emailed confirmation token. It stays
	// after confirming so a second click answers "confirmed" again.
	ConfirmHash      []byte
	ConfirmSentAt    time.Time // when the last confirmation email went out
	UnsubscribeToken string    // random; the one-click link in every issue
	CreatedAt        time.Time
	ConfirmedAt      *time.Time
	UnsubscribedAt   *time.Time
	BouncedAt        *time.Time
	BounceReason     string
}

// Issue is one week's newsletter of an edition. Its articles are fixed when
// it is created, so a send resumed after a crash sends the same issue.
type Issue struct {
	ID         int64
	Edition    string
	Week       string    // ISO week in the edition's time zone, "2026-W07": one issue per edition and week
	Since      time.Time // articles published in [Since, Until)
	Until      time.Time
	ArticleIDs []string // newest first
	CreatedAt  time.Time
}

// Statuses of a delivery of an issue to a subscriber.
const (
	DeliveryPending = "pending" // not sent yet, or to be retried at NextAttemptAt
	// DeliveryCommitting: the whole message was handed to the mail server
	// and the final "." was about to go. Found after a crash, it is
	// DeliveryUnknown: the server may or may not have accepted it.
	DeliveryCommitting = "committing"
	DeliverySent       = "sent"
	DeliveryFailed     = "failed"  // refused permanently, or too many temporary failures
	DeliveryUnknown    = "unknown" // interrupted in the commit window; never resent by default
	DeliverySkipped    = "skipped" // the subscriber left before the issue reached them
)

// Delivery is the issue's message to one subscriber: at most one row per
// (issue, subscriber), which is what makes sending exactly-once.
type Delivery struct {
	ID            int64
	IssueID       int64
	Subscriber    *Subscriber
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	SentAt        *time.Time
}

// DeliveryBatch is what a sender records about many deliveries at once:
// one transaction per batch instead of two per message is what lets one
// node send over a thousand messages a second.
type DeliveryBatch struct {
	Sent   []int64 // accepted by the mail server
	SentAt time.Time
	Commit []int64 // about to be accepted: pending -> committing
}

// DeliveryCounts counts an issue's deliveries by status.
type DeliveryCounts struct {
	Pending, Committing, Sent, Failed, Unknown, Skipped int
	// NextAttemptAt is the earliest retry time among pending rows (zero
	// when none is pending).
	NextAttemptAt time.Time
}

// Total returns every delivery of the issue.
func (c DeliveryCounts) Total() int {
	return c.Pending + c.Committing + c.Sent + c.Failed + c.Unknown + c.Skipped
}

// Done returns the deliveries that need no more work.
func (c DeliveryCounts) Done() int { return c.Sent + c.Failed + c.Unknown + c.Skipped }

// Outcomes of importing one subscriber.
const (
	ImportAdded        = "added"        // new, confirmed
	ImportConfirmed    = "confirmed"    // was pending, now confirmed
	ImportUnchanged    = "unchanged"    // already confirmed
	ImportUnsubscribed = "unsubscribed" // refused: they unsubscribed, consent is gone
	ImportBounced      = "bounced"      // refused: the address bounced
)

// NewsletterStore keeps newsletter subscribers, issues and deliveries.
type NewsletterStore interface {
	// CreateSubscriber stores s and sets its ID; ECONFLICT when the edition
	// already has the email.
	CreateSubscriber(ctx context.Context, s *Subscriber) error
	// FindSubscriber looks up an edition's subscriber by normalised email.
	FindSubscriber(ctx context.Context, edition, email string) (*Subscriber, error)
	FindSubscriberByConfirmHash(ctx context.Context, hash []byte) (*Subscriber, error)
	FindSubscriberByUnsubscribeToken(ctx context.Context, token string) (*Subscriber, error)
	// UpdateSubscriber writes every field of s but ID, Edition and Email.
	UpdateSubscriber(ctx context.Context, s *Subscriber) error
	// ConfirmSubscriber moves a pending subscriber to confirmed; it reports
	// false, without error, when the subscriber was not pending.
	ConfirmSubscriber(ctx context.Context, id int64, at time.Time) (bool, error)
	// UnsubscribeSubscriber marks the subscriber unsubscribed (idempotent).
	UnsubscribeSubscriber(ctx context.Context, id int64, at time.Time) error
	// ImportSubscribers adds confirmed subscribers in one transaction and
	// returns one Import* outcome per subscriber. progress, if not nil, is
	// called with the number done so far.
	ImportSubscribers(ctx context.Context, subs []*Subscriber, at time.Time, progress func(done int)) ([]string, error)
	// CountSubscribers counts an edition's subscribers by status.
	CountSubscribers(ctx context.Context, edition string) (map[string]int, error)

	// CreateIssue stores i and sets its ID; ECONFLICT when the edition has
	// an issue for that week already.
	CreateIssue(ctx context.Context, i *Issue) error
	FindIssue(ctx context.Context, edition, week string) (*Issue, error)
	// LockIssue makes owner the only sender of the issue until until. It
	// reports false when another owner's lock has not expired at now.
	// The owner renews by locking again.
	LockIssue(ctx context.Context, issueID int64, owner string, now, until time.Time) (bool, error)
	UnlockIssue(ctx context.Context, issueID int64, owner string) error

	// EnqueueDeliveries adds a pending delivery for every confirmed
	// subscriber of the issue's edition that has none; it returns how many.
	EnqueueDeliveries(ctx context.Context, issueID int64, at time.Time) (int, error)
	// EnqueueDeliveriesAfter does what EnqueueDeliveries does for the
	// confirmed subscribers with id > after, at most limit of them in id
	// order, so a send can start on the first while the rest are added. It
	// returns how many deliveries it added and the last subscriber id it
	// looked at: the next call's after, 0 when none was left.
	EnqueueDeliveriesAfter(ctx context.Context, issueID, after int64, limit int, at time.Time) (added int, last int64, err error)
	// SkipDeliveries marks skipped the pending deliveries whose subscriber
	// is no longer confirmed; it returns how many.
	SkipDeliveries(ctx context.Context, issueID int64) (int, error)
	// InterruptedDeliveries marks unknown the deliveries left committing by
	// a sender that stopped; only the issue's lock holder may call it.
	InterruptedDeliveries(ctx context.Context, issueID int64) (int, error)
	// FindDueDeliveries lists pending deliveries due at now with id > after,
	// in id order, with their subscribers.
	FindDueDeliveries(ctx context.Context, issueID int64, now time.Time, after int64, limit int) ([]*Delivery, error)
	// MarkDeliveryCommitting moves a pending delivery to committing; ECONFLICT
	// when it was not pending.
	MarkDeliveryCommitting(ctx context.Context, id int64) error
	MarkDeliverySent(ctx context.Context, id int64, at time.Time) error
	// RecordDeliveries writes a sender's batch in one transaction: b.Sent
	// become sent at b.SentAt, then each of b.Commit moves from pending to
	// committing. It returns the ids of b.Commit that were not pending
	// (another sender has them); those rows are left alone. On error
	// nothing is written.
	RecordDeliveries(ctx context.Context, b DeliveryBatch) (refused []int64, err error)
	// MarkDeliveryUnknown records that a committed message got no answer.
	MarkDeliveryUnknown(ctx context.Context, id int64, lastErr string) error
	// RetryDelivery puts a delivery back to pending for a retry at next.
	RetryDelivery(ctx context.Context, id int64, attempts int, next time.Time, lastErr string) error
	// FailDelivery marks a delivery failed; bounce also marks its
	// subscriber bounced, in the same transaction.
	FailDelivery(ctx context.Context, id int64, attempts int, lastErr string, bounce bool, at time.Time) error
	// CountDeliveries counts an issue's deliveries by status.
	CountDeliveries(ctx context.Context, issueID int64) (DeliveryCounts, error)
	// ResendUnknownDeliveries puts unknown deliveries back to pending (an
	// operator's explicit choice); it returns how many.
	ResendUnknownDeliveries(ctx context.Context, issueID int64) (int, error)
}
