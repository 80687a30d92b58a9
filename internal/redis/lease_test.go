package redis_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/leasetest"
	"github.com/kiosko/kiosko/internal/redis"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestLeaseEngine(t *testing.T) {
	c := testClient(t)
	leasetest.Run(t, func(t *testing.T, s kiosko.ReadingSettings) kiosko.LeaseEngine {
		return redis.NewLeaseEngine(c, testPrefix(t, c), s)
	})
}

// Two nodes, each with its own connection pool, race for one seat: exactly
// one device reads it.
func TestRacingClaimsFromTwoNodesHaveOneWinner(t *testing.T) {
	t.Parallel()
	c1 := testClient(t)
	c2 := testClient(t)
	prefix := testPrefix(t, c1)
	s := kiosko.DefaultReadingSettings()
	nodes := []*redis.LeaseEngine{redis.NewLeaseEngine(c1, prefix, s), redis.NewLeaseEngine(c2, prefix, s)}
	ctx := context.Background()
	const rounds, racers = 300, 16
	for round := 0; round < rounds; round++ {
		seat := int64(round + 1)
		at := t0
		if round%3 == 1 { // race for a lapsed lease
			if _, err := nodes[0].Claim(ctx, kiosko.LeaseClaim{Seat: seat, Device: "old", Now: t0}); err != nil {
				t.Fatal(err)
			}
			at = t0.Add(s.LeaseTTL)
		}
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			results = make([]kiosko.LeaseResult, racers)
		)
		for i := 0; i < racers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e := nodes[i%2]
				lc := kiosko.LeaseClaim{Seat: seat, Device: fmt.Sprint("d", i), DeviceName: fmt.Sprint("node ", i%2), Active: true, Now: at}
				<-start
				var err error
				if round%2 == 0 {
					results[i], err = e.Claim(ctx, lc)
				} else {
					results[i], err = e.Heartbeat(ctx, lc)
				}
				if err != nil {
					t.Errorf("round %d racer %d: %v", round, i, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		winner := ""
		for i, r := range results {
			if !r.Granted {
				continue
			}
			if winner != "" {
				t.Fatalf("round %d: %s and d%d both won", round, winner, i)
			}
			winner = fmt.Sprint("d", i)
		}
		if winner == "" {
			t.Fatalf("round %d: nobody won", round)
		}
		for i, r := range results {
			if r.Holder.Device != winner {
				t.Fatalf("round %d: d%d saw holder %q, want %q", round, i, r.Holder.Device, winner)
			}
		}
		for _, e := range nodes {
			if l, ok, err := e.Holder(ctx, seat, at); err != nil || !ok || l.Device != winner {
				t.Fatalf("round %d: Holder = %q, %v, %v; want %q", round, l.Device, ok, err, winner)
			}
		}
	}
}

// A lease key lives as long as the lease (plus a little slack for clocks
// that disagree), so lapsed leases take no memory; a released one is gone.
func TestLeaseKeysExpireWithTheLease(t *testing.T) {
	t.Parallel()
	c := testClient(t)
	prefix := testPrefix(t, c)
	s := kiosko.DefaultReadingSettings()
	s.LeaseTTL = 2 * time.Second
	e := redis.NewLeaseEngine(c, prefix, s)
	ctx := context.Background()
	now := time.Now()
	if _, err := e.Claim(ctx, kiosko.LeaseClaim{Seat: 1, Device: "a", DeviceName: "Firefox on Linux", Active: true, Now: now}); err != nil {
		t.Fatal(err)
	}
	key := prefix + "l:{1}"
	ttl := c.PTTL(ctx, key).Val()
	if ttl <= s.LeaseTTL || ttl > s.LeaseTTL+15*time.Second {
		t.Errorf("lease key TTL %v, want a little over the lease TTL %v", ttl, s.LeaseTTL)
	}
	if err := e.Release(ctx, 1, "a", now); err != nil {
		t.Fatal(err)
	}
	if n := c.Exists(ctx, key).Val(); n != 0 {
		t.Error("released lease still takes a key")
	}
}

// Contests expire a sharing window after the newest; a warning stays until
// cleared.
func TestContestAndWarningKeysExpiry(t *testing.T) {
	t.Parallel()
	c := testClient(t)
	prefix := testPrefix(t, c)
	s := kiosko.DefaultReadingSettings()
	e := redis.NewLeaseEngine(c, prefix, s)
	ctx := context.Background()
	if _, err := e.RecordContest(ctx, 5, kiosko.Contest{At: t0, From: "a", To: "b", Active: true}, t0.Add(-s.SharingWindow)); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := e.MarkContest(ctx, 5, kiosko.ContestMarking{Device: "a", After: t0, Mark: kiosko.MarkPresent, Since: t0.Add(-s.SharingWindow)}); err != nil {
		t.Fatal(err)
	}
	ckey, wkey, kkey := prefix+"c:{5}", prefix+"w:{5}", prefix+"k:{5}"
	for _, key := range []string{ckey, wkey, kkey} {
		if ttl := c.PTTL(ctx, key).Val(); ttl < s.SharingWindow || ttl > s.SharingWindow+time.Minute {
			t.Errorf("%s TTL %v, want about the sharing window %v", key, ttl, s.SharingWindow)
		}
	}
	if err := e.SetWarning(ctx, 5, t0); err != nil {
		t.Fatal(err)
	}
	if ttl := c.PTTL(ctx, wkey).Val(); ttl != -1 {
		t.Errorf("warning key TTL %v under warning, want none", ttl)
	}
	if err := e.ClearWarning(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if n := c.Exists(ctx, ckey, wkey, kkey).Val(); n != 0 {
		t.Errorf("%d keys left after ClearWarning", n)
	}
}

func TestLongDeviceNamesAndIDs(t *testing.T) {
	t.Parallel()
	c := testClient(t)
	e := redis.NewLeaseEngine(c, testPrefix(t, c), kiosko.DefaultReadingSettings())
	ctx := context.Background()
	long := make([]byte, 1000)
	for i := range long {
		long[i] = 'x'
	}
	device, name := "dev-"+string(long), "ñ"+string(long) // a multi-byte rune at the cut
	res, err := e.Claim(ctx, kiosko.LeaseClaim{Seat: 1, Device: device, DeviceName: name, Now: t0})
	if err != nil || !res.Granted {
		t.Fatalf("claim with long id and name: %v %v", res.Granted, err)
	}
	if res.Holder.Device != device {
		t.Error("a long device id did not survive")
	}
	if n := len(res.Holder.DeviceName); n == 0 || n > 255 || res.Holder.DeviceName[:2] != "ñ" {
		t.Errorf("device name of %d bytes, want it cut to at most 255", n)
	}
	if _, err := e.Claim(ctx, kiosko.LeaseClaim{Seat: 1, Now: t0}); err == nil {
		t.Error("claim without a device: no error")
	}
}

// Redis down: every call fails within a second, so reading fails open
// instead of hanging the reader's request.
func TestEngineFailsFastWhenRedisIsDown(t *testing.T) {
	t.Parallel()
	c, err := redis.NewClient("redis://" + closedPort(t) + "/0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	e := redis.NewLeaseEngine(c, "kiosko-test-down:", kiosko.DefaultReadingSettings())
	ctx := context.Background()
	lc := kiosko.LeaseClaim{Seat: 1, Device: "a", Active: true, Now: t0}
	calls := map[string]func() error{
		"Claim":     func() error { _, err := e.Claim(ctx, lc); return err },
		"Heartbeat": func() error { _, err := e.Heartbeat(ctx, lc); return err },
		"Takeover":  func() error { _, err := e.Takeover(ctx, lc); return err },
		"Holder":    func() error { _, _, err := e.Holder(ctx, 1, t0); return err },
		"Warning":   func() error { _, err := e.Warning(ctx, 1); return err },
	}
	for i := 0; i < 3; i++ { // the first calls dial; later ones meet the pool's circuit breaker
		for name, call := range calls {
			start := time.Now()
			err := call()
			if err == nil {
				t.Fatalf("%s against a closed port: no error", name)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("%s took %v to fail, want under 1 s", name, d)
			}
		}
	}
}

// An unresponsive Redis (accepts connections, never answers) fails calls
// within the read timeout.
func TestEngineFailsFastWhenRedisHangs(t *testing.T) {
	t.Parallel()
	addr := silentServer(t)
	c, err := redis.NewClient("redis://" + addr + "/0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	e := redis.NewLeaseEngine(c, "kiosko-test-hang:", kiosko.DefaultReadingSettings())
	start := time.Now()
	_, err = e.Claim(context.Background(), kiosko.LeaseClaim{Seat: 1, Device: "a", Now: t0})
	if err == nil {
		t.Fatal("claim against a silent server: no error")
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("claim took %v to fail, want about the read timeout", d)
	}
}

// Takeovers through two nodes: each displaces exactly the device before.
func TestTakeoversFromTwoNodesDisplaceEachOther(t *testing.T) {
	t.Parallel()
	c1, c2 := testClient(t), testClient(t)
	prefix := testPrefix(t, c1)
	s := kiosko.DefaultReadingSettings()
	n1, n2 := redis.NewLeaseEngine(c1, prefix, s), redis.NewLeaseEngine(c2, prefix, s)
	ctx := context.Background()
	at := t0
	var holder string
	for i := 0; i < 50; i++ {
		e, device := n1, "laptop"
		if rand.IntN(2) == 0 {
			e, device = n2, "phone"
		}
		at = at.Add(time.Second)
		res, err := e.Takeover(ctx, kiosko.LeaseClaim{Seat: 9, Device: device, Active: true, Now: at})
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case holder != "" && holder != device && (res.Previous == nil || res.Previous.Device != holder):
			t.Fatalf("takeover %d by %s: Previous %+v, want %s", i, device, res.Previous, holder)
		case (holder == "" || holder == device) && res.Previous != nil:
			t.Fatalf("takeover %d by the holder %s displaced %+v", i, device, *res.Previous)
		}
		holder = device
	}
}

// countHook counts the commands a client sends to Redis, leaving out those
// that set up a new connection of the pool (go-redis runs them through the
// client's hooks too, on whichever call first takes the connection).
type countHook struct{ n atomic.Int64 }

func connSetup(cmd goredis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "auth", "client", "select", "readonly":
		return true
	}
	return false
}

func (h *countHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (h *countHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if !connSetup(cmd) {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (h *countHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		for _, cmd := range cmds {
			if !connSetup(cmd) {
				h.n.Add(1)
			}
		}
		return next(ctx, cmds)
	}
}

// Claims and heartbeats are the hot path: one round trip each.
func TestHotPathIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	c := testClient(t)
	e := redis.NewLeaseEngine(c, testPrefix(t, c), kiosko.DefaultReadingSettings())
	ctx := context.Background()
	if err := e.Preload(ctx); err != nil {
		t.Fatal(err)
	}
	hook := &countHook{}
	c.AddHook(hook)
	lc := kiosko.LeaseClaim{Seat: 1, Device: "a", Active: true, Now: t0}
	calls := []struct {
		name string
		call func() error
	}{
		{"Claim", func() error { _, err := e.Claim(ctx, lc); return err }},
		{"Heartbeat", func() error { _, err := e.Heartbeat(ctx, lc); return err }},
		{"Claim by another device", func() error { lc := lc; lc.Device = "b"; _, err := e.Claim(ctx, lc); return err }},
		{"Takeover", func() error { _, err := e.Takeover(ctx, lc); return err }},
		{"Holder", func() error { _, _, err := e.Holder(ctx, 1, t0); return err }},
		{"Warning", func() error { _, err := e.Warning(ctx, 1); return err }},
	}
	for _, c := range calls {
		before := hook.n.Load()
		if err := c.call(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n := hook.n.Load() - before; n != 1 {
			t.Errorf("%s sent %d commands, want 1", c.name, n)
		}
	}
}
