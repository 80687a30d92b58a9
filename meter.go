package kiosko

import (
	"context"
	"time"
)

// Walls a reader may meet instead of an article.
const (
	WallNone      = ""
	WallRegister  = "register"  // the anonymous meter ran out: sign up to read more
	WallSubscribe = "subscribe" // a seat is needed
)

// MeterSettings are the monthly free-article allowances.
type MeterSettings struct {
	Anonymous  int // counted in a signed cookie
	Registered int // counted per account in the store
}

// DefaultMeterSettings are 10 anonymous and 20 registered free articles.
func DefaultMeterSettings() MeterSettings { return MeterSettings{Anonymous: 10, Registered: 20} }

// MeterMonth names the calendar month of t ("2026-11"), the meter's period.
func MeterMonth(t time.Time) string { return t.UTC().Format("2006-01") }

// AccessDecision says whether an article page shows the article.
type AccessDecision struct {
	Allowed   bool
	Wall      string
	Limit     int  // the reader's monthly meter; 0 with a seat
	Remaining int  // free articles left this month after this one
	Count     bool // this opening must be recorded against the meter
	Metered   bool // the meter applies to this reader and article
	Seat      bool // the reader has a seat: a subscriber (insights count by it)
}

// DecideAccess applies the paywall. read lists the free articles already
// opened this month; opening one of them again costs nothing.
func DecideAccess(a *Article, hasSeat, signedIn bool, limit int, read []string) AccessDecision {
	if hasSeat || a.Access == AccessOpen {
		return AccessDecision{Allowed: true, Seat: hasSeat}
	}
	if a.Access == AccessSubscriber {
		return AccessDecision{Wall: WallSubscribe, Limit: limit, Remaining: max(limit-len(read), 0)}
	}
	d := AccessDecision{Limit: limit, Metered: true}
	for _, id := range read {
		if id == a.ID {
			d.Allowed = true
			d.Remaining = max(limit-len(read), 0)
			return d
		}
	}
	if len(read) < limit {
		d.Allowed, d.Count = true, true
		d.Remaining = limit - len(read) - 1
		return d
	}
	if signedIn {
		d.Wall = WallSubscribe
	} else {
		d.Wall = WallRegister
	}
	return d
}

// MeterStore counts the free articles registered accounts open each month.
type MeterStore interface {
	FindMeteredReads(ctx context.Context, accountID int64, month string) ([]string, error)
	// AddMeteredRead records one opening; recording the same article twice
	// in a month keeps one.
	AddMeteredRead(ctx context.Context, accountID int64, month, articleID string) error
}
