package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// namedAccount stores an account with the given email and name.
func namedAccount(t *testing.T, s kiosko.Store, email, name string) *kiosko.Account {
	t.Helper()
	a := &kiosko.Account{Email: email, Name: name, PasswordHash: "x", Role: kiosko.RoleReader, Lang: kiosko.LangSpanish, PasswordChangedAt: t0, CreatedAt: t0}
	ok(t, s.CreateAccount(t.Context(), a))
	return a
}

func accountEmails(as []*kiosko.Account) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.Email)
	}
	return out
}

var consoleTests = []test{
	{"SearchAccounts", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		ana := namedAccount(t, s, "ana@diario.test", "Ana García")
		namedAccount(t, s, "bea@diario.test", "Beatriz Anaya")
		namedAccount(t, s, "carlos@otro.test", "carlos ruiz")
		namedAccount(t, s, "anabel@otro.test", "")
		namedAccount(t, s, "x_y@otro.test", "Zoe")
		for _, c := range []struct {
			text string
			want []string
		}{
			{"", []string{"x_y@otro.test", "anabel@otro.test", "carlos@otro.test", "bea@diario.test", "ana@diario.test"}},
			{"ana", []string{"anabel@otro.test", "ana@diario.test"}},  // email prefix
			{"  ANA@", []string{"ana@diario.test"}},                   // trimmed, case folded
			{"beatriz", []string{"bea@diario.test"}},                  // name prefix
			{"Carlos R", []string{"carlos@otro.test"}},                // name prefix with a space
			{"diario", []string{}},                                    // not a prefix
			{"x_", []string{"x_y@otro.test"}},                         // _ is no wildcard
			{"%", []string{}},                                         // nor is %
			{fmt.Sprintf("#%d", ana.ID), []string{"ana@diario.test"}}, // by id
			{"#nope", []string{}},
		} {
			got, err := s.SearchAccounts(ctx, kiosko.AccountQuery{Text: c.text})
			ok(t, err)
			if fmt.Sprint(accountEmails(got)) != fmt.Sprint(c.want) {
				t.Errorf("search %q: %v, want %v", c.text, accountEmails(got), c.want)
			}
		}
	}},
	{"SearchAccountsPages", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		var ids []int64
		for i := range 7 {
			ids = append(ids, namedAccount(t, s, fmt.Sprintf("page%d@diario.test", i), "").ID)
		}
		namedAccount(t, s, "other@diario.test", "")
		var seen []int64
		before := int64(0)
		for range 10 {
			page, err := s.SearchAccounts(ctx, kiosko.AccountQuery{Text: "page", BeforeID: before, Limit: 3})
			ok(t, err)
			if len(page) == 0 {
				break
			}
			if len(page) > 3 {
				t.Fatalf("a page of %d, limit 3", len(page))
			}
			for _, a := range page {
				seen = append(seen, a.ID)
			}
			before = page[len(page)-1].ID
		}
		if len(seen) != 7 {
			t.Fatalf("paging saw %v, want the 7 accounts once each", seen)
		}
		for i, id := range seen {
			if id != ids[6-i] {
				t.Fatalf("paging order %v, want newest first %v", seen, ids)
			}
		}
	}},
	{"Timeline", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a := newAccount(t, s)
		other := newAccount(t, s)
		ok(t, s.AppendEvents(ctx, []kiosko.Event{
			kiosko.NewEvent(kiosko.EventSignedIn, a.ID, a.ID, map[string]string{"device": "Firefox on Linux"}, at(1*time.Minute)),
			kiosko.NewEvent(kiosko.EventAdminWarningCleared, a.ID, 99, nil, at(4*time.Minute)),
			kiosko.NewEvent(kiosko.EventSignedIn, other.ID, other.ID, nil, at(2*time.Minute)),
		}))
		ok(t, s.AppendLeaseEvents(ctx, []kiosko.LeaseEvent{
			{Kind: kiosko.EventClaim, SeatID: 1, AccountID: a.ID, Device: "d1", At: at(2 * time.Minute)},
			{Kind: kiosko.EventTakeoverContested, SeatID: 1, AccountID: a.ID, Device: "d2", OtherDevice: "d1", At: at(3 * time.Minute)},
			{Kind: kiosko.EventClaim, SeatID: 2, AccountID: other.ID, Device: "d9", At: at(3 * time.Minute)},
		}))
		got, err := s.FindTimeline(ctx, a.ID, time.Time{}, 10)
		ok(t, err)
		var kinds []string
		for _, e := range got {
			kinds = append(kinds, e.Source+":"+e.Type)
		}
		// The account's own account.created (at t0, written by
		// CreateAccount) is the oldest entry.
		want := []string{"event:admin.warning_cleared", "lease:takeover_contested", "lease:claim", "event:account.signed_in", "event:account.created"}
		if fmt.Sprint(kinds) != fmt.Sprint(want) {
			t.Fatalf("timeline %v, want %v", kinds, want)
		}
		if got[0].ActorID != 99 || got[1].OtherDevice != "d1" || !got[3].At.Equal(at(time.Minute)) || string(got[3].Data) != `{"device":"Firefox on Linux"}` {
			t.Fatalf("timeline entries lost fields: %+v %+v %+v", got[0], got[1], got[3])
		}
		older, err := s.FindTimeline(ctx, a.ID, got[1].At, 2)
		ok(t, err)
		if len(older) != 2 || older[0].Type != kiosko.EventClaim || older[1].Type != kiosko.EventSignedIn {
			t.Fatalf("the page before %v: %+v", got[1].At, older)
		}
	}},
	{"Plans", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		ps, err := s.FindPlans(ctx)
		ok(t, err)
		if len(ps) != 0 {
			t.Fatalf("a new store holds plans: %v", ps)
		}
		imported, err := s.ImportPlans(ctx, kiosko.DefaultPlans(), t0)
		ok(t, err)
		if !imported {
			t.Fatal("the first import did not import")
		}
		ps, err = s.FindPlans(ctx)
		ok(t, err)
		if len(ps) != 4 || ps[kiosko.PlanBusiness].Names["en"] != "Business" || !ps[kiosko.PlanBusiness].SeatsPerUnit || ps[kiosko.PlanPremium].Seats != 2 {
			t.Fatalf("imported plans: %+v", ps)
		}
		changed := *ps[kiosko.PlanPremium]
		changed.PriceCents, changed.Names = 1999, map[string]string{"es": "Prémium", "en": "Premium+"}
		ok(t, s.SavePlan(ctx, &changed, at(time.Hour)))
		again := kiosko.DefaultPlans()
		again["extra"] = &kiosko.Plan{Code: "extra", Names: map[string]string{"es": "x", "en": "x"}, Currency: "EUR", Period: "year"}
		imported, err = s.ImportPlans(ctx, again, at(2*time.Hour))
		ok(t, err)
		if imported {
			t.Fatal("a second import imported again")
		}
		ps, err = s.FindPlans(ctx)
		ok(t, err)
		if p := ps[kiosko.PlanPremium]; len(ps) != 4 || p.PriceCents != 1999 || p.Names["es"] != "Prémium" {
			t.Fatalf("after an edit and a second import: %+v", ps)
		}
	}},
}
