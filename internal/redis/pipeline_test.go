package redis_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/redis"
)

// pipeHook records the size of every pipeline a client sends.
type pipeHook struct {
	largest atomic.Int64
}

func (h *pipeHook) DialHook(next goredis.DialHook) goredis.DialHook          { return next }
func (h *pipeHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook { return next }
func (h *pipeHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		for n := int64(len(cmds)); ; {
			old := h.largest.Load()
			if n <= old || h.largest.CompareAndSwap(old, n) {
				break
			}
		}
		return next(ctx, cmds)
	}
}

// Concurrent claims and heartbeats go to Redis together, each caller gets
// its own reply, and a script Redis does not know (after a restart or
// SCRIPT FLUSH) is sent again with EVAL within the batch.
func TestConcurrentCallsArePipelined(t *testing.T) {
	t.Parallel()
	c := testClient(t)
	e := redis.NewLeaseEngine(c, testPrefix(t, c), kiosko.DefaultReadingSettings())
	redis.UseUnloadedClaimScript(e)
	hook := &pipeHook{}
	c.AddHook(hook)
	ctx := context.Background()
	const callers = 64
	for round := 0; round < 50 && hook.largest.Load() < 2; round++ {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < callers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				seat := int64(round*callers + i)
				dev := fmt.Sprint("d", i)
				lc := kiosko.LeaseClaim{Seat: seat, Device: dev, DeviceName: fmt.Sprint("name ", i), Active: true, Now: t0}
				<-start
				res, err := e.Claim(ctx, lc)
				if err != nil || !res.Granted || res.Holder.Device != dev || res.Holder.Seat != seat || res.Renewed {
					t.Errorf("claim of seat %d: %+v, %v", seat, res, err)
					return
				}
				lc.Now = t0.Add(time.Second)
				res, err = e.Heartbeat(ctx, lc)
				if err != nil || !res.Granted || res.Holder.Device != dev || !res.Renewed || !res.Holder.LastSeen.Equal(lc.Now) {
					t.Errorf("heartbeat of seat %d: %+v, %v", seat, res, err)
				}
				lc.Device = "other"
				res, err = e.Heartbeat(ctx, lc)
				if err != nil || res.Granted || res.Holder.Device != dev {
					t.Errorf("heartbeat of seat %d by another device: %+v, %v", seat, res, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if t.Failed() {
			return
		}
	}
	if hook.largest.Load() < 2 {
		t.Fatal("no two concurrent calls were ever sent in one pipeline")
	}
}

// A caller whose context ends returns at once with the context's error,
// even while its batch waits for Redis.
func TestPipelinedCallRespectsItsContext(t *testing.T) {
	t.Parallel()
	c, err := redis.NewClient("redis://" + silentServer(t) + "/0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	e := redis.NewLeaseEngine(c, "kiosko-test-ctx:", kiosko.DefaultReadingSettings())
	lc := kiosko.LeaseClaim{Seat: 1, Device: "a", Now: t0}

	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Heartbeat(canceled, lc); !errors.Is(err, context.Canceled) {
		t.Fatalf("heartbeat with a canceled context: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lc := lc
			lc.Seat = int64(i)
			_, errs[i] = e.Claim(ctx, lc)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("claim %d: %v, want the context's deadline", i, err)
		}
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("claims returned after %v, want about the context's 50 ms", d)
	}
}

// A batch whose EVALSHA meets NOSCRIPT (Redis restarted, SCRIPT FLUSH) is
// sent again with EVAL, and every call gets its own answer.
func TestPipelinedBatchFallsBackToEval(t *testing.T) {
	t.Parallel()
	c := testClient(t)
	e := redis.NewLeaseEngine(c, testPrefix(t, c), kiosko.DefaultReadingSettings())
	redis.UseUnloadedClaimScript(e)
	hook := &pipeHook{}
	c.AddHook(hook)
	claims := []kiosko.LeaseClaim{
		{Seat: 1, Device: "a", Now: t0},
		{Seat: 1, Device: "b", Now: t0}, // same seat, after a: refused
		{Seat: 2, Device: "b", Now: t0},
		{Seat: 1, Device: "a", Now: t0.Add(time.Second)},
	}
	granted, errs := redis.FlushBatch(context.Background(), e, claims)
	want := []bool{true, false, true, true}
	for i := range claims {
		if errs[i] != nil || granted[i] != want[i] {
			t.Errorf("call %d (%+v): granted %v, %v; want %v", i, claims[i], granted[i], errs[i], want[i])
		}
	}
	if hook.largest.Load() != int64(len(claims)) {
		t.Errorf("largest pipeline %d commands, want %d", hook.largest.Load(), len(claims))
	}
}

// With Redis hanging, many queued calls without deadlines still fail
// fast: none waits behind batch after batch of read timeouts.
func TestQueuedCallsFailFastWhenRedisHangs(t *testing.T) {
	t.Parallel()
	c, err := redis.NewClient("redis://" + silentServer(t) + "/0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	e := redis.NewLeaseEngine(c, "kiosko-test-hang-queue:", kiosko.DefaultReadingSettings())
	const callers = 2000
	var wg sync.WaitGroup
	start := time.Now()
	durations := make([]time.Duration, callers)
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.Heartbeat(context.Background(), kiosko.LeaseClaim{Seat: int64(i), Device: "a", Now: t0})
			durations[i] = time.Since(start)
			if err == nil {
				t.Errorf("heartbeat %d against a silent server: no error", i)
			}
		}()
	}
	wg.Wait()
	for i, d := range durations {
		if d > 1500*time.Millisecond {
			t.Fatalf("heartbeat %d failed after %v, want about the pool and read timeouts", i, d)
		}
	}
}
