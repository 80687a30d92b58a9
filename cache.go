package kiosko

import (
	"sync"
	"sync/atomic"
	"time"
)

// Every heartbeat of every page asks who is signed in and which seat they
// hold. Both answers change rarely, so they are kept in memory instead of
// asking the database each time (BENCHMARKS.md has the numbers).
//
// How stale an answer may be:
//   - a session ended by Auth on this node (sign-out, password change, sign
//     out everywhere else) stops working here at once: Auth forgets the
//     account's cached sessions in the same call;
//   - with a live change feed (ChangeFeed: Redis pub/sub between nodes, or
//     the data directory's change file for the command line), every change
//     to an account's sessions, account row or seat made by any kiosko
//     process reaches every node as it happens, and entries are kept for up
//     to DefaultCacheMaxAge, a bound for changes made behind kiosko's back
//     (SQL typed by hand). While the feed is down, the short TTLs below
//     apply, and a feed that comes back forgets everything;
//   - without a feed, a session ended on another node sharing the database
//     stays usable here for at most SessionCacheTTL (default 1 s), and so
//     does an account row changed elsewhere; a seat granted elsewhere is
//     seen at once (only seats found are kept, never their absence); a seat
//     revoked, or a sharing warning set or lifted elsewhere, is seen within
//     SeatCacheTTL (default 1 s). Warnings set or lifted on this node are
//     seen at once.
const (
	DefaultSessionCacheTTL = time.Second
	DefaultSeatCacheTTL    = time.Second
	DefaultCacheMaxAge     = 10 * time.Minute
)

// cacheTTL turns a setting into the TTL in force: 0 is def, negative is off.
func cacheTTL(setting, def time.Duration) time.Duration {
	if setting == 0 {
		return def
	}
	return setting
}

// authCaches are the caches an Auth keeps: sessions by token hash, and
// device names. A Reading keeps its own seatCache.
type authCaches struct {
	sessions sessionCache // and device names
}

type deviceKey struct {
	account int64
	device  string
}

func (k deviceKey) hash() uint64 {
	h := hashInt(k.account)
	if n := len(k.device); n > 0 {
		h ^= uint64(k.device[n-1])
	}
	return h
}

const cacheShards = 64

// ttlCache is a map sharded over mutexes whose entries expire. Expired
// entries are swept from a shard at most once per TTL, when it grows.
type ttlCache[K comparable, V any] struct {
	shards [cacheShards]ttlShard[K, V]
}

type ttlShard[K comparable, V any] struct {
	mu      sync.RWMutex
	m       map[K]cached[V]
	sweepAt time.Time
	_       [40]byte // keep shards on separate cache lines
}

type cached[V any] struct {
	v  V
	at time.Time // when it was read from the store (monotonic)
}

func (c *ttlCache[K, V]) get(shard uint64, k K, ttl time.Duration, now time.Time) (cached[V], bool) {
	s := &c.shards[shard%cacheShards]
	s.mu.RLock()
	e, ok := s.m[k]
	s.mu.RUnlock()
	if !ok || now.Sub(e.at) >= ttl || now.Before(e.at) {
		return cached[V]{}, false
	}
	return e, true
}

func (c *ttlCache[K, V]) put(shard uint64, k K, e cached[V], ttl time.Duration) {
	s := &c.shards[shard%cacheShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[K]cached[V])
	}
	if now := time.Now(); now.After(s.sweepAt) {
		for k, old := range s.m {
			if now.Sub(old.at) >= ttl {
				delete(s.m, k)
			}
		}
		s.sweepAt = now.Add(ttl)
	}
	s.m[k] = e
}

func (c *ttlCache[K, V]) delete(shard uint64, k K) {
	s := &c.shards[shard%cacheShards]
	s.mu.Lock()
	delete(s.m, k)
	s.mu.Unlock()
}

func hashInt(n int64) uint64 { return uint64(n) * 0x9E3779B97F4A7C15 >> 32 }

func hashToken(h [32]byte) uint64 { return uint64(h[0]) | uint64(h[1])<<8 | uint64(h[2])<<16 }

// revocations make cached entries about an account stale. An entry
// records the epoch from before its store read; it is good only if its
// account was not revoked after that epoch (nor everything, revokeAll).
// So a lookup racing a change can never put back what the change ended.
type revocations struct {
	epoch atomic.Uint64
	all   atomic.Uint64 // entries read at an epoch before this are stale

	mu      sync.Mutex
	revoked map[int64]revocation // by account
	// anyRevoked is set while revoked is not empty, so the common lookup
	// takes no lock.
	anyRevoked atomic.Bool
	pruneAt    time.Time
	maxTTL     atomic.Int64 // the longest TTL an entry was put with
}

type revocation struct {
	epoch uint64
	at    time.Time
}

// snapshot is the epoch to record with an entry about to be read.
func (r *revocations) snapshot() uint64 { return r.epoch.Load() }

// stale reports whether an entry about account read at epoch was revoked since.
func (r *revocations) stale(account int64, epoch uint64) bool {
	if epoch < r.all.Load() {
		return true
	}
	if !r.anyRevoked.Load() {
		return false
	}
	r.mu.Lock()
	rv, ok := r.revoked[account]
	r.mu.Unlock()
	return ok && rv.epoch > epoch
}

func (r *revocations) sawTTL(ttl time.Duration) {
	if int64(ttl) > r.maxTTL.Load() {
		r.maxTTL.Store(int64(ttl))
	}
}

// revoke makes every entry about the account stale. Call it after the
// store changed.
func (r *revocations) revoke(accountID int64) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.revoked == nil {
		r.revoked = make(map[int64]revocation)
	}
	r.revoked[accountID] = revocation{epoch: r.epoch.Add(1), at: now}
	r.anyRevoked.Store(true)
	// A revocation matters only to entries read before it, and those
	// expire within the longest TTL in use.
	if now.After(r.pruneAt) {
		keep := max(time.Minute, 2*time.Duration(r.maxTTL.Load()))
		for id, rv := range r.revoked {
			if now.Sub(rv.at) > keep {
				delete(r.revoked, id)
			}
		}
		r.pruneAt = now.Add(time.Minute)
		r.anyRevoked.Store(len(r.revoked) > 0)
	}
}

// revokeAll makes every entry stale: changes may have been missed.
func (r *revocations) revokeAll() { r.all.Store(r.epoch.Add(1)) }

// sessionCache keeps live sessions with their accounts, by token hash, and
// the names of their devices.
type sessionCache struct {
	revocations
	entries ttlCache[[32]byte, sessionEntry]
	devices ttlCache[deviceKey, deviceEntry]
}

type sessionEntry struct {
	session Session
	account Account
	epoch   uint64
}

type deviceEntry struct {
	name  string
	epoch uint64
}

func (c *sessionCache) get(hash [32]byte, ttl time.Duration) (sessionEntry, bool) {
	e, ok := c.entries.get(hashToken(hash), hash, ttl, time.Now())
	if !ok || c.stale(e.v.account.ID, e.v.epoch) {
		return sessionEntry{}, false
	}
	return e.v, true
}

func (c *sessionCache) put(hash [32]byte, e sessionEntry, at time.Time, ttl time.Duration) {
	c.sawTTL(ttl)
	c.entries.put(hashToken(hash), hash, cached[sessionEntry]{v: e, at: at}, ttl)
}

// update replaces a cached entry after this process changed the session
// (a touch), keeping when it was read.
func (c *sessionCache) update(hash [32]byte, e sessionEntry) {
	s := &c.entries.shards[hashToken(hash)%cacheShards]
	s.mu.Lock()
	if old, ok := s.m[hash]; ok && old.v.epoch == e.epoch {
		s.m[hash] = cached[sessionEntry]{v: e, at: old.at}
	}
	s.mu.Unlock()
}

func (c *sessionCache) forget(hash [32]byte) { c.entries.delete(hashToken(hash), hash) }

// seatCache keeps the seat each account holds, with its subscription, by
// account. A generation counter, bumped when this node sets or lifts a
// warning, makes every entry stale at once; revocations make one
// account's entry stale when a change feed says it changed.
type seatCache struct {
	revocations
	gen     atomic.Uint64
	entries ttlCache[int64, seatEntry]
}

type seatEntry struct {
	seat  Seat
	sub   Subscription
	gen   uint64
	epoch uint64
	clock time.Time // the Reading's clock when read: a simulated clock that moves on makes it stale
}

func (c *seatCache) get(accountID int64, ttl time.Duration, clock time.Time) (Seat, bool) {
	e, ok := c.entries.get(hashInt(accountID), accountID, ttl, time.Now())
	if !ok || e.v.gen != c.gen.Load() || c.stale(accountID, e.v.epoch) {
		return Seat{}, false
	}
	// Whether a subscription grants a seat depends on the time asked about.
	if d := clock.Sub(e.v.clock); d < 0 || d >= ttl || !e.v.sub.Grants(clock) {
		return Seat{}, false
	}
	return e.v.seat, true
}

func (c *seatCache) put(accountID int64, e seatEntry, at time.Time, ttl time.Duration) {
	c.sawTTL(ttl)
	c.entries.put(hashInt(accountID), accountID, cached[seatEntry]{v: e, at: at}, ttl)
}

// invalidate makes every cached seat stale.
func (c *seatCache) invalidate() { c.gen.Add(1) }
