package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// TestBenchTiny runs kiosko bench --tiny, so the benchmark keeps working.
// KIOSKO_BENCH_ARGS runs it with other flags instead (a full run:
// KIOSKO_BENCH_ARGS="--duration 10s" go test -run TestBenchTiny -v -timeout 30m ./cmd/kiosko).
func TestBenchTiny(t *testing.T) {
	if os.Getenv(streamClientEnv) != "" {
		// The push part runs this binary again to hold the client ends of
		// its event streams.
		if err := benchStreamClient(os.Stdin, os.Stdout); err != nil {
			t.Fatal(err)
		}
		return
	}
	args := []string{"--tiny"}
	if v := os.Getenv("KIOSKO_BENCH_ARGS"); v != "" {
		args = strings.Fields(v)
	}
	var out, errs bytes.Buffer
	if err := benchCommand(context.Background(), args, &out, &errs); err != nil {
		t.Fatalf("kiosko bench %s: %v\n%s\n%s", strings.Join(args, " "), err, out.String(), errs.String())
	}
	t.Log("\n" + out.String())
	for _, want := range []string{"bare requests/s", "kiosko heartbeat, in-memory engine", "bytes/lease", "displaced"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, out.String())
		}
	}
}
