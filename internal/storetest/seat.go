package storetest

import (
	"sort"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

func seatID(s *kiosko.Seat) int64 { return s.ID }

var seatTests = []test{
	{"Assign", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		owner, member := newAccount(t, s), newAccount(t, s)
		sub := newSubscription(t, s, owner, 2)
		seat, err := s.AssignSeat(ctx, sub.ID, member.ID, at(time.Hour))
		ok(t, err)
		if seat.ID == 0 || seat.SubscriptionID != sub.ID || seat.AccountID != member.ID || seat.Position != 2 {
			t.Errorf("AssignSeat = %+v", seat)
		}
		sameTimePtr(t, "AssignedAt", seat.AssignedAt, ptr(at(time.Hour)))
		again, err := s.FindSeatByID(ctx, seat.ID)
		ok(t, err)
		if again.AccountID != member.ID {
			t.Errorf("stored seat = %+v", again)
		}
		sameTimePtr(t, "stored AssignedAt", again.AssignedAt, ptr(at(time.Hour)))
	}},
	{"AssignErrors", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		owner, member, third := newAccount(t, s), newAccount(t, s), newAccount(t, s)
		sub := newSubscription(t, s, owner, 2)
		_, err := s.AssignSeat(ctx, sub.ID, owner.ID, t0)
		wantError(t, err, kiosko.ECONFLICT, "error.seat_taken")
		_, err = s.AssignSeat(ctx, sub.ID, member.ID, t0)
		ok(t, err)
		_, err = s.AssignSeat(ctx, sub.ID, member.ID, t0)
		wantError(t, err, kiosko.ECONFLICT, "error.seat_taken")
		_, err = s.AssignSeat(ctx, sub.ID, third.ID, t0)
		wantError(t, err, kiosko.EINVALID, "error.subscription_full")
		_, err = s.AssignSeat(ctx, sub.ID+1000, third.ID, t0)
		wantCode(t, err, kiosko.ENOTFOUND)
		// A seat in another subscription is no obstacle.
		other := newSubscription(t, s, third, 2)
		_, err = s.AssignSeat(ctx, other.ID, member.ID, t0)
		ok(t, err)
	}},
	{"AssignRaceForLastSeat", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		owner := newAccount(t, s)
		sub := newSubscription(t, s, owner, 2)
		const n = 8
		var accounts []*kiosko.Account
		for range n {
			accounts = append(accounts, newAccount(t, s))
		}
		errs := race(n, func(i int) error {
			_, err := s.AssignSeat(ctx, sub.ID, accounts[i].ID, t0)
			return err
		})
		oneWinner(t, errs, kiosko.EINVALID, "error.subscription_full")
		holders := seatHolders(t, s, sub.ID)
		if len(holders) != 2 || holders[0] != owner.ID || holders[1] == 0 {
			t.Errorf("holders = %v", holders)
		}
	}},
	{"AssignRaceSameAccount", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		owner, member := newAccount(t, s), newAccount(t, s)
		sub := newSubscription(t, s, owner, 5)
		errs := race(8, func(int) error {
			_, err := s.AssignSeat(ctx, sub.ID, member.ID, t0)
			return err
		})
		oneWinner(t, errs, kiosko.ECONFLICT, "error.seat_taken")
		sameIDs(t, "holders", seatHolders(t, s, sub.ID), []int64{owner.ID, member.ID, 0, 0, 0})
	}},
	{"Free", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		owner, member, next := newAccount(t, s), newAccount(t, s), newAccount(t, s)
		sub := newSubscription(t, s, owner, 2)
		seat, err := s.AssignSeat(ctx, sub.ID, member.ID, t0)
		ok(t, err)
		ok(t, s.FreeSeat(ctx, seat.ID))
		freed, err := s.FindSeatByID(ctx, seat.ID)
		ok(t, err)
		if freed.AccountID != 0 {
			t.Errorf("freed seat still held by %d", freed.AccountID)
		}
		_, _, err = s.FindSeatForAccount(ctx, member.ID, t0)
		wantCode(t, err, kiosko.ENOTFOUND)
		again, err := s.AssignSeat(ctx, sub.ID, next.ID, t0)
		ok(t, err)
		if again.ID != seat.ID {
			t.Errorf("the freed seat %d was not reused (got %d)", seat.ID, again.ID)
		}
		wantCode(t, s.FreeSeat(ctx, seat.ID+1000), kiosko.ENOTFOUND)
	}},
	{"OwnerSeatCannotBeFreed", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		owner := newAccount(t, s)
		sub := newSubscription(t, s, owner, 2)
		seat, _, err := s.FindSeatForAccount(ctx, owner.ID, t0)
		ok(t, err)
		if err := s.FreeSeat(ctx, seat.ID); err == nil {
			t.Fatal("FreeSeat freed the owner's seat")
		}
		sameIDs(t, "holders", seatHolders(t, s, sub.ID), []int64{owner.ID, 0})
	}},
	{"FindForAccount", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		owner, member, stranger := newAccount(t, s), newAccount(t, s), newAccount(t, s)
		sub := newSubscription(t, s, owner, 2)
		memberSeat, err := s.AssignSeat(ctx, sub.ID, member.ID, t0)
		ok(t, err)
		seat, gotSub, err := s.FindSeatForAccount(ctx, owner.ID, at(time.Hour))
		ok(t, err)
		if seat.AccountID != owner.ID || seat.Position != 1 || seat.SubscriptionID != sub.ID || gotSub.ID != sub.ID || gotSub.OwnerID != owner.ID {
			t.Errorf("owner: seat %+v, subscription %+v", seat, gotSub)
		}
		seat, gotSub, err = s.FindSeatForAccount(ctx, member.ID, at(time.Hour))
		ok(t, err)
		if seat.ID != memberSeat.ID || gotSub.ID != sub.ID {
			t.Errorf("member: seat %+v, subscription %+v", seat, gotSub)
		}
		_, _, err = s.FindSeatForAccount(ctx, stranger.ID, at(time.Hour))
		wantCode(t, err, kiosko.ENOTFOUND)
		// After the period ends the seat grants nothing.
		_, _, err = s.FindSeatForAccount(ctx, member.ID, sub.CurrentPeriodEnd.Add(time.Second))
		wantCode(t, err, kiosko.ENOTFOUND)
	}},
	{"FindForAccountFollowsGrants", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		now := at(time.Hour)
		for _, c := range []struct {
			name      string
			status    string
			periodEnd time.Time
			grants    bool
		}{
			{"active", kiosko.StatusActive, at(24 * time.Hour), true},
			{"active without end", kiosko.StatusActive, time.Time{}, true},
			{"active past end", kiosko.StatusActive, at(time.Minute), false},
			{"past due in period", kiosko.StatusPastDue, at(24 * time.Hour), true},
			{"past due after period", kiosko.StatusPastDue, at(time.Minute), false},
			{"canceled in period", kiosko.StatusCanceled, at(24 * time.Hour), true},
			{"canceled after period", kiosko.StatusCanceled, at(time.Minute), false},
			{"canceled without end", kiosko.StatusCanceled, time.Time{}, false},
			{"expired", kiosko.StatusExpired, at(24 * time.Hour), false},
		} {
			owner := newAccount(t, s)
			sub := newSubscription(t, s, owner, 1, func(x *kiosko.Subscription) { x.Status, x.CurrentPeriodEnd = c.status, c.periodEnd })
			if c.grants != sub.Grants(now) {
				t.Fatalf("%s: the case disagrees with Subscription.Grants", c.name)
			}
			_, got, err := s.FindSeatForAccount(ctx, owner.ID, now)
			if c.grants {
				if err != nil || got.ID != sub.ID {
					t.Errorf("%s: FindSeatForAccount = %v, %v; want subscription %d", c.name, got, err, sub.ID)
				}
			} else if kiosko.ErrorCode(err) != kiosko.ENOTFOUND {
				t.Errorf("%s: FindSeatForAccount = %v, %v; want ENOTFOUND", c.name, got, err)
			}
		}
	}},
	{"FindForAccountPrefersNewest", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		reader, company := newAccount(t, s), newAccount(t, s)
		// An old Digital subscription of their own, still running…
		newSubscription(t, s, reader, 1, func(x *kiosko.Subscription) { x.CreatedAt = t0.Add(-20 * 24 * time.Hour) })
		// …an expired one, newer…
		newSubscription(t, s, reader, 1, func(x *kiosko.Subscription) { x.Status, x.CreatedAt = kiosko.StatusExpired, t0.Add(-time.Hour) })
		// …and, newest, a seat in the company's Business subscription.
		business := newSubscription(t, s, company, 5, func(x *kiosko.Subscription) { x.CreatedAt = t0.Add(-2 * time.Hour) })
		seat, err := s.AssignSeat(ctx, business.ID, reader.ID, t0)
		ok(t, err)
		got, sub, err := s.FindSeatForAccount(ctx, reader.ID, at(time.Hour))
		ok(t, err)
		if got.ID != seat.ID || sub.ID != business.ID {
			t.Errorf("FindSeatForAccount = seat %d of %d, want seat %d of %d", got.ID, sub.ID, seat.ID, business.ID)
		}
	}},
	{"Warnings", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a, b := newAccount(t, s), newAccount(t, s)
		seatA, _, err := s.FindSeatForAccount(ctx, newSubscription(t, s, a, 1).OwnerID, t0)
		ok(t, err)
		seatB, _, err := s.FindSeatForAccount(ctx, newSubscription(t, s, b, 2).OwnerID, t0)
		ok(t, err)
		warned, err := s.FindWarnedSeats(ctx)
		ok(t, err)
		if len(warned) != 0 {
			t.Fatalf("warned seats in a new store: %d", len(warned))
		}
		ok(t, s.SetSeatWarning(ctx, seatA.ID, ptr(at(time.Hour))))
		ok(t, s.SetSeatWarning(ctx, seatB.ID, ptr(at(2*time.Hour))))
		warned, err = s.FindWarnedSeats(ctx)
		ok(t, err)
		sort.Slice(warned, func(i, j int) bool { return warned[i].ID < warned[j].ID })
		want := []int64{seatA.ID, seatB.ID}
		sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
		sameIDs(t, "warned", ids(warned, seatID), want)
		got, err := s.FindSeatByID(ctx, seatA.ID)
		ok(t, err)
		sameTimePtr(t, "SharingWarning", got.SharingWarning, ptr(at(time.Hour)))
		// The warning shows through the reading path too.
		got, _, err = s.FindSeatForAccount(ctx, a.ID, t0)
		ok(t, err)
		sameTimePtr(t, "SharingWarning via FindSeatForAccount", got.SharingWarning, ptr(at(time.Hour)))

		ok(t, s.SetSeatWarning(ctx, seatA.ID, nil))
		warned, err = s.FindWarnedSeats(ctx)
		ok(t, err)
		sameIDs(t, "warned after clearing", ids(warned, seatID), []int64{seatB.ID})
		got, err = s.FindSeatByID(ctx, seatA.ID)
		ok(t, err)
		if got.SharingWarning != nil {
			t.Errorf("cleared warning = %v", got.SharingWarning)
		}
		wantCode(t, s.SetSeatWarning(ctx, seatB.ID+1000, ptr(t0)), kiosko.ENOTFOUND)
	}},
}
