package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Load is one run of the load generator: Connections keep-alive HTTP/1.1
// connections to Addr, each sending its requests back to back (the next as
// soon as the answer is in) for Warmup, then for Duration while measuring.
type Load struct {
	Name        string
	Addr        string // host:port on loopback
	Connections int
	Warmup      time.Duration
	Duration    time.Duration
	// Request returns the raw requests connection c sends, in turn. Build
	// them with PostJSON.
	Request func(c int) [][]byte
	// OK is the status every answer should have (200 when zero).
	OK int
	// Rate, when positive, is a fixed rate offered in requests per second
	// over all connections together (open loop): connection c sends its
	// k-th request at a set time, whether or not earlier answers were
	// slow, and a request's latency runs from that set time, so a server
	// that falls behind is charged for the wait (no coordinated omission).
	Rate float64
	// Once ends each connection after it has sent each of its requests
	// once (Duration still bounds the run): a pass over every session.
	Once bool
}

// Result is what a run measured.
type Result struct {
	Name     string
	Requests int64 // answered with the expected status while measuring
	Errors   int64 // other statuses and broken connections
	Elapsed  time.Duration
	Latency  Histogram
	Statuses map[int]int64
	// CPU is the process's CPU time (user and system, server and load
	// generator alike) while measuring: unlike the rate, it hardly moves
	// when other programs share the machine.
	CPU time.Duration
}

// CPUPerRequest is the process's CPU time per answered request.
func (r *Result) CPUPerRequest() time.Duration {
	if r.Requests == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Requests)
}

// Rate is the answered requests per second.
func (r *Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// P50 and P99 are latency quantiles.
func (r *Result) P50() time.Duration { return r.Latency.Quantile(0.50) }
func (r *Result) P99() time.Duration { return r.Latency.Quantile(0.99) }

// PostJSON builds a raw POST request with a JSON body; token, when set, is
// sent as a Bearer token.
func PostJSON(host, path, token string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", path, host, len(body))
	if token != "" {
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", token)
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// CheckLoopback refuses any address but a loopback one: the generator is a
// benchmark, never a way to load someone else's server.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("bench: %s is not a loopback address", addr)
	}
	return nil
}

// Run generates the load and returns what it measured. It stops by itself
// after Warmup+Duration, or earlier when ctx ends.
func Run(ctx context.Context, l Load) (*Result, error) {
	if err := CheckLoopback(l.Addr); err != nil {
		return nil, err
	}
	if l.Connections <= 0 || l.Duration <= 0 {
		return nil, errors.New("bench: connections and duration must be positive")
	}
	ok := l.OK
	if ok == 0 {
		ok = 200
	}
	conns := make([]net.Conn, l.Connections)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	d := net.Dialer{Timeout: 5 * time.Second}
	for i := range conns {
		c, err := d.DialContext(ctx, "tcp", l.Addr)
		if err != nil {
			return nil, fmt.Errorf("bench: connect %s: %w", l.Addr, err)
		}
		conns[i] = c
	}
	var measuring atomic.Bool
	stop := make(chan struct{})
	type connResult struct {
		h        Histogram
		n, errs  int64
		statuses map[int]int64
		err      error
	}
	results := make([]*connResult, len(conns))
	began0 := time.Now()
	var wg sync.WaitGroup
	for i, c := range conns {
		res := &connResult{statuses: map[int]int64{}}
		results[i] = res
		reqs := l.Request(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			br := bufio.NewReaderSize(c, 8192)
			var every time.Duration
			var next time.Time
			if l.Rate > 0 {
				every = time.Duration(float64(l.Connections) / l.Rate * float64(time.Second))
				// Spread the connections over one interval.
				next = began0.Add(every * time.Duration(i) / time.Duration(l.Connections))
			}
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				if l.Once && k >= len(reqs) {
					return
				}
				req := reqs[k%len(reqs)]
				start := time.Now()
				if every > 0 {
					if d := next.Sub(start); d > 0 {
						select {
						case <-stop:
							return
						case <-time.After(d):
						}
					}
					start = next
					next = next.Add(every)
				}
				// From now, not from the set time: a generator that fell
				// behind must not time its own requests out.
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := c.Write(req); err != nil {
					res.err = err
					return
				}
				status, err := readResponse(br)
				if err != nil {
					res.err = err
					return
				}
				if !measuring.Load() {
					continue
				}
				res.h.Record(time.Since(start))
				res.statuses[status]++
				if status == ok {
					res.n++
				} else {
					res.errs++
				}
			}
		}()
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()
	timer := func(d time.Duration) {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		case <-allDone:
		}
	}
	timer(l.Warmup)
	measuring.Store(true)
	began, cpu0 := time.Now(), cpuTime()
	timer(l.Duration)
	measuring.Store(false)
	elapsed, cpu := time.Since(began), cpuTime()-cpu0
	close(stop)
	wg.Wait()

	out := &Result{Name: l.Name, Elapsed: elapsed, Statuses: map[int]int64{}, CPU: cpu}
	var firstErr error
	for _, r := range results {
		out.Latency.Merge(&r.h)
		out.Requests += r.n
		out.Errors += r.errs
		for s, n := range r.statuses {
			out.Statuses[s] += n
		}
		if r.err != nil {
			out.Errors++
			if firstErr == nil {
				firstErr = r.err
			}
		}
	}
	if firstErr != nil && out.Requests == 0 {
		return out, fmt.Errorf("bench: %s: %w", l.Name, firstErr)
	}
	return out, ctx.Err()
}

// readResponse reads one HTTP/1.1 response with a Content-Length (what
// net/http sends for a small body) and returns its status.
func readResponse(br *bufio.Reader) (int, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("bench: bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bench: bad status line %q", line)
	}
	length, chunked := -1, false
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(v)); err != nil {
				return 0, fmt.Errorf("bench: bad Content-Length %q", v)
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")) && bytes.EqualFold(v, []byte("chunked")):
			chunked = true
		}
	}
	switch {
	case chunked:
		return status, skipChunked(br)
	case length < 0:
		return 0, errors.New("bench: answer without Content-Length")
	}
	_, err = br.Discard(length)
	return status, err
}

func skipChunked(br *bufio.Reader) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.SplitN(line, []byte(";"), 2)[0])), 16, 64)
		if err != nil {
			return fmt.Errorf("bench: bad chunk size %q", line)
		}
		if _, err := br.Discard(int(n) + 2); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
