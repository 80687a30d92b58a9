package kiosko

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// ViewRecorder counts article pages shown, by who looked (anonymous,
// registered, subscriber) and by the wall shown instead of the body, in
// memory per day; Flush adds them to the daily counters in one write. A
// view costs a map increment under a mutex: never a database write on
// the request path. A nil recorder counts nothing.
type ViewRecorder struct {
	store interface {
		AddInsightCounts(ctx context.Context, counts []InsightCount) error
	}
	clock Clock
	log   *slog.Logger

	mu      sync.Mutex
	pending map[InsightKey]int64
	flushMu sync.Mutex // one flush at a time, so a failed one is put back in order
}

// NewViewRecorder returns a recorder that flushes into store.
func NewViewRecorder(store interface {
	AddInsightCounts(ctx context.Context, counts []InsightCount) error
}, clock Clock, log *slog.Logger) *ViewRecorder {
	if log == nil {
		log = slog.Default()
	}
	return &ViewRecorder{store: store, clock: clock, log: log, pending: map[InsightKey]int64{}}
}

// Article counts one article page (or embed decision) shown to a reader
// who is signedIn or not, with the paywall's decision for them.
func (r *ViewRecorder) Article(signedIn bool, d AccessDecision) {
	if r == nil {
		return
	}
	who := ReaderAnonymous
	switch {
	case d.Seat:
		who = ReaderSubscriber
	case signedIn:
		who = ReaderRegistered
	}
	day := DayNumber(r.clock.Now())
	r.mu.Lock()
	r.pending[InsightKey{day, CountView, who}]++
	switch d.Wall {
	case WallRegister:
		r.pending[InsightKey{day, CountWall, WallRegistration}]++
	case WallSubscribe:
		r.pending[InsightKey{day, CountWall, WallSubscription}]++
	}
	r.mu.Unlock()
}

// Flush writes what was counted since the last flush. On failure the
// counts are kept for the next one, so none is lost or written twice.
func (r *ViewRecorder) Flush(ctx context.Context) error {
	if r == nil {
		return nil
	}
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.mu.Lock()
	taken := r.pending
	r.pending = map[InsightKey]int64{}
	r.mu.Unlock()
	if len(taken) == 0 {
		return nil
	}
	t := &LeaseTally{Counts: taken}
	if err := r.store.AddInsightCounts(ctx, t.List()); err != nil {
		r.mu.Lock()
		for k, n := range taken {
			r.pending[k] += n
		}
		r.mu.Unlock()
		return err
	}
	return nil
}

// Run flushes every interval until ctx ends, then once more.
func (r *ViewRecorder) Run(ctx context.Context, every time.Duration) {
	if r == nil {
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := r.Flush(context.WithoutCancel(ctx)); err != nil {
				r.log.Error("insights: flush page views at shutdown", "err", err)
			}
			return
		case <-tick.C:
			if err := r.Flush(ctx); err != nil {
				r.log.Warn("insights: flush page views; kept for the next flush", "err", err)
			}
		}
	}
}
