package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kiosko/kiosko"
)

// changePing is how often a quiet change subscription is checked, and
// changeSilence how long without a word from Redis makes it not live.
const (
	changePing    = 500 * time.Millisecond
	changeSilence = 1500 * time.Millisecond
)

// ChangeFeed is a kiosko.ChangeFeed over one Redis pub/sub channel shared
// by every node and the command line. Pub/sub delivers at most once, so
// the feed is live only while its subscription is known to be in place:
// it pings Redis when the channel is quiet, is not live once Redis has
// been silent for changeSilence, and when it subscribes again it delivers
// a change of every account, since it may have missed some.
type ChangeFeed struct {
	client  goredis.UniversalClient
	channel string
	ps      *goredis.PubSub // nil: publishes only (the command line)
	own     bool            // Close closes the client
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once

	mu        sync.Mutex
	listeners []func(kiosko.Change)

	subscribed atomic.Bool
	heard      atomic.Int64 // unix nanos of the last word from Redis
}

var _ kiosko.ChangeFeed = (*ChangeFeed)(nil)

// NewChangePublisher returns a feed that only publishes, for the command
// line; Close closes the client too.
func NewChangePublisher(client goredis.UniversalClient, prefix string) *ChangeFeed {
	return &ChangeFeed{client: client, channel: prefix + "changes", own: true}
}

// NewChangeFeed subscribes to the changes channel under prefix. Register
// listeners with Listen before changes matter; Close ends the subscription.
func NewChangeFeed(client goredis.UniversalClient, prefix string) *ChangeFeed {
	f := &ChangeFeed{client: client, channel: prefix + "changes"}
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel, f.done = cancel, make(chan struct{})
	f.ps = client.Subscribe(ctx, f.channel)
	go f.run(ctx)
	return f
}

// Listen registers fn for every change from now on.
func (f *ChangeFeed) Listen(fn func(kiosko.Change)) {
	f.mu.Lock()
	f.listeners = append(f.listeners, fn)
	f.mu.Unlock()
}

func (f *ChangeFeed) deliver(c kiosko.Change) {
	f.mu.Lock()
	ls := f.listeners
	f.mu.Unlock()
	for _, fn := range ls {
		fn(c)
	}
}

// PublishChange hands c to this process's listeners at once, then to
// every other node through Redis.
func (f *ChangeFeed) PublishChange(ctx context.Context, c kiosko.Change) error {
	f.deliver(c)
	if err := f.client.Publish(ctx, f.channel, c.String()).Err(); err != nil {
		return fmt.Errorf("redis: publish change: %w", err)
	}
	return nil
}

// Live reports whether the subscription is in place and Redis was heard
// from recently.
func (f *ChangeFeed) Live() bool {
	return f.ps != nil && f.subscribed.Load() && time.Since(time.Unix(0, f.heard.Load())) < changeSilence
}

func (f *ChangeFeed) run(ctx context.Context) {
	defer close(f.done)
	for ctx.Err() == nil {
		msg, err := f.ps.ReceiveTimeout(ctx, changePing)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				_ = f.ps.Ping(ctx) // the Pong is the next thing received
				continue
			}
			// The connection broke: go-redis connects and subscribes
			// again on the next receive.
			f.subscribed.Store(false)
			if ctx.Err() == nil {
				slog.Warn("redis change feed: receive; caches use short TTLs until it is back", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(100 * time.Millisecond):
				}
			}
			continue
		}
		f.heard.Store(time.Now().UnixNano())
		switch m := msg.(type) {
		case *goredis.Subscription:
			if m.Kind == "subscribe" {
				// Whatever was published while we were away is lost.
				f.deliver(kiosko.Change{})
				f.subscribed.Store(true)
			}
		case *goredis.Message:
			f.deliver(kiosko.ParseChange(m.Payload))
		}
	}
}

// Close ends the subscription.
func (f *ChangeFeed) Close() error {
	var err error
	f.once.Do(func() {
		if f.ps == nil {
			if f.own {
				err = f.client.Close()
			}
			return
		}
		f.subscribed.Store(false)
		f.cancel()
		err = f.ps.Close()
		<-f.done
	})
	return err
}
