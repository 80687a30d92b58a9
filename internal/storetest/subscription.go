package storetest

import (
	"sort"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

func subscriptionID(s *kiosko.Subscription) int64 { return s.ID }

// seatHolders lists the account of each seat by position (0: free).
func seatHolders(t *testing.T, s kiosko.Store, subscriptionID int64) []int64 {
	t.Helper()
	seats, err := s.FindSeats(t.Context(), subscriptionID)
	ok(t, err)
	sort.Slice(seats, func(i, j int) bool { return seats[i].Position < seats[j].Position })
	out := []int64{}
	for _, seat := range seats {
		if seat.SubscriptionID != subscriptionID {
			t.Errorf("seat %d belongs to subscription %d, want %d", seat.ID, seat.SubscriptionID, subscriptionID)
		}
		out = append(out, seat.AccountID)
	}
	return out
}

var subscriptionTests = []test{
	{"CreateAndFind", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		owner := newAccount(t, s)
		sub := newSubscription(t, s, owner, 2, func(x *kiosko.Subscription) {
			x.Provider, x.ProviderRef, x.CancelAtPeriodEnd = kiosko.ProviderStripe, "sub_123", true
		})
		if sub.ID == 0 {
			t.Fatal("CreateSubscription did not set the ID")
		}
		got, err := s.FindSubscriptionByID(ctx, sub.ID)
		ok(t, err)
		if got.ID != sub.ID || got.OwnerID != owner.ID || got.PlanCode != sub.PlanCode || got.Status != sub.Status ||
			got.Seats != 2 || got.PriceCents != sub.PriceCents || got.Currency != sub.Currency || got.Provider != sub.Provider ||
			got.ProviderRef != sub.ProviderRef || got.CancelAtPeriodEnd != sub.CancelAtPeriodEnd {
			t.Errorf("FindSubscriptionByID = %+v, want %+v", got, sub)
		}
		sameTime(t, "CurrentPeriodEnd", got.CurrentPeriodEnd, sub.CurrentPeriodEnd)
		sameTime(t, "CreatedAt", got.CreatedAt, sub.CreatedAt)
		byRef, err := s.FindSubscriptionByProviderRef(ctx, kiosko.ProviderStripe, "sub_123")
		ok(t, err)
		if byRef.ID != sub.ID {
			t.Errorf("FindSubscriptionByProviderRef = %d, want %d", byRef.ID, sub.ID)
		}
	}},
	{"ZeroPeriodEnd", func(t *testing.T, s kiosko.Store) {
		sub := newSubscription(t, s, newAccount(t, s), 1, func(x *kiosko.Subscription) { x.CurrentPeriodEnd = time.Time{} })
		got, err := s.FindSubscriptionByID(t.Context(), sub.ID)
		ok(t, err)
		if !got.CurrentPeriodEnd.IsZero() {
			t.Errorf("CurrentPeriodEnd = %v, want zero", got.CurrentPeriodEnd)
		}
	}},
	{"NotFound", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		sub := newSubscription(t, s, newAccount(t, s), 1)
		_, err := s.FindSubscriptionByID(ctx, sub.ID+1000)
		wantCode(t, err, kiosko.ENOTFOUND)
		_, err = s.FindSubscriptionByProviderRef(ctx, kiosko.ProviderStripe, "sub_nope")
		wantCode(t, err, kiosko.ENOTFOUND)
		// Manual subscriptions have no reference; an empty one finds nothing.
		_, err = s.FindSubscriptionByProviderRef(ctx, kiosko.ProviderManual, "")
		wantCode(t, err, kiosko.ENOTFOUND)
		_, err = s.UpdateSubscription(ctx, sub.ID+1000, kiosko.SubscriptionUpdate{Status: ptr(kiosko.StatusCanceled)})
		wantCode(t, err, kiosko.ENOTFOUND)
	}},
	{"ProviderRefTaken", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a, b := newAccount(t, s), newAccount(t, s)
		stripe := func(x *kiosko.Subscription) { x.Provider, x.ProviderRef = kiosko.ProviderStripe, "sub_123" }
		newSubscription(t, s, a, 1, stripe)
		dup := &kiosko.Subscription{OwnerID: b.ID, PlanCode: kiosko.PlanDigital, Status: kiosko.StatusActive, Seats: 1, CreatedAt: t0}
		stripe(dup)
		wantCode(t, s.CreateSubscription(ctx, dup), kiosko.ECONFLICT)
		// Two manual subscriptions without reference are fine.
		newSubscription(t, s, a, 1)
		newSubscription(t, s, b, 1)
	}},
	{"SeatsAtCreation", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		owner := newAccount(t, s)
		sub := newSubscription(t, s, owner, 3)
		seats, err := s.FindSeats(ctx, sub.ID)
		ok(t, err)
		if len(seats) != 3 {
			t.Fatalf("%d seats, want 3", len(seats))
		}
		sort.Slice(seats, func(i, j int) bool { return seats[i].Position < seats[j].Position })
		for i, seat := range seats {
			if seat.Position != i+1 || seat.ID == 0 {
				t.Errorf("seat %d = %+v", i, seat)
			}
			if held := seat.AccountID != 0; held != (i == 0) {
				t.Errorf("seat at position %d held by %d", seat.Position, seat.AccountID)
			}
			if seat.SharingWarning != nil {
				t.Errorf("new seat under warning")
			}
		}
		if seats[0].AccountID != owner.ID || seats[0].AssignedAt == nil {
			t.Errorf("owner's seat = %+v", seats[0])
		}
		byID, err := s.FindSeatByID(ctx, seats[1].ID)
		ok(t, err)
		if byID.ID != seats[1].ID || byID.SubscriptionID != sub.ID || byID.Position != 2 || byID.AccountID != 0 {
			t.Errorf("FindSeatByID = %+v", byID)
		}
		_, err = s.FindSeatByID(ctx, seats[2].ID+1000)
		wantCode(t, err, kiosko.ENOTFOUND)
		free := newSubscription(t, s, owner, 0)
		if got := seatHolders(t, s, free.ID); len(got) != 0 {
			t.Errorf("a subscription without seats has %v", got)
		}
	}},
	{"ByOwnerNewestFirst", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a, b := newAccount(t, s), newAccount(t, s)
		old := newSubscription(t, s, a, 1, func(x *kiosko.Subscription) { x.Status, x.CreatedAt = kiosko.StatusExpired, t0.Add(-60*24*time.Hour) })
		cur := newSubscription(t, s, a, 2)
		mid := newSubscription(t, s, a, 1, func(x *kiosko.Subscription) { x.CreatedAt = t0.Add(-30 * 24 * time.Hour) })
		newSubscription(t, s, b, 1)
		got, err := s.FindSubscriptionsByOwner(ctx, a.ID)
		ok(t, err)
		sameIDs(t, "subscriptions", ids(got, subscriptionID), []int64{cur.ID, mid.ID, old.ID})
		none, err := s.FindSubscriptionsByOwner(ctx, a.ID+1000)
		ok(t, err)
		if len(none) != 0 {
			t.Errorf("unknown owner has %d subscriptions", len(none))
		}
	}},
	{"UpdateFields", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		sub := newSubscription(t, s, newAccount(t, s), 1)
		end := at(60 * 24 * time.Hour)
		got, err := s.UpdateSubscription(ctx, sub.ID, kiosko.SubscriptionUpdate{
			PlanCode: ptr(kiosko.PlanBusiness), Status: ptr(kiosko.StatusPastDue), PriceCents: ptr(int64(899)),
			ProviderRef: ptr("sub_999"), CurrentPeriodEnd: &end, CancelAtPeriodEnd: ptr(true),
		})
		ok(t, err)
		for _, x := range []*kiosko.Subscription{got, mustFindSubscription(t, s, sub.ID)} {
			if x.PlanCode != kiosko.PlanBusiness || x.Status != kiosko.StatusPastDue || x.PriceCents != 899 ||
				x.ProviderRef != "sub_999" || !x.CancelAtPeriodEnd || x.Seats != 1 || x.OwnerID != sub.OwnerID || x.Currency != "EUR" {
				t.Errorf("after update: %+v", x)
			}
			sameTime(t, "CurrentPeriodEnd", x.CurrentPeriodEnd, end)
		}
		// Nil fields stay.
		got, err = s.UpdateSubscription(ctx, sub.ID, kiosko.SubscriptionUpdate{Status: ptr(kiosko.StatusActive)})
		ok(t, err)
		if got.PlanCode != kiosko.PlanBusiness || got.Status != kiosko.StatusActive || got.ProviderRef != "sub_999" || !got.CancelAtPeriodEnd {
			t.Errorf("after a one-field update: %+v", got)
		}
	}},
	{"RaiseSeats", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		owner, member := newAccount(t, s), newAccount(t, s)
		sub := newSubscription(t, s, owner, 2)
		_, err := s.AssignSeat(ctx, sub.ID, member.ID, t0)
		ok(t, err)
		got, err := s.UpdateSubscription(ctx, sub.ID, kiosko.SubscriptionUpdate{Seats: ptr(5)})
		ok(t, err)
		if got.Seats != 5 {
			t.Errorf("Seats = %d, want 5", got.Seats)
		}
		sameIDs(t, "holders", seatHolders(t, s, sub.ID), []int64{owner.ID, member.ID, 0, 0, 0})
	}},
	{"LowerSeatsRemovesFreeFirst", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		owner := newAccount(t, s)
		sub := newSubscription(t, s, owner, 5)
		var members []*kiosko.Account
		var seats []*kiosko.Seat
		for range 4 {
			m := newAccount(t, s)
			seat, err := s.AssignSeat(ctx, sub.ID, m.ID, t0)
			ok(t, err)
			members, seats = append(members, m), append(seats, seat)
		}
		// Free two seats between occupied ones.
		ok(t, s.FreeSeat(ctx, seats[0].ID))
		ok(t, s.FreeSeat(ctx, seats[2].ID))
		got, err := s.UpdateSubscription(ctx, sub.ID, kiosko.SubscriptionUpdate{Seats: ptr(3)})
		ok(t, err)
		if got.Seats != 3 {
			t.Errorf("Seats = %d, want 3", got.Seats)
		}
		sameIDs(t, "holders", seatHolders(t, s, sub.ID), []int64{owner.ID, members[1].ID, members[3].ID})
		// The members keep their seats (and so their leases and warnings).
		for _, seat := range []*kiosko.Seat{seats[1], seats[3]} {
			again, err := s.FindSeatByID(ctx, seat.ID)
			ok(t, err)
			if again.AccountID != seat.AccountID {
				t.Errorf("seat %d now held by %d, want %d", seat.ID, again.AccountID, seat.AccountID)
			}
		}
	}},
	{"LowerSeatsBelowOccupied", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		owner, member := newAccount(t, s), newAccount(t, s)
		sub := newSubscription(t, s, owner, 3)
		_, err := s.AssignSeat(ctx, sub.ID, member.ID, t0)
		ok(t, err)
		_, err = s.UpdateSubscription(ctx, sub.ID, kiosko.SubscriptionUpdate{Seats: ptr(1), Status: ptr(kiosko.StatusCanceled)})
		wantCode(t, err, kiosko.ECONFLICT)
		// Nothing changed.
		got := mustFindSubscription(t, s, sub.ID)
		if got.Seats != 3 || got.Status != kiosko.StatusActive {
			t.Errorf("a failed update changed the subscription: %+v", got)
		}
		sameIDs(t, "holders", seatHolders(t, s, sub.ID), []int64{owner.ID, member.ID, 0})
		// Down to exactly the occupied ones works.
		_, err = s.UpdateSubscription(ctx, sub.ID, kiosko.SubscriptionUpdate{Seats: ptr(2)})
		ok(t, err)
		sameIDs(t, "holders", seatHolders(t, s, sub.ID), []int64{owner.ID, member.ID})
	}},
}

func mustFindSubscription(t *testing.T, s kiosko.Store, id int64) *kiosko.Subscription {
	t.Helper()
	sub, err := s.FindSubscriptionByID(t.Context(), id)
	ok(t, err)
	return sub
}
