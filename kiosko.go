// Package kiosko holds the domain of a subscription newspaper: accounts,
// editions and articles, plans, subscriptions and seats, the metered paywall
// and the reading rule (one device reads a seat at a time).
//
// It knows nothing of HTTP, SQL or Redis. Storage, lease engines, mail and the
// web site live in their own packages and depend on this one, never the
// other way round.
package kiosko

import "time"

// Clock tells the time. Services take one so tests and the fairness
// simulator can run on a simulated clock.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// Languages kiosko speaks. Every reader-facing string exists in each.
const (
	LangSpanish = "es"
	LangEnglish = "en"
)

// Languages lists the supported languages, the default first.
var Languages = []string{LangSpanish, LangEnglish}

// IsLanguage reports whether lang is one kiosko speaks.
func IsLanguage(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}
