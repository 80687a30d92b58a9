package storetest

import (
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

var memberTests = []test{
	{"ImportAndFindMembers", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		newEdition(t, s, "es", kiosko.LangSpanish)
		old := newAccount(t, s)
		confirmed := newSubscriber(t, s, "es", kiosko.SubscriberConfirmed)
		sub := func(email, status string) kiosko.Subscriber {
			x := kiosko.Subscriber{Edition: "es", Email: email, Status: status, Source: "import", UnsubscribeToken: "tok-" + email + status, CreatedAt: t0}
			if status == kiosko.SubscriberConfirmed {
				x.ConfirmedAt = ptr(t0)
			} else {
				x.UnsubscribedAt = ptr(t0)
			}
			return x
		}
		grant := func() *kiosko.Subscription {
			return &kiosko.Subscription{PlanCode: kiosko.PlanPremium, Status: kiosko.StatusActive, Seats: 2, Currency: "EUR", Provider: kiosko.ProviderManual,
				CurrentPeriodEnd: at(365 * 24 * time.Hour), CreatedAt: t0}
		}
		ms := []*kiosko.MemberImport{
			{Line: 2, Account: kiosko.Account{Email: "new@example.com", Name: "New", PasswordHash: kiosko.NoPassword, Role: kiosko.RoleReader, Lang: "en",
				EmailVerifiedAt: ptr(t0), PasswordChangedAt: t0, CreatedAt: t0}, StripeCustomer: "cus_new", Grant: grant(),
				Newsletters: []kiosko.Subscriber{sub("new@example.com", kiosko.SubscriberConfirmed)}},
			{Line: 3, Account: kiosko.Account{Email: old.Email, Name: "Other name", Role: kiosko.RoleReader, Lang: "es", CreatedAt: t0}, Grant: grant()},
			{Line: 4, NoAccount: true, Newsletters: []kiosko.Subscriber{sub(confirmed.Email, kiosko.SubscriberUnsubscribed)}},
		}
		res, err := s.ImportMembers(ctx, ms, t0)
		ok(t, err)
		if *res != (kiosko.MemberImportResult{Created: 1, Existing: 1, Granted: 2, Subscribed: 1, Unsubscribed: 1}) {
			t.Errorf("result = %+v", res)
		}
		// Again: nothing new, the grants are not doubled.
		res, err = s.ImportMembers(ctx, ms, t0)
		ok(t, err)
		if res.Created != 0 || res.Granted != 0 || res.Subscribed != 0 || res.Unsubscribed != 0 {
			t.Errorf("second import = %+v", res)
		}
		got, err := s.FindSubscriber(ctx, "es", confirmed.Email)
		ok(t, err)
		if got.Status != kiosko.SubscriberUnsubscribed {
			t.Errorf("the unsubscribed row did not win: %s", got.Status)
		}
		members, err := s.FindMembers(ctx, at(time.Hour))
		ok(t, err)
		byEmail := map[string]*kiosko.Member{}
		for _, m := range members {
			byEmail[m.Account.Email] = m
		}
		n := byEmail["new@example.com"]
		if n == nil || n.Account.Name != "New" || n.StripeCustomer != "cus_new" || n.Subscription == nil || n.Subscription.PlanCode != kiosko.PlanPremium ||
			n.Newsletters["es"] != kiosko.SubscriberConfirmed || n.Account.PasswordHash != kiosko.NoPassword {
			t.Errorf("new member = %+v", n)
		}
		if o := byEmail[old.Email]; o == nil || o.Account.Name != old.Name || o.Subscription == nil {
			t.Errorf("existing member = %+v (the name must stay)", o)
		}
		if c := byEmail[confirmed.Email]; c == nil || c.Account.ID != 0 || c.Newsletters["es"] != kiosko.SubscriberUnsubscribed {
			t.Errorf("newsletter-only member = %+v", c)
		}
		seat, _, err := s.FindSeatForAccount(ctx, n.Account.ID, at(time.Hour))
		ok(t, err)
		if seat.Position != 1 {
			t.Errorf("the grant's owner seat = %+v", seat)
		}
	}},
}
