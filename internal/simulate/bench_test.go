package simulate

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

func BenchmarkSimulate1000(b *testing.B) {
	ivs := Generate(GenConfig{Seed: 1, Days: 90, Honest: 1000})
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := Run(context.Background(), ivs, Options{Settings: kiosko.DefaultReadingSettings()}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		Generate(GenConfig{Seed: 1, Days: 90, Honest: 1000})
	}
}

var (
	benchOnce   sync.Once
	benchTraces []Interval
)

// BenchmarkSimulate10000Accounts90Days is the speed figure of
// docs/fairness.md: 10,000 honest readers over 90 days through the real
// Reading and lease engine. Besides wall time it reports CPU seconds, which
// do not depend on what else the machine runs.
func BenchmarkSimulate10000Accounts90Days(b *testing.B) {
	benchOnce.Do(func() { benchTraces = Generate(GenConfig{Seed: 1, Days: 90, Honest: 10000}) })
	b.ResetTimer()
	var events int64
	cpu0 := cpuTime()
	for b.Loop() {
		res, err := Run(context.Background(), benchTraces, Options{Settings: kiosko.DefaultReadingSettings()})
		if err != nil {
			b.Fatal(err)
		}
		events = res.Events
	}
	b.ReportMetric(float64(events), "calls/op")
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(len(benchTraces)), "intervals")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
