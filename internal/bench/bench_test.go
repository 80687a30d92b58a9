package bench

import (
	"context"
	"math"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond) // 1 µs .. 10 ms, evenly
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5 * time.Millisecond}, {0.99, 9900 * time.Microsecond}, {0.001, 10 * time.Microsecond}} {
		got := h.Quantile(tc.q)
		if math.Abs(float64(got-tc.want))/float64(tc.want) > 0.02 {
			t.Errorf("q%.3f = %v, want %v within 2%%", tc.q, got, tc.want)
		}
	}
	if h.Count() != 10000 || h.Max() != 10*time.Millisecond {
		t.Errorf("count %d, max %v", h.Count(), h.Max())
	}
	for i := 0; i < len(h.counts); i++ { // buckets tile the line
		lo, hi := bounds(i)
		if bucket(lo) != i || (i+1 < len(h.counts) && bucket(hi) != i+1) {
			t.Fatalf("bucket %d [%d, %d) does not round-trip", i, lo, hi)
		}
	}
}

func TestRunAgainstBareHandler(t *testing.T) {
	s, err := Serve(BareHandler())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	req := PostJSON(s.Addr, "/api/v1/reading/heartbeat", "", []byte(`{"active":true}`))
	r, err := Run(context.Background(), Load{Name: "bare", Addr: s.Addr, Connections: 2, Duration: 50 * time.Millisecond,
		Request: func(int) [][]byte { return [][]byte{req} }})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests == 0 || r.Errors != 0 || r.P99() <= 0 {
		t.Fatalf("%d requests, %d errors (%v), p99 %v", r.Requests, r.Errors, r.Statuses, r.P99())
	}
}

func TestRunRefusesOtherHosts(t *testing.T) {
	for _, addr := range []string{"192.0.2.1:80", "example.com:80"} {
		if _, err := Run(context.Background(), Load{Addr: addr, Connections: 1, Duration: time.Millisecond}); err == nil {
			t.Errorf("%s: load generated against a non-loopback address", addr)
		}
	}
}
