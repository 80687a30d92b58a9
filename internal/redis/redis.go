// Package redis keeps reading leases and carries notices in Redis, so that
// several kiosko nodes behind a load balancer apply the reading rule as one:
// a LeaseEngine whose every call is one atomic Lua script (one round trip),
// and a Hub over Redis pub/sub. kiosko uses it when KIOSKO_REDIS_URL is set.
//
// Keys, all under a caller-chosen prefix ("kiosko:" in production):
//
//	{prefix}l:{{seat}}   string, the seat's lease packed in a few bytes;
//	                     expires shortly after the lease lapses
//	{prefix}c:{{seat}}   sorted set of contested takeovers, scored by time;
//	                     expires a sharing window after the newest one
//	{prefix}w:{{seat}}   hash: sharing warning since (s), last contest (c);
//	                     no expiry while the warning is set
//	{prefix}notices      pub/sub channel every node subscribes to
//
// A seat's keys share a hash tag, so on Redis Cluster one script may touch
// them all (RecordContest does; a claim could read the warning too); the
// prefix itself must not contain braces.
package redis

import (
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Recommended client settings. Reading fails open when the lease store does
// not answer, so a call must fail in well under a second rather than hang a
// reader's request: short timeouts, no command retries (a retried takeover
// could report the wrong previous holder), one dial attempt per call (the
// pool's dial circuit breaker then fails the rest at once and probes Redis
// every second until it is back).
const (
	DefaultDialTimeout  = 300 * time.Millisecond
	DefaultReadTimeout  = 300 * time.Millisecond
	DefaultWriteTimeout = 300 * time.Millisecond
	DefaultPoolTimeout  = 400 * time.Millisecond
	DefaultMinIdleConns = 4
)

// NewClient returns a client for url (KIOSKO_REDIS_URL: redis://, rediss://
// or unix://, as go-redis parses them) with the recommended fail-fast
// settings. Settings given in the URL's query (dial_timeout, read_timeout,
// pool_size, max_retries...) win over the recommended ones.
func NewClient(url string) (goredis.UniversalClient, error) {
	if url == "" {
		return nil, errors.New("redis: empty URL")
	}
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	ApplyDefaults(opt)
	return goredis.NewClient(opt), nil
}

// ApplyDefaults fills in the recommended settings wherever opt leaves the
// go-redis default.
func ApplyDefaults(opt *goredis.Options) {
	if opt.DialTimeout == 0 {
		opt.DialTimeout = DefaultDialTimeout
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = DefaultReadTimeout
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = DefaultWriteTimeout
	}
	if opt.PoolTimeout == 0 {
		opt.PoolTimeout = DefaultPoolTimeout
	}
	if opt.MinIdleConns == 0 {
		opt.MinIdleConns = DefaultMinIdleConns
	}
	if opt.MaxRetries == 0 {
		opt.MaxRetries = -1 // go-redis: -1 disables retries, 0 means 3
	}
	if opt.DialerRetries == 0 {
		opt.DialerRetries = 1
	}
	if opt.ClientName == "" {
		opt.ClientName = "kiosko"
	}
	// RESP2: kiosko needs none of RESP3's push types, and go-redis checks
	// every RESP3 reply for them (a few per cent of a heartbeat's CPU).
	if opt.Protocol == 0 {
		opt.Protocol = 2
	}
	// A request's context deadline, when shorter, bounds the call too.
	opt.ContextTimeoutEnabled = true
}
