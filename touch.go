package kiosko

import (
	"context"
	"sync"
	"time"
)

// SessionTouch moves one session's LastSeenAt and IdleExpiry forward.
type SessionTouch struct {
	ID         int64
	LastSeen   time.Time
	IdleExpiry time.Time
}

// SessionToucher is a store that writes many touches in one transaction.
// Stores without it get one TouchSession per touch.
type SessionToucher interface {
	TouchSessions(ctx context.Context, touches []SessionTouch) error
}

// touchDelay is how long touches gather before they are written. A cached
// session's touch changes only the database's copy of LastSeenAt and
// IdleExpiry (the cache has the new ones at once), so nobody waits for it.
const touchDelay = time.Second

// touchQueue gathers the touches of cached sessions, so a heartbeat never
// waits for the database's writer: at 100,000 pages each due a touch once a
// minute, that would be 1,700 writes a second, one at a time.
type touchQueue struct {
	mu      sync.Mutex
	pending map[int64]SessionTouch
	running bool // a writer goroutine is gathering
	closed  bool // FlushTouches ran: write at once from now on
}

// queueTouch writes t within touchDelay.
func (s *Auth) queueTouch(t SessionTouch) {
	q := &s.touches
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		s.writeTouches(context.Background(), []SessionTouch{t})
		return
	}
	if q.pending == nil {
		q.pending = make(map[int64]SessionTouch)
	}
	q.pending[t.ID] = t
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		go s.gatherTouches()
	}
}

func (s *Auth) gatherTouches() {
	for {
		time.Sleep(touchDelay)
		batch := s.takeTouches(false)
		if batch == nil {
			return
		}
		s.writeTouches(context.Background(), batch)
	}
}

// takeTouches empties the queue; nil (and the writer stops) when it was
// empty.
func (s *Auth) takeTouches(closing bool) []SessionTouch {
	q := &s.touches
	q.mu.Lock()
	defer q.mu.Unlock()
	if closing {
		q.closed = true
	}
	if len(q.pending) == 0 {
		q.running = false
		return nil
	}
	batch := make([]SessionTouch, 0, len(q.pending))
	for _, t := range q.pending {
		batch = append(batch, t)
	}
	q.pending = nil
	return batch
}

func (s *Auth) writeTouches(ctx context.Context, batch []SessionTouch) {
	if t, ok := s.Store.(SessionToucher); ok {
		if err := t.TouchSessions(ctx, batch); err != nil {
			s.log().Warn("touch sessions", "n", len(batch), "err", err)
		}
		return
	}
	for _, t := range batch {
		if err := s.Store.TouchSession(ctx, t.ID, t.LastSeen, t.IdleExpiry); err != nil && !IsNotFound(err) {
			s.log().Warn("touch session", "err", err)
		}
	}
}

// FlushTouches writes the touches still queued; later ones are written at
// once. Call it before the store closes.
func (s *Auth) FlushTouches(ctx context.Context) {
	if batch := s.takeTouches(true); batch != nil {
		s.writeTouches(ctx, batch)
	}
}
