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
	s := &kiosko.Scheduler{Newsletter: e.n, Schedule: kiosko.NewsletterSchedule{Day: time.Friday, Hour: 7, Location: time.UTC}, Check: 50 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	mp.WaitFor(t, "a@example.com", 1)
	mp.WaitFor(t, "b@example.com", 1)
	time.Sleep(300 * time.Millisecond) // several more checks
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := mp.Count(t); n != 2 {
		t.Fatalf("%d messages, want one per edition", n)
	}
}
