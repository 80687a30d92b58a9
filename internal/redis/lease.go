package redis

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kiosko/kiosko"
)

// maxContests bounds the contests kept per seat, as the in-memory engine
// does, so a seat taken over in a loop cannot grow a sorted set without end.
const maxContests = 256

// expirySlack keeps a key a little longer than the lease or the contests it
// holds need: decisions use the times the nodes pass in, expiry uses Redis'
// clock, and the two may disagree by a few seconds (NTP keeps them closer).
// A key that expired early would free a lease that is still live.
const expirySlack = 10 * time.Second

// A lease is packed in one string: three 48-bit little-endian signed times
// in Unix milliseconds (last seen, claimed at, last active), the length of
// the device name in one byte, the name, then the device id. 48 bits of
// milliseconds reach the year 6400; Lua's doubles hold them exactly.
const (
	leaseHeader = 19
	maxName     = 255
	noActive    = -1 << 47 // LastActive never set
)

// claimScript grants, renews or takes over a seat's lease. It is the only
// writer of lease keys besides release, and runs as one atomic step, so two
// racing claims on one seat never both win on any number of nodes.
//
// KEYS[1] lease key; ARGV: now ms, ttl ms, device, name, active (0/1),
// takeover (0/1), expiry slack ms.
// Returns {granted, renewed, lease}, with the displaced live lease of
// another device as a fourth element on takeover.
const claimSource = `
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local dev, name = ARGV[3], ARGV[4]
local active = ARGV[5] == '1'
local takeover = ARGV[6] == '1'
local old = redis.call('GET', KEYS[1])
local seen, claimed, act, nlen, pos, oname, odev
local live, own = false, false
if old then
  seen, claimed, act, nlen, pos = struct.unpack('<i6i6i6B', old)
  oname = string.sub(old, pos, pos + nlen - 1)
  odev = string.sub(old, pos + nlen)
  live = now - seen < ttl
  own = odev == dev
end
if live and not own and not takeover then
  return {0, 0, old}
end
if own then
  if not live then claimed = now end
  if now > seen then seen = now end
  if active and now > act then act = now end
  if name == '' then name = oname end
else
  seen, claimed = now, now
  if active then act = now else act = -140737488355328 end
end
local v = struct.pack('<i6i6i6B', seen, claimed, act, #name) .. name .. dev
redis.call('SET', KEYS[1], v, 'PX', seen - now + ttl + tonumber(ARGV[7]))
if takeover and live and not own then
  return {1, 0, v, old}
end
if live then return {1, 1, v} end
return {1, 0, v}
`

var claimScript = goredis.NewScript(claimSource)

// releaseScript deletes the lease if the device holds it. KEYS[1] lease
// key; ARGV[1] device.
var releaseScript = goredis.NewScript(`
local old = redis.call('GET', KEYS[1])
if not old then return 0 end
local nlen = string.byte(old, 19)
if string.sub(old, 20 + nlen) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`)

// A contest's flags (kiosko.ContestMark bits, and activeFlag for
// Contest.Active) live in a hash beside the sorted set, keyed by member, so
// marking a contest never changes its member: recording the same contest
// twice still keeps one.
const activeFlag = 0x80

// trimContests is Lua shared by the contest scripts: forget contests of
// KEYS[1] (and their flags in KEYS[3]) before since ms and beyond max.
const trimContests = `
local function trim(since, maxn)
  local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. since)
  local extra = redis.call('ZRANGE', KEYS[1], 0, -(maxn + 1))
  for _, m in ipairs(extra) do table.insert(old, m) end
  if #old > 0 then
    redis.call('HDEL', KEYS[3], unpack(old))
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. since)
    redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(maxn + 1))
  end
end
local function list()
  local out = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  local res = {}
  for i = 1, #out, 2 do
    local f = redis.call('HGET', KEYS[3], out[i]) or '0'
    table.insert(res, out[i]); table.insert(res, out[i + 1]); table.insert(res, f)
  end
  return res
end
`

// contestScript records a displacement, forgets those before since and
// beyond maxContests, keeps the newest active contest's time in the
// warning hash, and returns the contests left as member, score, flags
// triples.
//
// KEYS[1] contests, KEYS[2] warning, KEYS[3] flags; ARGV: at ms, since ms,
// member, max contests, sharing window ms, expiry slack ms, flags.
var contestScript = goredis.NewScript(trimContests + `
local at = tonumber(ARGV[1])
local flags = tonumber(ARGV[7])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
if flags ~= 0 then
  local old = tonumber(redis.call('HGET', KEYS[3], ARGV[3]) or '0')
  redis.call('HSET', KEYS[3], ARGV[3], bit.bor(old, flags))
end
trim(ARGV[2], tonumber(ARGV[4]))
if bit.band(flags, 128) ~= 0 then
  local last = redis.call('HGET', KEYS[2], 'c')
  if not last or at > tonumber(last) then
    redis.call('HSET', KEYS[2], 'c', ARGV[1])
  end
end
local warned = redis.call('HEXISTS', KEYS[2], 's') == 1
local out = list()
if #out == 0 then
  redis.call('DEL', KEYS[1], KEYS[3])
  if not warned then redis.call('DEL', KEYS[2]) end
  return out
end
local px = tonumber(out[#out - 1]) - at + tonumber(ARGV[5]) + tonumber(ARGV[6])
if px < 1000 then px = 1000 end
redis.call('PEXPIRE', KEYS[1], px)
redis.call('PEXPIRE', KEYS[3], px)
if not warned and redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], px) end
return out
`)

// markScript ORs a mark into the flags of the latest contest displacing a
// device, when it is at or after a time. Returns {found, member, score,
// flags before, member, score, flags, ...} with the contests left.
//
// KEYS[1] contests, KEYS[2] unused (keeps KEYS[3] the flags hash, as in
// trimContests), KEYS[3] flags; ARGV: device, after ms, mark, since ms,
// max contests.
var markScript = goredis.NewScript(trimContests + `
trim(ARGV[4], tonumber(ARGV[5]))
local dev = ARGV[1]
local after = tonumber(ARGV[2])
local found = {'0', '', '0', '0'}
local all = redis.call('ZREVRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #all, 2 do
  local m = all[i]
  local a = string.find(m, ':', 1, true)
  local b = string.find(m, ':', a + 1, true)
  local flen = tonumber(string.sub(m, a + 1, b - 1))
  if string.sub(m, b + 1, b + flen) == dev then
    if tonumber(all[i + 1]) >= after then
      local old = redis.call('HGET', KEYS[3], m) or '0'
      redis.call('HSET', KEYS[3], m, bit.bor(tonumber(old), tonumber(ARGV[3])))
      local ttl = redis.call('PTTL', KEYS[1])
      if ttl > 0 then redis.call('PEXPIRE', KEYS[3], ttl) end
      found = {'1', m, all[i + 1], old}
    end
    break
  end
end
local out = list()
for _, v in ipairs(out) do table.insert(found, v) end
return found
`)

// setWarningScript sets the warning unless already set, and keeps the
// hash for good. KEYS[1] warning; ARGV[1] since ms.
var setWarningScript = goredis.NewScript(`
redis.call('HSETNX', KEYS[1], 's', ARGV[1])
redis.call('PERSIST', KEYS[1])
return 1
`)

var _ kiosko.LeaseEngine = (*LeaseEngine)(nil)

// LeaseEngine is a kiosko.LeaseEngine in Redis, shared by every node.
//
// Time comes only from the claims and the now parameters, in milliseconds,
// never from Redis' clock, so the engine agrees with the in-memory one on a
// simulated clock. Redis' clock only expires keys, a little after the
// lease lapsed (lapsed leases already behave as free), so memory holds the
// leases being read now and nothing else.
type LeaseEngine struct {
	client goredis.UniversalClient
	prefix string
	ttl    int64 // lease TTL, ms
	window int64 // sharing window, ms
	slack  int64 // ms
	pipe   *pipeliner
}

// NewLeaseEngine returns an engine keeping its keys under prefix that
// applies s.LeaseTTL (90 s when zero) and forgets contests older than
// s.SharingWindow (7 days when zero). Build client with NewClient, or with
// short timeouts of your own: reading fails open on errors, so errors must
// come fast.
func NewLeaseEngine(client goredis.UniversalClient, prefix string, s kiosko.ReadingSettings) *LeaseEngine {
	def := kiosko.DefaultReadingSettings()
	if s.LeaseTTL <= 0 {
		s.LeaseTTL = def.LeaseTTL
	}
	if s.SharingWindow <= 0 {
		s.SharingWindow = def.SharingWindow
	}
	return &LeaseEngine{
		client: client,
		prefix: prefix,
		ttl:    max(s.LeaseTTL.Milliseconds(), 1),
		window: s.SharingWindow.Milliseconds(),
		slack:  expirySlack.Milliseconds(),
		pipe:   &pipeliner{client: client, script: claimScript},
	}
}

func (e *LeaseEngine) leaseKey(seat int64) string {
	return e.prefix + "l:{" + strconv.FormatInt(seat, 10) + "}"
}

func (e *LeaseEngine) contestsKey(seat int64) string {
	return e.prefix + "c:{" + strconv.FormatInt(seat, 10) + "}"
}

func (e *LeaseEngine) flagsKey(seat int64) string {
	return e.prefix + "k:{" + strconv.FormatInt(seat, 10) + "}"
}

func (e *LeaseEngine) warningKey(seat int64) string {
	return e.prefix + "w:{" + strconv.FormatInt(seat, 10) + "}"
}

var errNoDevice = errors.New("redis: lease claim without a device")

// Claim grants the lease when it is free, lapsed or the caller's own.
func (e *LeaseEngine) Claim(ctx context.Context, c kiosko.LeaseClaim) (kiosko.LeaseResult, error) {
	return e.claim(ctx, c, "claim")
}

// Heartbeat renews the caller's lease. A lapsed lease is free for any device
// of the seat, so a heartbeat renews it as a claim would; it is refused only
// while another device holds a live lease.
func (e *LeaseEngine) Heartbeat(ctx context.Context, c kiosko.LeaseClaim) (kiosko.LeaseResult, error) {
	return e.claim(ctx, c, "heartbeat")
}

func (e *LeaseEngine) claim(ctx context.Context, c kiosko.LeaseClaim, op string) (kiosko.LeaseResult, error) {
	reply, err := e.run(ctx, c, false)
	if err != nil {
		return kiosko.LeaseResult{}, fmt.Errorf("redis: %s seat %d: %w", op, c.Seat, err)
	}
	holder, err := decodeLease(c.Seat, reply.lease)
	if err != nil {
		return kiosko.LeaseResult{}, fmt.Errorf("redis: %s seat %d: %w", op, c.Seat, err)
	}
	return kiosko.LeaseResult{Granted: reply.granted, Holder: holder, Renewed: reply.renewed}, nil
}

// Takeover gives the lease to the caller whoever holds it. Previous is set
// only when another device held a live lease.
func (e *LeaseEngine) Takeover(ctx context.Context, c kiosko.LeaseClaim) (kiosko.TakeoverResult, error) {
	reply, err := e.run(ctx, c, true)
	if err != nil {
		return kiosko.TakeoverResult{}, fmt.Errorf("redis: takeover seat %d: %w", c.Seat, err)
	}
	var res kiosko.TakeoverResult
	if res.Holder, err = decodeLease(c.Seat, reply.lease); err != nil {
		return kiosko.TakeoverResult{}, fmt.Errorf("redis: takeover seat %d: %w", c.Seat, err)
	}
	if reply.previous != "" {
		prev, err := decodeLease(c.Seat, reply.previous)
		if err != nil {
			return kiosko.TakeoverResult{}, fmt.Errorf("redis: takeover seat %d: %w", c.Seat, err)
		}
		res.Previous = &prev
	}
	return res, nil
}

type claimReply struct {
	granted, renewed bool
	lease, previous  string
}

func (e *LeaseEngine) run(ctx context.Context, c kiosko.LeaseClaim, takeover bool) (claimReply, error) {
	if c.Device == "" {
		return claimReply{}, errNoDevice
	}
	key := e.leaseKey(c.Seat)
	args := [7]any{c.Now.UnixMilli(), e.ttl, c.Device, truncateName(c.DeviceName), flag(c.Active), flag(takeover), e.slack}
	if !takeover {
		// The hot path: pipelined with the other claims and heartbeats
		// in flight on this engine (pipeline.go).
		return e.pipe.do(&claimCall{ctx: ctx, key: key, args: args})
	}
	return parseClaim(claimScript.Run(ctx, e.client, []string{key}, args[:]...))
}

// Release lets go of the lease if device holds it.
func (e *LeaseEngine) Release(ctx context.Context, seat int64, device string, _ time.Time) error {
	if err := releaseScript.Run(ctx, e.client, []string{e.leaseKey(seat)}, device).Err(); err != nil {
		return fmt.Errorf("redis: release seat %d: %w", seat, err)
	}
	return nil
}

// Holder returns the live lease of a seat, if any.
func (e *LeaseEngine) Holder(ctx context.Context, seat int64, now time.Time) (kiosko.Lease, bool, error) {
	v, err := e.client.Get(ctx, e.leaseKey(seat)).Result()
	if errors.Is(err, goredis.Nil) {
		return kiosko.Lease{}, false, nil
	} else if err != nil {
		return kiosko.Lease{}, false, fmt.Errorf("redis: holder of seat %d: %w", seat, err)
	}
	l, err := decodeLease(seat, v)
	if err != nil {
		return kiosko.Lease{}, false, fmt.Errorf("redis: holder of seat %d: %w", seat, err)
	}
	if now.UnixMilli()-l.LastSeen.UnixMilli() >= e.ttl {
		return kiosko.Lease{}, false, nil
	}
	return l, true, nil
}

// RecordContest adds a displacement and returns the seat's contests at or
// after since, oldest first. Older ones are forgotten.
func (e *LeaseEngine) RecordContest(ctx context.Context, seat int64, c kiosko.Contest, since time.Time) ([]kiosko.Contest, error) {
	at := c.At.UnixMilli()
	flags := int(c.Marks)
	if c.Active {
		flags |= activeFlag
	}
	v, err := contestScript.Run(ctx, e.client, []string{e.contestsKey(seat), e.warningKey(seat), e.flagsKey(seat)},
		at, since.UnixMilli(), contestMember(at, c.From, c.To), maxContests, e.window, e.slack, flags).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("redis: record contest on seat %d: %w", seat, err)
	}
	out, err := decodeContests(v)
	if err != nil {
		return nil, fmt.Errorf("redis: record contest on seat %d: %w", seat, err)
	}
	return out, nil
}

// MarkContest ORs m.Mark into the seat's latest contest that displaced
// m.Device, if it happened at or after m.After.
func (e *LeaseEngine) MarkContest(ctx context.Context, seat int64, m kiosko.ContestMarking) (kiosko.Contest, bool, []kiosko.Contest, error) {
	v, err := markScript.Run(ctx, e.client, []string{e.contestsKey(seat), e.warningKey(seat), e.flagsKey(seat)},
		m.Device, m.After.UnixMilli(), int(m.Mark), m.Since.UnixMilli(), maxContests).StringSlice()
	if err != nil {
		return kiosko.Contest{}, false, nil, fmt.Errorf("redis: mark contest on seat %d: %w", seat, err)
	}
	if len(v) < 4 {
		return kiosko.Contest{}, false, nil, fmt.Errorf("redis: mark contest on seat %d: short reply", seat)
	}
	var before kiosko.Contest
	ok := v[0] == "1"
	if ok {
		if before, err = decodeContest(v[1], v[2], v[3]); err != nil {
			return kiosko.Contest{}, false, nil, fmt.Errorf("redis: mark contest on seat %d: %w", seat, err)
		}
	}
	out, err := decodeContests(v[4:])
	if err != nil {
		return kiosko.Contest{}, false, nil, fmt.Errorf("redis: mark contest on seat %d: %w", seat, err)
	}
	return before, ok, out, nil
}

func decodeContests(v []string) ([]kiosko.Contest, error) {
	out := make([]kiosko.Contest, 0, len(v)/3)
	for i := 0; i+2 < len(v); i += 3 {
		c, err := decodeContest(v[i], v[i+1], v[i+2])
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Warning returns the seat's sharing warning.
func (e *LeaseEngine) Warning(ctx context.Context, seat int64) (kiosko.WarningState, error) {
	v, err := e.client.HMGet(ctx, e.warningKey(seat), "s", "c").Result()
	if err != nil {
		return kiosko.WarningState{}, fmt.Errorf("redis: warning of seat %d: %w", seat, err)
	}
	var w kiosko.WarningState
	if s, ok := v[0].(string); ok {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return kiosko.WarningState{}, fmt.Errorf("redis: warning of seat %d: %w", seat, err)
		}
		w.Set, w.Since = true, fromMilli(ms)
	}
	if s, ok := v[1].(string); ok {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return kiosko.WarningState{}, fmt.Errorf("redis: warning of seat %d: %w", seat, err)
		}
		w.LastContest = fromMilli(ms)
	}
	return w, nil
}

// SetWarning puts the seat under sharing warning. A seat already under
// warning keeps the time it was first set.
func (e *LeaseEngine) SetWarning(ctx context.Context, seat int64, since time.Time) error {
	if err := setWarningScript.Run(ctx, e.client, []string{e.warningKey(seat)}, since.UnixMilli()).Err(); err != nil {
		return fmt.Errorf("redis: set warning on seat %d: %w", seat, err)
	}
	return nil
}

// ClearWarning lifts the warning and forgets the seat's contests.
func (e *LeaseEngine) ClearWarning(ctx context.Context, seat int64) error {
	if err := e.client.Del(ctx, e.contestsKey(seat), e.warningKey(seat), e.flagsKey(seat)).Err(); err != nil {
		return fmt.Errorf("redis: clear warning on seat %d: %w", seat, err)
	}
	return nil
}

// Preload makes sure Redis has the engine's scripts, so the first calls
// after a start or a Redis restart skip the NOSCRIPT round trip. Optional.
func (e *LeaseEngine) Preload(ctx context.Context) error {
	for _, s := range []*goredis.Script{claimScript, releaseScript, contestScript, markScript, setWarningScript} {
		if err := s.Load(ctx, e.client).Err(); err != nil {
			return fmt.Errorf("redis: load scripts: %w", err)
		}
	}
	return nil
}

func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// truncateName cuts a device name to what a lease keeps: names are shown to
// readers ("Firefox on Linux"), never compared, so a client sending a huge
// one gets it shortened rather than an error (which would fail open).
func truncateName(name string) string {
	if len(name) <= maxName {
		return name
	}
	name = name[:maxName]
	for len(name) > 0 && !utf8.ValidString(name) {
		name = name[:len(name)-1]
	}
	return name
}

// decodeLease unpacks a lease written by claimScript.
func decodeLease(seat int64, v string) (kiosko.Lease, error) {
	if len(v) < leaseHeader {
		return kiosko.Lease{}, fmt.Errorf("corrupt lease %q", v)
	}
	b := []byte(v[:leaseHeader])
	nlen := int(b[18])
	if len(v) < leaseHeader+nlen {
		return kiosko.Lease{}, fmt.Errorf("corrupt lease %q", v)
	}
	l := kiosko.Lease{
		Seat:       seat,
		DeviceName: v[leaseHeader : leaseHeader+nlen],
		Device:     v[leaseHeader+nlen:],
		LastSeen:   fromMilli(int48(b[0:6])),
		ClaimedAt:  fromMilli(int48(b[6:12])),
	}
	if a := int48(b[12:18]); a != noActive {
		l.LastActive = fromMilli(a)
	}
	return l, nil
}

// int48 reads a little-endian signed 48-bit integer.
func int48(b []byte) int64 {
	var x [8]byte
	copy(x[:], b[:6])
	return int64(binary.LittleEndian.Uint64(x[:])<<16) >> 16
}

// contestMember names one contest in the seat's sorted set: its time (so
// one pair's contests at different times are distinct), the length of
// From, From and To. Recording the same contest twice keeps one, so a
// retried call does not count twice.
func contestMember(at int64, from, to string) string {
	return strconv.FormatInt(at, 10) + ":" + strconv.Itoa(len(from)) + ":" + from + to
}

func decodeContest(member, score, flags string) (kiosko.Contest, error) {
	bad := fmt.Errorf("corrupt contest %q", member)
	_, rest, ok := strings.Cut(member, ":")
	if !ok {
		return kiosko.Contest{}, bad
	}
	n, rest, ok := strings.Cut(rest, ":")
	flen, err := strconv.Atoi(n)
	if !ok || err != nil || flen < 0 || flen > len(rest) {
		return kiosko.Contest{}, bad
	}
	at, err := strconv.ParseFloat(score, 64)
	if err != nil {
		return kiosko.Contest{}, bad
	}
	f, err := strconv.Atoi(flags)
	if err != nil || f < 0 || f > 255 {
		return kiosko.Contest{}, bad
	}
	return kiosko.Contest{At: fromMilli(int64(at)), From: rest[:flen], To: rest[flen:],
		Active: f&activeFlag != 0, Marks: kiosko.ContestMark(f &^ activeFlag)}, nil
}

func fromMilli(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
