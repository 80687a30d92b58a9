package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Pair is kiosko measured against the bare handler in the same rounds.
type Pair struct {
	Bare, Kiosko *Result
}

// RateRatio is kiosko's rate as a fraction of the bare handler's.
func (p Pair) RateRatio() float64 { return p.Kiosko.Rate() / p.Bare.Rate() }

// P99Ratio is kiosko's p99 latency as a multiple of the bare handler's.
func (p Pair) P99Ratio() float64 { return float64(p.Kiosko.P99()) / float64(p.Bare.P99()) }

// CPURatio is the bare handler's CPU time per request over kiosko's: the
// rate ratio to expect when nothing else runs on the machine.
func (p Pair) CPURatio() float64 {
	return float64(p.Bare.CPUPerRequest()) / float64(p.Kiosko.CPUPerRequest())
}

// Median returns the run with the median rate.
func Median(rs []*Result) *Result {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b *Result) int {
		switch {
		case a.Rate() < b.Rate():
			return -1
		case a.Rate() > b.Rate():
			return 1
		}
		return 0
	})
	return s[len(s)/2]
}

// MedianPair pairs the runs of each round (bare and kiosko ran one after
// the other) and returns the round whose rate ratio is the median: a
// change in the machine's load between rounds hits both runs of a round.
func MedianPair(bares, kioskos []*Result) Pair {
	pairs := make([]Pair, min(len(bares), len(kioskos)))
	for i := range pairs {
		pairs[i] = Pair{Bare: bares[i], Kiosko: kioskos[i]}
	}
	slices.SortFunc(pairs, func(a, b Pair) int {
		switch {
		case a.RateRatio() < b.RateRatio():
			return -1
		case a.RateRatio() > b.RateRatio():
			return 1
		}
		return 0
	})
	return pairs[len(pairs)/2]
}

// MedianPairByCPU is MedianPair for runs at a fixed rate, where both
// rates are the offered one: the round with the median CPU ratio.
func MedianPairByCPU(bares, kioskos []*Result) Pair {
	pairs := make([]Pair, min(len(bares), len(kioskos)))
	for i := range pairs {
		pairs[i] = Pair{Bare: bares[i], Kiosko: kioskos[i]}
	}
	slices.SortFunc(pairs, func(a, b Pair) int {
		switch {
		case a.CPURatio() < b.CPURatio():
			return -1
		case a.CPURatio() > b.CPURatio():
			return 1
		}
		return 0
	})
	return pairs[len(pairs)/2]
}

// PrintPairs writes the heartbeat table.
func PrintPairs(w io.Writer, pairs []Pair) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\trequests/s\tp50\tp99\tCPU/req\tbare requests/s\tbare p99\tbare CPU/req\trate ratio\tp99 ratio\tCPU ratio\t")
	for _, p := range pairs {
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%.0f\t%s\t%s\t%.0f%%\t%.2f×\t%.0f%%\t\n", p.Kiosko.Name, p.Kiosko.Rate(), ms(p.Kiosko.P50()), ms(p.Kiosko.P99()),
			us(p.Kiosko.CPUPerRequest()), p.Bare.Rate(), ms(p.Bare.P99()), us(p.Bare.CPUPerRequest()), 100*p.RateRatio(), p.P99Ratio(), 100*p.CPURatio())
	}
	tw.Flush()
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// Machine describes where the numbers come from: CPUs, model, load average.
func Machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	load := "?"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return fmt.Sprintf("%d CPUs (%s), %s %s/%s, load average %s, %s", runtime.NumCPU(), model, runtime.Version(), runtime.GOOS, runtime.GOARCH,
		load, time.Now().UTC().Format(time.RFC3339))
}

// DeleteKeys removes every Redis key that starts with prefix and returns
// how many there were.
func DeleteKeys(ctx context.Context, c goredis.UniversalClient, prefix string) (int, error) {
	n := 0
	iter := c.Scan(ctx, 0, escapeGlob(prefix)+"*", 5000).Iterator()
	batch := make([]string, 0, 5000)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := c.Unlink(ctx, batch...).Err()
		n += len(batch)
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

func escapeGlob(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
