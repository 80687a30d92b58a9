package storetest

import (
	"fmt"
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
}
