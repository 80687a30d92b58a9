package redis_test

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/redis"
)

// recorder collects the changes a feed delivers.
type recorder struct {
	mu  sync.Mutex
	got []kiosko.Change
	ch  chan struct{}
}

func newRecorder() *recorder { return &recorder{ch: make(chan struct{}, 100)} }

func (r *recorder) listen(c kiosko.Change) {
	r.mu.Lock()
	r.got = append(r.got, c)
	r.mu.Unlock()
	r.ch <- struct{}{}
}

// waitFor waits (generously, for a busy machine) until want was delivered.
func (r *recorder) waitFor(t *testing.T, want kiosko.Change) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		for _, c := range r.got {
			if c == want {
				r.mu.Unlock()
				return
			}
		}
		r.mu.Unlock()
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("change %+v never arrived; got %+v", want, r.got)
		}
	}
}

func waitLive(t *testing.T, f *redis.ChangeFeed, want bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f.Live() != want {
		if time.Now().After(deadline) {
			t.Fatalf("feed live = %v, want %v", f.Live(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A change published by the command line's publisher, or by another node,
// reaches every node's listeners; the publishing node hears its own at once.
func TestChangeFeedAcrossNodes(t *testing.T) {
	t.Parallel()
	c1, c2 := testClient(t), testClient(t)
	prefix := testPrefix(t, c1)
	node1, node2 := redis.NewChangeFeed(c1, prefix), redis.NewChangeFeed(c2, prefix)
	defer node1.Close()
	defer node2.Close()
	r1, r2 := newRecorder(), newRecorder()
	node1.Listen(r1.listen)
	node2.Listen(r2.listen)
	waitLive(t, node1, true)
	waitLive(t, node2, true)

	ctx := context.Background()
	if err := node1.PublishChange(ctx, kiosko.Change{Account: 42}); err != nil {
		t.Fatal(err)
	}
	r1.waitFor(t, kiosko.Change{Account: 42})
	r2.waitFor(t, kiosko.Change{Account: 42})

	cli := redis.NewChangePublisher(testClient(t), prefix)
	if cli.Live() {
		t.Fatal("a publisher that listens to nothing says it is live")
	}
	if err := cli.PublishChange(ctx, kiosko.Change{Account: 7}); err != nil {
		t.Fatal(err)
	}
	r1.waitFor(t, kiosko.Change{Account: 7})
	r2.waitFor(t, kiosko.Change{Account: 7})

	node2.Close()
	if node2.Live() {
		t.Fatal("a closed feed says it is live")
	}
}

// A feed whose connection dies subscribes again and then delivers a change
// of every account (whatever was published meanwhile is lost), and is
// live again.
func TestChangeFeedForgetsEverythingAfterReconnecting(t *testing.T) {
	t.Parallel()
	c := testClient(t)
	prefix := testPrefix(t, c)
	opt, err := goredis.ParseURL(withTestTimeouts(testURL()))
	if err != nil {
		t.Fatal(err)
	}
	redis.ApplyDefaults(opt)
	opt.ClientName = "kiosko-test-changes-" + strings.TrimSuffix(strings.TrimPrefix(prefix, "kiosko-test:"), ":")
	sc := goredis.NewClient(opt)
	defer sc.Close()
	f := redis.NewChangeFeed(sc, prefix)
	defer f.Close()
	rec := newRecorder()
	f.Listen(rec.listen)
	waitLive(t, f, true)
	rec.mu.Lock()
	rec.got = nil
	rec.mu.Unlock()

	ctx := context.Background()
	list, err := c.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	sc2 := bufio.NewScanner(strings.NewReader(list))
	for sc2.Scan() {
		line := sc2.Text()
		if strings.Contains(line, " name="+opt.ClientName+" ") && !strings.Contains(line, " sub=0 ") {
			var id int64
			if _, err := fmt.Sscanf(line, "id=%d", &id); err != nil {
				t.Fatalf("CLIENT LIST line %q: %v", line, err)
			}
			if err := c.ClientKillByFilter(ctx, "ID", fmt.Sprint(id)).Err(); err != nil {
				t.Fatal(err)
			}
			killed++
		}
	}
	if killed == 0 {
		t.Fatal("found no subscription connection to kill")
	}
	rec.waitFor(t, kiosko.Change{})
	waitLive(t, f, true)
	if err := c.Publish(ctx, prefix+"changes", "9").Err(); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, kiosko.Change{Account: 9})
}
