package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kiosko/kiosko/internal/redis"
)

// testURL is the Redis the tests use: KIOSKO_TEST_REDIS, or the one on the
// dev machines.
func testURL() string {
	if u := os.Getenv("KIOSKO_TEST_REDIS"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// testClient returns a client with the production settings (NewClient) for
// the test Redis, but for its timeouts: the production 300 ms are for a
// Redis next to the node, and a shared CI machine under the race detector
// stalls longer than that now and then. The tests that check failing fast
// make clients of their own with the production timeouts. Without Redis
// the test is skipped, unless KIOSKO_REQUIRE_SERVICES=1 says it must run.
func testClient(tb testing.TB) goredis.UniversalClient {
	tb.Helper()
	c, err := redis.NewClient(withTestTimeouts(testURL()))
	if err != nil {
		tb.Fatalf("KIOSKO_TEST_REDIS: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		msg := "Redis not reachable at " + testURL() + " (set KIOSKO_TEST_REDIS, or start redis-server): " + err.Error()
		if os.Getenv("KIOSKO_REQUIRE_SERVICES") == "1" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	return c
}

// withTestTimeouts adds generous timeouts to a Redis URL that sets none.
func withTestTimeouts(u string) string {
	for _, p := range []string{"dial_timeout", "read_timeout", "write_timeout", "pool_timeout"} {
		if !strings.Contains(u, p+"=") {
			if strings.Contains(u, "?") {
				u += "&"
			} else {
				u += "?"
			}
			u += p + "=10s"
		}
	}
	return u
}

// testPrefix returns a key prefix of the test's own, and deletes every key
// under it when the test ends.
func testPrefix(tb testing.TB, c goredis.UniversalClient) string {
	tb.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	prefix := "kiosko-test:" + hex.EncodeToString(b) + ":"
	tb.Cleanup(func() { deleteKeys(tb, c, prefix) })
	return prefix
}

func deleteKeys(tb testing.TB, c goredis.UniversalClient, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 10000).Iterator()
	var batch []string
	flush := func() {
		if len(batch) > 0 {
			if err := c.Unlink(ctx, batch...).Err(); err != nil {
				tb.Errorf("cleanup of %s*: %v", prefix, err)
			}
			batch = batch[:0]
		}
	}
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			flush()
		}
	}
	flush()
	if err := iter.Err(); err != nil {
		tb.Errorf("cleanup of %s*: %v", prefix, err)
	}
}

// closedPort returns an address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// silentServer returns the address of a server that accepts connections
// and never answers: Redis stuck, or a network that drops packets.
func silentServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

func TestNewClientAppliesFailFastSettings(t *testing.T) {
	c, err := redis.NewClient("redis://127.0.0.1:6379/3")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	opt := c.(*goredis.Client).Options()
	if opt.DB != 3 || opt.Addr != "127.0.0.1:6379" {
		t.Errorf("addr %s db %d, want 127.0.0.1:6379 db 3", opt.Addr, opt.DB)
	}
	if opt.DialTimeout != redis.DefaultDialTimeout || opt.ReadTimeout != redis.DefaultReadTimeout ||
		opt.WriteTimeout != redis.DefaultWriteTimeout || opt.PoolTimeout != redis.DefaultPoolTimeout {
		t.Errorf("timeouts dial %v read %v write %v pool %v, want the fail-fast defaults",
			opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout)
	}
	if opt.MaxRetries != 0 {
		t.Errorf("MaxRetries %d after go-redis normalized it, want 0 (retries disabled)", opt.MaxRetries)
	}
	if !opt.ContextTimeoutEnabled {
		t.Error("context deadlines are ignored")
	}

	// The URL's own settings win.
	c2, err := redis.NewClient("redis://127.0.0.1:6379/0?read_timeout=2s&pool_size=7")
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if opt := c2.(*goredis.Client).Options(); opt.ReadTimeout != 2*time.Second || opt.PoolSize != 7 {
		t.Errorf("URL settings lost: read timeout %v pool size %d", opt.ReadTimeout, opt.PoolSize)
	}

	for _, bad := range []string{"", "http://127.0.0.1:6379", "redis://127.0.0.1:6379/notadb"} {
		if _, err := redis.NewClient(bad); err == nil {
			t.Errorf("NewClient(%q): no error", bad)
		} else if !strings.HasPrefix(err.Error(), "redis: ") {
			t.Errorf("NewClient(%q): error %q lacks the package prefix", bad, err)
		}
	}
}
