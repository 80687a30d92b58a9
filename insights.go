package kiosko

import (
	"context"
	"time"
)

// Day is the length of an insights bucket: days are UTC days.
const Day = 24 * time.Hour

// ReadingDay counts the reading rule's steps on one UTC day.
type ReadingDay struct {
	Day                                   time.Time
	Readers                               int64 // accounts that claimed a lease
	Claims, Conflicts, Contested, Quiet   int64
	Counted, WarningsSet, WarningsCleared int64
}

// SharingDay sorts the seats read on one day: under warning (a warning in
// force at some time that day), possibly shared (a contested takeover that
// day, no warning) and not shared (the rest).
type SharingDay struct {
	Day                         time.Time
	NotShared, Possibly, Warned int64
}

// GrowthDay counts accounts created and subscriptions started on one day.
type GrowthDay struct {
	Day                    time.Time
	SignUps, Subscriptions int64
}

// NewsletterDay counts newsletter addresses confirmed, unsubscribed and
// bounced on one day (every edition).
type NewsletterDay struct {
	Day                              time.Time
	Confirmed, Unsubscribed, Bounced int64
}

// Outcomes of a sharing warning within the follow-up window, by how it
// was lifted: the reason of the first warning_cleared lease event.
const (
	OutcomeUpgraded = "upgraded" // reason "upgrade"
	OutcomePassword = "password" // reason "password"
	OutcomeAdmin    = "admin"    // an admin cleared it
	OutcomeQuiet    = "quiet"    // the quiet period lifted it
	OutcomeNothing  = "nothing"  // still warned at the end of the window
)

// InsightsStore answers the console's insights. Every query counts whole
// UTC days in [from, to) and runs the same on SQLite and PostgreSQL.
type InsightsStore interface {
	ReadingByDay(ctx context.Context, from, to time.Time) ([]ReadingDay, error)
	SharingByDay(ctx context.Context, from, to time.Time) ([]SharingDay, error)
	GrowthByDay(ctx context.Context, from, to time.Time) ([]GrowthDay, error)
	NewsletterByDay(ctx context.Context, from, to time.Time) ([]NewsletterDay, error)
	// WarningOutcomes counts the warnings set in [from, to) by what
	// lifted them within the window after each was set.
	WarningOutcomes(ctx context.Context, from, to time.Time, window time.Duration) (map[string]int64, error)
}

// OutcomeOf maps a warning_cleared reason to its outcome.
func OutcomeOf(reason string) string {
	switch reason {
	case "upgrade":
		return OutcomeUpgraded
	case "password":
		return OutcomePassword
	case "admin":
		return OutcomeAdmin
	case "quiet":
		return OutcomeQuiet
	case "":
		return OutcomeNothing
	}
	return OutcomeAdmin
}
