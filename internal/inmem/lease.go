// Package inmem keeps reading leases and pushes notices in the memory of one
// process: what kiosko uses when it runs on a single node (KIOSKO_REDIS_URL
// empty), and what the fairness simulator replays traces through.
package inmem

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
	"unique"

	"github.com/kiosko/kiosko"
)

// Seats are spread over shards, each with its own mutex, so claims on
// different seats rarely wait for each other and every operation on one
// seat is atomic.
const (
	shardBits = 8
	numShards = 1 << shardBits
)

// maxContests bounds the contests kept per seat within the sharing window,
// so a seat taken over in a loop cannot grow memory without end. Only the
// most recent ones matter to the rule.
const maxContests = 256

// noTime stands for the zero time.Time in a packed lease.
const noTime = math.MinInt64

var _ kiosko.LeaseEngine = (*LeaseEngine)(nil)

// LeaseEngine is a kiosko.LeaseEngine in memory. The zero value is not
// usable; build one with NewLeaseEngine.
//
// Time comes only from the claims and the now parameters, so the engine runs
// as well on a simulated clock as on the wall clock. Lapsed leases behave
// as if they were gone; Sweep (or Start, which calls it periodically) frees
// their memory.
type LeaseEngine struct {
	ttl    int64         // lease TTL in nanoseconds
	window time.Duration // sharing window: contests older than this are forgotten
	shards [numShards]leaseShard

	closed    chan struct{} // closed by Close: Start returns
	closeOnce sync.Once
}

type leaseShard struct {
	mu     sync.Mutex
	leases map[int64]lease
	seats  map[int64]*seatRecord // contests and warnings; most seats have none
	peak   int                   // largest len(leases) since the map was last rebuilt
	latest int64                 // latest claim time seen, Unix nanoseconds
	_      [24]byte              // keep shards on separate cache lines
}

// lease is a kiosko.Lease packed small, since a busy publication holds
// hundreds of thousands: times are Unix nanoseconds, and device names (a
// handful of browser and OS pairs) are interned.
type lease struct {
	device     string
	name       unique.Handle[string]
	claimedAt  int64
	lastSeen   int64
	lastActive int64 // noTime when the device never said a person was there
}

type seatRecord struct {
	warned      bool
	since       time.Time
	lastContest time.Time
	contests    []kiosko.Contest // oldest first
}

// NewLeaseEngine returns an empty engine that applies s.LeaseTTL (90 s when
// zero) and forgets contests older than s.SharingWindow (7 days when zero).
func NewLeaseEngine(s kiosko.ReadingSettings) *LeaseEngine {
	def := kiosko.DefaultReadingSettings()
	if s.LeaseTTL <= 0 {
		s.LeaseTTL = def.LeaseTTL
	}
	if s.SharingWindow <= 0 {
		s.SharingWindow = def.SharingWindow
	}
	e := &LeaseEngine{ttl: int64(s.LeaseTTL), window: s.SharingWindow, closed: make(chan struct{})}
	for i := range e.shards {
		e.shards[i].leases = make(map[int64]lease)
		e.shards[i].seats = make(map[int64]*seatRecord)
		e.shards[i].latest = noTime
	}
	return e
}

func (e *LeaseEngine) shard(seat int64) *leaseShard {
	// Fibonacci hashing, so seat ids that share low bits still spread.
	h := uint64(seat) * 0x9E3779B97F4A7C15
	return &e.shards[h>>(64-shardBits)]
}

var errNoDevice = errors.New("inmem: lease claim without a device")

// Claim grants the lease when it is free, lapsed or the caller's own.
func (e *LeaseEngine) Claim(_ context.Context, c kiosko.LeaseClaim) (kiosko.LeaseResult, error) {
	return e.claim(c)
}

// Heartbeat renews the caller's lease. A lapsed lease is free for any device
// of the seat, so a heartbeat renews it as a claim would; it is refused only
// while another device holds a live lease.
func (e *LeaseEngine) Heartbeat(_ context.Context, c kiosko.LeaseClaim) (kiosko.LeaseResult, error) {
	return e.claim(c)
}

func (e *LeaseEngine) claim(c kiosko.LeaseClaim) (kiosko.LeaseResult, error) {
	if c.Device == "" {
		return kiosko.LeaseResult{}, errNoDevice
	}
	after, _, live, granted := e.acquire(c, false)
	return kiosko.LeaseResult{Granted: granted, Holder: after.export(c.Seat), Renewed: granted && live}, nil
}

// Takeover gives the lease to the caller whoever holds it. Previous is set
// only when another device held a live lease.
func (e *LeaseEngine) Takeover(_ context.Context, c kiosko.LeaseClaim) (kiosko.TakeoverResult, error) {
	if c.Device == "" {
		return kiosko.TakeoverResult{}, errNoDevice
	}
	after, before, live, _ := e.acquire(c, true)
	res := kiosko.TakeoverResult{Holder: after.export(c.Seat)}
	if live && before.device != c.Device {
		prev := before.export(c.Seat)
		res.Previous = &prev
	}
	return res, nil
}

// acquire gives the seat to the claiming device, unless another device holds
// a live lease and force is false. It returns the lease after the call and
// before it, whether the one before was live, and whether the caller got it.
func (e *LeaseEngine) acquire(c kiosko.LeaseClaim, force bool) (after, before lease, live, granted bool) {
	now := c.Now.UnixNano()
	s := e.shard(c.Seat)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latest = max(s.latest, now)
	before, ok := s.leases[c.Seat]
	live = ok && e.live(before, now)
	if live && before.device != c.Device && !force {
		return before, before, true, false
	}
	return e.grant(s, before, ok, live, c, now), before, live, true
}

// grant stores the caller's lease, renewing it when the caller already held
// the seat. s.mu must be held.
func (e *LeaseEngine) grant(s *leaseShard, l lease, ok, live bool, c kiosko.LeaseClaim, now int64) lease {
	if ok && l.device == c.Device {
		if !live {
			l.claimedAt = now
		}
		l.lastSeen = max(l.lastSeen, now)
		if c.Active {
			l.lastActive = max(l.lastActive, now)
		}
		if c.DeviceName != "" && c.DeviceName != l.name.Value() {
			l.name = unique.Make(c.DeviceName)
		}
	} else {
		// Clone: the id may point into a larger buffer the lease would
		// otherwise keep alive.
		l = lease{device: strings.Clone(c.Device), name: unique.Make(c.DeviceName),
			claimedAt: now, lastSeen: now, lastActive: noTime}
		if c.Active {
			l.lastActive = now
		}
	}
	s.leases[c.Seat] = l
	s.peak = max(s.peak, len(s.leases))
	return l
}

func (e *LeaseEngine) live(l lease, now int64) bool { return now-l.lastSeen < e.ttl }

// Release lets go of the lease if device holds it.
func (e *LeaseEngine) Release(_ context.Context, seat int64, device string, _ time.Time) error {
	s := e.shard(seat)
	s.mu.Lock()
	if l, ok := s.leases[seat]; ok && l.device == device {
		delete(s.leases, seat)
	}
	s.mu.Unlock()
	return nil
}

// Holder returns the live lease of a seat, if any.
func (e *LeaseEngine) Holder(_ context.Context, seat int64, now time.Time) (kiosko.Lease, bool, error) {
	s := e.shard(seat)
	s.mu.Lock()
	l, ok := s.leases[seat]
	s.mu.Unlock()
	if !ok || !e.live(l, now.UnixNano()) {
		return kiosko.Lease{}, false, nil
	}
	return l.export(seat), true, nil
}

// RecordContest adds a displacement and returns the seat's contests
// at or after since, oldest first. Older ones are forgotten.
func (e *LeaseEngine) RecordContest(_ context.Context, seat int64, c kiosko.Contest, since time.Time) ([]kiosko.Contest, error) {
	s := e.shard(seat)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.seats[seat]
	if r == nil {
		r = &seatRecord{}
		s.seats[seat] = r
	}
	if c.Active && c.At.After(r.lastContest) {
		r.lastContest = c.At
	}
	// Contests nearly always arrive in order: insert from the end.
	i := len(r.contests)
	for i > 0 && r.contests[i-1].At.After(c.At) {
		i--
	}
	// The same contest recorded twice (a retried call) is kept once.
	dup := false
	for j := i - 1; j >= 0 && r.contests[j].At.Equal(c.At); j-- {
		if o := &r.contests[j]; o.From == c.From && o.To == c.To {
			o.Active = o.Active || c.Active
			o.Marks |= c.Marks
			dup = true
			break
		}
	}
	if !dup {
		r.contests = slices.Insert(r.contests, i, c)
	}
	r.trim(since)
	out := slices.Clone(r.contests)
	if r.empty() {
		delete(s.seats, seat)
	}
	return out, nil
}

// MarkContest ORs m.Mark into the seat's latest contest that displaced
// m.Device, if it happened at or after m.After.
func (e *LeaseEngine) MarkContest(_ context.Context, seat int64, m kiosko.ContestMarking) (kiosko.Contest, bool, []kiosko.Contest, error) {
	s := e.shard(seat)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.seats[seat]
	if r == nil {
		return kiosko.Contest{}, false, nil, nil
	}
	r.trim(m.Since)
	var before kiosko.Contest
	ok := false
	for i := len(r.contests) - 1; i >= 0; i-- {
		if c := &r.contests[i]; c.From == m.Device {
			if !c.At.Before(m.After) {
				before, ok = *c, true
				c.Marks |= m.Mark
			}
			break
		}
	}
	out := slices.Clone(r.contests)
	if r.empty() {
		delete(s.seats, seat)
	}
	return before, ok, out, nil
}

// trim forgets contests before since, and the oldest beyond maxContests.
func (r *seatRecord) trim(since time.Time) {
	i, _ := slices.BinarySearchFunc(r.contests, since, func(c kiosko.Contest, t time.Time) int { return c.At.Compare(t) })
	i = max(i, len(r.contests)-maxContests)
	if i > 0 {
		r.contests = slices.Delete(r.contests, 0, i)
	}
	if len(r.contests) == 0 {
		r.contests = nil
	}
}

func (r *seatRecord) empty() bool { return !r.warned && len(r.contests) == 0 }

// Warning returns the seat's sharing warning.
func (e *LeaseEngine) Warning(_ context.Context, seat int64) (kiosko.WarningState, error) {
	s := e.shard(seat)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.seats[seat]
	if r == nil {
		return kiosko.WarningState{}, nil
	}
	return kiosko.WarningState{Set: r.warned, Since: r.since, LastContest: r.lastContest}, nil
}

// SetWarning puts the seat under sharing warning. A seat already under
// warning keeps the time it was first set.
func (e *LeaseEngine) SetWarning(_ context.Context, seat int64, since time.Time) error {
	s := e.shard(seat)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.seats[seat]
	if r == nil {
		r = &seatRecord{}
		s.seats[seat] = r
	}
	if !r.warned {
		r.warned, r.since = true, since
	}
	return nil
}

// ClearWarning lifts the warning and forgets the seat's contests.
func (e *LeaseEngine) ClearWarning(_ context.Context, seat int64) error {
	s := e.shard(seat)
	s.mu.Lock()
	delete(s.seats, seat)
	s.mu.Unlock()
	return nil
}

// Len returns how many leases the engine keeps, lapsed ones not yet swept
// included.
func (e *LeaseEngine) Len() int {
	n := 0
	for i := range e.shards {
		s := &e.shards[i]
		s.mu.Lock()
		n += len(s.leases)
		s.mu.Unlock()
	}
	return n
}

// Sweep forgets leases lapsed at now and contests older than the sharing
// window, and returns how many leases it dropped. Lapsed leases already
// behave as free, so sweeping changes what memory holds, not what callers
// see (as long as now does not run ahead of the claims' clock).
func (e *LeaseEngine) Sweep(now time.Time) int {
	n, old := now.UnixNano(), now.Add(-e.window)
	dropped := 0
	for i := range e.shards {
		s := &e.shards[i]
		s.mu.Lock()
		for seat, l := range s.leases {
			if !e.live(l, n) {
				delete(s.leases, seat)
				dropped++
			}
		}
		// Go maps never shrink: after a peak (a big story, a morning rush)
		// copy what is left into a map of its size.
		if s.peak >= 1024 && len(s.leases) < s.peak/4 {
			s.leases = compact(s.leases)
			s.peak = len(s.leases)
		}
		for seat, r := range s.seats {
			r.trim(old)
			if r.empty() {
				delete(s.seats, seat)
			}
		}
		s.mu.Unlock()
	}
	return dropped
}

// compact copies m into a map sized for what it holds now.
func compact(m map[int64]lease) map[int64]lease {
	out := make(map[int64]lease, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Start sweeps lapsed leases every lease TTL until ctx ends or Close is
// called; run it in its own goroutine. It sweeps at the latest time a claim
// told the engine, not the wall clock, so it never drops a lease that is
// live on the clock the engine is used with, simulated or not.
func (e *LeaseEngine) Start(ctx context.Context) {
	t := time.NewTicker(time.Duration(e.ttl))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.closed:
			return
		case <-t.C:
			if now := e.latest(); now != noTime {
				e.Sweep(time.Unix(0, now))
			}
		}
	}
}

// latest returns the latest claim time the engine has seen, or noTime.
func (e *LeaseEngine) latest() int64 {
	latest := int64(noTime)
	for i := range e.shards {
		s := &e.shards[i]
		s.mu.Lock()
		latest = max(latest, s.latest)
		s.mu.Unlock()
	}
	return latest
}

// Close stops Start.
func (e *LeaseEngine) Close() error {
	e.closeOnce.Do(func() { close(e.closed) })
	return nil
}

func (l lease) export(seat int64) kiosko.Lease {
	return kiosko.Lease{
		Seat:       seat,
		Device:     l.device,
		DeviceName: l.name.Value(),
		ClaimedAt:  fromNano(l.claimedAt),
		LastSeen:   fromNano(l.lastSeen),
		LastActive: fromNano(l.lastActive),
	}
}

// fromNano turns packed times back into UTC times.
func fromNano(n int64) time.Time {
	if n == noTime {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
