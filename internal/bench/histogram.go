// Package bench measures kiosko close to the machine's limit: a load
// generator for keep-alive HTTP/1.1 connections on loopback with a latency
// histogram, the bare net/http handler that is the ceiling, event-stream
// clients for push latency, and the memory a held lease takes in each lease
// engine. cmd/kiosko's bench command wires them to a real server.
package bench

import (
	"math/bits"
	"time"
)

// Histogram counts latencies in log-linear buckets of microseconds: exact
// below 128 µs, then 64 buckets per power of two (under 1.6% error), so
// recording is one array increment and no sample is ever kept.
type Histogram struct {
	counts [128 + 40*64]int64
	n      int64
	max    time.Duration
}

func bucket(us uint64) int {
	if us < 128 {
		return int(us)
	}
	e := bits.Len64(us) - 7 // us>>e is in [64, 128)
	i := 128 + (e-1)*64 + int(us>>e) - 64
	if i >= len(Histogram{}.counts) {
		return len(Histogram{}.counts) - 1
	}
	return i
}

// lower is the smallest latency, in microseconds, that falls in bucket i;
// upper the first that does not.
func bounds(i int) (lower, upper uint64) {
	if i < 128 {
		return uint64(i), uint64(i) + 1
	}
	e := (i-128)/64 + 1
	m := uint64((i-128)%64 + 64)
	return m << e, (m + 1) << e
}

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucket(uint64(d/time.Microsecond))]++
	h.n++
	h.max = max(h.max, d)
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// Count is the number of latencies recorded.
func (h *Histogram) Count() int64 { return h.n }

// Max is the largest latency recorded.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the latency below which a fraction q of the recorded ones
// fall (to the microsecond below 128 µs, else the middle of its bucket).
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bounds(i)
			if i < 128 { // one microsecond wide: exact
				return min(time.Duration(lo)*time.Microsecond, h.max)
			}
			mid := time.Duration(lo+hi) * time.Microsecond / 2
			return min(mid, h.max)
		}
	}
	return h.max
}
