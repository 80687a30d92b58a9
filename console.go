package kiosko

import (
	"context"
	"encoding/json"
	"time"
)

// Event types the publisher console writes and reads. Admin actions carry
// the admin as ActorID and the account acted upon as AccountID.
const (
	EventSignedIn             = "account.signed_in" // data: device, place
	EventEmailSent            = "email.sent"        // data: subject
	EventAdminPlanGranted     = "admin.plan_granted"
	EventAdminPlanRevoked     = "admin.plan_revoked"
	EventAdminSeatsChanged    = "admin.seats_changed"
	EventAdminSeatFreed       = "admin.seat_freed"
	EventAdminWarningCleared  = "admin.warning_cleared"
	EventAdminSignedOut       = "admin.signed_out_everywhere"
	EventAdminResetSent       = "admin.reset_sent"
	EventAdminPlanSaved       = "admin.plan_saved"
	EventAdminDeleteRequested = "admin.delete_requested"
)

// AccountQuery narrows SearchAccounts. Accounts come newest first and are
// paged by keyset (BeforeID), so every page costs the same however deep.
type AccountQuery struct {
	// Text matches the start of the email or of the name, case folded;
	// "#123" finds account 123. Empty: every account.
	Text     string
	BeforeID int64 // only accounts with a smaller id (0: from the newest)
	Limit    int
}

// TimelineEntry is one line of an account's timeline: an event of the
// event log (Source "event") or a step of the reading rule ("lease").
type TimelineEntry struct {
	Source      string
	Type        string // event type or lease event kind
	ActorID     int64
	Data        json.RawMessage
	Device      string
	OtherDevice string
	Reason      string
	At          time.Time
}

// ConsoleStore is what the publisher console reads and writes beyond the
// other stores.
type ConsoleStore interface {
	// SearchAccounts lists accounts matching q, newest first.
	SearchAccounts(ctx context.Context, q AccountQuery) ([]*Account, error)
	// FindTimeline lists an account's events and lease events before
	// before (zero: now and on), newest first.
	FindTimeline(ctx context.Context, accountID int64, before time.Time, limit int) ([]*TimelineEntry, error)
	PlanStore
}

// PlanStore keeps the catalogue of plans in the database, so every node
// reads the same one.
type PlanStore interface {
	// FindPlans returns every stored plan (empty when none is stored).
	FindPlans(ctx context.Context) (Plans, error)
	// SavePlan creates or replaces a plan. The events pending in ctx
	// commit with it.
	SavePlan(ctx context.Context, p *Plan, at time.Time) error
	// ImportPlans stores ps once: it reports false and changes nothing
	// when plans were imported before.
	ImportPlans(ctx context.Context, ps Plans, at time.Time) (bool, error)
}
