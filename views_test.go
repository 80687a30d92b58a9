package kiosko

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// countSink keeps what was flushed; fail makes the next flush fail.
type countSink struct {
	mu   sync.Mutex
	got  map[InsightKey]int64
	fail bool
}

func (s *countSink) AddInsightCounts(_ context.Context, counts []InsightCount) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		s.fail = false
		return errors.New("database gone")
	}
	for _, c := range counts {
		s.got[InsightKey{c.Day, c.Kind, c.Dim}] += c.N
	}
	return nil
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

func TestViewRecorder(t *testing.T) {
	sink := &countSink{got: map[InsightKey]int64{}}
	now := time.Date(2026, 11, 3, 23, 59, 0, 0, time.UTC)
	r := NewViewRecorder(sink, fixedClock(now), nil)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			r.Article(false, AccessDecision{Allowed: true})
			r.Article(false, AccessDecision{Wall: WallRegister})
			r.Article(true, AccessDecision{Wall: WallSubscribe})
			r.Article(true, AccessDecision{Allowed: true, Seat: true})
		})
	}
	wg.Wait()
	sink.fail = true
	if err := r.Flush(t.Context()); err == nil {
		t.Fatal("a failed flush reported no error")
	}
	r.Article(false, AccessDecision{Allowed: true}) // counted while the database was away
	if err := r.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	d := DayNumber(now)
	want := map[InsightKey]int64{
		{d, CountView, ReaderAnonymous}: 101, {d, CountView, ReaderRegistered}: 50, {d, CountView, ReaderSubscriber}: 50,
		{d, CountWall, WallRegistration}: 50, {d, CountWall, WallSubscription}: 50,
	}
	for k, n := range want {
		if sink.got[k] != n {
			t.Errorf("%v: %d, want %d", k, sink.got[k], n)
		}
	}
	if len(sink.got) != len(want) {
		t.Errorf("counters %v", sink.got)
	}
	var none *ViewRecorder
	none.Article(true, AccessDecision{}) // a nil recorder counts nothing and does not panic
	if err := none.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestDayNumber(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want int64
	}{
		{time.Unix(0, 0).UTC(), 0},
		{time.Date(1970, 1, 1, 23, 59, 59, 0, time.UTC), 0},
		{time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC), 1},
		{time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC), -1},
		{time.Date(2026, 11, 3, 1, 0, 0, 0, time.FixedZone("CET", 3600)), DayNumber(time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC))},
	} {
		if got := DayNumber(c.t); got != c.want {
			t.Errorf("DayNumber(%s) = %d, want %d", c.t, got, c.want)
		}
		if !DayStart(c.want).Equal(c.t.UTC().Truncate(Day)) && c.want >= 0 {
			t.Errorf("DayStart(%d) = %s", c.want, DayStart(c.want))
		}
	}
}
