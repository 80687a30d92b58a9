package kiosko_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

func (e *billingEnv) grant(t *testing.T, owner *kiosko.Account, plan string, seats int) *kiosko.Subscription {
	t.Helper()
	s := &kiosko.Subscription{OwnerID: owner.ID, PlanCode: plan, Status: kiosko.StatusActive, Seats: seats, PriceCents: 1499, Currency: "EUR",
		Provider: kiosko.ProviderManual, CurrentPeriodEnd: t0.AddDate(0, 1, 0), CreatedAt: t0}
	if err := e.store.CreateSubscription(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPremiumInviteAcceptRevoke(t *testing.T) {
	e := newBillingEnv(t)
	ctx := context.Background()
	ana := e.account(t, "ana@example.com", "en")
	bea := e.account(t, "bea@example.com", "es")
	carl := e.account(t, "carl@example.com", "es")
	digital := e.grant(t, ana, kiosko.PlanDigital, 1)

	_, err := e.billing.Invite(ctx, ana, "bea@example.com")
	wantErrKey(t, err, "error.plan_one_seat")

	// The admin upgrades the same subscription (kiosko account grant); the
	// owner's seat is under sharing warning.
	seats := 2
	plan := kiosko.PlanPremium
	if _, err := e.store.UpdateSubscription(ctx, digital.ID, kiosko.SubscriptionUpdate{PlanCode: &plan, Seats: &seats}); err != nil {
		t.Fatal(err)
	}
	own, _, _ := e.store.FindSeatForAccount(ctx, ana.ID, t0)
	warnedAt := t0
	if err := e.store.SetSeatWarning(ctx, own.ID, &warnedAt); err != nil {
		t.Fatal(err)
	}
	if err := e.reading.Restore(ctx); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ email, key string }{
		{"not an address", "error.email_invalid"},
		{"ana@example.com", "error.already_member"},
	} {
		_, err := e.billing.Invite(ctx, ana, tc.email)
		wantErrKey(t, err, tc.key)
	}
	if _, err := e.billing.Invite(ctx, ana, "Bea@Example.com"); err != nil {
		t.Fatal(err)
	}
	if lang := e.mail.langs["bea@example.com"]; lang != "en" {
		t.Errorf("invitation in %q, want the owner's language en", lang)
	}
	_, err = e.billing.Invite(ctx, ana, "bea@example.com")
	wantErrKey(t, err, "error.already_invited")
	_, err = e.billing.Invite(ctx, ana, "carl@example.com")
	wantErrKey(t, err, "error.subscription_full")

	token := e.mail.token(t, "bea@example.com")
	_, _, err = e.billing.Accept(ctx, token, ana)
	wantErrKey(t, err, "error.already_member")
	if !e.reading.Warned(ctx, ana.ID) {
		t.Fatal("a refused acceptance lifted the warning")
	}
	seat, sub, err := e.billing.Accept(ctx, token, bea)
	if err != nil {
		t.Fatal(err)
	}
	if seat.AccountID != bea.ID || seat.Position != 2 || sub.ID != digital.ID {
		t.Fatalf("seat = %+v", seat)
	}
	if e.reading.Warned(ctx, ana.ID) {
		t.Error("the owner's sharing warning stays after the other person took their seat")
	}
	if a, _ := e.store.FindAccountByID(ctx, bea.ID); a.EmailVerifiedAt == nil {
		t.Error("accepting at the invited address did not verify it")
	}
	_, _, err = e.billing.Accept(ctx, token, carl)
	wantErrKey(t, err, "error.invitation_used")

	// Revoke and invite someone else; an old link expires.
	if err := e.billing.RemoveMember(ctx, ana, own.ID); kiosko.ErrorKey(err) != "error.billing_owner_seat" {
		t.Fatalf("freeing the owner's seat: %v", err)
	}
	if err := e.billing.RemoveMember(ctx, ana, seat.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.store.FindSeatForAccount(ctx, bea.ID, t0); !kiosko.IsNotFound(err) {
		t.Fatalf("bea still holds a seat: %v", err)
	}
	if _, err := e.billing.Invite(ctx, ana, "carl@example.com"); err != nil {
		t.Fatal(err)
	}
	*e.now = t0.Add(8 * 24 * time.Hour)
	_, _, err = e.billing.Accept(ctx, e.mail.token(t, "carl@example.com"), carl)
	wantErrKey(t, err, "error.invitation_expired")
	_, _, err = e.billing.Accept(ctx, "no-such-token", carl)
	wantErrKey(t, err, "error.invitation_unknown")
}

func TestBusinessCSVAndDomains(t *testing.T) {
	e := newBillingEnv(t)
	ctx := context.Background()
	boss := e.account(t, "boss@acme.test", "es")
	e.grant(t, boss, kiosko.PlanBusiness, 4)

	for _, tc := range []struct{ file, key string }{
		{"", "error.csv_no_email_column"},
		{"name,mail\nx,y@acme.test\n", "error.csv_no_email_column"},
		{"email\n", "error.csv_empty"},
		{"email\n\"unterminated\n", "error.csv_unreadable"},
		{"email\n\xff\xfe\n", "error.csv_unreadable"},
	} {
		_, err := e.billing.InviteCSV(ctx, boss, strings.NewReader(tc.file))
		wantErrKey(t, err, tc.key)
	}
	if o, _ := e.billing.Overview(ctx, boss.ID); len(o.Pending) != 0 {
		t.Fatalf("an unusable file invited %d", len(o.Pending))
	}
	rep, err := e.billing.InviteCSV(ctx, boss, strings.NewReader("\ufeffName;Email\nAna;ana@acme.test\nBad;nope\nBoss;boss@acme.test\nAna again;ANA@acme.test\n\nBea;bea@acme.test\nCarl;carl@acme.test\nDan;dan@acme.test\n"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.Invited, " ") != "ana@acme.test bea@acme.test carl@acme.test" {
		t.Errorf("invited = %v", rep.Invited)
	}
	var refused []string
	for _, r := range rep.Refused {
		refused = append(refused, r.Email+":"+kiosko.ErrorKey(r.Err))
	}
	if got := strings.Join(refused, " "); got != "nope:error.email_invalid boss@acme.test:error.already_member ANA@acme.test:error.csv_duplicate dan@acme.test:error.subscription_full" {
		t.Errorf("refused = %s", got)
	}

	// Domains.
	for _, tc := range []struct{ raw, key string }{
		{"gmail.com", "error.domain_public"},
		{"not a domain!", "error.domain_invalid"},
	} {
		_, err := e.billing.SetDomains(ctx, boss, tc.raw)
		wantErrKey(t, err, tc.key)
	}
	if got, err := e.billing.SetDomains(ctx, boss, "@acme.test, acme-corp.test"); err != nil || len(got) != 2 {
		t.Fatalf("SetDomains = %v, %v", got, err)
	}
	other := e.account(t, "other@digital.test", "es")
	e.grant(t, other, kiosko.PlanPremium, 2)
	_, err = e.billing.SetDomains(ctx, other, "digital.test")
	wantErrKey(t, err, "error.domains_company_only")

	// A colleague whose address is not verified gets a link; then joins.
	// The subscription is full of invitations, not of members: a free seat
	// waits for whoever comes first.
	eve := e.account(t, "eve@acme.test", "es")
	res, err := e.billing.Join(ctx, eve)
	if err != nil || !res.Sent {
		t.Fatalf("Join = %+v, %v", res, err)
	}
	mallory := e.account(t, "mallory@evil.test", "es")
	_, _, err = e.billing.Accept(ctx, e.mail.token(t, "eve@acme.test"), mallory)
	wantErrKey(t, err, "error.join_other_account")
	seat, _, err := e.billing.Accept(ctx, e.mail.token(t, "eve@acme.test"), eve)
	if err != nil || seat.AccountID != eve.ID {
		t.Fatalf("domain join = %+v, %v", seat, err)
	}
	_, err = e.billing.Join(ctx, eve)
	wantErrKey(t, err, "error.already_member")
	_, err = e.billing.Join(ctx, mallory)
	wantErrKey(t, err, "error.join_no_company")
}
