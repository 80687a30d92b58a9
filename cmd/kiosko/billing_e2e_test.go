package main

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko/internal/billing/stripemock"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/i18n"
)

// TestManualProviderSaysSo: without a Stripe key nothing pretends to take money.
func TestManualProviderSaysSo(t *testing.T) {
	m := startMain(t)
	b := newBrowser(t, m)
	b.signIn("digital@kiosko.test", demo.Password)
	if code, _, _ := b.post("/billing/checkout", url.Values{"plan": {"premium"}}); code == http.StatusSeeOther {
		t.Fatalf("checkout redirected without a payment provider")
	}
	none := html.EscapeString(i18n.Default().T("es", "web.plans.payment.none"))
	if _, plans := b.get("/plans"); !strings.Contains(plans, `id="payment"`) || !strings.Contains(plans, none) {
		t.Fatal("the plans page does not say that online payment is not configured")
	}
}

// TestStripeCheckoutToCancel walks a reader through Stripe against
// stripe-mock: checkout, the webhook activates the plan, cancellation at
// period end keeps access until then, and the end of the period ends it.
func TestStripeCheckoutToCancel(t *testing.T) {
	api := stripemock.Start(t)
	const secret = "whsec_kiosko_test_secret"
	m := startMain(t, "--stripe-key", "sk_test_kiosko", "--stripe-webhook-secret", secret, "--stripe-api-url", api)
	ctx := context.Background()
	b := newBrowser(t, m)
	b.signIn("free@kiosko.test", demo.Password)
	article := "/es/" + subscriberArticle(t, m.URL())
	if _, body := b.get(article); strings.Contains(body, `id="article-body"`) {
		t.Fatal("a free account reads a subscriber article before paying")
	}
	code, body, h := b.post("/billing/checkout", url.Values{"plan": {"digital"}})
	if code != http.StatusSeeOther || h.Get("Location") == "" {
		t.Fatalf("checkout: %d %s", code, body)
	}

	acct, _ := m.Store.FindAccountByEmail(ctx, "free@kiosko.test")
	hook := func(id, typ string, obj any) int {
		t.Helper()
		payload, sig := stripemock.Event(t, secret, id, typ, time.Now(), obj)
		req, _ := http.NewRequest("POST", m.URL()+"/billing/webhook", bytes.NewReader(payload))
		req.Header.Set("Stripe-Signature", sig)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	end := time.Now().Add(30 * 24 * time.Hour)
	sub := stripemock.Subscription{ID: "sub_e2e", Customer: "cus_e2e", Status: "active", AccountID: acct.ID, Plan: "digital", Seats: 1, Quantity: 1, UnitAmount: 999, Currency: "eur", PeriodEnd: end}
	if code := hook("evt_bad", "customer.subscription.created", sub.Object()); code != 200 {
		t.Fatalf("webhook: %d", code)
	}
	// A well-formed signature made with another secret is refused and
	// changes nothing.
	payload, forged := stripemock.Event(t, "whsec_wrong", "evt_forged", "customer.subscription.deleted", time.Now(), sub.Object())
	req, _ := http.NewRequest("POST", m.URL()+"/billing/webhook", bytes.NewReader(payload))
	req.Header.Set("Stripe-Signature", forged)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Fatalf("forged webhook: status %d, want 400", res.StatusCode)
	}
	if _, body := b.get(article); !strings.Contains(body, `id="article-body"`) {
		t.Fatal("after the activation webhook the reader still cannot read")
	}
	// Replaying the event changes nothing.
	if code := hook("evt_bad", "customer.subscription.created", sub.Object()); code != 200 {
		t.Fatalf("replayed webhook: %d", code)
	}
	if subs, err := m.Store.FindSubscriptionsByOwner(ctx, acct.ID); err != nil || len(subs) != 1 {
		t.Fatalf("after the replay: %d subscriptions, %v; want 1", len(subs), err)
	}
	sub.CancelAtPeriodEnd = true
	if code := hook("evt_cancel", "customer.subscription.updated", sub.Object()); code != 200 {
		t.Fatalf("cancel webhook: %d", code)
	}
	if _, body := b.get(article); !strings.Contains(body, `id="article-body"`) {
		t.Fatal("cancelling at period end ended access at once")
	}
	sub.Status = "canceled"
	if code := hook("evt_deleted", "customer.subscription.deleted", sub.Object()); code != 200 {
		t.Fatalf("deleted webhook: %d", code)
	}
	// Stripe ended it before the period was over: access ends now, not at
	// the end of the period.
	if _, body := b.get(article); strings.Contains(body, `id="article-body"`) {
		t.Fatal("after customer.subscription.deleted the reader still reads")
	}
	if _, _, err := m.Store.FindSeatForAccount(ctx, acct.ID, time.Now()); err == nil {
		t.Fatal("the ended subscription still holds a seat")
	}
}
