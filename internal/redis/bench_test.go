package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/redis"
)

// deviceID is what a device cookie holds: 128 random bits, URL-safe
// (kiosko.NewToken), 22 bytes.
func deviceID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// benchParallelism is how many goroutines per CPU call Redis at once: a
// node serving many readers has many requests in flight.
const benchParallelism = 16

// benchLeases runs op from parallel goroutines, each a device on seats of
// its own (held by it already when prepare is set), and reports the
// operations per second.
func benchLeases(b *testing.B, unit string, prepare bool, op func(e *redis.LeaseEngine, lc kiosko.LeaseClaim) error) {
	c := testClient(b)
	e := redis.NewLeaseEngine(c, testPrefix(b, c), kiosko.DefaultReadingSettings())
	ctx := context.Background()
	if err := e.Preload(ctx); err != nil {
		b.Fatal(err)
	}
	const seatsPerG = 500
	devices := make([]string, benchParallelism*runtime.GOMAXPROCS(0))
	for g := range devices {
		devices[g] = deviceID()
		for i := 0; prepare && i < seatsPerG; i++ {
			if _, err := e.Claim(ctx, kiosko.LeaseClaim{Seat: int64(g*seatsPerG + i), Device: devices[g], DeviceName: "Chrome on macOS", Active: true, Now: time.Now()}); err != nil {
				b.Fatal(err)
			}
		}
	}
	var next atomic.Int64
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		g := int(next.Add(1)-1) % len(devices)
		for i := 0; pb.Next(); i++ {
			lc := kiosko.LeaseClaim{Seat: int64(g*seatsPerG + i%seatsPerG), Device: devices[g], DeviceName: "Chrome on macOS", Active: true, Now: time.Now()}
			if err := op(e, lc); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), unit)
}

// Claims of free seats, then of the device's own.
func BenchmarkClaim(b *testing.B) {
	benchLeases(b, "claims/s", false, func(e *redis.LeaseEngine, lc kiosko.LeaseClaim) error {
		_, err := e.Claim(context.Background(), lc)
		return err
	})
}

func BenchmarkHeartbeat(b *testing.B) {
	benchLeases(b, "heartbeats/s", true, func(e *redis.LeaseEngine, lc kiosko.LeaseClaim) error {
		res, err := e.Heartbeat(context.Background(), lc)
		if err == nil && !res.Granted {
			err = fmt.Errorf("heartbeat of seat %d refused", lc.Seat)
		}
		return err
	})
}

func BenchmarkTakeover(b *testing.B) {
	benchLeases(b, "takeovers/s", true, func(e *redis.LeaseEngine, lc kiosko.LeaseClaim) error {
		lc.Device = "other"
		_, err := e.Takeover(context.Background(), lc)
		return err
	})
}

func BenchmarkHolder(b *testing.B) {
	benchLeases(b, "holders/s", true, func(e *redis.LeaseEngine, lc kiosko.LeaseClaim) error {
		_, _, err := e.Holder(context.Background(), lc.Seat, lc.Now)
		return err
	})
}

var (
	memOnce   sync.Once
	memResult struct{ perLease, sample, n float64 }
)

// BenchmarkLeaseMemory fills Redis with held leases (1,000,000, or
// KIOSKO_BENCH_LEASES) through the claim script, as a busy morning would,
// and reports what each takes: used_memory growth divided by the leases
// (everything: key, value, both dict entries, hash table growth), and
// MEMORY USAGE of a sample of keys (key and value only). The keys use a
// prefix as long as production's "kiosko:" and are deleted afterwards.
// It runs once however large b.N is.
//
//	go test -run '^$' -bench LeaseMemory -benchtime 1x ./internal/redis
func BenchmarkLeaseMemory(b *testing.B) {
	testClient(b) // skips without Redis
	n := 1_000_000
	if v := os.Getenv("KIOSKO_BENCH_LEASES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("KIOSKO_BENCH_LEASES: %v", err)
		}
	}
	memOnce.Do(func() {
		// Loading pipelines thousands of scripts per round trip: give it
		// more than the 300 ms that suits a reader's request.
		opt, err := goredis.ParseURL(testURL())
		if err != nil {
			b.Fatal(err)
		}
		opt.ReadTimeout, opt.WriteTimeout = 30*time.Second, 30*time.Second
		redis.ApplyDefaults(opt)
		lc := goredis.NewClient(opt)
		defer lc.Close()
		measureLeaseMemory(b, lc, n)
	})
	if b.Failed() {
		return
	}
	b.ReportMetric(memResult.n, "leases")
	b.ReportMetric(memResult.perLease, "bytes/lease")
	b.ReportMetric(memResult.sample, "usage-bytes/lease")
}

func measureLeaseMemory(b *testing.B, c goredis.UniversalClient, n int) {
	ctx := context.Background()
	p := make([]byte, 3)
	rand.Read(p)
	prefix := "k" + hex.EncodeToString(p) + ":" // 8 bytes, like "kiosko:"
	defer deleteKeys(b, c, prefix)
	e := redis.NewLeaseEngine(c, prefix, kiosko.DefaultReadingSettings())
	if err := e.Preload(ctx); err != nil {
		b.Fatal(err)
	}
	before := usedMemory(b, c)
	now := time.Now()
	start := time.Now()
	const batch = 2000
	for i := 0; i < n; i += batch {
		pipe := c.Pipeline()
		for j := i; j < min(i+batch, n); j++ {
			// Through the real script, so the packing is the production one.
			pipe.EvalSha(ctx, redis.ClaimScriptSHA(), []string{prefix + "l:{" + strconv.Itoa(1_000_000+j) + "}"},
				now.UnixMilli(), int64(90_000), deviceID(), "Chrome on macOS", 1, 0, int64(10_000))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatalf("load leases: %v", err)
		}
	}
	load := time.Since(start)
	after := usedMemory(b, c)
	var sample int64
	const samples = 1000
	for i := 0; i < samples; i++ {
		sample += c.MemoryUsage(ctx, prefix+"l:{"+strconv.Itoa(1_000_000+i*(n/samples))+"}").Val()
	}
	memResult.n = float64(n)
	memResult.perLease = float64(after-before) / float64(n)
	memResult.sample = float64(sample) / samples
	b.Logf("%d leases loaded in %v (%.0f/s); used_memory %d -> %d: %.1f bytes/lease; MEMORY USAGE %.1f bytes/key",
		n, load.Round(time.Millisecond), float64(n)/load.Seconds(), before, after, memResult.perLease, memResult.sample)
}

func usedMemory(b *testing.B, c goredis.UniversalClient) int64 {
	info, err := c.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("INFO memory without used_memory")
	return 0
}
