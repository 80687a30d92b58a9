package kiosko

import (
	"context"
	"time"
)

// Lease event kinds, stored for analytics.
const (
	EventClaim             = "claim"
	EventConflict          = "conflict"
	EventTakeoverContested = "takeover_contested"
	EventTakeoverQuiet     = "takeover_quiet"
	// EventTakeoverCounted: a person was seen at the displaced device
	// soon after a takeover (its page's report, or it took the lease
	// back), so the takeover now counts towards the sharing warning.
	// Device is the device that took over, OtherDevice the displaced one,
	// Reason "present" or "took_back".
	EventTakeoverCounted = "takeover_counted"
	EventWarningSet      = "warning_set"
	EventWarningCleared  = "warning_cleared"
	EventRemoteSignOut   = "remote_sign_out"
	EventPasswordSignOut = "password_sign_out"
)

// LeaseEvent is one step of the reading rule, kept durably.
type LeaseEvent struct {
	ID          int64
	Kind        string
	SeatID      int64
	AccountID   int64
	Device      string
	OtherDevice string
	Reason      string // e.g. "password", "admin", "upgrade", "quiet"
	At          time.Time
}

// LeaseEventFilter narrows FindLeaseEvents. Zero fields do not filter.
type LeaseEventFilter struct {
	SeatID    int64
	AccountID int64
	Kind      string
	Since     time.Time
	Limit     int
}

// EventStore keeps lease events.
type EventStore interface {
	AppendLeaseEvents(ctx context.Context, events []LeaseEvent) error
	// FindLeaseEvents lists events oldest first.
	FindLeaseEvents(ctx context.Context, f LeaseEventFilter) ([]*LeaseEvent, error)
}
