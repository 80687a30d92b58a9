package kiosko

import (
	"context"
	"time"
)

// ReadingSettings are the knobs of the reading rule (DESIGN.md, "The
// reading rule"), set by the KIOSKO_* variables.
type ReadingSettings struct {
	LeaseTTL         time.Duration // a lease lapses this long after the last claim or heartbeat
	HeartbeatEvery   time.Duration // how often pages heartbeat
	ContestWindow    time.Duration // a takeover is contested if the holder was seen this recently
	ActiveWindow     time.Duration // a holder counts as a person present if active this recently
	PresenceWindow   time.Duration // a person seen at a displaced device this soon after makes the takeover count
	SharingTakeovers int           // contested takeovers that set the sharing warning...
	SharingWindow    time.Duration // ...within this window
	SharingQuiet     time.Duration // 0: a warning stays until resolved
}

// DefaultReadingSettings returns the defaults of DESIGN.md.
func DefaultReadingSettings() ReadingSettings {
	return ReadingSettings{
		LeaseTTL:         90 * time.Second,
		HeartbeatEvery:   30 * time.Second,
		ContestWindow:    60 * time.Second,
		ActiveWindow:     60 * time.Second,
		PresenceWindow:   15 * time.Second,
		SharingTakeovers: 3,
		SharingWindow:    7 * 24 * time.Hour,
	}
}

// Lease says which device of a seat may read now.
type Lease struct {
	Seat       int64
	Device     string
	DeviceName string
	ClaimedAt  time.Time // when this device got the lease
	LastSeen   time.Time // last claim or heartbeat
	LastActive time.Time // last claim or heartbeat that said a person was there
}

// Live reports whether the lease still holds at now.
func (l Lease) Live(now time.Time, ttl time.Duration) bool {
	return l.Device != "" && now.Sub(l.LastSeen) < ttl
}

// LeaseClaim is a device asking to read a seat (claim, heartbeat or takeover).
type LeaseClaim struct {
	Seat       int64
	Device     string
	DeviceName string
	Active     bool // a person interacted with the page in the last minute
	Now        time.Time
}

// LeaseResult is the answer to a claim or heartbeat.
type LeaseResult struct {
	Granted bool
	// Holder is the lease after the call: the caller's when granted, the
	// other device's when not.
	Holder Lease
	// Renewed is true when the caller already held a live lease.
	Renewed bool
}

// TakeoverResult is the answer to a takeover, which always succeeds.
type TakeoverResult struct {
	Holder Lease
	// Previous is the live lease of another device that was displaced, if any.
	Previous *Lease
}

// Contest is one takeover of a seat from a device that held a live lease:
// a displacement. It counts towards the sharing warning once a person was
// seen at the displaced device right after (Counts).
type Contest struct {
	At   time.Time
	From string // displaced device
	To   string // device that took over
	// Active says the displaced device was in use (IsContested): the
	// glossary's contested takeover.
	Active bool
	// Marks says what was seen at From after the takeover.
	Marks ContestMark
}

// ContestMark is what was seen at a displaced device soon after the takeover.
type ContestMark uint8

const (
	// MarkPresent: the displaced page reported that a person interacted
	// with it after it was displaced.
	MarkPresent ContestMark = 1 << iota
	// MarkTookBack: the displaced device took the lease back.
	MarkTookBack
)

// Counts reports whether the takeover counts towards the sharing warning:
// the displaced device took the lease back within the presence window
// (whatever its page says), or it was in use when taken over and its page
// reported a person there afterwards. One person who moves to another
// device leaves the first one untouched; two people leave someone at each.
func (c Contest) Counts() bool {
	return c.Marks&MarkTookBack != 0 || (c.Active && c.Marks&MarkPresent != 0)
}

// ContestMarking asks a lease engine to mark the latest displacement of a
// device (LeaseEngine.MarkContest).
type ContestMarking struct {
	Device string      // the displaced device
	After  time.Time   // only a displacement at or after this (the presence window)
	Mark   ContestMark // ORed into the contest's marks
	Since  time.Time   // contests before this may be forgotten (the sharing window)
}

// WarningState is a seat's sharing warning.
type WarningState struct {
	Set         bool
	Since       time.Time
	LastContest time.Time
}

// LeaseEngine keeps reading leases and the record of contested takeovers.
// Every method is atomic per seat: two racing claims never both win, on one
// node or many. Implementations: in memory (one node) and Redis.
// The rule itself (what is contested, when a warning is set) lives in
// Reading, so every engine applies the same rule.
type LeaseEngine interface {
	// Claim grants the lease when it is free, lapsed or the caller's own.
	Claim(ctx context.Context, c LeaseClaim) (LeaseResult, error)
	// Heartbeat renews the caller's lease; a lapsed lease that nobody else
	// took is renewed too. Not granted when another device holds it.
	Heartbeat(ctx context.Context, c LeaseClaim) (LeaseResult, error)
	// Takeover gives the lease to the caller whoever holds it.
	Takeover(ctx context.Context, c LeaseClaim) (TakeoverResult, error)
	// Release lets go of the lease if device holds it.
	Release(ctx context.Context, seat int64, device string, now time.Time) error
	// Holder returns the live lease of a seat, if any.
	Holder(ctx context.Context, seat int64, now time.Time) (Lease, bool, error)

	// RecordContest adds a displacement and returns the seat's contests at
	// or after since (older ones may be forgotten), oldest first. An Active
	// contest moves the warning's LastContest.
	RecordContest(ctx context.Context, seat int64, c Contest, since time.Time) ([]Contest, error)
	// MarkContest ORs m.Mark into the seat's latest contest that displaced
	// m.Device, if it happened at or after m.After. It returns that
	// contest as it was before (ok false when there is none) and the
	// seat's contests at or after m.Since after marking, oldest first.
	MarkContest(ctx context.Context, seat int64, m ContestMarking) (before Contest, ok bool, contests []Contest, err error)
	// Warning returns the seat's sharing warning.
	Warning(ctx context.Context, seat int64) (WarningState, error)
	// SetWarning puts the seat under sharing warning (idempotent).
	SetWarning(ctx context.Context, seat int64, since time.Time) error
	// ClearWarning lifts the warning and forgets the seat's contests.
	ClearWarning(ctx context.Context, seat int64) error
}

// IsContested reports whether taking over prev at now counts towards the
// sharing warning: the holder was seen within the contest window and its
// latest claim or heartbeat said a person was there (active), within the
// active window. A tab left open and untouched keeps its lease alive, but
// taking it over is not sharing; nor is it once the page's latest report
// says nobody touched it, even if an earlier one did.
func (s ReadingSettings) IsContested(prev Lease, now time.Time) bool {
	if now.Sub(prev.LastSeen) > s.ContestWindow {
		return false
	}
	if s.ActiveWindow <= 0 {
		return true
	}
	return !prev.LastActive.Before(prev.LastSeen) && now.Sub(prev.LastActive) <= s.ActiveWindow
}

// Warns reports whether contests (already trimmed to the sharing window)
// put a seat under sharing warning: at least SharingTakeovers of them
// count (Counts), and a person was seen at two different displaced
// devices among those. One person who moves between a laptop and a phone
// hands the lease over and later back while the device left behind sits
// untouched; a person seen at each of two devices right after the other
// took the seat is two people (DESIGN.md, "The reading rule" 6;
// docs/fairness.md has the numbers).
func (s ReadingSettings) Warns(contests []Contest) bool {
	if s.SharingTakeovers <= 0 {
		return false
	}
	n := 0
	first := ""
	two := false
	for _, c := range contests {
		if !c.Counts() {
			continue
		}
		n++
		if first == "" {
			first = c.From
		} else if c.From != first {
			two = true
		}
	}
	return n >= s.SharingTakeovers && two
}
