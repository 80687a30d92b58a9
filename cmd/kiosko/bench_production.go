package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/kiosko/kiosko/internal/bench"
)

// minHeartbeatGap is the shortest time between two heartbeats of one
// session the production part allows: a page heartbeats every 30 s, and
// no per-request cache may be warm because a session was heard from a
// moment ago.
const minHeartbeatGap = 5 * time.Second

// production measures heartbeats shaped like a real site's: --sessions
// readers signed in, each on a seat of its own, each heartbeating once per
// sessions/rate seconds, offered at the fixed --rate, against the bare
// handler offered the same requests at the same rate.
func (b *benchRun) production(ctx context.Context) error {
	o := b.o
	if o.rate <= 0 || o.sessions <= 0 {
		return errors.New("bench: --rate and --sessions must be positive")
	}
	conns := min(o.connections, o.sessions)
	gap := time.Duration(float64(o.sessions) / o.rate * float64(time.Second))
	if gap < minHeartbeatGap && !o.tiny {
		return fmt.Errorf("bench: %d sessions at %.0f/s heartbeat every %v; a session may heartbeat at most every %v (fewer --rate or more --sessions)",
			o.sessions, o.rate, gap.Round(time.Millisecond), minHeartbeatGap)
	}
	fmt.Fprintf(b.out, "Production-shaped heartbeat: %d sessions on their own seats, each every %v, %.0f heartbeats/s offered over %d connections, %v per run, median of %d alternating rounds (by CPU ratio)\n",
		o.sessions, gap.Round(time.Millisecond), o.rate, conns, o.duration, o.rounds)

	bare, err := bench.Serve(bench.BareHandler())
	if err != nil {
		return err
	}
	defer bare.Close()
	body := []byte(`{"active":true}`)
	type engine struct{ name, redis string }
	engines := []engine{{name: "production, in-memory engine"}}
	if o.redisURL != "" {
		engines = append(engines, engine{name: "production, Redis engine", redis: o.redisURL})
	}
	var pairs []bench.Pair
	for _, e := range engines {
		began := time.Now()
		s, err := b.startServer(ctx, e.redis, o.sessions)
		if err != nil {
			return err
		}
		fmt.Fprintf(b.out, "  %s: %d readers made in %v\n", e.name, o.sessions, time.Since(began).Round(time.Second))
		addr := s.m.Addr()
		// Connection c heartbeats sessions c, c+conns, c+2·conns, ... in
		// turn, so every session is heard from once per gap.
		requests := func(host string, withToken bool) func(int) [][]byte {
			return func(c int) [][]byte {
				var reqs [][]byte
				for i := c; i < o.sessions; i += conns {
					token := ""
					if withToken {
						token = s.readers[i].token
					}
					reqs = append(reqs, bench.PostJSON(host, "/api/v1/reading/heartbeat", token, body))
				}
				return reqs
			}
		}
		// The bare handler gets the same bytes, tokens included.
		bareReqs := requests(bare.Addr, true)
		bareLoad := bench.Load{Name: "bare net/http handler", Addr: bare.Addr, Connections: conns, Warmup: o.warmup, Duration: o.duration,
			Rate: o.rate, Request: bareReqs}
		load := bench.Load{Name: e.name, Addr: addr, Connections: conns, Warmup: o.warmup, Duration: o.duration,
			Rate: o.rate, Request: requests(addr, true)}
		// One unmeasured pass first, as fast as it goes: every session has
		// been heard from once, as on a site that has been up for a while.
		prime := load
		prime.Warmup, prime.Duration, prime.Once, prime.Rate = 0, 10*time.Minute, true, 0
		if _, err := bench.Run(ctx, prime); err != nil {
			s.close()
			return err
		}
		var bares, kioskos []*bench.Result
		for round := 0; round < o.rounds; round++ {
			r, err := bench.Run(ctx, bareLoad)
			if err != nil {
				s.close()
				return err
			}
			bares = append(bares, r)
			stop, err := b.productionProfile(round == 0 && (e.redis != "") == (o.profiled == "redis"))
			if err != nil {
				s.close()
				return err
			}
			r, err = bench.Run(ctx, load)
			stop()
			if err != nil {
				s.close()
				return err
			}
			kioskos = append(kioskos, r)
		}
		s.close()
		p := bench.MedianPairByCPU(bares, kioskos)
		if p.Kiosko.Errors > 0 {
			return fmt.Errorf("bench: %s: %d answers were not 200 (%v)", e.name, p.Kiosko.Errors, p.Kiosko.Statuses)
		}
		pairs = append(pairs, p)
		runtime.GC()
	}
	bench.PrintPairs(b.out, pairs)
	fmt.Fprintln(b.out)
	return nil
}

// productionProfile starts a CPU profile to --cpuprofile when on and the
// heartbeat part does not take that file; the returned func stops it.
func (b *benchRun) productionProfile(on bool) (func(), error) {
	if !on || b.o.cpuProfile == "" || strings.Contains(b.o.parts, "heartbeat") {
		return func() {}, nil
	}
	f, err := os.Create(b.o.cpuProfile)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
