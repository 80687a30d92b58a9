package leasetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/kiosko/kiosko"
)

// Linearizability of the lease engines, checked with porcupine: many
// goroutines claim, heartbeat, take over, release and read the holder of
// seats at once; every call is recorded with when it started and ended;
// porcupine then looks for an order of the calls, each taking effect at one
// instant between its start and its end, in which a plain sequential model
// of the rule (below) gives exactly the answers the engine gave. None
// existing is a violation: two claims that both won, a renewal that saw a
// stale lease, a takeover that displaced nobody while someone read.

// LinearOptions size a linearizability run.
type LinearOptions struct {
	Histories  int // seats, each its own history
	Parallel   int // histories run at once
	Clients    int // goroutines per history
	OpsPerSeat int // calls per goroutine
	// Disrupt, when set, runs once while the histories run (e.g. restarting
	// Redis), from the first third on; the last third starts after it
	// returned. Calls that fail meanwhile have an unknown outcome.
	Disrupt func()
}

// op kinds.
const (
	opClaim = iota
	opHeartbeat
	opTakeover
	opRelease
	opHolder
)

var opNames = [...]string{"claim", "heartbeat", "takeover", "release", "holder"}

type linInput struct {
	Kind   int
	Seat   int64
	Device string
	Now    int64 // ms
}

type linOutput struct {
	Unknown bool // the call failed: it may or may not have taken effect
	Granted bool
	Renewed bool
	Holder  string // device holding the lease after the call ("" none)
	Claimed int64  // the holder's ClaimedAt, ms
	Seen    int64  // the holder's LastSeen, ms
	Prev    string // takeover: the live lease of another device it displaced
}

// linState is one seat's lease in the model.
type linState struct {
	Device        string
	Seen, Claimed int64
}

// linModel is the rule, one call at a time, as DESIGN.md states it and the
// engines document it: a claim or heartbeat is granted unless another
// device holds a live lease (last seen less than ttl ago); the holder
// renewing keeps its ClaimedAt while live and its latest LastSeen; a
// takeover always wins and reports the other device's live lease.
func linModel(ttl int64) porcupine.Model {
	return porcupine.Model{
		Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
			bySeat := map[int64][]porcupine.Operation{}
			var seats []int64
			for _, o := range h {
				s := o.Input.(linInput).Seat
				if _, ok := bySeat[s]; !ok {
					seats = append(seats, s)
				}
				bySeat[s] = append(bySeat[s], o)
			}
			out := make([][]porcupine.Operation, 0, len(seats))
			for _, s := range seats {
				out = append(out, bySeat[s])
			}
			return out
		},
		Init: func() any { return linState{} },
		Step: func(state, input, output any) (bool, any) {
			st, in, out := state.(linState), input.(linInput), output.(linOutput)
			live := st.Device != "" && in.Now-st.Seen < ttl
			own := st.Device == in.Device
			switch in.Kind {
			case opHolder:
				if out.Unknown {
					return true, st
				}
				if !live {
					return out.Holder == "", st
				}
				return out.Holder == st.Device && out.Seen == st.Seen && out.Claimed == st.Claimed, st
			case opRelease:
				if own {
					return true, linState{}
				}
				return true, st
			}
			takeover := in.Kind == opTakeover
			if live && !own && !takeover {
				ok := out.Unknown || !out.Granted && out.Holder == st.Device && out.Seen == st.Seen && out.Claimed == st.Claimed
				return ok, st
			}
			next := linState{Device: in.Device, Seen: in.Now, Claimed: in.Now}
			if own && st.Device != "" {
				next.Claimed = st.Claimed
				if !live {
					next.Claimed = in.Now
				}
				next.Seen = max(st.Seen, in.Now)
			}
			if out.Unknown {
				return true, next
			}
			prev := ""
			if takeover && live && !own {
				prev = st.Device
			}
			ok := out.Granted && out.Holder == in.Device && out.Seen == next.Seen && out.Claimed == next.Claimed &&
				(takeover && out.Prev == prev || !takeover && out.Renewed == (live && own))
			return ok, next
		},
		DescribeOperation: func(input, output any) string {
			in, out := input.(linInput), output.(linOutput)
			return fmt.Sprintf("%s(%s@%d) -> %+v", opNames[in.Kind], in.Device, in.Now, out)
		},
	}
}

// CheckLinearizable records concurrent histories against the engines
// (clients use them in turn, so two engines on one Redis share every
// seat) and fails t unless porcupine finds every one linearizable. It
// returns the number of calls made and how many had an unknown outcome.
func CheckLinearizable(t *testing.T, engines []kiosko.LeaseEngine, ttl time.Duration, o LinearOptions) (calls, unknown int) {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	var (
		mu      sync.Mutex
		history []porcupine.Operation
		nUnk    int
		last    atomic.Int64
	)
	stamp := func() int64 { n := int64(time.Since(start)); last.Store(max(last.Load(), n)); return n }
	record := func(client int, in linInput, call int64, out linOutput) {
		ret := stamp()
		mu.Lock()
		defer mu.Unlock()
		if out.Unknown {
			nUnk++
			ret = -1 // fixed below: it may take effect at any time after its call
		}
		history = append(history, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
	}
	ms := func(t time.Time) int64 { return t.UnixMilli() }
	do := func(e kiosko.LeaseEngine, in linInput) linOutput {
		now := time.UnixMilli(in.Now)
		c := kiosko.LeaseClaim{Seat: in.Seat, Device: in.Device, DeviceName: "n", Active: true, Now: now}
		var out linOutput
		switch in.Kind {
		case opClaim, opHeartbeat:
			f := e.Claim
			if in.Kind == opHeartbeat {
				f = e.Heartbeat
			}
			r, err := f(ctx, c)
			if err != nil {
				return linOutput{Unknown: true}
			}
			out = linOutput{Granted: r.Granted, Renewed: r.Renewed, Holder: r.Holder.Device, Claimed: ms(r.Holder.ClaimedAt), Seen: ms(r.Holder.LastSeen)}
		case opTakeover:
			r, err := e.Takeover(ctx, c)
			if err != nil {
				return linOutput{Unknown: true}
			}
			out = linOutput{Granted: true, Holder: r.Holder.Device, Claimed: ms(r.Holder.ClaimedAt), Seen: ms(r.Holder.LastSeen)}
			if r.Previous != nil {
				out.Prev = r.Previous.Device
			}
		case opRelease:
			if err := e.Release(ctx, in.Seat, in.Device, now); err != nil {
				return linOutput{Unknown: true}
			}
		case opHolder:
			l, ok, err := e.Holder(ctx, in.Seat, now)
			if err != nil {
				return linOutput{Unknown: true}
			}
			if ok {
				out = linOutput{Holder: l.Device, Claimed: ms(l.ClaimedAt), Seen: ms(l.LastSeen)}
			}
		}
		return out
	}

	devices := []string{"laptop", "phone", "tablet"}
	sem := make(chan struct{}, max(o.Parallel, 1))
	var wg sync.WaitGroup
	disrupted := make(chan struct{})
	for h := 0; h < o.Histories; h++ {
		if o.Disrupt != nil && h == o.Histories/3 {
			go func() { defer close(disrupted); o.Disrupt() }()
		}
		if o.Disrupt != nil && h == 2*o.Histories/3 {
			<-disrupted // the last third runs after the disruption ended
		}
		seat := newSeat()
		// The seat's simulated clock: each call moves it 0 to 20 s on, so
		// leases lapse (ttl 90 s) as often as they are renewed.
		var clock atomic.Int64
		clock.Store(t0.UnixMilli())
		sem <- struct{}{}
		var hw sync.WaitGroup
		for c := 0; c < o.Clients; c++ {
			hw.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer hw.Done()
				r := rand.New(rand.NewPCG(uint64(seat), uint64(c)))
				client := h*o.Clients + c
				for i := 0; i < o.OpsPerSeat; i++ {
					kind := opClaim
					switch p := r.IntN(100); {
					case p < 30:
					case p < 55:
						kind = opHeartbeat
					case p < 72:
						kind = opTakeover
					case p < 82:
						kind = opRelease
					default:
						kind = opHolder
					}
					in := linInput{Kind: kind, Seat: seat, Device: devices[r.IntN(len(devices))], Now: clock.Add(r.Int64N(20_000))}
					e := engines[(client+i)%len(engines)]
					call := stamp()
					out := do(e, in)
					if out.Unknown && kind == opHolder {
						continue // a failed read changed nothing: leave it out
					}
					record(client, in, call, out)
					if out.Unknown {
						// A call whose outcome is unknown stays open to the end
						// of the history; like Jepsen, retire its client, so a
						// history has at most Clients of them to place.
						break
					}
				}
			}()
		}
		go func() { hw.Wait(); <-sem }()
	}
	wg.Wait()
	if o.Disrupt != nil {
		<-disrupted
	}
	end := last.Load() + int64(time.Hour)
	for i := range history {
		if history[i].Return < 0 {
			history[i].Return = end
		}
	}
	res, info := porcupine.CheckOperationsVerbose(linModel(ttl.Milliseconds()), history, 2*time.Minute)
	if res != porcupine.Ok {
		if f, err := os.CreateTemp("", "kiosko-linearizability-*.html"); err == nil {
			if porcupine.Visualize(linModel(ttl.Milliseconds()), info, f) == nil {
				t.Logf("visualization of the histories: %s", f.Name())
			}
			f.Close()
		}
		t.Fatalf("porcupine: %s over %d histories of %d calls (%d with unknown outcome)", res, o.Histories, len(history), nUnk)
	}
	return len(history), nUnk
}
