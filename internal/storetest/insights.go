package storetest

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

var insightsTests = []test{
	{"ReadingAndSharingByDay", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		day0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		d := func(day int, h time.Duration) time.Time { return day0.AddDate(0, 0, day).Add(h) }
		le := func(kind string, seat, acct int64, at time.Time, reason string) kiosko.LeaseEvent {
			return kiosko.LeaseEvent{Kind: kind, SeatID: seat, AccountID: acct, Device: "d", Reason: reason, At: at}
		}
		ok(t, s.AppendLeaseEvents(ctx, []kiosko.LeaseEvent{
			// Day 0: seats 1, 2, 3 read; seat 2 has a contested takeover.
			le(kiosko.EventClaim, 1, 10, d(0, time.Hour), ""),
			le(kiosko.EventClaim, 1, 10, d(0, 2*time.Hour), ""),
			le(kiosko.EventClaim, 2, 20, d(0, time.Hour), ""),
			le(kiosko.EventConflict, 2, 20, d(0, time.Hour+time.Minute), ""),
			le(kiosko.EventTakeoverContested, 2, 20, d(0, time.Hour+2*time.Minute), ""),
			le(kiosko.EventClaim, 3, 30, d(0, 5*time.Hour), ""),
			// Day 1: seat 3 is warned in the evening (it was read that day); seat 2 reads quietly.
			le(kiosko.EventClaim, 3, 30, d(1, time.Hour), ""),
			le(kiosko.EventTakeoverCounted, 3, 30, d(1, 20*time.Hour), ""),
			le(kiosko.EventWarningSet, 3, 30, d(1, 20*time.Hour), ""),
			le(kiosko.EventClaim, 2, 20, d(1, 3*time.Hour), ""),
			// Day 2: nobody reads. Day 3: seat 3 reads, still warned, cleared by a password change;
			// seat 4 is warned and cleared by an upgrade two days later; seat 5 warned, never cleared.
			le(kiosko.EventClaim, 3, 30, d(3, time.Hour), ""),
			le(kiosko.EventWarningCleared, 3, 30, d(3, 2*time.Hour), "password"),
			le(kiosko.EventWarningSet, 4, 40, d(3, time.Hour), ""),
			le(kiosko.EventWarningCleared, 4, 40, d(5, time.Hour), "upgrade"),
			le(kiosko.EventWarningSet, 5, 50, d(3, time.Hour), ""),
			// Outside the range.
			le(kiosko.EventClaim, 1, 10, d(-1, time.Hour), ""),
			le(kiosko.EventClaim, 1, 10, d(4, time.Hour), ""),
		}))
		reading, err := s.ReadingByDay(ctx, d(0, 0), d(4, 0))
		ok(t, err)
		if len(reading) != 4 || !reading[0].Day.Equal(day0) || !reading[3].Day.Equal(d(3, 0)) {
			t.Fatalf("reading days: %+v", reading)
		}
		want := []string{
			"readers=3 claims=4 conflicts=1 contested=1 counted=0 set=0 cleared=0",
			"readers=2 claims=2 conflicts=0 contested=0 counted=1 set=1 cleared=0",
			"readers=0 claims=0 conflicts=0 contested=0 counted=0 set=0 cleared=0",
			"readers=1 claims=1 conflicts=0 contested=0 counted=0 set=2 cleared=1",
		}
		for i, r := range reading {
			got := fmt.Sprintf("readers=%d claims=%d conflicts=%d contested=%d counted=%d set=%d cleared=%d", r.Readers, r.Claims, r.Conflicts, r.Contested, r.Counted, r.WarningsSet, r.WarningsCleared)
			if got != want[i] {
				t.Errorf("day %d: %s, want %s", i, got, want[i])
			}
		}
		sharing, err := s.SharingByDay(ctx, d(0, 0), d(4, 0))
		ok(t, err)
		wantS := []string{"2/1/0", "1/0/1", "0/0/0", "0/0/1"} // not shared / possibly / warned
		for i, sd := range sharing {
			if got := fmt.Sprintf("%d/%d/%d", sd.NotShared, sd.Possibly, sd.Warned); got != wantS[i] || !sd.Day.Equal(d(i, 0)) {
				t.Errorf("sharing day %d (%s): %s, want %s", i, sd.Day, got, wantS[i])
			}
		}
		if len(sharing) != 4 {
			t.Fatalf("sharing days: %d", len(sharing))
		}
		out, err := s.WarningOutcomes(ctx, d(0, 0), d(10, 0), 30*24*time.Hour)
		ok(t, err)
		if out[kiosko.OutcomePassword] != 1 || out[kiosko.OutcomeUpgraded] != 1 || out[kiosko.OutcomeNothing] != 1 || out[kiosko.OutcomeAdmin] != 0 {
			t.Fatalf("outcomes: %v", out)
		}
		short, err := s.WarningOutcomes(ctx, d(0, 0), d(10, 0), 24*time.Hour)
		ok(t, err)
		if short[kiosko.OutcomeUpgraded] != 0 || short[kiosko.OutcomePassword] != 0 || short[kiosko.OutcomeNothing] != 3 {
			t.Fatalf("outcomes within a day: %v", short)
		}
	}},
	{"GrowthByDay", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		day0 := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
		for i, day := range []int{0, 0, 2, 5} {
			a := &kiosko.Account{Email: fmt.Sprintf("growth%d@x.test", i), PasswordHash: "x", Role: kiosko.RoleReader, Lang: "es", CreatedAt: day0.AddDate(0, 0, day).Add(time.Hour)}
			ok(t, s.CreateAccount(ctx, a))
			if day == 2 {
				newSubscription(t, s, a, 1, func(sub *kiosko.Subscription) { sub.CreatedAt = day0.AddDate(0, 0, 2).Add(3 * time.Hour) })
			}
		}
		g, err := s.GrowthByDay(ctx, day0, day0.AddDate(0, 0, 3))
		ok(t, err)
		if len(g) != 3 || g[0].SignUps != 2 || g[1].SignUps != 0 || g[2].SignUps != 1 || g[2].Subscriptions != 1 || g[0].Subscriptions != 0 {
			t.Fatalf("growth: %+v", g)
		}
	}},
	{"NewsletterByDay", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		day0 := time.Date(2026, 8, 3, 0, 0, 0, 0, time.UTC)
		newEdition(t, s, "es", kiosko.LangSpanish)
		for i, c := range []struct {
			status           string
			confirmed, other int // days; -1: never
		}{
			{kiosko.SubscriberConfirmed, 0, -1},
			{kiosko.SubscriberConfirmed, 0, -1},
			{kiosko.SubscriberUnsubscribed, 0, 2},
			{kiosko.SubscriberBounced, 1, 2},
			{kiosko.SubscriberPending, -1, -1},
		} {
			sub := &kiosko.Subscriber{Edition: "es", Email: fmt.Sprintf("nl%d@x.test", i), Status: c.status, Source: "form",
				UnsubscribeToken: fmt.Sprintf("unsub-%d", i), CreatedAt: day0}
			if c.confirmed >= 0 {
				sub.ConfirmedAt = ptr(day0.AddDate(0, 0, c.confirmed).Add(time.Hour))
			}
			if c.other >= 0 {
				when := day0.AddDate(0, 0, c.other).Add(2 * time.Hour)
				if c.status == kiosko.SubscriberUnsubscribed {
					sub.UnsubscribedAt = &when
				} else {
					sub.BouncedAt = &when
				}
			}
			ok(t, s.CreateSubscriber(ctx, sub))
		}
		got, err := s.NewsletterByDay(ctx, day0, day0.AddDate(0, 0, 3))
		ok(t, err)
		want := []string{"3/0/0", "1/0/0", "0/1/1"}
		if len(got) != 3 {
			t.Fatalf("days: %+v", got)
		}
		for i, d := range got {
			if g := fmt.Sprintf("%d/%d/%d", d.Confirmed, d.Unsubscribed, d.Bounced); g != want[i] {
				t.Errorf("day %d: %s, want %s", i, g, want[i])
			}
		}
	}},
	{"CountersMatchTheEventLog", countersMatchTheEventLog},
	{"PaywallCounts", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		day0 := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
		d := kiosko.DayNumber(day0)
		ok(t, s.AddInsightCounts(ctx, []kiosko.InsightCount{
			{Day: d, Kind: kiosko.CountView, Dim: kiosko.ReaderAnonymous, N: 5},
			{Day: d, Kind: kiosko.CountView, Dim: kiosko.ReaderSubscriber, N: 2},
			{Day: d + 1, Kind: kiosko.CountWall, Dim: kiosko.WallSubscription, N: 1},
			{Day: d - 1, Kind: kiosko.CountView, Dim: kiosko.ReaderAnonymous, N: 100}, // outside the range
		}))
		// A second flush adds to the same counters.
		ok(t, s.AddInsightCounts(ctx, []kiosko.InsightCount{
			{Day: d, Kind: kiosko.CountView, Dim: kiosko.ReaderAnonymous, N: 1},
			{Day: d + 1, Kind: kiosko.CountView, Dim: kiosko.ReaderRegistered, N: 3},
			{Day: d + 1, Kind: kiosko.CountWall, Dim: kiosko.WallRegistration, N: 2},
		}))
		ok(t, s.AddInsightCounts(ctx, nil))
		got, err := s.PaywallByDay(ctx, day0, day0.AddDate(0, 0, 3))
		ok(t, err)
		want := []string{"6/0/2 walls 0/0", "0/3/0 walls 2/1", "0/0/0 walls 0/0"}
		if len(got) != 3 {
			t.Fatalf("days: %+v", got)
		}
		for i, p := range got {
			g := fmt.Sprintf("%d/%d/%d walls %d/%d", p.Anonymous, p.Registered, p.Subscriber, p.RegistrationWalls, p.SubscriptionWalls)
			if g != want[i] || !p.Day.Equal(day0.AddDate(0, 0, i)) {
				t.Errorf("day %d (%s): %s, want %s", i, p.Day, g, want[i])
			}
		}
		// A range ending during a day includes that day, as "up to now" does.
		part, err := s.PaywallByDay(ctx, day0, day0.Add(36*time.Hour))
		ok(t, err)
		if len(part) != 2 || part[1].Registered != 3 {
			t.Fatalf("a range ending at noon: %+v", part)
		}
	}},
}

// countersMatchTheEventLog writes a generated fortnight of lease events
// in batches of every size, as the event writer does, and checks every
// insight against a count made here from the events themselves.
func countersMatchTheEventLog(t *testing.T, s kiosko.Store) {
	day0 := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	evs := InsightEvents(day0)
	rnd := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < len(evs); {
		n := min(1+rnd.IntN(60), len(evs)-i)
		batch := slices.Clone(evs[i : i+n])
		rnd.Shuffle(len(batch), func(a, b int) { batch[a], batch[b] = batch[b], batch[a] }) // no order within a batch
		ok(t, s.AppendLeaseEvents(t.Context(), batch))
		i += n
	}
	CheckInsights(t, s, evs, day0, InsightDays)
}

// InsightDays is how many days InsightEvents spans.
const InsightDays = 14

// InsightEvents generates a fortnight of lease events from day0, oldest
// first: a dozen seats read, contested, warned and cleared at random.
func InsightEvents(day0 time.Time) []kiosko.LeaseEvent {
	const nSeats = 12
	rnd := rand.New(rand.NewPCG(13, 2025))
	kinds := []string{kiosko.EventClaim, kiosko.EventClaim, kiosko.EventClaim, kiosko.EventClaim, kiosko.EventConflict, kiosko.EventTakeoverQuiet,
		kiosko.EventTakeoverContested, kiosko.EventTakeoverCounted, kiosko.EventWarningSet, kiosko.EventWarningCleared, kiosko.EventRemoteSignOut}
	reasons := []string{"upgrade", "password", "admin", "quiet"}
	var evs []kiosko.LeaseEvent
	for range 900 {
		seat := int64(9000 + rnd.IntN(nSeats))
		e := kiosko.LeaseEvent{Kind: kinds[rnd.IntN(len(kinds))], SeatID: seat, AccountID: seat*10 + int64(rnd.IntN(3)), Device: "d",
			At: day0.Add(time.Duration(rnd.Int64N(int64(InsightDays * kiosko.Day))))}
		if e.Kind == kiosko.EventWarningCleared {
			e.Reason = reasons[rnd.IntN(len(reasons))]
		}
		if rnd.IntN(20) == 0 {
			e.SeatID = 0 // reading a free article: no seat
		}
		evs = append(evs, e)
	}
	// Events at the very start of a day and a warning that spans days.
	evs = append(evs,
		kiosko.LeaseEvent{Kind: kiosko.EventWarningSet, SeatID: 9100, AccountID: 91000, At: day0.Add(2 * time.Hour)},
		kiosko.LeaseEvent{Kind: kiosko.EventClaim, SeatID: 9100, AccountID: 91000, At: day0.AddDate(0, 0, 3)},
		kiosko.LeaseEvent{Kind: kiosko.EventWarningCleared, SeatID: 9100, AccountID: 91000, Reason: "password", At: day0.AddDate(0, 0, 4).Add(time.Hour)},
		kiosko.LeaseEvent{Kind: kiosko.EventClaim, SeatID: 9100, AccountID: 91000, At: day0.AddDate(0, 0, 4).Add(3 * time.Hour)},
		kiosko.LeaseEvent{Kind: kiosko.EventClaim, SeatID: 9100, AccountID: 91000, At: day0.AddDate(0, 0, 5)})
	slices.SortStableFunc(evs, func(a, b kiosko.LeaseEvent) int { return a.At.Compare(b.At) })
	return evs
}

// CheckInsights compares the store's reading, sharing and outcome
// insights over nDays from day0 with a count made here from evs.
func CheckInsights(t *testing.T, s kiosko.InsightsStore, evs []kiosko.LeaseEvent, day0 time.Time, nDays int) {
	t.Helper()
	ctx := t.Context()
	want := ReferenceInsights(evs, day0, nDays)
	from, to := day0, day0.AddDate(0, 0, nDays)
	reading, err := s.ReadingByDay(ctx, from, to)
	ok(t, err)
	sharing, err := s.SharingByDay(ctx, from, to)
	ok(t, err)
	if len(reading) != nDays || len(sharing) != nDays {
		t.Fatalf("%d reading and %d sharing days, want %d", len(reading), len(sharing), nDays)
	}
	for i := range nDays {
		if reading[i] != want.Reading[i] {
			t.Errorf("reading, day %d:\n got %+v\nwant %+v", i, reading[i], want.Reading[i])
		}
		if sharing[i] != want.Sharing[i] {
			t.Errorf("sharing, day %d:\n got %+v\nwant %+v", i, sharing[i], want.Sharing[i])
		}
	}
	for _, window := range []time.Duration{time.Hour, 2 * kiosko.Day, 30 * kiosko.Day} {
		got, err := s.WarningOutcomes(ctx, from, to, window)
		ok(t, err)
		if w := want.Outcomes(evs, from, to, window); !maps.Equal(got, w) {
			t.Errorf("outcomes within %s: %v, want %v", window, got, w)
		}
	}
}

// Reference is what the insights of a set of lease events are, counted
// the slow and obvious way.
type Reference struct {
	Reading []kiosko.ReadingDay
	Sharing []kiosko.SharingDay
}

// ReferenceInsights counts events per day from day0 for nDays.
func ReferenceInsights(evs []kiosko.LeaseEvent, day0 time.Time, nDays int) *Reference {
	r := &Reference{}
	for i := range nDays {
		start, end := day0.AddDate(0, 0, i), day0.AddDate(0, 0, i+1)
		rd := kiosko.ReadingDay{Day: start}
		readers := map[int64]bool{}
		seats := map[int64]int{}
		for _, e := range evs {
			if e.At.Before(start) || !e.At.Before(end) {
				continue
			}
			switch e.Kind {
			case kiosko.EventClaim:
				rd.Claims++
				readers[e.AccountID] = true
			case kiosko.EventConflict:
				rd.Conflicts++
			case kiosko.EventTakeoverContested:
				rd.Contested++
			case kiosko.EventTakeoverQuiet:
				rd.Quiet++
			case kiosko.EventTakeoverCounted:
				rd.Counted++
			case kiosko.EventWarningSet:
				rd.WarningsSet++
			case kiosko.EventWarningCleared:
				rd.WarningsCleared++
			}
			if e.SeatID != 0 && (e.Kind == kiosko.EventClaim || e.Kind == kiosko.EventTakeoverContested || e.Kind == kiosko.EventTakeoverQuiet) {
				seats[e.SeatID] = max(seats[e.SeatID], kiosko.SeatNotShared)
				if e.Kind == kiosko.EventTakeoverContested {
					seats[e.SeatID] = kiosko.SeatPossibly
				}
			}
		}
		rd.Readers = int64(len(readers))
		sd := kiosko.SharingDay{Day: start}
		for seat, c := range seats {
			if warnedDuring(evs, seat, start, end) {
				c = kiosko.SeatWarned
			}
			switch c {
			case kiosko.SeatNotShared:
				sd.NotShared++
			case kiosko.SeatPossibly:
				sd.Possibly++
			default:
				sd.Warned++
			}
		}
		r.Reading = append(r.Reading, rd)
		r.Sharing = append(r.Sharing, sd)
	}
	return r
}

// warnedDuring: a warning of the seat was set or cleared in [start, end),
// or the last one before start set it.
func warnedDuring(evs []kiosko.LeaseEvent, seat int64, start, end time.Time) bool {
	var last *kiosko.LeaseEvent
	for i, e := range evs {
		if e.SeatID != seat || (e.Kind != kiosko.EventWarningSet && e.Kind != kiosko.EventWarningCleared) {
			continue
		}
		if e.At.Before(start) {
			if last == nil || !e.At.Before(last.At) {
				last = &evs[i]
			}
		} else if e.At.Before(end) {
			return true
		}
	}
	return last != nil && last.Kind == kiosko.EventWarningSet
}

// Outcomes: each warning set in [from, to) by the first clearing of its
// seat at or after it, if within window.
func (*Reference) Outcomes(evs []kiosko.LeaseEvent, from, to time.Time, window time.Duration) map[string]int64 {
	out := map[string]int64{kiosko.OutcomeUpgraded: 0, kiosko.OutcomePassword: 0, kiosko.OutcomeAdmin: 0, kiosko.OutcomeQuiet: 0, kiosko.OutcomeNothing: 0}
	for _, s := range evs {
		if s.Kind != kiosko.EventWarningSet || s.At.Before(from) || !s.At.Before(to) {
			continue
		}
		var first *kiosko.LeaseEvent
		for i, c := range evs {
			if c.Kind == kiosko.EventWarningCleared && c.SeatID == s.SeatID && !c.At.Before(s.At) && (first == nil || c.At.Before(first.At)) {
				first = &evs[i]
			}
		}
		reason := ""
		if first != nil && !first.At.After(s.At.Add(window)) {
			reason = first.Reason
		}
		out[kiosko.OutcomeOf(reason)]++
	}
	return out
}
