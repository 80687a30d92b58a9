// Command testsummary reads `go test -json` on stdin and prints what a
// reader of CI needs: each package's result, the whole output of every
// failed test, one line per skipped test, and at the end the ten slowest
// tests. It exits 1 when anything failed, so a pipeline can rely on it.
//
//	go test -json ./... | go run ./scripts/testsummary
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// event is one line of test2json output (go doc cmd/test2json).
type event struct {
	Action      string
	Package     string
	ImportPath  string // build-output and build-fail events
	Test        string
	Elapsed     float64
	Output      string
	FailedBuild string
}

type result struct {
	name    string
	elapsed time.Duration
}

func main() {
	failed, err := summarize(os.Stdin, os.Stdout, 10)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}

// summarize copies the useful part of in to out and reports whether a
// test, a package or a build failed.
func summarize(in io.Reader, out io.Writer, slowest int) (failed bool, err error) {
	output := map[string][]string{} // package + test: lines so far
	var done []result
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if err := json.Unmarshal(line, &ev); err != nil || ev.Action == "" {
			// Not test2json: go test's own complaints (a bad flag, a
			// package that does not exist) come through as they are.
			fmt.Fprintln(out, string(line))
			continue
		}
		key := ev.Package + " " + ev.Test
		switch {
		case ev.Action == "build-output":
			fmt.Fprint(out, ev.Output)
		case ev.Action == "build-fail":
			failed = true
		case ev.Test == "":
			// A package's own lines: "ok", "FAIL", a panic outside tests.
			if ev.Action == "output" && strings.TrimSpace(ev.Output) != "PASS" {
				fmt.Fprint(out, ev.Output)
			}
			if ev.Action == "fail" {
				failed = true
			}
		case ev.Action == "output":
			output[key] = append(output[key], ev.Output)
		case ev.Action == "fail":
			failed = true
			for _, l := range output[key] {
				fmt.Fprint(out, l)
			}
			delete(output, key)
		case ev.Action == "skip":
			for _, l := range output[key] {
				if !strings.HasPrefix(strings.TrimSpace(l), "===") {
					fmt.Fprint(out, l)
				}
			}
			delete(output, key)
		case ev.Action == "pass":
			delete(output, key)
		}
		if (ev.Action == "pass" || ev.Action == "fail") && ev.Test != "" && !strings.Contains(ev.Test, "/") {
			done = append(done, result{ev.Package + "." + ev.Test, time.Duration(ev.Elapsed * float64(time.Second))})
		}
	}
	if err := sc.Err(); err != nil {
		return failed, err
	}
	sort.SliceStable(done, func(i, j int) bool { return done[i].elapsed > done[j].elapsed })
	if len(done) > slowest {
		done = done[:slowest]
	}
	if len(done) > 0 {
		fmt.Fprintf(out, "\nThe %d slowest tests:\n", len(done))
		for _, r := range done {
			fmt.Fprintf(out, "%8.2fs  %s\n", r.elapsed.Seconds(), r.name)
		}
	}
	return failed, nil
}
