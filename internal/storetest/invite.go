package storetest

import (
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// inviteTests are the conformance tests of kiosko.InviteStore and
// kiosko.BillingStore; Run includes them.
var inviteTests = []test{
	{"InvitationRoundTrip", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		owner := newAccount(t, s)
		sub := newSubscription(t, s, owner, 2)
		inv := &kiosko.Invitation{TokenHash: kiosko.HashToken("tok1"), SubscriptionID: sub.ID, Kind: kiosko.InviteByOwner,
			Email: "guest@example.com", InvitedBy: owner.ID, CreatedAt: t0, ExpiresAt: at(time.Hour)}
		ok(t, s.CreateInvitation(ctx, inv))
		if inv.ID == 0 {
			t.Fatal("CreateInvitation did not set the ID")
		}
		got, err := s.FindInvitationByTokenHash(ctx, kiosko.HashToken("tok1"))
		ok(t, err)
		if got.ID != inv.ID || got.SubscriptionID != sub.ID || got.Kind != kiosko.InviteByOwner || got.Email != "guest@example.com" ||
			got.InvitedBy != owner.ID || got.AcceptedAt != nil || got.AcceptedBy != 0 {
			t.Errorf("found %+v", got)
		}
		sameTime(t, "CreatedAt", got.CreatedAt, t0)
		sameTime(t, "ExpiresAt", got.ExpiresAt, at(time.Hour))
		_, err = s.FindInvitationByTokenHash(ctx, kiosko.HashToken("other"))
		wantCode(t, err, kiosko.ENOTFOUND)
	}},
	{"InvitationPending", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		owner, member := newAccount(t, s), newAccount(t, s)
		sub := newSubscription(t, s, owner, 5)
		mk := func(token, kind string, created, expires time.Time) *kiosko.Invitation {
			inv := &kiosko.Invitation{TokenHash: kiosko.HashToken(token), SubscriptionID: sub.ID, Kind: kind, Email: token + "@example.com",
				InvitedBy: owner.ID, CreatedAt: created, ExpiresAt: expires}
			ok(t, s.CreateInvitation(ctx, inv))
			return inv
		}
		second := mk("b", kiosko.InviteByOwner, at(time.Minute), at(time.Hour))
		first := mk("a", kiosko.InviteByOwner, t0, at(time.Hour))
		mk("expired", kiosko.InviteByOwner, t0, at(10*time.Minute))
		mk("domain", kiosko.InviteByDomain, t0, at(time.Hour))
		used := mk("used", kiosko.InviteByOwner, t0, at(time.Hour))
		_, err := s.ClaimInvitation(ctx, used.TokenHash, member.ID, at(time.Minute))
		ok(t, err)
		pending, err := s.FindPendingInvitations(ctx, sub.ID, at(20*time.Minute))
		ok(t, err)
		sameIDs(t, "pending", ids(pending, func(i *kiosko.Invitation) int64 { return i.ID }), []int64{first.ID, second.ID})
		none, err := s.FindPendingInvitations(ctx, sub.ID+1000, t0)
		ok(t, err)
		if none == nil || len(none) != 0 {
			t.Errorf("pending of an unknown subscription = %v, want empty", none)
		}
	}},
	{"InvitationClaimOnce", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		owner, a, b := newAccount(t, s), newAccount(t, s), newAccount(t, s)
		sub := newSubscription(t, s, owner, 2)
		inv := &kiosko.Invitation{TokenHash: kiosko.HashToken("once"), SubscriptionID: sub.ID, Kind: kiosko.InviteByOwner,
			Email: "x@example.com", InvitedBy: owner.ID, CreatedAt: t0, ExpiresAt: at(time.Hour)}
		ok(t, s.CreateInvitation(ctx, inv))
		accounts := []int64{a.ID, b.ID, a.ID, b.ID, a.ID, b.ID}
		errs := race(len(accounts), func(i int) error {
			_, err := s.ClaimInvitation(ctx, inv.TokenHash, accounts[i], at(time.Minute))
			return err
		})
		oneWinner(t, errs, kiosko.EINVALID, "error.invitation_used")
		got, err := s.FindInvitationByTokenHash(ctx, inv.TokenHash)
		ok(t, err)
		sameTimePtr(t, "AcceptedAt", got.AcceptedAt, ptr(at(time.Minute)))
		if got.AcceptedBy != a.ID && got.AcceptedBy != b.ID {
			t.Errorf("AcceptedBy = %d", got.AcceptedBy)
		}
		ok(t, s.UnclaimInvitation(ctx, inv.ID))
		claimed, err := s.ClaimInvitation(ctx, inv.TokenHash, b.ID, at(2*time.Minute))
		ok(t, err)
		if claimed.AcceptedBy != b.ID || claimed.AcceptedAt == nil {
			t.Errorf("claimed again = %+v", claimed)
		}
		_, err = s.ClaimInvitation(ctx, kiosko.HashToken("unknown"), b.ID, t0)
		wantCode(t, err, kiosko.ENOTFOUND)
		wantCode(t, s.UnclaimInvitation(ctx, inv.ID+1000), kiosko.ENOTFOUND)
	}},
	{"InvitationExpired", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		owner, a := newAccount(t, s), newAccount(t, s)
		sub := newSubscription(t, s, owner, 2)
		inv := &kiosko.Invitation{TokenHash: kiosko.HashToken("late"), SubscriptionID: sub.ID, Kind: kiosko.InviteByOwner,
			Email: "x@example.com", InvitedBy: owner.ID, CreatedAt: t0, ExpiresAt: at(time.Hour)}
		ok(t, s.CreateInvitation(ctx, inv))
		_, err := s.ClaimInvitation(ctx, inv.TokenHash, a.ID, at(time.Hour))
		wantError(t, err, kiosko.EINVALID, "error.invitation_expired")
		got, err := s.FindInvitationByTokenHash(ctx, inv.TokenHash)
		ok(t, err)
		if got.AcceptedAt != nil {
			t.Error("a refused claim marked the invitation used")
		}
	}},
	{"InvitationDelete", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		owner := newAccount(t, s)
		sub := newSubscription(t, s, owner, 2)
		inv := &kiosko.Invitation{TokenHash: kiosko.HashToken("del"), SubscriptionID: sub.ID, Kind: kiosko.InviteByDomain,
			Email: "x@example.com", CreatedAt: t0, ExpiresAt: at(time.Hour)}
		ok(t, s.CreateInvitation(ctx, inv))
		got, err := s.FindInvitationByTokenHash(ctx, inv.TokenHash)
		ok(t, err)
		if got.InvitedBy != 0 {
			t.Errorf("InvitedBy = %d, want 0", got.InvitedBy)
		}
		ok(t, s.DeleteInvitation(ctx, inv.ID))
		wantCode(t, s.DeleteInvitation(ctx, inv.ID), kiosko.ENOTFOUND)
		_, err = s.FindInvitationByTokenHash(ctx, inv.TokenHash)
		wantCode(t, err, kiosko.ENOTFOUND)
	}},
	{"Domains", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a, b := newAccount(t, s), newAccount(t, s)
		subA, subB := newSubscription(t, s, a, 5), newSubscription(t, s, b, 5)
		ok(t, s.SetSubscriptionDomains(ctx, subA.ID, []string{"acme.test", "acme-corp.test"}))
		got, err := s.FindSubscriptionDomains(ctx, subA.ID)
		ok(t, err)
		if len(got) != 2 || got[0] != "acme-corp.test" || got[1] != "acme.test" {
			t.Errorf("domains = %v", got)
		}
		found, err := s.FindSubscriptionByDomain(ctx, "acme.test")
		ok(t, err)
		if found.ID != subA.ID {
			t.Errorf("FindSubscriptionByDomain = %d, want %d", found.ID, subA.ID)
		}
		_, err = s.FindSubscriptionByDomain(ctx, "other.test")
		wantCode(t, err, kiosko.ENOTFOUND)
		// A domain of another subscription changes nothing at all.
		err = s.SetSubscriptionDomains(ctx, subB.ID, []string{"b.test", "acme.test"})
		wantError(t, err, kiosko.ECONFLICT, "error.domain_taken")
		none, err := s.FindSubscriptionDomains(ctx, subB.ID)
		ok(t, err)
		if len(none) != 0 {
			t.Errorf("domains after a refused change = %v", none)
		}
		// Replacing drops the old ones.
		ok(t, s.SetSubscriptionDomains(ctx, subA.ID, []string{"new.test"}))
		got, err = s.FindSubscriptionDomains(ctx, subA.ID)
		ok(t, err)
		if len(got) != 1 || got[0] != "new.test" {
			t.Errorf("domains after replace = %v", got)
		}
		ok(t, s.SetSubscriptionDomains(ctx, subB.ID, []string{"acme.test"}))
		ok(t, s.SetSubscriptionDomains(ctx, subA.ID, nil))
		got, err = s.FindSubscriptionDomains(ctx, subA.ID)
		ok(t, err)
		if len(got) != 0 {
			t.Errorf("domains after clearing = %v", got)
		}
		wantCode(t, s.SetSubscriptionDomains(ctx, subA.ID+1000, []string{"x.test"}), kiosko.ENOTFOUND)
	}},
	{"BillingCustomer", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a, b := newAccount(t, s), newAccount(t, s)
		_, err := s.FindBillingCustomer(ctx, a.ID, kiosko.ProviderStripe)
		wantCode(t, err, kiosko.ENOTFOUND)
		ok(t, s.SetBillingCustomer(ctx, a.ID, kiosko.ProviderStripe, "cus_1"))
		ok(t, s.SetBillingCustomer(ctx, a.ID, kiosko.ProviderStripe, "cus_1")) // again: no change
		ref, err := s.FindBillingCustomer(ctx, a.ID, kiosko.ProviderStripe)
		ok(t, err)
		if ref != "cus_1" {
			t.Errorf("customer = %q", ref)
		}
		id, err := s.FindAccountIDByBillingCustomer(ctx, kiosko.ProviderStripe, "cus_1")
		ok(t, err)
		if id != a.ID {
			t.Errorf("account of cus_1 = %d, want %d", id, a.ID)
		}
		_, err = s.FindAccountIDByBillingCustomer(ctx, kiosko.ProviderStripe, "cus_2")
		wantCode(t, err, kiosko.ENOTFOUND)
		wantCode(t, s.SetBillingCustomer(ctx, b.ID, kiosko.ProviderStripe, "cus_1"), kiosko.ECONFLICT)
	}},
	{"BillingEvents", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		seen, err := s.HasBillingEvent(ctx, kiosko.ProviderStripe, "evt_1")
		ok(t, err)
		if seen {
			t.Fatal("an unknown event was seen")
		}
		last, err := s.LastBillingEventAt(ctx, kiosko.ProviderStripe, "sub_1")
		ok(t, err)
		if !last.IsZero() {
			t.Errorf("LastBillingEventAt with no events = %v", last)
		}
		rec := func(id string, created time.Time) error {
			return s.RecordBillingEvent(ctx, &kiosko.BillingEventRecord{Provider: kiosko.ProviderStripe, ID: id, Kind: kiosko.BillingSubscriptionState,
				SubscriptionRef: "sub_1", Created: created, HandledAt: t0})
		}
		ok(t, rec("evt_2", at(2*time.Second)))
		ok(t, rec("evt_1", at(time.Second)))
		wantCode(t, rec("evt_1", at(time.Second)), kiosko.ECONFLICT)
		seen, err = s.HasBillingEvent(ctx, kiosko.ProviderStripe, "evt_1")
		ok(t, err)
		if !seen {
			t.Error("a recorded event was not seen")
		}
		last, err = s.LastBillingEventAt(ctx, kiosko.ProviderStripe, "sub_1")
		ok(t, err)
		sameTime(t, "LastBillingEventAt", last, at(2*time.Second))
		errs := race(6, func(int) error { return rec("evt_3", at(3*time.Second)) })
		oneWinner(t, errs, kiosko.ECONFLICT, "")
	}},
}
