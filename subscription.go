package kiosko

import (
	"context"
	"time"
)

// Subscription statuses.
const (
	StatusActive   = "active"
	StatusPastDue  = "past_due"
	StatusCanceled = "canceled"
	StatusExpired  = "expired"
)

// Payment providers.
const (
	ProviderManual = "manual"
	ProviderStripe = "stripe"
)

// Subscription is an account's purchase of a plan.
type Subscription struct {
	ID                int64
	OwnerID           int64
	PlanCode          string
	Status            string
	Seats             int
	PriceCents        int64 // copied from the plan at purchase or renewal
	Currency          string
	Provider          string
	ProviderRef       string // e.g. Stripe subscription id
	CurrentPeriodEnd  time.Time
	CancelAtPeriodEnd bool
	CreatedAt         time.Time
}

// Grants reports whether the subscription opens subscriber articles at now.
// A past-due subscription keeps access until its period ends.
func (s *Subscription) Grants(now time.Time) bool {
	switch s.Status {
	case StatusActive, StatusPastDue:
		return s.CurrentPeriodEnd.IsZero() || now.Before(s.CurrentPeriodEnd)
	case StatusCanceled:
		return now.Before(s.CurrentPeriodEnd)
	}
	return false
}

// Seat is one reader slot of a subscription. The owner holds the first.
type Seat struct {
	ID             int64
	SubscriptionID int64
	AccountID      int64 // 0: free
	Position       int   // 1 for the owner's seat
	SharingWarning *time.Time
	AssignedAt     *time.Time
}

// SubscriptionUpdate holds the fields to change; nil fields stay.
type SubscriptionUpdate struct {
	PlanCode          *string
	Status            *string
	Seats             *int
	PriceCents        *int64
	ProviderRef       *string
	CurrentPeriodEnd  *time.Time
	CancelAtPeriodEnd *bool
}

// SubscriptionStore keeps subscriptions and their seats.
type SubscriptionStore interface {
	// CreateSubscription stores s with s.Seats seats, the first held by the
	// owner, and sets s.ID.
	CreateSubscription(ctx context.Context, s *Subscription) error
	FindSubscriptionByID(ctx context.Context, id int64) (*Subscription, error)
	FindSubscriptionByProviderRef(ctx context.Context, provider, ref string) (*Subscription, error)
	// FindSubscriptionsByOwner lists an account's subscriptions, newest first.
	FindSubscriptionsByOwner(ctx context.Context, ownerID int64) ([]*Subscription, error)
	// UpdateSubscription changes fields; raising Seats adds free seats,
	// lowering it removes free seats first and fails with ECONFLICT when the
	// occupied ones would not fit.
	UpdateSubscription(ctx context.Context, id int64, upd SubscriptionUpdate) (*Subscription, error)

	// FindSeatForAccount returns the seat an account holds in a subscription
	// that grants access at now (its own or someone else's). ENOTFOUND if none.
	FindSeatForAccount(ctx context.Context, accountID int64, now time.Time) (*Seat, *Subscription, error)
	FindSeats(ctx context.Context, subscriptionID int64) ([]*Seat, error)
	FindSeatByID(ctx context.Context, id int64) (*Seat, error)
	// AssignSeat puts an account on a free seat, atomically: EINVALID
	// ("error.subscription_full") when none is free, ECONFLICT when the
	// account already holds a seat in that subscription.
	AssignSeat(ctx context.Context, subscriptionID, accountID int64, at time.Time) (*Seat, error)
	// FreeSeat empties a seat (never the owner's).
	FreeSeat(ctx context.Context, seatID int64) error
	// SetSeatWarning records (at != nil) or clears (nil) a sharing warning.
	SetSeatWarning(ctx context.Context, seatID int64, at *time.Time) error
	// FindWarnedSeats lists seats under sharing warning.
	FindWarnedSeats(ctx context.Context) ([]*Seat, error)
}
