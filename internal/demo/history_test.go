package demo

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/password"
	"github.com/kiosko/kiosko/internal/sqlite"
)

// TestSeedHistoryShowsEveryChart: a fresh demo's history puts seats in
// every sharing category, warnings with each outcome, and sign-ups, in the
// last 30 days, within a few seconds.
func TestSeedHistoryShowsEveryChart(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "kiosko.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	now := time.Now().UTC()
	start := time.Now()
	if err := Seed(ctx, db, &password.Hasher{Memory: 64, Time: 1, Threads: 1}, now); err != nil {
		t.Fatal(err)
	}
	if err := SeedHistory(ctx, db, &password.Hasher{Memory: 64, Time: 1, Threads: 1}, now, DefaultHistory); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded in %s", time.Since(start))
	from := now.Truncate(kiosko.Day).AddDate(0, 0, -29)
	sharing, err := db.SharingByDay(ctx, from, now)
	if err != nil {
		t.Fatal(err)
	}
	var not, possibly, warned int64
	for _, d := range sharing {
		not, possibly, warned = not+d.NotShared, possibly+d.Possibly, warned+d.Warned
	}
	if not == 0 || possibly == 0 || warned == 0 {
		t.Fatalf("sharing over 30 days: not %d, possibly %d, warned %d; want each", not, possibly, warned)
	}
	out, err := db.WarningOutcomes(ctx, from.AddDate(0, 0, -30), now, 30*kiosko.Day)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{kiosko.OutcomeUpgraded, kiosko.OutcomePassword, kiosko.OutcomeAdmin, kiosko.OutcomeNothing} {
		if out[k] == 0 {
			t.Errorf("no warning ended %s: %v", k, out)
		}
	}
	growth, err := db.GrowthByDay(ctx, from, now)
	if err != nil {
		t.Fatal(err)
	}
	var signups int64
	for _, g := range growth {
		signups += g.SignUps
	}
	if signups == 0 {
		t.Fatal("no sign-ups in the last 30 days")
	}
	paywall, err := db.PaywallByDay(ctx, from, now)
	if err != nil {
		t.Fatal(err)
	}
	var sum kiosko.PaywallDay
	for _, d := range paywall {
		sum.Anonymous += d.Anonymous
		sum.Registered += d.Registered
		sum.Subscriber += d.Subscriber
		sum.RegistrationWalls += d.RegistrationWalls
		sum.SubscriptionWalls += d.SubscriptionWalls
	}
	if sum.Anonymous == 0 || sum.Registered == 0 || sum.Subscriber == 0 || sum.RegistrationWalls == 0 || sum.SubscriptionWalls == 0 {
		t.Fatalf("paywall over 30 days: %+v; want views of each reader kind and both walls", sum)
	}
	// The meter is the real one: an anonymous visitor meets the
	// registration wall only after ten free articles in a month, so walls
	// are fewer than views.
	if sum.RegistrationWalls >= sum.Anonymous {
		t.Errorf("registration walls %d not fewer than anonymous views %d", sum.RegistrationWalls, sum.Anonymous)
	}
}
