package newsletter_test

import (
	"context"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/mailpit"
)

func TestScheduleTimes(t *testing.T) {
	t.Parallel()
	madrid, _ := time.LoadLocation("Europe/Madrid")
	s := kiosko.NewsletterSchedule{Day: time.Friday, Hour: 7}
	for _, tc := range []struct{ at, prev, next string }{
		{"2026-02-13T08:00:00+01:00", "2026-02-13T07:00:00+01:00", "2026-02-20T07:00:00+01:00"}, // Friday after the hour
		{"2026-02-13T06:59:00+01:00", "2026-02-06T07:00:00+01:00", "2026-02-13T07:00:00+01:00"}, // Friday before it
		{"2026-02-15T12:00:00+01:00", "2026-02-13T07:00:00+01:00", "2026-02-20T07:00:00+01:00"}, // Sunday
		{"2026-03-27T09:00:00+01:00", "2026-03-27T07:00:00+01:00", "2026-04-03T07:00:00+02:00"}, // across summer time
	} {
		at, _ := time.Parse(time.RFC3339, tc.at)
		if got := s.Previous(at, madrid).Format(time.RFC3339); got != tc.prev {
			t.Errorf("Previous(%s) = %s, want %s", tc.at, got, tc.prev)
		}
		if got := s.Next(at, madrid).Format(time.RFC3339); got != tc.next {
			t.Errorf("Next(%s) = %s, want %s", tc.at, got, tc.next)
		}
	}
	for in, want := range map[string]time.Weekday{"friday": time.Friday, "Mon": time.Monday, "SUNDAY": time.Sunday} {
		if d, err := kiosko.ParseWeekday(in); err != nil || d != want {
			t.Errorf("ParseWeekday(%q) = %v, %v", in, d, err)
		}
	}
	if _, err := kiosko.ParseWeekday("viernes"); err == nil {
		t.Error("ParseWeekday accepted a Spanish name")
	}
}

func TestSchedulerSendsOncePerWeek(t *testing.T) {
	t.Parallel()
	mp := mailpit.Start(t)
	e := setup(t, mp.SMTPAddr)
	e.confirmed(t, "es", "a@example.com")
	e.confirmed(t, "us", "b@example.com")
	// now is Friday 08:00 UTC: a Friday 07:00 UTC schedule is due.
	schedule := kiosko.NewsletterSchedule{Day: time.Friday, Hour: 7, Location: time.UTC}
	s := &kiosko.Scheduler{Newsletter: e.n, Schedule: schedule, Check: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	mp.WaitFor(t, "a@example.com", 1)
	mp.WaitFor(t, "b@example.com", 1)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Later looks the same day, from this node or from another that
	// starts now, send nothing more. SendDue sends before it returns, so
	// the count is final after each look.
	for i, look := range []*kiosko.Scheduler{s, s, {Newsletter: e.n, Schedule: schedule}} {
		e.clock.Add(2 * time.Hour)
		if wake := look.SendDue(context.Background()); !wake.After(e.clock.Now()) {
			t.Errorf("look %d: next look at %v, not after now %v", i+1, wake, e.clock.Now())
		}
		if n := mp.Count(t); n != 2 {
			t.Fatalf("after look %d: %d messages, want one per edition", i+1, n)
		}
	}
}
