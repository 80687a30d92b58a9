package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/inmem"
)

// subscribeWait bounds how long NewHub waits for Redis to confirm the
// subscription. When Redis is down at start the hub still works locally and
// go-redis subscribes as soon as Redis answers.
const subscribeWait = 2 * time.Second

var _ kiosko.Hub = (*Hub)(nil)

// Hub is a kiosko.Hub shared by every node: Publish sends a notice to one
// Redis channel, and each node holds one subscription to it that hands
// notices to the event streams open on that node (an inmem.Hub, so a slow
// page never holds up the others or Redis).
//
// One channel for all accounts keeps Subscribe free of round trips and
// ordering simple; every node sees every notice, which is a few hundred
// bytes per takeover, password change or warning. Pub/sub delivers at most
// once: a notice published while a node is cut off from Redis is lost for
// it, and its pages learn their state at their next heartbeat.
type Hub struct {
	client  goredis.UniversalClient
	channel string
	local   *inmem.Hub
	ps      *goredis.PubSub
	done    chan struct{}
	closed  atomic.Bool
	once    sync.Once

	received, malformed atomic.Int64
}

// NewHub subscribes to the notices channel under prefix and returns a hub
// that delivers them to this node's subscribers. The subscription is in
// effect when NewHub returns (unless Redis is unreachable; go-redis then
// keeps trying, and resubscribes by itself after any disconnection).
func NewHub(client goredis.UniversalClient, prefix string) *Hub {
	h := &Hub{
		client:  client,
		channel: prefix + "notices",
		local:   inmem.NewHub(),
		done:    make(chan struct{}),
	}
	ctx, cancel := context.WithTimeout(context.Background(), subscribeWait)
	defer cancel()
	h.ps = client.Subscribe(ctx, h.channel)
	if _, err := h.ps.Receive(ctx); err != nil {
		slog.Warn("redis hub: subscribe; retrying in the background", "channel", h.channel, "err", err)
	}
	// The channel's health check pings every few seconds, so a dead
	// connection is noticed and replaced even when no notice flows.
	msgs := h.ps.Channel(goredis.WithChannelSize(1024), goredis.WithChannelHealthCheckInterval(3*time.Second))
	go h.run(msgs)
	return h
}

func (h *Hub) run(msgs <-chan *goredis.Message) {
	defer close(h.done)
	for m := range msgs {
		var n kiosko.Notice
		if err := json.Unmarshal([]byte(m.Payload), &n); err != nil {
			h.malformed.Add(1)
			continue
		}
		h.received.Add(1)
		h.local.Publish(context.Background(), n)
	}
}

var errHubClosed = errors.New("redis: hub closed")

// Publish sends n to every node. If Redis cannot take it, n still reaches
// this node's subscribers, and the error is returned to be logged.
func (h *Hub) Publish(ctx context.Context, n kiosko.Notice) error {
	if h.closed.Load() {
		return errHubClosed
	}
	b, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("redis: publish: %w", err)
	}
	if err := h.client.Publish(ctx, h.channel, b).Err(); err != nil {
		h.local.Publish(ctx, n)
		return fmt.Errorf("redis: publish %s: %w", n.Kind, err)
	}
	return nil
}

// Subscribe returns the notices for one device of an account, account-wide
// ones included, published on any node. cancel closes the channel.
func (h *Hub) Subscribe(accountID int64, device string) (<-chan kiosko.Notice, func()) {
	return h.local.Subscribe(accountID, device)
}

// SubscribeFunc is inmem.Hub's SubscribeFunc, for notices published on any
// node.
func (h *Hub) SubscribeFunc(accountID int64, device string, fn func(kiosko.Notice)) (cancel func()) {
	return h.local.SubscribeFunc(accountID, device, fn)
}

// Received returns how many notices this node got from Redis.
func (h *Hub) Received() int64 { return h.received.Load() }

// Dropped returns how many notices were dropped because a page on this node
// did not keep up.
func (h *Hub) Dropped() int64 { return h.local.Dropped() }

// Subscribers returns how many event streams are open on this node.
func (h *Hub) Subscribers() int { return h.local.Subscribers() }

// Close ends the subscription. Open event streams get nothing more; their
// channels close when they cancel.
func (h *Hub) Close() error {
	var err error
	h.once.Do(func() {
		h.closed.Store(true)
		err = h.ps.Close()
		<-h.done
	})
	return err
}
