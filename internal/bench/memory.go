package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/inmem"
	kredis "github.com/kiosko/kiosko/internal/redis"
)

// deviceNames are what a busy morning's leases are named after.
var deviceNames = [...]string{"Chrome on Windows", "Safari on iPhone", "Chrome on Android", "Safari on macOS",
	"Firefox on Windows", "Edge on Windows", "Kiosko app on Android", "Kiosko app on iPhone"}

// deviceID is what a device cookie holds: 128 random bits, URL-safe, as
// kiosko.NewDeviceID makes them.
func deviceID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "d_" + base64.RawURLEncoding.EncodeToString(b)
}

// InmemLeaseBytes fills an in-memory lease engine with n held leases, each
// of its own seat and device, and returns the heap they take per lease.
func InmemLeaseBytes(n int) (float64, error) {
	ctx := context.Background()
	now := time.Now()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	e := inmem.NewLeaseEngine(kiosko.DefaultReadingSettings())
	for seat := int64(1); seat <= int64(n); seat++ {
		if _, err := e.Claim(ctx, kiosko.LeaseClaim{Seat: seat, Device: deviceID(), DeviceName: deviceNames[seat%8], Active: true, Now: now}); err != nil {
			return 0, err
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if e.Len() != n {
		return 0, fmt.Errorf("bench: %d leases held, want %d", e.Len(), n)
	}
	runtime.KeepAlive(e)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n), nil
}

// RedisLeaseBytes claims n leases through the Redis engine (the production
// script and packing) under a prefix of its own, as long as "kiosko:", and
// returns Redis's used_memory growth per lease: key, value, dictionary
// entries and table growth. The keys are deleted afterwards.
func RedisLeaseBytes(ctx context.Context, url string, n int) (float64, error) {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return 0, err
	}
	kredis.ApplyDefaults(opt)
	opt.ReadTimeout, opt.WriteTimeout = 10*time.Second, 10*time.Second
	opt.PoolSize = 64
	c := goredis.NewClient(opt)
	defer c.Close()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	prefix := fmt.Sprintf("k%x:", b) // 8 bytes, like "kiosko:"
	defer func() { _, _ = DeleteKeys(context.Background(), c, prefix) }()
	e := kredis.NewLeaseEngine(c, prefix, kiosko.DefaultReadingSettings())
	if err := e.Preload(ctx); err != nil {
		return 0, err
	}
	before, err := usedMemory(ctx, c)
	if err != nil {
		return 0, err
	}
	now := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				seat := next.Add(1)
				if seat > int64(n) || ctx.Err() != nil {
					return
				}
				if _, err := e.Claim(ctx, kiosko.LeaseClaim{Seat: 1_000_000 + seat, Device: deviceID(), DeviceName: deviceNames[seat%8], Active: true, Now: now}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, fmt.Errorf("bench: claim in Redis: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	after, err := usedMemory(ctx, c)
	if err != nil {
		return 0, err
	}
	return float64(after-before) / float64(n), nil
}

func usedMemory(ctx context.Context, c goredis.UniversalClient) (int64, error) {
	info, err := c.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("bench: no used_memory in INFO memory")
}
