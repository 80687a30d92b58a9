package kiosko

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Reading statuses, as the reading API spells them.
const (
	ReadingOK        = "reading"
	ReadingConflict  = "conflict"
	ReadingDisplaced = "displaced"
	ReadingPaywall   = "paywall"
)

// Reader is a signed-in device asking to read.
type Reader struct {
	Account    *Account
	DeviceID   string
	DeviceName string
}

// OtherDevice describes the device that holds the lease.
type OtherDevice struct {
	Name     string
	LastSeen time.Time
}

// ReadingStatus is the answer to a claim, heartbeat or takeover.
type ReadingStatus struct {
	Status         string
	Other          *OtherDevice // on conflict and displaced
	Contested      bool         // takeover counted towards the sharing warning
	SharingWarning bool
	FailedOpen     bool // the lease store was unreachable; reading allowed
	Seat           *Seat
}

// ReadingMetrics counts what operators watch.
type ReadingMetrics struct {
	Claims, Heartbeats, Takeovers, Conflicts atomic.Int64
	Contested, WarningsSet                   atomic.Int64
	Counted                                  atomic.Int64 // takeovers that counted towards a warning
	Reports                                  atomic.Int64 // displaced pages' reports of a person
	FailOpen                                 atomic.Int64 // lease store unreachable
	EventsDropped                            atomic.Int64
}

// EventSink records lease events, usually in the background.
type EventSink interface {
	Record(events ...LeaseEvent)
}

// Reading applies the reading rule: one device reads a seat at a time, a
// takeover moves the lease and tells the other device, and repeated
// contested takeovers put the seat under sharing warning.
type Reading struct {
	Store    Store // seats and durable warnings; may be nil in the simulator
	Leases   LeaseEngine
	Hub      Hub // may be nil
	Clock    Clock
	Settings ReadingSettings
	Events   EventSink // may be nil
	Metrics  *ReadingMetrics
	Log      *slog.Logger
	// SeatOf overrides the store lookup of an account's seat (simulator).
	SeatOf func(ctx context.Context, accountID int64) (*Seat, error)
	// SeatCacheTTL is how long an account's seat, once read from the store,
	// is used without reading it again (0: DefaultSeatCacheTTL; negative:
	// never): a plan granted or revoked from the command line or another
	// node, or a warning lifted there, shows within that time.
	SeatCacheTTL time.Duration
	// Changes, when set and live, lets seats stay cached for up to
	// DefaultCacheMaxAge: whoever listens to it calls Forget (cache.go).
	Changes ChangeFeed

	seats seatCache // cache.go
}

func (r *Reading) log() *slog.Logger {
	if r.Log == nil {
		return slog.Default()
	}
	return r.Log
}

func (r *Reading) metrics() *ReadingMetrics {
	if r.Metrics == nil {
		return &unwatched
	}
	return r.Metrics
}

// unwatched counts for a Reading built without Metrics (tests, simulator).
var unwatched ReadingMetrics

// Record passes events to the sink.
func (r *Reading) Record(events ...LeaseEvent) {
	if r.Events != nil && len(events) > 0 {
		r.Events.Record(events...)
	}
}

// Seat returns the seat the account holds in a subscription that grants
// access now. ENOTFOUND when it holds none.
func (r *Reading) Seat(ctx context.Context, accountID int64) (*Seat, error) {
	seat, _, err := r.seat(ctx, accountID, false)
	return seat, err
}

// seat is Seat. Only heartbeats, the one call a page makes again and again,
// take the seat from the cache (cached true; cache.go says how stale it may
// be); every other call reads the store, so a page shows a change made
// elsewhere at once, and refreshes the cache. fresh is true when the store
// was read.
func (r *Reading) seat(ctx context.Context, accountID int64, cached bool) (seat *Seat, fresh bool, err error) {
	if r.SeatOf != nil {
		seat, err := r.SeatOf(ctx, accountID)
		return seat, true, err
	}
	now := r.Clock.Now()
	cache, ttl := r.seatCache()
	if cache == nil {
		seat, _, err := r.Store.FindSeatForAccount(ctx, accountID, now)
		return seat, true, err
	}
	if cached {
		if s, ok := cache.get(accountID, ttl, now); ok {
			return &s, false, nil
		}
	}
	readAt, gen, epoch := time.Now(), cache.gen.Load(), cache.snapshot()
	seat, sub, err := r.Store.FindSeatForAccount(ctx, accountID, now)
	if err == nil {
		cache.put(accountID, seatEntry{seat: *seat, sub: *sub, gen: gen, epoch: epoch, clock: now}, readAt, ttl)
	}
	return seat, true, err
}

// seatCache returns the seat cache and its TTL, or nil when caching is off.
func (r *Reading) seatCache() (*seatCache, time.Duration) {
	ttl := cacheTTL(r.SeatCacheTTL, DefaultSeatCacheTTL)
	if r.SeatCacheTTL == 0 && r.Changes != nil && r.Changes.Live() {
		ttl = DefaultCacheMaxAge
	}
	if ttl <= 0 {
		return nil, 0
	}
	if r.Store == nil { // the simulator: seats come from SeatOf
		return nil, 0
	}
	return &r.seats, ttl
}

// Forget drops the cached seat of the account (0: every account), after a
// change feed said it changed.
func (r *Reading) Forget(c Change) {
	if !c.AboutAccounts() {
		return
	}
	if c.Account == 0 {
		r.seats.revokeAll()
		return
	}
	r.seats.revoke(c.Account)
}

// feedHearsAll reports whether a live change feed tells this node of every
// change to seats (having read what the command line wrote): a claim may
// then take the seat from the cache, as a heartbeat does, since the change
// that would make it stale has already made it so.
func (r *Reading) feedHearsAll() bool {
	if r.Changes == nil {
		return false
	}
	CatchUp(r.Changes)
	return r.Changes.Live()
}

// seatsChanged makes the cached seats stale after this node set or lifted
// a warning.
func (r *Reading) seatsChanged() {
	r.seats.invalidate()
}

// SeatsChanged forgets this node's cached seats after a subscription or
// seat changed outside the reading rule (the console's grants); other
// nodes see the change within SeatCacheTTL.
func (r *Reading) SeatsChanged() { r.seatsChanged() }

var paywalled = ReadingStatus{Status: ReadingPaywall}

// Claim is a device opening a subscriber article. Open and free articles
// need no lease.
func (r *Reading) Claim(ctx context.Context, rd Reader, a *Article, active bool) (ReadingStatus, error) {
	if !a.NeedsSeat() {
		return ReadingStatus{Status: ReadingOK}, nil
	}
	seat, fresh, err := r.seat(ctx, rd.Account.ID, r.feedHearsAll())
	if IsNotFound(err) {
		return paywalled, nil
	} else if err != nil {
		return ReadingStatus{}, fmt.Errorf("claim: %w", err)
	}
	r.metrics().Claims.Add(1)
	now := r.Clock.Now()
	res, err := r.Leases.Claim(ctx, LeaseClaim{Seat: seat.ID, Device: rd.DeviceID, DeviceName: rd.DeviceName, Active: active, Now: now})
	if err != nil {
		return r.failOpen(seat, "claim", err), nil
	}
	warned := r.warning(ctx, seat, fresh, now)
	if !res.Granted {
		r.metrics().Conflicts.Add(1)
		r.Record(LeaseEvent{Kind: EventConflict, SeatID: seat.ID, AccountID: rd.Account.ID, Device: rd.DeviceID, OtherDevice: res.Holder.Device, At: now})
		return ReadingStatus{Status: ReadingConflict, Other: other(res.Holder), SharingWarning: warned, Seat: seat}, nil
	}
	if !res.Renewed {
		r.Record(LeaseEvent{Kind: EventClaim, SeatID: seat.ID, AccountID: rd.Account.ID, Device: rd.DeviceID, At: now})
	}
	return ReadingStatus{Status: ReadingOK, SharingWarning: warned, Seat: seat}, nil
}

// Heartbeat keeps the device's lease alive while its page is visible.
func (r *Reading) Heartbeat(ctx context.Context, rd Reader, active bool) (ReadingStatus, error) {
	seat, fresh, err := r.seat(ctx, rd.Account.ID, true)
	if IsNotFound(err) {
		return paywalled, nil
	} else if err != nil {
		return ReadingStatus{}, fmt.Errorf("heartbeat: %w", err)
	}
	r.metrics().Heartbeats.Add(1)
	now := r.Clock.Now()
	res, err := r.Leases.Heartbeat(ctx, LeaseClaim{Seat: seat.ID, Device: rd.DeviceID, DeviceName: rd.DeviceName, Active: active, Now: now})
	if err != nil {
		return r.failOpen(seat, "heartbeat", err), nil
	}
	warned := r.warning(ctx, seat, fresh, now)
	if !res.Granted {
		return ReadingStatus{Status: ReadingDisplaced, Other: other(res.Holder), SharingWarning: warned, Seat: seat}, nil
	}
	return ReadingStatus{Status: ReadingOK, SharingWarning: warned, Seat: seat}, nil
}

// Takeover is "continue reading here": the lease moves to this device at
// once, the other device is told, and a contested takeover counts towards
// the sharing warning.
func (r *Reading) Takeover(ctx context.Context, rd Reader, a *Article, active bool) (ReadingStatus, error) {
	if a != nil && !a.NeedsSeat() {
		return ReadingStatus{Status: ReadingOK}, nil
	}
	seat, fresh, err := r.seat(ctx, rd.Account.ID, false)
	if IsNotFound(err) {
		return paywalled, nil
	} else if err != nil {
		return ReadingStatus{}, fmt.Errorf("takeover: %w", err)
	}
	r.metrics().Takeovers.Add(1)
	now := r.Clock.Now()
	res, err := r.Leases.Takeover(ctx, LeaseClaim{Seat: seat.ID, Device: rd.DeviceID, DeviceName: rd.DeviceName, Active: active, Now: now})
	if err != nil {
		return r.failOpen(seat, "takeover", err), nil
	}
	st := ReadingStatus{Status: ReadingOK, Seat: seat}
	if prev := res.Previous; prev != nil {
		st.Contested = r.Settings.IsContested(*prev, now)
		kind := EventTakeoverQuiet
		if st.Contested {
			kind = EventTakeoverContested
			r.metrics().Contested.Add(1)
		}
		r.Record(LeaseEvent{Kind: kind, SeatID: seat.ID, AccountID: rd.Account.ID, Device: rd.DeviceID, OtherDevice: prev.Device, At: now})
		r.publish(ctx, Notice{Kind: NoticeDisplaced, AccountID: rd.Account.ID, Device: prev.Device, Seat: seat.ID,
			OtherName: rd.DeviceName, OtherLastSeen: now.Format(time.RFC3339)})
		// Every displacement is kept: whether it counts is known only
		// when a person is seen at the displaced device (Report), or it
		// takes the lease back.
		since := now.Add(-r.Settings.SharingWindow)
		if _, err := r.Leases.RecordContest(ctx, seat.ID, Contest{At: now, From: prev.Device, To: rd.DeviceID, Active: st.Contested}, since); err != nil {
			r.log().Error("record takeover", "seat", seat.ID, "err", err)
		}
		// This device taking the lease back soon after it was itself
		// displaced: a person was at it all along.
		r.mark(ctx, seat, rd, MarkTookBack, now)
	}
	st.SharingWarning = r.warning(ctx, seat, fresh, now)
	return st, nil
}

// Report is a displaced page telling, once, whether a person interacted
// with it after it was displaced. present false changes nothing: a page
// that says nobody is there is treated as one that says nothing. counted
// is true when this report made the takeover that displaced the device
// count towards the sharing warning.
func (r *Reading) Report(ctx context.Context, rd Reader, present bool) (counted bool, err error) {
	if !present {
		return false, nil
	}
	// Not the hot path (once per displacement), but a cached seat is as
	// good: the report only marks a contest the engine already holds.
	seat, _, err := r.seat(ctx, rd.Account.ID, true)
	if IsNotFound(err) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("report: %w", err)
	}
	r.metrics().Reports.Add(1)
	return r.mark(ctx, seat, rd, MarkPresent, r.Clock.Now()), nil
}

// mark records that a person was seen at device rd right after the latest
// takeover that displaced it, within the presence window, and sets the
// sharing warning when that makes the seat's contests warn. It reports
// whether the takeover counts now and did not before. Errors are logged:
// the reader is never punished for the lease store.
func (r *Reading) mark(ctx context.Context, seat *Seat, rd Reader, mark ContestMark, now time.Time) bool {
	window := r.Settings.PresenceWindow
	if window <= 0 {
		return false
	}
	before, ok, contests, err := r.Leases.MarkContest(ctx, seat.ID, ContestMarking{Device: rd.DeviceID, After: now.Add(-window),
		Mark: mark, Since: now.Add(-r.Settings.SharingWindow)})
	if err != nil {
		r.log().Error("mark takeover", "seat", seat.ID, "err", err)
		return false
	}
	after := before
	after.Marks |= mark
	if !ok || before.Counts() || !after.Counts() {
		return false
	}
	r.metrics().Counted.Add(1)
	reason := "present"
	if mark == MarkTookBack {
		reason = "took_back"
	}
	r.Record(LeaseEvent{Kind: EventTakeoverCounted, SeatID: seat.ID, AccountID: rd.Account.ID, Device: before.To, OtherDevice: before.From, Reason: reason, At: now})
	if r.Settings.Warns(contests) {
		r.setWarning(ctx, seat, rd.Account.ID, rd.DeviceID, now)
	}
	return true
}

// ReleaseDevice frees the lease a device of the account holds, if any.
func (r *Reading) ReleaseDevice(ctx context.Context, accountID int64, device string) {
	seat, err := r.Seat(ctx, accountID)
	if err != nil {
		return
	}
	if err := r.Leases.Release(ctx, seat.ID, device, r.Clock.Now()); err != nil {
		r.log().Warn("release lease", "seat", seat.ID, "err", err)
	}
}

// ReleaseSeat frees whatever lease a seat has: the seat was freed or given
// to someone else, whose first claim must not meet the old holder.
func (r *Reading) ReleaseSeat(ctx context.Context, seatID int64) {
	now := r.Clock.Now()
	l, ok, err := r.Leases.Holder(ctx, seatID, now)
	if err != nil || !ok {
		return
	}
	if err := r.Leases.Release(ctx, seatID, l.Device, now); err != nil {
		r.log().Warn("release freed seat's lease", "seat", seatID, "err", err)
	}
}

// Holder returns the device reading the account's seat now, if any.
func (r *Reading) Holder(ctx context.Context, accountID int64) (Lease, bool) {
	seat, err := r.Seat(ctx, accountID)
	if err != nil {
		return Lease{}, false
	}
	l, ok, err := r.Leases.Holder(ctx, seat.ID, r.Clock.Now())
	if err != nil {
		return Lease{}, false
	}
	return l, ok
}

// Warned reports whether the account's seat is under sharing warning; every
// page shows the banner while it is.
func (r *Reading) Warned(ctx context.Context, accountID int64) bool {
	seat, fresh, err := r.seat(ctx, accountID, false)
	if err != nil {
		return false
	}
	return r.warning(ctx, seat, fresh, r.Clock.Now())
}

// warning reads the seat's warning, lifting it after the quiet period.
// With a store, the seat row read on this request is the truth (so a
// warning an admin lifted from the command line ends at once on every
// node); the engine follows it. A seat from the cache (fresh false) that
// has no warning needs no word with the engine: the engine was brought in
// line when the seat was read, and a warning this node sets makes the cache
// stale. That saves a round trip to Redis on most heartbeats.
func (r *Reading) warning(ctx context.Context, seat *Seat, fresh bool, now time.Time) bool {
	if r.Store != nil && !fresh && seat.SharingWarning == nil {
		return false
	}
	w, err := r.Leases.Warning(ctx, seat.ID)
	if err != nil {
		return seat.SharingWarning != nil
	}
	if r.Store != nil {
		switch {
		case seat.SharingWarning == nil && w.Set:
			// Lifted elsewhere (command line, another node): forget it here too.
			if err := r.Leases.ClearWarning(ctx, seat.ID); err != nil {
				r.log().Warn("follow lifted sharing warning", "seat", seat.ID, "err", err)
			}
			return false
		case seat.SharingWarning != nil && !w.Set:
			if err := r.Leases.SetWarning(ctx, seat.ID, *seat.SharingWarning); err != nil {
				r.log().Warn("follow sharing warning", "seat", seat.ID, "err", err)
			}
			w = WarningState{Set: true, Since: *seat.SharingWarning}
		}
	}
	if !w.Set {
		return false
	}
	if q := r.Settings.SharingQuiet; q > 0 {
		last := w.LastContest
		if last.Before(w.Since) {
			last = w.Since
		}
		if now.Sub(last) >= q {
			if err := r.clearSeat(ctx, seat.ID, seat.AccountID, "quiet", now); err != nil {
				r.log().Error("lift sharing warning after quiet period", "seat", seat.ID, "err", err)
			}
			seat.SharingWarning = nil
			return false
		}
	}
	return true
}

func (r *Reading) setWarning(ctx context.Context, seat *Seat, accountID int64, device string, now time.Time) {
	w, err := r.Leases.Warning(ctx, seat.ID)
	if err == nil && w.Set {
		return
	}
	if err := r.Leases.SetWarning(ctx, seat.ID, now); err != nil {
		r.log().Error("set sharing warning", "seat", seat.ID, "err", err)
		return
	}
	r.metrics().WarningsSet.Add(1)
	seat.SharingWarning = &now
	if r.Store != nil {
		if err := r.Store.SetSeatWarning(ctx, seat.ID, &now); err != nil {
			r.log().Error("store sharing warning", "seat", seat.ID, "err", err)
		}
		r.seatsChanged()
	}
	r.Record(LeaseEvent{Kind: EventWarningSet, SeatID: seat.ID, AccountID: accountID, Device: device, At: now})
	r.publish(ctx, Notice{Kind: NoticeSharingWarning, AccountID: accountID, Seat: seat.ID})
}

// ClearAccountWarnings lifts the sharing warning of the account's seat.
// reason is recorded: "password", "admin", "upgrade".
func (r *Reading) ClearAccountWarnings(ctx context.Context, accountID int64, reason string) error {
	seat, err := r.Seat(ctx, accountID)
	if IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	return r.clearSeat(ctx, seat.ID, accountID, reason, r.Clock.Now())
}

// ClearSeatWarning lifts a seat's warning (admin, upgrade).
func (r *Reading) ClearSeatWarning(ctx context.Context, seatID, accountID int64, reason string) error {
	return r.clearSeat(ctx, seatID, accountID, reason, r.Clock.Now())
}

func (r *Reading) clearSeat(ctx context.Context, seat, accountID int64, reason string, now time.Time) error {
	w, err := r.Leases.Warning(ctx, seat)
	if err != nil {
		return fmt.Errorf("clear warning: %w", err)
	}
	if err := r.Leases.ClearWarning(ctx, seat); err != nil {
		return fmt.Errorf("clear warning: %w", err)
	}
	if r.Store != nil {
		err := r.Store.SetSeatWarning(ctx, seat, nil)
		r.seatsChanged()
		if err != nil {
			return fmt.Errorf("clear warning: %w", err)
		}
	}
	if w.Set {
		r.Record(LeaseEvent{Kind: EventWarningCleared, SeatID: seat, AccountID: accountID, Reason: reason, At: now})
	}
	return nil
}

// Restore loads the durable sharing warnings into the lease engine; serve
// calls it at start, since an in-memory engine begins empty.
func (r *Reading) Restore(ctx context.Context) error {
	if r.Store == nil { // the simulator: nothing durable to restore
		return nil
	}
	seats, err := r.Store.FindWarnedSeats(ctx)
	if err != nil {
		return fmt.Errorf("restore warnings: %w", err)
	}
	for _, s := range seats {
		if err := r.Leases.SetWarning(ctx, s.ID, *s.SharingWarning); err != nil {
			return fmt.Errorf("restore warnings: %w", err)
		}
	}
	return nil
}

// failOpen lets the reader read when the lease store is unreachable: readers
// are not punished for the publisher's outage. It is logged and counted.
func (r *Reading) failOpen(seat *Seat, op string, err error) ReadingStatus {
	r.metrics().FailOpen.Add(1)
	r.log().Error("lease store unreachable; reading fails open", "op", op, "seat", seat.ID, "err", err)
	return ReadingStatus{Status: ReadingOK, FailedOpen: true, Seat: seat}
}

func (r *Reading) publish(ctx context.Context, n Notice) {
	if r.Hub == nil {
		return
	}
	if err := r.Hub.Publish(ctx, n); err != nil {
		r.log().Warn("publish notice", "kind", n.Kind, "err", err)
	}
}

func other(l Lease) *OtherDevice { return &OtherDevice{Name: l.DeviceName, LastSeen: l.LastSeen} }

// EventWriter records lease events in the store in the background, in
// batches, so the request path never waits for the disk.
type EventWriter struct {
	store   EventStore
	ch      chan LeaseEvent
	done    chan struct{}
	log     *slog.Logger
	dropped *atomic.Int64
	once    sync.Once
}

// NewEventWriter starts a writer with a buffer of size events.
func NewEventWriter(store EventStore, size int, log *slog.Logger, dropped *atomic.Int64) *EventWriter {
	if dropped == nil {
		dropped = new(atomic.Int64)
	}
	w := &EventWriter{store: store, ch: make(chan LeaseEvent, size), done: make(chan struct{}), log: log, dropped: dropped}
	go w.run()
	return w
}

// Record queues events; when the buffer is full they are dropped and
// counted rather than slowing readers down.
func (w *EventWriter) Record(events ...LeaseEvent) {
	for _, e := range events {
		select {
		case w.ch <- e:
		default:
			w.dropped.Add(1)
		}
	}
}

func (w *EventWriter) run() {
	defer close(w.done)
	batch := make([]LeaseEvent, 0, 256)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := w.store.AppendLeaseEvents(context.Background(), batch); err != nil {
			w.log.Error("store lease events", "n", len(batch), "err", err)
		}
		batch = batch[:0]
	}
	for e := range w.ch {
		batch = append(batch, e)
		// Take whatever else is waiting, then write once.
	more:
		for len(batch) < cap(batch) {
			select {
			case e, ok := <-w.ch:
				if !ok {
					break more
				}
				batch = append(batch, e)
			default:
				break more
			}
		}
		flush()
	}
	flush()
}

// Close writes what is queued and stops.
func (w *EventWriter) Close() {
	w.once.Do(func() { close(w.ch) })
	<-w.done
}
