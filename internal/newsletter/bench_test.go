package newsletter_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/mailpit"
)

// BenchmarkSendIssue10k sends one issue to 10,000 confirmed subscribers
// through Mailpit on this machine, with 8 SMTP connections and no rate
// limit, and reports messages per second and the peak heap.
//
//	go test -run '^$' -bench SendIssue10k -benchtime 1x ./internal/newsletter
func BenchmarkSendIssue10k(b *testing.B) {
	mp := mailpit.Start(b)
	benchSend(b, mp.SMTPAddr, func() { mp.DeleteAll(b) })
}

// BenchmarkSendIssue10kSink is the same against a minimal SMTP server that
// stores nothing, to measure kiosko's side alone: Mailpit parses and
// stores every message, and on a small machine it is the bottleneck.
func BenchmarkSendIssue10kSink(b *testing.B) {
	srv := startFlakySMTP(b, 0)
	benchSend(b, srv.addr, func() {})
}

func benchSend(b *testing.B, addr string, reset func()) {
	const n = 10_000
	for b.Loop() {
		b.StopTimer()
		reset()
		e := setup(b, addr)
		e.n = newService(b, e.db, addr, e.clock, 8)
		emails := make([]string, n)
		for i := range emails {
			emails[i] = fmt.Sprintf("bench%05d@example.com", i)
		}
		e.confirmed(b, "es", emails...)
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak atomic.Uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			var m runtime.MemStats
			for {
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		})
		b.StartTimer()
		start := time.Now()
		rep, err := e.n.SendIssue(context.Background(), "es", kiosko.SendOptions{})
		elapsed := time.Since(start)
		b.StopTimer()
		close(stop)
		wg.Wait()
		if err != nil || rep.Sent != n {
			b.Fatalf("sent %+v, %v", rep, err)
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapInuse))/(1<<20), "send-heap-MiB")
		b.StartTimer()
	}
}
