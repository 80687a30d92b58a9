// Package leasetest is the conformance suite every reading-lease engine and
// notice hub must pass, in memory and in Redis alike, so the reading rule
// behaves the same on one node as on many.
//
// Time in the lease suite is simulated: it runs in milliseconds, never
// sleeps, and uses millisecond-precision times, so an engine that keeps
// milliseconds (as Redis scripts do) passes too.
package leasetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// t0 is the simulated start of every test: a realistic date, so engines
// that mix simulated and wall-clock time (key expiry) still work.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Seat ids start at a random base so runs against a shared Redis never
// see each other's keys.
var (
	seatBase = rand.Int64N(1<<40) << 12
	seatSeq  atomic.Int64
)

func newSeat() int64 { return seatBase + seatSeq.Add(1) }

// deviceName is the name each device claims with, so tests can check that
// a lease's name belongs to its device even under races.
func deviceName(device string) string { return "Browser on " + device }

// Run runs the lease engine conformance suite. newEngine returns an engine
// that applies s (at least s.LeaseTTL and s.SharingWindow); engines may
// share storage between calls as long as seats do not collide.
func Run(t *testing.T, newEngine func(t *testing.T, s kiosko.ReadingSettings) kiosko.LeaseEngine) {
	s := kiosko.DefaultReadingSettings()
	ttl := s.LeaseTTL
	setup := func(t *testing.T) *fixture {
		t.Parallel()
		return &fixture{t: t, e: newEngine(t, s), ctx: context.Background()}
	}

	t.Run("claim free seat", func(t *testing.T) {
		f := setup(t)
		seat := newSeat()
		res := f.claim(seat, "a", t0, true)
		if !res.Granted || res.Renewed {
			t.Fatalf("claim of a free seat: granted=%v renewed=%v, want granted, not renewed", res.Granted, res.Renewed)
		}
		f.wantLease("holder", res.Holder, kiosko.Lease{Seat: seat, Device: "a", DeviceName: deviceName("a"), ClaimedAt: t0, LastSeen: t0, LastActive: t0})
		l, ok := f.holder(seat, t0)
		if !ok {
			t.Fatal("Holder: no lease after a granted claim")
		}
		f.wantLease("Holder", l, res.Holder)
	})

	t.Run("claim own lease renews", func(t *testing.T) {
		f := setup(t)
		seat := newSeat()
		f.claim(seat, "a", t0, true)
		at := t0.Add(40 * time.Second)
		res := f.claim(seat, "a", at, true)
		if !res.Granted || !res.Renewed {
			t.Fatalf("second claim by the holder: granted=%v renewed=%v, want both", res.Granted, res.Renewed)
		}
		f.wantLease("holder", res.Holder, kiosko.Lease{Seat: seat, Device: "a", DeviceName: deviceName("a"), ClaimedAt: t0, LastSeen: at, LastActive: at})
	})

	t.Run("claim conflicts with a live lease", func(t *testing.T) {
		f := setup(t)
		seat := newSeat()
		f.claim(seat, "a", t0, true)
		res := f.claim(seat, "b", t0.Add(time.Second), true)
		if res.Granted {
			t.Fatal("claim by b granted while a holds a live lease")
		}
		f.wantLease("holder in conflict", res.Holder, kiosko.Lease{Seat: seat, Device: "a", DeviceName: deviceName("a"), ClaimedAt: t0, LastSeen: t0, LastActive: t0})
		if l, _ := f.holder(seat, t0.Add(time.Second)); l.Device != "a" {
			t.Fatalf("a refused claim moved the lease to %q", l.Device)
		}
	})

	t.Run("lease lapses after TTL", func(t *testing.T) {
		f := setup(t)
		seat := newSeat()
		f.claim(seat, "a", t0, true)
		before := t0.Add(ttl - time.Millisecond)
		if res := f.claim(seat, "b", before, true); res.Granted {
			t.Fatal("lease lapsed before its TTL")
		}
		if _, ok := f.holder(seat, before); !ok {
			t.Fatal("Holder: no lease a millisecond before the TTL")
		}
		lapse := t0.Add(ttl)
		if _, ok := f.holder(seat, lapse); ok {
			t.Fatal("Holder: lease still live at LastSeen + TTL")
		}
		res := f.claim(seat, "b", lapse, false)
		if !res.Granted || res.Renewed {
			t.Fatalf("claim of a lapsed lease: granted=%v renewed=%v, want granted, not renewed", res.Granted, res.Renewed)
		}
		f.wantLease("new holder", res.Holder, kiosko.Lease{Seat: seat, Device: "b", DeviceName: deviceName("b"), ClaimedAt: lapse, LastSeen: lapse})
	})

	t.Run("heartbeat keeps the lease alive", func(t *testing.T) {
		f := setup(t)
		seat := newSeat()
		f.claim(seat, "a", t0, true)
		at := t0
		for i := 0; i < 10; i++ { // 5 minutes of heartbeats, longer than the TTL
			at = at.Add(s.HeartbeatEvery)
			res := f.heartbeat(seat, "a", at, true)
			if !res.Granted || !res.Renewed {
				t.Fatalf("heartbeat %d: granted=%v renewed=%v, want both", i, res.Granted, res.Renewed)
			}
		}
		if res := f.claim(seat, "b", at.Add(ttl-time.Millisecond), true); res.Granted {
			t.Fatal("lease lapsed before TTL after its last heartbeat")
		}
		l, _ := f.holder(seat, at)
		f.wantLease("holder", l, kiosko.Lease{Seat: seat, Device: "a", DeviceName: deviceName("a"), ClaimedAt: t0, LastSeen: at, LastActive: at})
	})

	t.Run("heartbeat refused while another device holds the lease", func(t *testing.T) {
		f := setup(t)
		seat := newSeat()
		f.claim(seat, "a", t0, true)
		res := f.heartbeat(seat, "b", t0.Add(time.Second), true)
		if res.Granted {
			t.Fatal("heartbeat of b granted while a holds a live lease")
		}
		if res.Holder.Device != "a" || !res.Holder.LastSeen.Equal(t0) {
			t.Fatalf("refused heartbeat: holder %q last seen %v, want a at %v", res.Holder.Device, res.Holder.LastSeen, t0)
		}
	})

	t.Run("heartbeat renews a lapsed lease nobody took", func(t *testing.T) {
		f := setup(t)
		seat := newSeat()
		f.claim(seat, "a", t0, true)
		at := t0.Add(ttl + 10*time.Minute) // the laptop slept
		res := f.heartbeat(seat, "a", at, true)
		if !res.Granted || res.Renewed {
			t.Fatalf("heartbeat after lapse: granted=%v renewed=%v, want granted, not renewed", res.Granted, res.Renewed)
		}
		if res.Holder.Device != "a" || !res.Holder.LastSeen.Equal(at) {
			t.Fatalf("holder %q last seen %v, want a at %v", res.Holder.Device, res.Holder.LastSeen, at)
		}
		if res := f.claim(seat, "b", at.Add(time.Second), true); res.Granted {
			t.Fatal("the renewed lease is not live")
		}
	})

	t.Run("a lapsed lease of another device is free", func(t *testing.T) {
		f := setup(t)
		seat := newSeat()
		f.claim(seat, "a", t0, true)
		f.takeover(seat, "b", t0.Add(time.Second), true)
		// b closes its laptop; a's page, never told, heartbeats later.
		at := t0.Add(time.Second + ttl)
		if res := f.heartbeat(seat, "a", at, true); !res.Granted || res.Holder.Device != "a" {
			t.Fatalf("heartbeat on a seat whose lease lapsed: granted=%v holder=%q, want a", res.Granted, res.Holder.Device)
		}
	})

	t.Run("LastActive moves only when active", func(t *testing.T) {
		f := setup(t)
		seat := newSeat()
		res := f.claim(seat, "a", t0, false)
		if !res.Holder.LastActive.IsZero() {
			t.Fatalf("claim without activity: LastActive %v, want zero", res.Holder.LastActive)
		}
		t1 := t0.Add(30 * time.Second)
		if res := f.heartbeat(seat, "a", t1, true); !res.Holder.LastActive.Equal(t1) {
			t.Fatalf("active heartbeat: LastActive %v, want %v", res.Holder.LastActive, t1)
		}
		t2 := t1.Add(30 * time.Second)
		res = f.heartbeat(seat, "a", t2, false)
		if !res.Holder.LastActive.Equal(t1) || !res.Holder.LastSeen.Equal(t2) {
			t.Fatalf("idle heartbeat: LastActive %v LastSeen %v, want %v and %v", res.Holder.LastActive, res.Holder.LastSeen, t1, t2)
		}
		t3 := t2.Add(time.Second)
		res = f.claim(seat, "a", t3, false)
		if !res.Holder.LastActive.Equal(t1) || !res.Holder.LastSeen.Equal(t3) {
			t.Fatalf("idle claim: LastActive %v LastSeen %v, want %v and %v", res.Holder.LastActive, res.Holder.LastSeen, t1, t3)
		}
		t4 := t3.Add(time.Second)
		tk := f.takeover(seat, "b", t4, false)
		if tk.Previous == nil {
			t.Fatal("takeover of a live lease: no Previous")
		}
		f.wantLease("Previous", *tk.Previous, kiosko.Lease{Seat: seat, Device: "a", DeviceName: deviceName("a"), ClaimedAt: t0, LastSeen: t3, LastActive: t1})
		if !tk.Holder.LastActive.IsZero() {
			t.Fatalf("idle takeover by b: LastActive %v, want zero (a's activity is not b's)", tk.Holder.LastActive)
		}
	})

	t.Run("release", func(t *testing.T) {
		f := setup(t)
		seat := newSeat()
		if err := f.e.Release(f.ctx, seat, "a", t0); err != nil {
			t.Fatalf("Release of a seat never claimed: %v", err)
		}
		f.claim(seat, "a", t0, true)
		if err := f.e.Release(f.ctx, seat, "b", t0); err != nil {
			t.Fatalf("Release by a device that does not hold the lease: %v", err)
		}
		if l, ok := f.holder(seat, t0); !ok || l.Device != "a" {
			t.Fatal("Release by b freed a's lease")
		}
		if err := f.e.Release(f.ctx, seat, "a", t0.Add(time.Second)); err != nil {
			t.Fatalf("Release: %v", err)
		}
		if _, ok := f.holder(seat, t0.Add(time.Second)); ok {
			t.Fatal("lease still held after Release")
		}
		at := t0.Add(2 * time.Second)
		res := f.claim(seat, "b", at, true)
		if !res.Granted || res.Renewed || !res.Holder.ClaimedAt.Equal(at) {
			t.Fatalf("claim after release: granted=%v renewed=%v claimed at %v", res.Granted, res.Renewed, res.Holder.ClaimedAt)
		}
	})

	t.Run("takeover of a free seat", func(t *testing.T) {
		f := setup(t)
		seat := newSeat()
		res := f.takeover(seat, "a", t0, true)
		if res.Previous != nil {
			t.Fatalf("takeover of a free seat displaced %+v", *res.Previous)
		}
		f.wantLease("holder", res.Holder, kiosko.Lease{Seat: seat, Device: "a", DeviceName: deviceName("a"), ClaimedAt: t0, LastSeen: t0, LastActive: t0})
	})

	t.Run("takeover displaces a live lease", func(t *testing.T) {
		f := setup(t)
		seat := newSeat()
		f.claim(seat, "a", t0, true)
		at := t0.Add(10 * time.Second)
		res := f.takeover(seat, "b", at, true)
		if res.Previous == nil {
			t.Fatal("takeover of a's live lease: no Previous")
		}
		f.wantLease("Previous", *res.Previous, kiosko.Lease{Seat: seat, Device: "a", DeviceName: deviceName("a"), ClaimedAt: t0, LastSeen: t0, LastActive: t0})
		f.wantLease("holder", res.Holder, kiosko.Lease{Seat: seat, Device: "b", DeviceName: deviceName("b"), ClaimedAt: at, LastSeen: at, LastActive: at})
		if hb := f.heartbeat(seat, "a", at.Add(time.Second), true); hb.Granted || hb.Holder.Device != "b" {
			t.Fatalf("displaced a's heartbeat: granted=%v holder=%q, want refused, b", hb.Granted, hb.Holder.Device)
		}
		if c := f.claim(seat, "a", at.Add(2*time.Second), true); c.Granted {
			t.Fatal("displaced a's claim granted")
		}
		// a takes it back the same way.
		back := f.takeover(seat, "a", at.Add(3*time.Second), true)
		if back.Previous == nil || back.Previous.Device != "b" || back.Holder.Device != "a" {
			t.Fatalf("takeback: %+v", back)
		}
	})

	t.Run("takeover of a lapsed lease displaces nobody", func(t *testing.T) {
		f := setup(t)
		seat := newSeat()
		f.claim(seat, "a", t0, true)
		res := f.takeover(seat, "b", t0.Add(ttl), true)
		if res.Previous != nil {
			t.Fatalf("takeover of a lapsed lease reported Previous %+v", *res.Previous)
		}
		if res.Holder.Device != "b" {
			t.Fatalf("holder %q, want b", res.Holder.Device)
		}
	})

	t.Run("takeover by the holder", func(t *testing.T) {
		f := setup(t)
		seat := newSeat()
		f.claim(seat, "a", t0, true)
		at := t0.Add(5 * time.Second)
		res := f.takeover(seat, "a", at, true)
		if res.Previous != nil {
			t.Fatalf("holder's own takeover displaced %+v", *res.Previous)
		}
		f.wantLease("holder", res.Holder, kiosko.Lease{Seat: seat, Device: "a", DeviceName: deviceName("a"), ClaimedAt: t0, LastSeen: at, LastActive: at})
	})

	t.Run("seats are independent", func(t *testing.T) {
		f := setup(t)
		s1, s2 := newSeat(), newSeat()
		if !f.claim(s1, "a", t0, true).Granted || !f.claim(s2, "b", t0, true).Granted {
			t.Fatal("claims on two seats: both should be granted")
		}
		if f.claim(s2, "a", t0, true).Granted {
			t.Fatal("a's lease on one seat let it read another held seat")
		}
		if err := f.e.SetWarning(f.ctx, s1, t0); err != nil {
			t.Fatal(err)
		}
		if w := f.warning(s2); w.Set {
			t.Fatal("a warning on one seat shows on another")
		}
	})

	t.Run("contests are trimmed to the window", func(t *testing.T) {
		f := setup(t)
		seat, other := newSeat(), newSeat()
		w := s.SharingWindow
		c := func(at time.Time, from, to string) kiosko.Contest { return kiosko.Contest{At: at, From: from, To: to} }
		c1 := c(t0, "a", "b")
		c2 := c(t0.Add(3*24*time.Hour), "b", "a")
		c3 := c(t0.Add(w), "a", "b")
		c4 := c(t0.Add(w+time.Millisecond), "b", "a")
		f.wantContests(f.record(seat, c1, c1.At.Add(-w)), c1)
		f.wantContests(f.record(seat, c2, c2.At.Add(-w)), c1, c2)
		// "at or after since": c1 is exactly one window old.
		f.wantContests(f.record(seat, c3, c3.At.Add(-w)), c1, c2, c3)
		f.wantContests(f.record(seat, c4, c4.At.Add(-w)), c2, c3, c4)
		o := c(t0, "x", "y")
		f.wantContests(f.record(other, o, o.At.Add(-w)), o)
		// A contest older than the window is not returned either.
		late := c(t0.Add(60*24*time.Hour), "a", "b")
		f.wantContests(f.record(seat, late, late.At.Add(-w)), late)
	})

	t.Run("warning set and clear", func(t *testing.T) {
		f := setup(t)
		seat := newSeat()
		if w := f.warning(seat); w != (kiosko.WarningState{}) {
			t.Fatalf("fresh seat: warning %+v, want zero", w)
		}
		c1 := kiosko.Contest{At: t0, From: "a", To: "b", Active: true}
		f.record(seat, c1, t0.Add(-s.SharingWindow))
		if w := f.warning(seat); w.Set || !w.LastContest.Equal(t0) {
			t.Fatalf("after a contest: warning %+v, want not set, last contest %v", w, t0)
		}
		since := t0.Add(time.Minute)
		f.setWarning(seat, since)
		if w := f.warning(seat); !w.Set || !w.Since.Equal(since) {
			t.Fatalf("after SetWarning(%v): %+v", since, w)
		}
		f.setWarning(seat, since.Add(time.Hour))
		if w := f.warning(seat); !w.Set || !w.Since.Equal(since) {
			t.Fatalf("SetWarning again moved Since: %+v, want %v", w, since)
		}
		c2 := kiosko.Contest{At: t0.Add(2 * time.Hour), From: "b", To: "a", Active: true}
		f.record(seat, c2, c2.At.Add(-s.SharingWindow))
		if w := f.warning(seat); !w.Set || !w.Since.Equal(since) || !w.LastContest.Equal(c2.At) {
			t.Fatalf("contest under warning: %+v, want since %v, last contest %v", w, since, c2.At)
		}
		if err := f.e.ClearWarning(f.ctx, seat); err != nil {
			t.Fatalf("ClearWarning: %v", err)
		}
		if w := f.warning(seat); w.Set {
			t.Fatalf("after ClearWarning: %+v", w)
		}
		c3 := kiosko.Contest{At: t0.Add(3 * time.Hour), From: "a", To: "b"}
		f.wantContests(f.record(seat, c3, c3.At.Add(-s.SharingWindow)), c3)
		again := t0.Add(4 * time.Hour)
		f.setWarning(seat, again)
		if w := f.warning(seat); !w.Set || !w.Since.Equal(again) {
			t.Fatalf("warning set again after a clear: %+v, want since %v", w, again)
		}
		if err := f.e.ClearWarning(f.ctx, newSeat()); err != nil {
			t.Fatalf("ClearWarning of a seat never warned: %v", err)
		}
	})

	t.Run("warnings and leases do not touch each other", func(t *testing.T) {
		f := setup(t)
		seat := newSeat()
		f.claim(seat, "a", t0, true)
		f.setWarning(seat, t0)
		if err := f.e.ClearWarning(f.ctx, seat); err != nil {
			t.Fatal(err)
		}
		if l, ok := f.holder(seat, t0); !ok || l.Device != "a" {
			t.Fatal("ClearWarning dropped the lease")
		}
		f.setWarning(seat, t0)
		if err := f.e.Release(f.ctx, seat, "a", t0); err != nil {
			t.Fatal(err)
		}
		if w := f.warning(seat); !w.Set {
			t.Fatal("Release lifted the sharing warning")
		}
	})

	const racers, rounds = 64, 200

	t.Run("racing claims have one winner", func(t *testing.T) {
		f := setup(t)
		for round := 0; round < rounds; round++ {
			seat := newSeat()
			at := t0
			if round%2 == 1 { // half the rounds race for a lapsed lease
				f.claim(seat, "old", t0, true)
				at = t0.Add(ttl)
			}
			results := make([]kiosko.LeaseResult, racers)
			race(racers, func(i int) {
				device := fmt.Sprint("d", i)
				var err error
				if i%2 == 0 {
					results[i], err = f.e.Claim(f.ctx, kiosko.LeaseClaim{Seat: seat, Device: device, DeviceName: deviceName(device), Active: true, Now: at})
				} else {
					results[i], err = f.e.Heartbeat(f.ctx, kiosko.LeaseClaim{Seat: seat, Device: device, DeviceName: deviceName(device), Active: true, Now: at})
				}
				if err != nil {
					t.Errorf("racer %d: %v", i, err)
				}
			})
			var winners []string
			for i, r := range results {
				if r.Granted {
					winners = append(winners, fmt.Sprint("d", i))
					if r.Renewed {
						t.Errorf("round %d: d%d's first claim reported Renewed", round, i)
					}
				}
			}
			if len(winners) != 1 {
				t.Fatalf("round %d: %d racing claims won (%v), want exactly 1", round, len(winners), winners)
			}
			for i, r := range results {
				if r.Holder.Device != winners[0] || r.Holder.DeviceName != deviceName(winners[0]) {
					t.Fatalf("round %d: d%d saw holder %q (%q), want %q", round, i, r.Holder.Device, r.Holder.DeviceName, winners[0])
				}
			}
			if l, ok := f.holder(seat, at); !ok || l.Device != winners[0] {
				t.Fatalf("round %d: Holder %q, want the winner %q", round, l.Device, winners[0])
			}
		}
	})

	// Racing takeovers all succeed, but they happen one after another: each
	// displaces the one before, so the displaced devices form one chain
	// from the first holder to the last taker, who holds the lease.
	raceTakeovers := func(t *testing.T, held bool) {
		f := setup(t)
		for round := 0; round < rounds; round++ {
			seat := newSeat()
			if held {
				f.claim(seat, "first", t0, true)
			}
			at := t0.Add(time.Second)
			results := make([]kiosko.TakeoverResult, racers)
			race(racers, func(i int) {
				device := fmt.Sprint("d", i)
				var err error
				results[i], err = f.e.Takeover(f.ctx, kiosko.LeaseClaim{Seat: seat, Device: device, DeviceName: deviceName(device), Active: true, Now: at})
				if err != nil {
					t.Errorf("racer %d: %v", i, err)
				}
			})
			next := map[string]string{} // displaced device -> who displaced it
			start := ""
			for i, r := range results {
				device := fmt.Sprint("d", i)
				if r.Holder.Device != device {
					t.Fatalf("round %d: %s's takeover left the lease with %q", round, device, r.Holder.Device)
				}
				if r.Previous == nil {
					if start != "" {
						t.Fatalf("round %d: %s and %s both took over a free seat", round, start, device)
					}
					start = device
					continue
				}
				p := r.Previous
				if p.DeviceName != deviceName(p.Device) {
					t.Fatalf("round %d: %s displaced %q with the name %q", round, device, p.Device, p.DeviceName)
				}
				if who, dup := next[p.Device]; dup {
					t.Fatalf("round %d: %q was displaced twice, by %s and %s", round, p.Device, who, device)
				}
				next[p.Device] = device
			}
			switch {
			case held && start != "":
				t.Fatalf("round %d: %s took over a held seat and displaced nobody", round, start)
			case held:
				start = next["first"]
				if start == "" {
					t.Fatalf("round %d: nobody displaced the first holder", round)
				}
			case start == "":
				t.Fatalf("round %d: every racer displaced someone on a free seat", round)
			}
			seen := map[string]bool{start: true}
			last := start
			for n := next[last]; n != ""; n = next[last] {
				if seen[n] {
					t.Fatalf("round %d: the displacement chain loops at %s", round, n)
				}
				seen[n], last = true, n
			}
			if len(seen) != racers {
				t.Fatalf("round %d: the displacement chain covers %d of %d takeovers", round, len(seen), racers)
			}
			if l, ok := f.holder(seat, at); !ok || l.Device != last {
				t.Fatalf("round %d: Holder %q, want %q, the end of the chain", round, l.Device, last)
			}
		}
	}
	t.Run("racing takeovers of a held seat form one chain", func(t *testing.T) { raceTakeovers(t, true) })
	t.Run("racing takeovers of a free seat form one chain", func(t *testing.T) { raceTakeovers(t, false) })

	t.Run("racing contests are all recorded", func(t *testing.T) {
		f := setup(t)
		const n = 32
		for round := 0; round < 20; round++ {
			seat := newSeat()
			race(n, func(i int) {
				c := kiosko.Contest{At: t0.Add(time.Duration(i) * time.Millisecond), From: fmt.Sprint("d", i), To: "x"}
				if _, err := f.e.RecordContest(f.ctx, seat, c, t0.Add(-s.SharingWindow)); err != nil {
					t.Errorf("racer %d: %v", i, err)
				}
			})
			last := kiosko.Contest{At: t0.Add(time.Second), From: "x", To: "y"}
			got := f.record(seat, last, t0.Add(-s.SharingWindow))
			if len(got) != n+1 {
				t.Fatalf("round %d: %d contests kept after %d racing ones and one more, want %d", round, len(got), n, n+1)
			}
			if !slices.IsSortedFunc(got, func(a, b kiosko.Contest) int { return a.At.Compare(b.At) }) {
				t.Fatalf("round %d: contests recorded out of order are not returned oldest first: %v", round, got)
			}
		}
	})
	runContestMarks(t, s, setup)
}

// race runs fn(0..n-1) in n goroutines released at the same instant.
func race(n int, fn func(i int)) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			fn(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
}

type fixture struct {
	t   *testing.T
	e   kiosko.LeaseEngine
	ctx context.Context
}

func (f *fixture) lc(seat int64, device string, at time.Time, active bool) kiosko.LeaseClaim {
	return kiosko.LeaseClaim{Seat: seat, Device: device, DeviceName: deviceName(device), Active: active, Now: at}
}

func (f *fixture) claim(seat int64, device string, at time.Time, active bool) kiosko.LeaseResult {
	f.t.Helper()
	return f.ask("Claim", f.e.Claim, seat, device, at, active)
}

func (f *fixture) heartbeat(seat int64, device string, at time.Time, active bool) kiosko.LeaseResult {
	f.t.Helper()
	return f.ask("Heartbeat", f.e.Heartbeat, seat, device, at, active)
}

func (f *fixture) ask(op string, call func(context.Context, kiosko.LeaseClaim) (kiosko.LeaseResult, error),
	seat int64, device string, at time.Time, active bool) kiosko.LeaseResult {
	f.t.Helper()
	res, err := call(f.ctx, f.lc(seat, device, at, active))
	if err != nil {
		f.t.Fatalf("%s(%d, %s): %v", op, seat, device, err)
	}
	return res
}

func (f *fixture) takeover(seat int64, device string, at time.Time, active bool) kiosko.TakeoverResult {
	f.t.Helper()
	res, err := f.e.Takeover(f.ctx, f.lc(seat, device, at, active))
	if err != nil {
		f.t.Fatalf("Takeover(%d, %s): %v", seat, device, err)
	}
	return res
}

func (f *fixture) holder(seat int64, at time.Time) (kiosko.Lease, bool) {
	f.t.Helper()
	l, ok, err := f.e.Holder(f.ctx, seat, at)
	if err != nil {
		f.t.Fatalf("Holder(%d): %v", seat, err)
	}
	return l, ok
}

func (f *fixture) record(seat int64, c kiosko.Contest, since time.Time) []kiosko.Contest {
	f.t.Helper()
	got, err := f.e.RecordContest(f.ctx, seat, c, since)
	if err != nil {
		f.t.Fatalf("RecordContest(%d): %v", seat, err)
	}
	return got
}

func (f *fixture) warning(seat int64) kiosko.WarningState {
	f.t.Helper()
	w, err := f.e.Warning(f.ctx, seat)
	if err != nil {
		f.t.Fatalf("Warning(%d): %v", seat, err)
	}
	return w
}

func (f *fixture) setWarning(seat int64, since time.Time) {
	f.t.Helper()
	if err := f.e.SetWarning(f.ctx, seat, since); err != nil {
		f.t.Fatalf("SetWarning(%d): %v", seat, err)
	}
}

// wantLease compares leases field by field, times with Equal.
func (f *fixture) wantLease(what string, got, want kiosko.Lease) {
	f.t.Helper()
	if got.Seat != want.Seat || got.Device != want.Device || got.DeviceName != want.DeviceName ||
		!got.ClaimedAt.Equal(want.ClaimedAt) || !got.LastSeen.Equal(want.LastSeen) || !got.LastActive.Equal(want.LastActive) {
		f.t.Fatalf("%s:\n got %s\nwant %s", what, fmtLease(got), fmtLease(want))
	}
}

func fmtLease(l kiosko.Lease) string {
	return fmt.Sprintf("seat %d device %q (%q) claimed %s seen %s active %s", l.Seat, l.Device, l.DeviceName,
		fmtTime(l.ClaimedAt), fmtTime(l.LastSeen), fmtTime(l.LastActive))
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("15:04:05.000")
}

// wantContests compares contests, which come oldest first
// (ReadingSettings.Warns looks for a take-back in that order).
func (f *fixture) wantContests(got []kiosko.Contest, want ...kiosko.Contest) {
	f.t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = got[i].At.Equal(want[i].At) && got[i].From == want[i].From && got[i].To == want[i].To &&
			got[i].Active == want[i].Active && got[i].Marks == want[i].Marks
	}
	if !ok {
		f.t.Fatalf("contests:\n got %v\nwant %v", got, want)
	}
}
