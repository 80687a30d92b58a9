package kiosko

import (
	"context"
	"sort"
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
	// PaywallByDay counts article views by reader kind and walls shown.
	PaywallByDay(ctx context.Context, from, to time.Time) ([]PaywallDay, error)
	// AddInsightCounts adds to daily counters (the view recorder's flush).
	AddInsightCounts(ctx context.Context, counts []InsightCount) error
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

// PaywallDay counts, on one day, the article pages shown by who was
// reading (walls included) and the walls shown instead of a body.
type PaywallDay struct {
	Day                                  time.Time
	Anonymous, Registered, Subscriber    int64
	RegistrationWalls, SubscriptionWalls int64
}

// Insights are read from daily counters (one row per day, kind and
// dimension) that the stores keep as events are written, so a chart
// reads a few hundred rows whatever the size of the event log.
const (
	CountLease   = "lease"        // dimension: the lease event kind
	CountReaders = "readers"      // accounts that claimed a lease that day
	CountSeats   = "seats"        // dimension: SeatNotShared, SeatPossibly, SeatWarned
	CountView    = "article_view" // dimension: ReaderAnonymous, ReaderRegistered, ReaderSubscriber
	CountWall    = "wall"         // dimension: WallRegistration, WallSubscription
	// Kept by database triggers on the accounts and subscriptions tables.
	CountSignUps       = "signups"
	CountSubscriptions = "subscriptions"
)

// Who looked at an article page.
const (
	ReaderAnonymous  = "anonymous"
	ReaderRegistered = "registered"
	ReaderSubscriber = "subscriber"
)

// Which wall a page showed instead of the body.
const (
	WallRegistration = "registration"
	WallSubscription = "subscription"
)

// InsightCount is an addition to one daily counter.
type InsightCount struct {
	Day       int64 // DayNumber of the UTC day
	Kind, Dim string
	N         int64
}

// DayNumber is the UTC day of t, counted from 1970-01-01: the key of the
// daily counters on both databases.
func DayNumber(t time.Time) int64 {
	n := t.UnixNano()
	d := n / int64(Day)
	if n < 0 && n%int64(Day) != 0 {
		d--
	}
	return d
}

// DayStart is the first instant of day number d.
func DayStart(d int64) time.Time { return time.Unix(0, d*int64(Day)).UTC() }

// How a seat is sorted on a day it was read (insight_seat_days.category):
// ordered, so a day's category only ever rises.
const (
	SeatNotShared = 1
	SeatPossibly  = 2 // a contested takeover that day
	SeatWarned    = 3 // a warning in force at some time of the day
)

// SeatDims names the categories as counter dimensions.
var SeatDims = [...]string{SeatNotShared: "not_shared", SeatPossibly: "possibly", SeatWarned: "warned"}

// SeatDay is one seat on one day.
type SeatDay struct{ Day, SeatID int64 }

// ReaderDay is one account on one day.
type ReaderDay struct{ Day, AccountID int64 }

// SeatMarks is what a batch of lease events says of a seat-day.
type SeatMarks struct {
	Read      bool   // a claim or a takeover
	Contested bool   // a contested takeover
	Warned    bool   // a warning set or cleared that day
	Before    string // kind of the batch's latest warning event before the day, if any
	beforeAt  time.Time
}

// Category is the seat-day's category once these marks are added to what
// was stored (stored 0: no row yet) and to whether a warning was in force
// when the day began.
func (m *SeatMarks) Category(stored int, warnedAtStart bool) int {
	c := max(stored, SeatNotShared)
	if m.Contested {
		c = max(c, SeatPossibly)
	}
	if m.Warned || warnedAtStart {
		c = SeatWarned
	}
	return c
}

// LeaseTally is what a batch of lease events adds to the daily counters,
// before the stores look at what earlier events already counted.
type LeaseTally struct {
	Counts   map[InsightKey]int64
	Readers  map[ReaderDay]bool // claims; count those with no earlier claim that day
	Seats    map[SeatDay]*SeatMarks
	Warnings []LeaseEvent // warnings set and cleared, oldest first
}

// InsightKey names one daily counter.
type InsightKey struct {
	Day       int64
	Kind, Dim string
}

// TallyLeaseEvents sorts a batch of lease events into counter additions.
func TallyLeaseEvents(events []LeaseEvent) *LeaseTally {
	t := &LeaseTally{Counts: map[InsightKey]int64{}, Readers: map[ReaderDay]bool{}, Seats: map[SeatDay]*SeatMarks{}}
	for _, e := range events {
		d := DayNumber(e.At)
		t.Counts[InsightKey{d, CountLease, e.Kind}]++
		if e.Kind == EventClaim && e.AccountID != 0 {
			t.Readers[ReaderDay{d, e.AccountID}] = true
		}
		read := e.Kind == EventClaim || e.Kind == EventTakeoverContested || e.Kind == EventTakeoverQuiet
		warning := e.Kind == EventWarningSet || e.Kind == EventWarningCleared
		if warning {
			t.Warnings = append(t.Warnings, e)
		}
		if e.SeatID == 0 || (!read && !warning) {
			continue
		}
		k := SeatDay{d, e.SeatID}
		m := t.Seats[k]
		if m == nil {
			m = &SeatMarks{}
			t.Seats[k] = m
		}
		m.Read = m.Read || read
		m.Contested = m.Contested || e.Kind == EventTakeoverContested
		m.Warned = m.Warned || warning
	}
	// A warning of the batch before a later seat-day of the same batch
	// decides whether that day began warned.
	for _, w := range t.Warnings {
		for k, m := range t.Seats {
			if k.SeatID == w.SeatID && w.At.Before(DayStart(k.Day)) && !w.At.Before(m.beforeAt) {
				m.Before, m.beforeAt = w.Kind, w.At
			}
		}
	}
	sort.SliceStable(t.Warnings, func(i, j int) bool { return t.Warnings[i].At.Before(t.Warnings[j].At) })
	return t
}

// Seat adds a seat-day's move from (wasRead, was) to (read, now) to the
// seat counters.
func (t *LeaseTally) Seat(day int64, wasRead bool, was int, read bool, now int) {
	if wasRead {
		t.Counts[InsightKey{day, CountSeats, SeatDims[was]}]--
	}
	if read {
		t.Counts[InsightKey{day, CountSeats, SeatDims[now]}]++
	}
}

// Reader counts a new reader of a day.
func (t *LeaseTally) Reader(day int64) { t.Counts[InsightKey{day, CountReaders, ""}]++ }

// List returns the counter additions that are not zero.
func (t *LeaseTally) List() []InsightCount {
	out := make([]InsightCount, 0, len(t.Counts))
	for k, n := range t.Counts {
		if n != 0 {
			out = append(out, InsightCount{Day: k.Day, Kind: k.Kind, Dim: k.Dim, N: n})
		}
	}
	sort.Slice(out, func(i, j int) bool { // a fixed order: no deadlock between PostgreSQL writers
		a, b := out[i], out[j]
		if a.Day != b.Day {
			return a.Day < b.Day
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Dim < b.Dim
	})
	return out
}
