package web

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/billing"
	"github.com/kiosko/kiosko/internal/billing/stripemock"
)

// webhookReader is a signed-up reader of a site paid with Stripe (its API
// is stripe-mock), and the article behind the paywall.
type webhookReader struct {
	e       *billingEnv
	b       *browser
	id      int64
	article string
}

func newWebhookReader(t *testing.T) *webhookReader {
	t.Helper()
	stripe, err := billing.NewStripe(billing.StripeConfig{Key: "sk_test_kiosko", WebhookSecret: webhookSecret, APIURL: stripemock.Start(t)})
	if err != nil {
		t.Fatal(err)
	}
	e := newBillingEnv(t, stripe)
	r := &webhookReader{e: e, b: e.browser("es"), article: "/es/" + e.articles("es", kiosko.AccessSubscriber)[0].ID}
	r.b.signUp("ana@example.com", "ana's long passphrase", "/")
	r.id = e.account("ana@example.com").ID
	if reads(r.b.get(r.article)) {
		t.Fatal("a free account reads a subscriber article")
	}
	return r
}

func (r *webhookReader) subscription(id string) stripemock.Subscription {
	return stripemock.Subscription{ID: id, Customer: "cus_ana", Status: "active", AccountID: r.id, Plan: "premium", Seats: 2,
		Quantity: 1, UnitAmount: 1499, Currency: "eur", PeriodEnd: r.e.clock.Now().AddDate(0, 1, 0)}
}

// mustPost delivers a correctly signed event and wants a 200.
func (r *webhookReader) mustPost(id, typ string, created time.Time, object any) {
	r.e.t.Helper()
	if got := r.e.postEvent(id, typ, created, object); got != http.StatusOK {
		r.e.t.Fatalf("%s %s: status %d, want 200", typ, id, got)
	}
}

// A webhook is taken only with a valid signature, made recently with the
// site's own secret. Stripe's library checks the signature's time against
// the real clock, not the site's, so these use time.Now.
func TestWebhookWantsTheSecretAndARecentSignature(t *testing.T) {
	r := newWebhookReader(t)
	now := r.e.clock.Now()
	payload := stripemock.EventPayload(t, "evt_1", "customer.subscription.created", now, r.subscription("sub_ana").Object())
	for name, sig := range map[string]string{
		"a well-formed signature made with another secret": stripemock.Sign(payload, "whsec_someone_else", time.Now()),
		"a signature made six minutes ago":                 stripemock.Sign(payload, webhookSecret, time.Now().Add(-6*time.Minute)),
		"a signature made an hour ago (a captured replay)": stripemock.Sign(payload, webhookSecret, time.Now().Add(-time.Hour)),
	} {
		if got := r.e.postWebhook(payload, sig); got != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, got)
		}
		if reads(r.b.get(r.article)) {
			t.Fatalf("%s opened the paywall", name)
		}
	}
	if subs, err := r.e.store.FindSubscriptionsByOwner(context.Background(), r.id); err != nil || len(subs) != 0 {
		t.Fatalf("refused webhooks left subscriptions %+v, %v", subs, err)
	}
	// The same event, signed two minutes ago with the right secret, is
	// within Stripe's five minutes.
	if got := r.e.postWebhook(payload, stripemock.Sign(payload, webhookSecret, time.Now().Add(-2*time.Minute))); got != http.StatusOK {
		t.Fatalf("a valid webhook: status %d, want 200", got)
	}
	if !reads(r.b.get(r.article)) {
		t.Fatal("a valid webhook did not open the paywall")
	}
}

// Stripe ends a subscription at once (the publisher cancels it in Stripe's
// dashboard, or the last retry of a payment failed): access ends then,
// not at the end of the period that was paid for.
func TestWebhookSubscriptionDeletedEndsAccessAtOnce(t *testing.T) {
	r := newWebhookReader(t)
	now := r.e.clock.Now()
	sub := r.subscription("sub_ana")
	r.mustPost("evt_1", "customer.subscription.created", now, sub.Object())
	if !reads(r.b.get(r.article)) {
		t.Fatal("the paying reader cannot read")
	}
	r.e.clock.Add(3 * 24 * time.Hour) // well inside the month paid for
	sub.Status = "canceled"
	r.mustPost("evt_2", "customer.subscription.deleted", r.e.clock.Now(), sub.Object())
	if reads(r.b.get(r.article)) {
		t.Fatal("after customer.subscription.deleted the reader still reads, mid-period")
	}
	if p := r.b.get("/billing"); !p.has(`id="no-subscription"`) {
		t.Fatalf("the billing page still shows a subscription:\n%s", text(p.body))
	}
}

// Stripe delivers an event again when it did not get our 200 in time. A
// refund delivered again after the reader bought anew must not end the
// new subscription: each event is applied once.
func TestWebhookRedeliveredRefundSparesTheNewSubscription(t *testing.T) {
	r := newWebhookReader(t)
	now := r.e.clock.Now()
	r.mustPost("evt_1", "customer.subscription.created", now, r.subscription("sub_1").Object())
	refund := map[string]any{"id": "ch_1", "object": "charge", "customer": "cus_ana", "refunded": true, "amount_refunded": 1499}
	r.e.clock.Add(time.Hour)
	r.mustPost("evt_refund", "charge.refunded", r.e.clock.Now(), refund)
	if reads(r.b.get(r.article)) {
		t.Fatal("a refunded reader still reads")
	}
	r.e.clock.Add(time.Hour)
	r.mustPost("evt_2", "customer.subscription.created", r.e.clock.Now(), r.subscription("sub_2").Object())
	if !reads(r.b.get(r.article)) {
		t.Fatal("the reader who bought again cannot read")
	}
	r.e.clock.Add(time.Minute)
	r.mustPost("evt_refund", "charge.refunded", now.Add(time.Hour), refund) // the same event, delivered again
	if !reads(r.b.get(r.article)) {
		t.Fatal("a redelivered refund ended the reader's new subscription")
	}
}
