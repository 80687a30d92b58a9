package redis_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/leasetest"
	"github.com/kiosko/kiosko/internal/redis"
)

// Two engines (two nodes, each with its own connections) on one Redis:
// concurrent histories on shared seats, checked with porcupine.
//
// Not parallel: it keeps the shared Redis busy, and other tests' clients
// would time out waiting for it.
func TestLeaseEngineIsLinearizableAcrossTwoNodes(t *testing.T) {
	c1, c2 := testClient(t), testClient(t)
	prefix := testPrefix(t, c1)
	s := kiosko.DefaultReadingSettings()
	engines := []kiosko.LeaseEngine{redis.NewLeaseEngine(c1, prefix, s), redis.NewLeaseEngine(c2, prefix, s)}
	o := leasetest.LinearOptions{Histories: 1000, Parallel: 16, Clients: 6, OpsPerSeat: 6}
	if testing.Short() {
		o.Histories = 200
	}
	calls, _ := leasetest.CheckLinearizable(t, engines, s.LeaseTTL, o)
	t.Logf("%d histories, %d calls: linearizable", o.Histories, calls)
}

// The same, with the Redis both nodes use restarted in the middle. The
// test starts a redis-server of its own (append-only file, fsync on every
// write, so an answered write survives) and restarts that one, never the
// shared one. Calls that fail during the restart may or may not have taken
// effect; porcupine allows both.
func TestLeaseEngineIsLinearizableAcrossARedisRestart(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	dir := t.TempDir()
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			t.Logf("redis log:\n%s", b)
		}
	})
	port := freePort(t)
	var cmd *exec.Cmd
	start := func() {
		cmd = exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", "always",
			"--save", "", "--protected-mode", "no", "--logfile", filepath.Join(dir, "redis.log"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitListening(t, "127.0.0.1:"+port)
	}
	stop := func() {
		_ = cmd.Process.Kill() // as abrupt as a crash; the fsynced log keeps every answered write
		_ = cmd.Wait()
	}
	start()
	t.Cleanup(stop)

	url := "redis://127.0.0.1:" + port + "/0"
	c1, err := redis.NewClient(url)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := redis.NewClient(url)
	defer c1.Close()
	defer c2.Close()
	s := kiosko.DefaultReadingSettings()
	engines := []kiosko.LeaseEngine{redis.NewLeaseEngine(c1, "lin:", s), redis.NewLeaseEngine(c2, "lin:", s)}
	o := leasetest.LinearOptions{Histories: 600, Parallel: 16, Clients: 6, OpsPerSeat: 6, Disrupt: func() {
		stop()
		time.Sleep(200 * time.Millisecond) // Redis stays down a moment: calls meanwhile fail
		start()
		// The clients back off after failed dials; wait until both answer.
		for _, c := range []interface {
			Ping(context.Context) *goredis.StatusCmd
		}{c1, c2} {
			deadline := time.Now().Add(10 * time.Second)
			for c.Ping(context.Background()).Err() != nil {
				if time.Now().After(deadline) {
					t.Error("a client never reconnected after the restart")
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}}
	if testing.Short() {
		o.Histories = 150
	}
	calls, unknown := leasetest.CheckLinearizable(t, engines, s.LeaseTTL, o)
	t.Logf("%d histories, %d calls (%d failed during the restart): linearizable", o.Histories, calls, unknown)
	// The restart happened while histories ran: both nodes answer again.
	for _, e := range engines {
		if _, err := e.Claim(context.Background(), kiosko.LeaseClaim{Seat: 1, Device: "after", Now: time.Now()}); err != nil {
			t.Fatalf("an engine does not answer after the restart: %v", err)
		}
	}
}

func freePort(t *testing.T) string {
	_, port, _ := net.SplitHostPort(closedPort(t))
	return port
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server never listened on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
