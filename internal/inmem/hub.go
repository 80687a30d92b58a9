package inmem

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/kiosko/kiosko"
)

// DefaultHubBuffer is how many notices wait for a slow page before new ones
// are dropped.
const DefaultHubBuffer = 16

var _ kiosko.Hub = (*Hub)(nil)

// Hub carries notices to the event streams of one process. Publish never
// waits for a page: when a subscriber's buffer is full the notice is
// dropped for it and counted (a page that misses a push still learns its
// state from its next heartbeat).
type Hub struct {
	buffer  int
	mu      sync.RWMutex
	subs    map[int64]map[*subscriber]struct{} // by account
	dropped atomic.Int64
}

type subscriber struct {
	device string
	ch     chan kiosko.Notice
	fn     func(kiosko.Notice) // instead of ch (SubscribeFunc)
}

// NewHub returns a hub with DefaultHubBuffer notices of buffer per
// subscriber.
func NewHub() *Hub { return NewHubSize(DefaultHubBuffer) }

// NewHubSize returns a hub with buffer notices of buffer per subscriber.
func NewHubSize(buffer int) *Hub {
	return &Hub{buffer: max(buffer, 1), subs: make(map[int64]map[*subscriber]struct{})}
}

// Subscribe returns the notices for one device of an account, account-wide
// ones included. Every tab of a device subscribes on its own and gets every
// notice. cancel closes the channel; calling it again does nothing.
func (h *Hub) Subscribe(accountID int64, device string) (<-chan kiosko.Notice, func()) {
	sub := &subscriber{device: device, ch: make(chan kiosko.Notice, h.buffer)}
	return sub.ch, h.add(accountID, sub)
}

// SubscribeFunc is Subscribe for a subscriber with no goroutine of its
// own waiting on a channel: Publish calls fn, which must not block (it
// queues the notice). cancel stops the calls; calling it again does
// nothing.
func (h *Hub) SubscribeFunc(accountID int64, device string, fn func(kiosko.Notice)) (cancel func()) {
	return h.add(accountID, &subscriber{device: device, fn: fn})
}

func (h *Hub) add(accountID int64, sub *subscriber) (cancel func()) {
	h.mu.Lock()
	subs := h.subs[accountID]
	if subs == nil {
		subs = make(map[*subscriber]struct{})
		h.subs[accountID] = subs
	}
	subs[sub] = struct{}{}
	h.mu.Unlock()

	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			// An account's map leaves h.subs only once empty, so sub is
			// in the current one.
			cur := h.subs[accountID]
			delete(cur, sub)
			if len(cur) == 0 {
				delete(h.subs, accountID)
			}
			h.mu.Unlock()
			// Publish sends only under the read lock and sub is gone, so
			// nothing can send on the channel any more.
			if sub.ch != nil {
				close(sub.ch)
			}
		})
	}
}

// Publish hands n to the subscribed devices of its account: the one named by
// n.Device, or all of them when it is empty. It never blocks.
func (h *Hub) Publish(_ context.Context, n kiosko.Notice) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for sub := range h.subs[n.AccountID] {
		if n.Device != "" && n.Device != sub.device {
			continue
		}
		if sub.fn != nil {
			sub.fn(n)
			continue
		}
		select {
		case sub.ch <- n:
		default:
			h.dropped.Add(1)
		}
	}
	return nil
}

// Dropped returns how many notices were dropped because a page did not
// keep up.
func (h *Hub) Dropped() int64 { return h.dropped.Load() }

// Subscribers returns how many event streams are open.
func (h *Hub) Subscribers() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for _, subs := range h.subs {
		n += len(subs)
	}
	return n
}
