package leasetest

import (
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// runContestMarks checks what the engine keeps of a displacement: its
// Active flag, and the marks a person seen at the displaced device adds
// (kiosko.Reading uses them to tell one person moving from two sharing).
func runContestMarks(t *testing.T, s kiosko.ReadingSettings, setup func(t *testing.T) *fixture) {
	w := s.SharingWindow

	t.Run("contests keep their active flag", func(t *testing.T) {
		f := setup(t)
		seat := newSeat()
		quiet := kiosko.Contest{At: t0, From: "a", To: "b"}
		busy := kiosko.Contest{At: t0.Add(time.Minute), From: "b", To: "a", Active: true}
		f.record(seat, quiet, t0.Add(-w))
		if got := f.warning(seat).LastContest; !got.IsZero() {
			t.Fatalf("a takeover of an idle device moved LastContest to %v", got)
		}
		f.wantContests(f.record(seat, busy, t0.Add(-w)), quiet, busy)
		if got := f.warning(seat).LastContest; !got.Equal(busy.At) {
			t.Fatalf("LastContest = %v, want the active contest's %v", got, busy.At)
		}
	})

	t.Run("mark the latest displacement of a device", func(t *testing.T) {
		f := setup(t)
		seat := newSeat()
		c1 := kiosko.Contest{At: t0, From: "a", To: "b", Active: true}
		c2 := kiosko.Contest{At: t0.Add(20 * time.Second), From: "b", To: "a", Active: true}
		c3 := kiosko.Contest{At: t0.Add(30 * time.Second), From: "a", To: "b"}
		for _, c := range []kiosko.Contest{c1, c2, c3} {
			f.record(seat, c, c.At.Add(-w))
		}
		now := t0.Add(40 * time.Second)
		// "a" was displaced twice; only the latest (c3) is marked.
		before, ok, got := f.mark(seat, "a", now.Add(-15*time.Second), kiosko.MarkPresent, now.Add(-w))
		if !ok || !before.At.Equal(c3.At) || before.Marks != 0 {
			t.Fatalf("mark a: before %+v ok %v, want c3 unmarked", before, ok)
		}
		m3 := c3
		m3.Marks = kiosko.MarkPresent
		f.wantContests(got, c1, c2, m3)
		// Marks add up, and marking again changes nothing more.
		before, ok, got = f.mark(seat, "a", now.Add(-15*time.Second), kiosko.MarkTookBack, now.Add(-w))
		if !ok || before.Marks != kiosko.MarkPresent {
			t.Fatalf("second mark: before %+v ok %v, want c3 marked present", before, ok)
		}
		m3.Marks |= kiosko.MarkTookBack
		f.wantContests(got, c1, c2, m3)
		before, ok, _ = f.mark(seat, "a", now.Add(-15*time.Second), kiosko.MarkTookBack, now.Add(-w))
		if !ok || before.Marks != m3.Marks {
			t.Fatalf("same mark again: before %+v ok %v", before, ok)
		}
		// "b"'s latest displacement (c2) is older than After: nothing.
		if before, ok, got := f.mark(seat, "b", now.Add(-15*time.Second), kiosko.MarkPresent, now.Add(-w)); ok {
			t.Fatalf("marked %+v, a displacement 20 s old, outside the window", before)
		} else {
			f.wantContests(got, c1, c2, m3)
		}
		// A device never displaced, and a seat with no contests at all.
		if _, ok, _ := f.mark(seat, "c", t0, kiosko.MarkPresent, now.Add(-w)); ok {
			t.Fatal("marked a contest of a device never displaced")
		}
		if _, ok, got := f.mark(newSeat(), "a", t0, kiosko.MarkPresent, now.Add(-w)); ok || len(got) != 0 {
			t.Fatalf("mark on a fresh seat: ok %v contests %v", ok, got)
		}
		// Recording the same contest again keeps one, with its marks.
		f.wantContests(f.record(seat, c3, c3.At.Add(-w)), c1, c2, m3)
		// ClearWarning forgets marks with the contests.
		if err := f.e.ClearWarning(f.ctx, seat); err != nil {
			t.Fatal(err)
		}
		f.wantContests(f.record(seat, c3, c3.At.Add(-w)), c3)
	})

	t.Run("marks are trimmed with their contests", func(t *testing.T) {
		f := setup(t)
		seat := newSeat()
		old := kiosko.Contest{At: t0, From: "a", To: "b", Active: true}
		f.record(seat, old, t0.Add(-w))
		f.mark(seat, "a", t0, kiosko.MarkPresent, t0.Add(-w))
		later := t0.Add(w + time.Hour)
		// The old contest is gone, and so is its mark: the same contest
		// recorded anew comes back unmarked.
		if _, ok, got := f.mark(seat, "a", t0, kiosko.MarkPresent, later.Add(-w)); ok || len(got) != 0 {
			t.Fatalf("mark after the window: ok %v contests %v", ok, got)
		}
		f.wantContests(f.record(seat, old, t0.Add(-w)), old)
	})

	t.Run("racing marks of one displacement mark it once", func(t *testing.T) {
		f := setup(t)
		const n = 16
		for round := 0; round < 10; round++ {
			seat := newSeat()
			c := kiosko.Contest{At: t0, From: "a", To: "b", Active: true}
			f.record(seat, c, t0.Add(-w))
			firsts := make(chan bool, n)
			race(n, func(i int) {
				mark := []kiosko.ContestMark{kiosko.MarkPresent, kiosko.MarkTookBack}[i%2]
				before, ok, _, err := f.e.MarkContest(f.ctx, seat, kiosko.ContestMarking{Device: "a", After: t0, Mark: mark, Since: t0.Add(-w)})
				if err != nil || !ok {
					t.Errorf("racer %d: ok %v err %v", i, ok, err)
				}
				firsts <- before.Marks == 0
			})
			close(firsts)
			unmarked := 0
			for f := range firsts {
				if f {
					unmarked++
				}
			}
			if unmarked != 1 {
				t.Fatalf("round %d: %d racers saw the contest unmarked, want exactly 1", round, unmarked)
			}
			_, _, got := f.mark(seat, "a", t0, 0, t0.Add(-w))
			if len(got) != 1 || got[0].Marks != kiosko.MarkPresent|kiosko.MarkTookBack {
				t.Fatalf("round %d: after the race: %v", round, got)
			}
		}
	})
}

func (f *fixture) mark(seat int64, device string, after time.Time, mark kiosko.ContestMark, since time.Time) (kiosko.Contest, bool, []kiosko.Contest) {
	f.t.Helper()
	before, ok, got, err := f.e.MarkContest(f.ctx, seat, kiosko.ContestMarking{Device: device, After: after, Mark: mark, Since: since})
	if err != nil {
		f.t.Fatalf("MarkContest(%d, %s): %v", seat, device, err)
	}
	return before, ok, got
}
