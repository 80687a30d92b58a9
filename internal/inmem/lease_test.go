package inmem_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/inmem"
	"github.com/kiosko/kiosko/internal/leasetest"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func TestLeaseEngine(t *testing.T) {
	leasetest.Run(t, func(t *testing.T, s kiosko.ReadingSettings) kiosko.LeaseEngine {
		return inmem.NewLeaseEngine(s)
	})
}

func TestLeaseEngineRefusesClaimWithoutDevice(t *testing.T) {
	e := inmem.NewLeaseEngine(kiosko.DefaultReadingSettings())
	ctx := context.Background()
	if _, err := e.Claim(ctx, kiosko.LeaseClaim{Seat: 1, Now: t0}); err == nil {
		t.Error("Claim without a device: no error")
	}
	if _, err := e.Takeover(ctx, kiosko.LeaseClaim{Seat: 1, Now: t0}); err == nil {
		t.Error("Takeover without a device: no error")
	}
	if e.Len() != 0 {
		t.Errorf("refused claims left %d leases", e.Len())
	}
}

func TestSweepForgetsLapsedLeasesAndOldContests(t *testing.T) {
	s := kiosko.DefaultReadingSettings()
	e := inmem.NewLeaseEngine(s)
	ctx := context.Background()
	for seat := int64(1); seat <= 5000; seat++ {
		at := t0
		if seat%2 == 0 {
			at = t0.Add(s.LeaseTTL) // still live when the sweep runs
		}
		if _, err := e.Claim(ctx, kiosko.LeaseClaim{Seat: seat, Device: "d", Now: at}); err != nil {
			t.Fatal(err)
		}
	}
	// Seat 1: old contests only. Seat 2: warned, contests old. Seat 3: a recent contest.
	old := kiosko.Contest{At: t0.Add(-s.SharingWindow), From: "a", To: "b"}
	for seat := int64(1); seat <= 3; seat++ {
		if _, err := e.RecordContest(ctx, seat, old, old.At); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.SetWarning(ctx, 2, old.At); err != nil {
		t.Fatal(err)
	}
	recent := kiosko.Contest{At: t0, From: "b", To: "a"}
	if _, err := e.RecordContest(ctx, 3, recent, old.At); err != nil {
		t.Fatal(err)
	}

	now := t0.Add(s.LeaseTTL + time.Second)
	if got := e.Sweep(now); got != 2500 {
		t.Errorf("Sweep dropped %d leases, want the 2500 lapsed ones", got)
	}
	if e.Len() != 2500 {
		t.Errorf("%d leases left, want 2500", e.Len())
	}
	if l, ok, _ := e.Holder(ctx, 2, now); !ok || l.Device != "d" {
		t.Error("Sweep dropped a live lease")
	}
	if res, _ := e.Claim(ctx, kiosko.LeaseClaim{Seat: 1, Device: "x", Now: now}); !res.Granted || res.Renewed {
		t.Errorf("claim of a swept seat: %+v", res)
	}
	if w, _ := e.Warning(ctx, 2); !w.Set || !w.Since.Equal(old.At) {
		t.Errorf("Sweep touched a warning: %+v", w)
	}
	next := kiosko.Contest{At: now, From: "a", To: "b"}
	for seat, want := range map[int64]int{1: 1, 2: 1, 3: 2} {
		got, _ := e.RecordContest(ctx, seat, next, old.At)
		if len(got) != want {
			t.Errorf("seat %d: %d contests after the sweep and one more, want %d", seat, len(got), want)
		}
	}
}

func TestStartSweepsUntilClose(t *testing.T) {
	s := kiosko.DefaultReadingSettings()
	s.LeaseTTL = 5 * time.Millisecond // also the sweep period
	e := inmem.NewLeaseEngine(s)
	ctx := context.Background()
	done := make(chan struct{})
	go func() { defer close(done); e.Start(ctx) }()
	if _, err := e.Claim(ctx, kiosko.LeaseClaim{Seat: 1, Device: "d", Now: t0}); err != nil {
		t.Fatal(err)
	}
	// The engine's clock moves only with the claims (to t0+1s here), the
	// wall clock is months past t0: a sweeper on the wall clock would drop
	// seat 2's lease too, which the end of the test rules out once the
	// sweeper has shown it runs by dropping seat 1's.
	if _, err := e.Claim(ctx, kiosko.LeaseClaim{Seat: 2, Device: "d", Now: t0.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); e.Len() != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the sweeper never dropped the lapsed lease")
		}
	}
	if _, ok, _ := e.Holder(ctx, 2, t0.Add(time.Second)); !ok {
		t.Fatal("the sweeper dropped the live lease")
	}
	e.Close()
	e.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Start did not return after Close")
	}
}

// deviceID returns a device id shaped like the cookie's: 128 random bits in
// unpadded base64url, 22 characters.
func deviceID(r *rand.Rand) string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], r.Uint64())
	binary.LittleEndian.PutUint64(b[8:], r.Uint64())
	return base64.RawURLEncoding.EncodeToString(b[:])
}

var deviceNames = []string{"Chrome on Windows", "Safari on iPhone", "Chrome on Android", "Firefox on Linux",
	"Safari on Mac", "Edge on Windows", "kiosko app on iPad", "Chrome on Mac"}

// BenchmarkClaim measures claims that grant a new lease, each on its own
// seat, from every core at once.
func BenchmarkClaim(b *testing.B) {
	e := inmem.NewLeaseEngine(kiosko.DefaultReadingSettings())
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	devices := make([]string, 4096)
	for i := range devices {
		devices[i] = deviceID(r)
	}
	var seats atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			seat := seats.Add(1)
			res, err := e.Claim(ctx, kiosko.LeaseClaim{Seat: seat, Device: devices[seat%4096],
				DeviceName: deviceNames[seat%8], Active: true, Now: t0})
			if err != nil || !res.Granted {
				b.Fatalf("claim of a free seat: %+v, %v", res, err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
}

// BenchmarkHeartbeat measures heartbeats renewing held leases spread over
// many seats, from every core at once.
func BenchmarkHeartbeat(b *testing.B) {
	const held = 1 << 18
	e := inmem.NewLeaseEngine(kiosko.DefaultReadingSettings())
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	devices := make([]string, held)
	for seat := range devices {
		devices[seat] = deviceID(r)
		if _, err := e.Claim(ctx, kiosko.LeaseClaim{Seat: int64(seat), Device: devices[seat],
			DeviceName: deviceNames[seat%8], Active: true, Now: t0}); err != nil {
			b.Fatal(err)
		}
	}
	var goroutines atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(goroutines.Add(1), 7))
		now := t0.Add(30 * time.Second)
		for pb.Next() {
			seat := r.IntN(held)
			res, err := e.Heartbeat(ctx, kiosko.LeaseClaim{Seat: int64(seat), Device: devices[seat],
				DeviceName: deviceNames[seat%8], Active: true, Now: now})
			if err != nil || !res.Granted {
				b.Fatalf("heartbeat of the holder: %+v, %v", res, err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "heartbeats/s")
}

// BenchmarkHeldLeaseMemory measures the heap one million held leases take.
// It only runs with -bench; use -benchtime=1x.
func BenchmarkHeldLeaseMemory(b *testing.B) {
	const n = 1_000_000
	ctx := context.Background()
	var perLease float64
	for i := 0; i < b.N; i++ {
		r := rand.New(rand.NewPCG(1, uint64(i)))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		e := inmem.NewLeaseEngine(kiosko.DefaultReadingSettings())
		for seat := int64(1); seat <= n; seat++ {
			if _, err := e.Claim(ctx, kiosko.LeaseClaim{Seat: seat, Device: deviceID(r),
				DeviceName: deviceNames[seat%8], Active: true, Now: t0}); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perLease = float64(after.HeapAlloc-before.HeapAlloc) / n
		if e.Len() != n {
			b.Fatalf("%d leases held, want %d", e.Len(), n)
		}
		runtime.KeepAlive(e)
	}
	b.ReportMetric(perLease, "bytes/lease")
	if perLease > 200 {
		b.Errorf("%.0f bytes per held lease, over the budget of 200", perLease)
	}
}
