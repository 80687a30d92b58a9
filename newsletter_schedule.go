package kiosko

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// NewsletterSchedule is when the weekly issue goes out: a weekday and hour
// in a time zone (KIOSKO_NEWSLETTER_DAY, KIOSKO_NEWSLETTER_HOUR,
// KIOSKO_NEWSLETTER_TZ).
type NewsletterSchedule struct {
	Day  time.Weekday
	Hour int
	// Location, when set, is the zone of every edition's schedule; nil uses
	// each edition's own zone.
	Location *time.Location
}

// ParseWeekday reads an English weekday name ("friday", "Fri").
func ParseWeekday(s string) (time.Weekday, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if s == name || (len(s) >= 3 && strings.HasPrefix(name, s)) {
			return d, nil
		}
	}
	return 0, fmt.Errorf("%q is not a weekday name", s)
}

// Previous returns the latest scheduled moment at or before t in loc.
func (s NewsletterSchedule) Previous(t time.Time, loc *time.Location) time.Time {
	lt := t.In(loc)
	d := time.Date(lt.Year(), lt.Month(), lt.Day(), s.Hour, 0, 0, 0, loc)
	d = d.AddDate(0, 0, -((int(lt.Weekday()) - int(s.Day) + 7) % 7))
	if d.After(t) {
		d = d.AddDate(0, 0, -7)
	}
	return d
}

// Next returns the first scheduled moment after t in loc.
func (s NewsletterSchedule) Next(t time.Time, loc *time.Location) time.Time {
	p := s.Previous(t, loc)
	for !p.After(t) {
		p = p.AddDate(0, 0, 7)
	}
	return p
}

// Scheduler sends each edition's weekly issue at the scheduled time, inside
// `kiosko serve`. Sending is idempotent (see SendIssue), so several nodes,
// a restart, or the CLI sending the same week never send anyone the issue
// twice. A node that was down at the scheduled time catches up within a
// day of it.
type Scheduler struct {
	Newsletter *Newsletter
	Schedule   NewsletterSchedule
	Log        *slog.Logger
	// Check is how often it looks for work besides the scheduled times
	// (catch-up, retries of a failed run); default 15 minutes.
	Check time.Duration

	nothing map[string]bool // edition+week with no articles, logged once
}

// Run sends issues until ctx ends; it returns nil then.
func (s *Scheduler) Run(ctx context.Context) error {
	for {
		wake := s.SendDue(ctx)
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(max(time.Until(wake), time.Second)):
		}
	}
}

// SendDue is one look at the schedule: it sends each edition's issue that
// is due and not sent yet, and returns when to look again. Run calls it in
// a loop; tests call it directly to check what each look does.
func (s *Scheduler) SendDue(ctx context.Context) (wake time.Time) {
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	check := s.Check
	if check <= 0 {
		check = 15 * time.Minute
	}
	if s.nothing == nil {
		s.nothing = map[string]bool{} // edition+week with no articles, logged once
	}
	eds, err := s.Newsletter.Store.FindEditions(ctx)
	if err != nil && ctx.Err() == nil {
		log.Error("newsletter schedule: editions", "err", err)
	}
	now := s.Newsletter.now()
	wake = now.Add(check)
	for _, ed := range eds {
		loc := s.location(ed)
		sched := s.Schedule
		if day, err := ParseWeekday(ed.NewsletterDay); ed.NewsletterDay != "" && err == nil {
			sched.Day = day // the edition's own day (kiosko edition add --newsletter-day)
		}
		if next := sched.Next(now, loc); next.Before(wake) {
			wake = next
		}
		prev := sched.Previous(now, loc)
		if now.Sub(prev) >= 24*time.Hour {
			continue
		}
		key := ed.Code + " " + s.Newsletter.Week(ed, now)
		if s.nothing[key] {
			continue
		}
		done, err := s.issueDone(ctx, ed, now)
		if err != nil {
			log.Error("newsletter schedule: issue", "edition", ed.Code, "err", err)
			continue
		}
		if done {
			continue
		}
		log.Info("newsletter schedule: sending the weekly issue", "edition", ed.Code)
		rep, err := s.Newsletter.SendIssue(ctx, ed.Code, SendOptions{})
		switch {
		case ErrorCode(err) == ENOTFOUND:
			s.nothing[key] = true
			log.Info("newsletter schedule: nothing to send", "edition", ed.Code, "reason", ErrorMessage(err))
		case err != nil && ctx.Err() != nil:
			return wake
		case err != nil:
			log.Error("newsletter schedule: send", "edition", ed.Code, "err", err)
		default:
			log.Info("newsletter schedule: issue sent", "edition", ed.Code, "issue", rep.Issue.ID, "sent", rep.Sent,
				"bounced", rep.Bounced, "failed", rep.Failed, "unknown", rep.Counts.Unknown)
		}
	}
	return wake
}

func (s *Scheduler) location(ed *Edition) *time.Location {
	if s.Schedule.Location != nil {
		return s.Schedule.Location
	}
	return s.Newsletter.location(ed)
}

// issueDone reports whether this week's issue exists with nothing left to
// send.
func (s *Scheduler) issueDone(ctx context.Context, ed *Edition, now time.Time) (bool, error) {
	i, err := s.Newsletter.Store.FindIssue(ctx, ed.Code, s.Newsletter.Week(ed, now))
	if IsNotFound(err) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	c, err := s.Newsletter.Store.CountDeliveries(ctx, i.ID)
	if err != nil {
		return false, err
	}
	return c.Pending == 0 && c.Committing == 0, nil
}
