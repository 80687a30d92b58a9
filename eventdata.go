package kiosko

import "time"

// The events that store writes emit, one constructor per type, so the
// SQLite and PostgreSQL stores describe a change in the same words. Their
// data is what an outgoing webhook carries (DESIGN.md, "Publisher
// integration"): ids and the few fields a publisher's systems act on.

// AccountCreatedEvent describes a new account.
func AccountCreatedEvent(a *Account) Event {
	return NewEvent(EventAccountCreated, a.ID, a.ID, map[string]any{
		"account_id": a.ID, "email": a.Email, "lang": a.Lang,
	}, orNow(a.CreatedAt))
}

// subscriptionData is the data of every subscription.* event.
func subscriptionData(s *Subscription) map[string]any {
	d := map[string]any{
		"subscription_id": s.ID, "account_id": s.OwnerID, "plan": s.PlanCode, "status": s.Status,
		"seats": s.Seats, "provider": s.Provider, "cancel_at_period_end": s.CancelAtPeriodEnd,
	}
	if !s.CurrentPeriodEnd.IsZero() {
		d["current_period_end"] = s.CurrentPeriodEnd.UTC().Format(time.RFC3339)
	}
	return d
}

// SubscriptionEvent describes a subscription after a change: typ is one
// of EventSubscriptionCreated, EventSubscriptionUpdated and
// EventSubscriptionCanceled.
func SubscriptionEvent(typ string, s *Subscription, at time.Time) Event {
	return NewEvent(typ, s.OwnerID, 0, subscriptionData(s), orNow(at))
}

// SubscriptionChangeEvent describes the change from before to after: none
// (ok false) when nothing a publisher sees changed, subscription.canceled
// when the status became canceled, subscription.updated otherwise.
func SubscriptionChangeEvent(before, after *Subscription, at time.Time) (Event, bool) {
	if *before == *after {
		return Event{}, false
	}
	typ := EventSubscriptionUpdated
	if after.Status == StatusCanceled && before.Status != StatusCanceled {
		typ = EventSubscriptionCanceled
	}
	return SubscriptionEvent(typ, after, at), true
}

// SeatEvent describes a seat given to (seat.added) or taken from
// (seat.removed) accountID.
func SeatEvent(typ string, seat *Seat, accountID int64, at time.Time) Event {
	return NewEvent(typ, accountID, 0, map[string]any{
		"seat_id": seat.ID, "subscription_id": seat.SubscriptionID, "account_id": accountID, "position": seat.Position,
	}, orNow(at))
}

// SharingWarningEvent describes a seat entering (set true) or leaving a
// sharing warning.
func SharingWarningEvent(seat *Seat, set bool, at time.Time) Event {
	typ := EventSharingWarningCleared
	if set {
		typ = EventSharingWarningSet
	}
	return NewEvent(typ, seat.AccountID, 0, map[string]any{
		"seat_id": seat.ID, "subscription_id": seat.SubscriptionID, "account_id": seat.AccountID,
	}, orNow(at))
}

// NewsletterEvent describes an address that became a confirmed subscriber
// (newsletter.subscribed) or left (newsletter.unsubscribed).
func NewsletterEvent(typ string, s *Subscriber, at time.Time) Event {
	return NewEvent(typ, 0, 0, map[string]any{
		"subscriber_id": s.ID, "edition": s.Edition, "email": s.Email,
	}, orNow(at))
}

func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}
