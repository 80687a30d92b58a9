package kiosko

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// Event types of the event log. The dotted ones are also the types of
// outgoing webhooks (DESIGN.md, "Publisher integration"); capabilities add
// their own types here rather than tables of their own.
const (
	EventAccountCreated         = "account.created"
	EventAccountDeleted         = "account.deleted"
	EventSubscriptionCreated    = "subscription.created"
	EventSubscriptionUpdated    = "subscription.updated"
	EventSubscriptionCanceled   = "subscription.canceled"
	EventSeatAdded              = "seat.added"
	EventSeatRemoved            = "seat.removed"
	EventSharingWarningSet      = "sharing.warning_set"
	EventSharingWarningCleared  = "sharing.warning_cleared"
	EventNewsletterSubscribed   = "newsletter.subscribed"
	EventNewsletterUnsubscribed = "newsletter.unsubscribed"
	EventArticlePublished       = "article.published"
)

// Event is one entry of the event log: something that happened to the
// publication or to an account, kept durably. Webhooks, the console's
// account timeline, insights and a reader's data export all read it.
//
// Data is a JSON object particular to the type. It must never hold a
// secret (password, token), and should hold personal data only where the
// type needs it, so that deleting an account can keep its anonymous events.
type Event struct {
	ID        int64
	Type      string
	AccountID int64 // the account it concerns; 0 for none
	ActorID   int64 // who caused it (the reader, an admin); 0 for the system
	Data      json.RawMessage
	At        time.Time
}

// EventFilter narrows FindEvents. Zero fields do not filter.
type EventFilter struct {
	AccountID int64
	Types     []string
	AfterID   int64     // only events with a larger ID (a reader's cursor)
	Since     time.Time // at or after
	Until     time.Time // before
	Limit     int
}

// EventLog keeps the event log. IDs grow with every append. On SQLite,
// with its single writer, they are also in commit order; on PostgreSQL a
// transaction that commits late may hold a smaller ID than one already
// visible, so a reader that follows AfterID must allow for stragglers
// (for example by reading only events older than a few seconds).
type EventLog interface {
	// AppendEvents stores events in one transaction and sets their IDs.
	AppendEvents(ctx context.Context, events []Event) error
	// FindEvents lists events by ID, oldest first.
	FindEvents(ctx context.Context, f EventFilter) ([]*Event, error)
}

// NewEvent builds an event with data marshalled to JSON. Data that cannot
// be marshalled is a programming error, so it panics.
func NewEvent(typ string, accountID, actorID int64, data any, at time.Time) Event {
	raw := json.RawMessage("{}")
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			panic("kiosko: event data: " + err.Error())
		}
		raw = b
	}
	return Event{Type: typ, AccountID: accountID, ActorID: actorID, Data: raw, At: at.UTC()}
}

// pendingEvents are events waiting for the transaction of the change they
// describe.
type pendingEvents struct {
	mu     sync.Mutex
	events []Event
}

type pendingKey struct{}

// WithEvents returns a context whose next store write commits events in the
// same transaction as the change: the change and its events are stored
// together or not at all (the outbox pattern). Store methods that write
// take the pending events once; a method that fails leaves them pending.
// Events added to a context that already carries some are appended.
func WithEvents(ctx context.Context, events ...Event) context.Context {
	if p, ok := ctx.Value(pendingKey{}).(*pendingEvents); ok {
		p.mu.Lock()
		p.events = append(p.events, events...)
		p.mu.Unlock()
		return ctx
	}
	return context.WithValue(ctx, pendingKey{}, &pendingEvents{events: append([]Event(nil), events...)})
}

// TakeEvents removes and returns the events pending in ctx, for a store
// that is about to commit a write. A store whose transaction then fails
// gives them back with ReturnEvents.
func TakeEvents(ctx context.Context) []Event {
	p, ok := ctx.Value(pendingKey{}).(*pendingEvents)
	if !ok {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	evs := p.events
	p.events = nil
	return evs
}

// ReturnEvents puts back events taken by TakeEvents whose transaction did
// not commit.
func ReturnEvents(ctx context.Context, events []Event) {
	if len(events) == 0 {
		return
	}
	if p, ok := ctx.Value(pendingKey{}).(*pendingEvents); ok {
		p.mu.Lock()
		p.events = append(events, p.events...)
		p.mu.Unlock()
	}
}

// HasPendingEvents reports whether ctx carries events waiting for a write.
func HasPendingEvents(ctx context.Context) bool {
	p, ok := ctx.Value(pendingKey{}).(*pendingEvents)
	if !ok {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.events) > 0
}
