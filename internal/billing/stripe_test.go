package billing_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/billing"
	"github.com/kiosko/kiosko/internal/billing/stripemock"
)

const secret = "whsec_test_secret"

func newStripe(t *testing.T) *billing.Stripe {
	t.Helper()
	s, err := billing.NewStripe(billing.StripeConfig{Key: "sk_test_123", WebhookSecret: secret, APIURL: stripemock.Start(t)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStripeCheckoutPortalAndCancelAgainstStripeMock(t *testing.T) {
	s := newStripe(t)
	ctx := t.Context()
	plans := kiosko.DefaultPlans()
	a := &kiosko.Account{ID: 7, Email: "ana@example.com"}
	for _, tc := range []struct {
		plan  string
		seats int
	}{{kiosko.PlanPremium, 2}, {kiosko.PlanBusiness, 12}} {
		url, err := s.Checkout(ctx, kiosko.CheckoutRequest{Account: a, Plan: plans[tc.plan], Seats: tc.seats, SuccessURL: "http://x.test/ok", CancelURL: "http://x.test/no", Lang: "es"})
		if err != nil {
			t.Fatalf("Checkout %s: %v", tc.plan, err)
		}
		if !strings.HasPrefix(url, "http") {
			t.Errorf("Checkout URL = %q", url)
		}
	}
	url, err := s.Portal(ctx, "cus_123", "http://x.test/billing")
	if err != nil || !strings.HasPrefix(url, "http") {
		t.Fatalf("Portal = %q, %v", url, err)
	}
	if err := s.Cancel(ctx, "sub_123"); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
}

func TestStripeRejectsBadSignatures(t *testing.T) {
	s, err := billing.NewStripe(billing.StripeConfig{Key: "sk_test_123", WebhookSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	sub := stripemock.Subscription{ID: "sub_1", Customer: "cus_1", Status: "active", AccountID: 3, Plan: "premium", Seats: 2, Quantity: 1, UnitAmount: 1499, Currency: "eur", PeriodEnd: time.Now().Add(time.Hour)}
	payload, sig := stripemock.Event(t, secret, "evt_1", "customer.subscription.created", time.Now(), sub.Object())
	_, otherSig := stripemock.Event(t, "whsec_other", "evt_1", "customer.subscription.created", time.Now(), sub.Object())
	for name, tc := range map[string]struct {
		payload []byte
		sig     string
	}{
		"no signature":     {payload, ""},
		"another secret":   {payload, otherSig},
		"garbage header":   {payload, "t=1,v1=deadbeef"},
		"tampered payload": {[]byte(strings.Replace(string(payload), "premium", "business", 1)), sig},
	} {
		_, err := s.ParseEvent(tc.payload, tc.sig)
		if kiosko.ErrorCode(err) != kiosko.EINVALID || kiosko.ErrorKey(err) != "error.webhook_signature" {
			t.Errorf("%s: err = %v, want error.webhook_signature", name, err)
		}
	}
	ev, err := s.ParseEvent(payload, sig)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != kiosko.BillingSubscriptionState || ev.SubscriptionRef != "sub_1" || ev.CustomerRef != "cus_1" || ev.AccountID != 3 ||
		ev.PlanCode != "premium" || ev.Seats != 2 || ev.Status != kiosko.StatusActive || ev.AmountCents != 1499 || ev.Currency != "EUR" {
		t.Errorf("event = %+v", ev)
	}
}

func TestStripeReadsEvents(t *testing.T) {
	s, err := billing.NewStripe(billing.StripeConfig{Key: "sk_test_123", WebhookSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	biz := stripemock.Subscription{ID: "sub_b", Customer: "cus_b", Status: "active", AccountID: 9, Plan: "business", Seats: 12, Quantity: 12, UnitAmount: 899, Currency: "eur", PeriodEnd: end, CancelAtPeriodEnd: true}
	for _, tc := range []struct {
		typ    string
		object any
		check  func(ev *kiosko.BillingEvent) bool
	}{
		{"customer.subscription.updated", biz.Object(), func(ev *kiosko.BillingEvent) bool {
			return ev.Status == kiosko.StatusCanceled && ev.Seats == 12 && ev.AmountCents == 12*899 && ev.PeriodEnd.Equal(end) && ev.CancelAtPeriodEnd
		}},
		{"customer.subscription.deleted", biz.Object(), func(ev *kiosko.BillingEvent) bool { return ev.Kind == kiosko.BillingSubscriptionEnded }},
		{"invoice.paid", stripemock.Invoice("in_1", "sub_b", "cus_b", 10788, end), func(ev *kiosko.BillingEvent) bool {
			return ev.Kind == kiosko.BillingInvoicePaid && ev.SubscriptionRef == "sub_b" && ev.AmountCents == 10788 && ev.PeriodEnd.Equal(end)
		}},
		{"invoice.payment_failed", stripemock.Invoice("in_2", "sub_b", "cus_b", 0, end), func(ev *kiosko.BillingEvent) bool { return ev.Kind == kiosko.BillingPaymentFailed }},
		{"checkout.session.completed", stripemock.CheckoutSession("cs_1", 9, "cus_b", "sub_b", "business", 12), func(ev *kiosko.BillingEvent) bool {
			return ev.Kind == kiosko.BillingCheckoutCompleted && ev.AccountID == 9 && ev.CustomerRef == "cus_b" && ev.SubscriptionRef == "sub_b" && ev.PlanCode == "business" && ev.Seats == 12
		}},
		{"charge.refunded", map[string]any{"id": "ch_1", "object": "charge", "customer": "cus_b", "refunded": true, "amount_refunded": 899}, func(ev *kiosko.BillingEvent) bool {
			return ev.Kind == kiosko.BillingRefunded && ev.CustomerRef == "cus_b"
		}},
	} {
		payload, sig := stripemock.Event(t, secret, "evt_"+tc.typ, tc.typ, end.Add(-time.Hour), tc.object)
		ev, err := s.ParseEvent(payload, sig)
		if err != nil {
			t.Fatalf("%s: %v", tc.typ, err)
		}
		if ev == nil || !tc.check(ev) {
			t.Errorf("%s: event = %+v", tc.typ, ev)
		}
	}
	payload, sig := stripemock.Event(t, secret, "evt_x", "customer.created", end, map[string]any{"id": "cus_x", "object": "customer"})
	if ev, err := s.ParseEvent(payload, sig); ev != nil || err != nil {
		t.Errorf("an event of no interest = %+v, %v; want nil, nil", ev, err)
	}
}

func TestManualTakesNoMoney(t *testing.T) {
	m := billing.Manual{}
	if m.Online() {
		t.Fatal("manual provider says it is online")
	}
	if _, err := m.Checkout(t.Context(), kiosko.CheckoutRequest{}); kiosko.ErrorCode(err) != kiosko.ENOTIMPLEMENTED {
		t.Errorf("Checkout err = %v", err)
	}
	if _, err := m.ParseEvent([]byte("{}"), "x"); kiosko.ErrorCode(err) != kiosko.ENOTIMPLEMENTED {
		t.Errorf("ParseEvent err = %v", err)
	}
}
