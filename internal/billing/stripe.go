package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"
)

// StripeConfig says how to reach Stripe.
type StripeConfig struct {
	Key           string // KIOSKO_STRIPE_KEY (sk_…)
	WebhookSecret string // KIOSKO_STRIPE_WEBHOOK_SECRET (whsec_…)
	APIURL        string // KIOSKO_STRIPE_API_URL; empty: Stripe itself (tests: stripe-mock)
	HTTPClient    *http.Client
}

// Stripe takes payments with Stripe Checkout, lets customers manage their
// subscription in the Customer Portal, and reads signed webhooks.
//
// Prices are sent inline (price_data) from the plans file, so the operator
// configures no products in Stripe; the subscription's metadata carries
// kiosko's account, plan and seats, so webhooks map back to them.
type Stripe struct {
	client *stripe.Client
	secret string
}

var _ kiosko.BillingProvider = (*Stripe)(nil)

// NewStripe returns the Stripe provider.
func NewStripe(cfg StripeConfig) (*Stripe, error) {
	if cfg.Key == "" {
		return nil, errors.New("billing: KIOSKO_STRIPE_KEY is required for Stripe")
	}
	if cfg.WebhookSecret == "" {
		return nil, errors.New("billing: KIOSKO_STRIPE_WEBHOOK_SECRET is required with KIOSKO_STRIPE_KEY (webhooks must be verified)")
	}
	bc := &stripe.BackendConfig{HTTPClient: cfg.HTTPClient, MaxNetworkRetries: stripe.Int64(2), LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelError}}
	if cfg.APIURL != "" {
		bc.URL = stripe.String(cfg.APIURL)
	}
	backends := &stripe.Backends{
		API:         stripe.GetBackendWithConfig(stripe.APIBackend, bc),
		Connect:     stripe.GetBackendWithConfig(stripe.ConnectBackend, bc),
		Uploads:     stripe.GetBackendWithConfig(stripe.UploadsBackend, bc),
		MeterEvents: stripe.GetBackendWithConfig(stripe.MeterEventsBackend, bc),
	}
	return &Stripe{client: stripe.NewClient(cfg.Key, stripe.WithBackends(backends)), secret: cfg.WebhookSecret}, nil
}

// Name is kiosko.ProviderStripe.
func (s *Stripe) Name() string { return kiosko.ProviderStripe }

// Online is true.
func (s *Stripe) Online() bool { return true }

// Metadata keys on Stripe objects.
const (
	metaAccount = "kiosko_account"
	metaPlan    = "kiosko_plan"
	metaSeats   = "kiosko_seats"
)

// Checkout creates a Checkout Session in subscription mode.
func (s *Stripe) Checkout(ctx context.Context, req kiosko.CheckoutRequest) (string, error) {
	quantity := int64(1)
	if req.Plan.SeatsPerUnit {
		quantity = int64(req.Seats)
	}
	meta := map[string]string{
		metaAccount: strconv.FormatInt(req.Account.ID, 10),
		metaPlan:    req.Plan.Code,
		metaSeats:   strconv.Itoa(req.Seats),
	}
	params := &stripe.CheckoutSessionCreateParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModeSubscription)),
		SuccessURL:        stripe.String(req.SuccessURL),
		CancelURL:         stripe.String(req.CancelURL),
		ClientReferenceID: stripe.String(strconv.FormatInt(req.Account.ID, 10)),
		LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{
			Quantity: stripe.Int64(quantity),
			PriceData: &stripe.CheckoutSessionCreateLineItemPriceDataParams{
				Currency:    stripe.String(strings.ToLower(req.Plan.Currency)),
				UnitAmount:  stripe.Int64(req.Plan.PriceCents),
				ProductData: &stripe.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripe.String(req.Plan.Name(req.Lang))},
				Recurring:   &stripe.CheckoutSessionCreateLineItemPriceDataRecurringParams{Interval: stripe.String(req.Plan.Period)},
			},
		}},
		SubscriptionData: &stripe.CheckoutSessionCreateSubscriptionDataParams{Metadata: meta},
		Metadata:         meta,
	}
	if kiosko.IsLanguage(req.Lang) {
		params.Locale = stripe.String(req.Lang)
	}
	if req.CustomerRef != "" {
		params.Customer = stripe.String(req.CustomerRef)
	} else {
		params.CustomerEmail = stripe.String(req.Account.Email)
	}
	sess, err := s.client.V1CheckoutSessions.Create(ctx, params)
	if err != nil {
		return "", fmt.Errorf("stripe checkout: %w", err)
	}
	if sess.URL == "" {
		return "", errors.New("stripe checkout: the session has no URL")
	}
	return sess.URL, nil
}

// Portal creates a Customer Portal session.
func (s *Stripe) Portal(ctx context.Context, customerRef, returnURL string) (string, error) {
	sess, err := s.client.V1BillingPortalSessions.Create(ctx, &stripe.BillingPortalSessionCreateParams{
		Customer: stripe.String(customerRef), ReturnURL: stripe.String(returnURL),
	})
	if err != nil {
		return "", fmt.Errorf("stripe portal: %w", err)
	}
	return sess.URL, nil
}

// Cancel ends a Stripe subscription at once, with proration.
func (s *Stripe) Cancel(ctx context.Context, ref string) error {
	if _, err := s.client.V1Subscriptions.Cancel(ctx, ref, &stripe.SubscriptionCancelParams{Prorate: stripe.Bool(true)}); err != nil {
		return fmt.Errorf("stripe cancel %s: %w", ref, err)
	}
	return nil
}

// SignatureHeader is Stripe-Signature.
func (s *Stripe) SignatureHeader() string { return "Stripe-Signature" }

var errBadSignature = &kiosko.Error{Code: kiosko.EINVALID, Key: "error.webhook_signature", Message: "The webhook's signature is not valid."}

// ParseEvent verifies a webhook (webhook.ConstructEvent: signature, a
// timestamp within five minutes, the API version of this stripe-go) and
// reads the events kiosko acts on.
func (s *Stripe) ParseEvent(payload []byte, signature string) (*kiosko.BillingEvent, error) {
	// stripe-go refuses only timestamps too far in the past; one too far in
	// the future is as much a replay risk (a signature made ahead of time).
	if ts, ok := signatureTime(signature); ok && ts.After(time.Now().Add(webhook.DefaultTolerance)) {
		return nil, errBadSignature
	}
	ev, err := webhook.ConstructEvent(payload, signature, s.secret)
	if err != nil {
		if errors.Is(err, webhook.ErrNotSigned) || errors.Is(err, webhook.ErrNoValidSignature) || errors.Is(err, webhook.ErrInvalidHeader) || errors.Is(err, webhook.ErrTooOld) {
			return nil, errBadSignature
		}
		return nil, &kiosko.Error{Code: kiosko.EINVALID, Key: "error.webhook_invalid", Message: "The webhook could not be read: " + err.Error()}
	}
	return readEvent(ev)
}

// signatureTime reads the t= of a Stripe-Signature header.
func signatureTime(header string) (time.Time, bool) {
	for _, part := range strings.Split(header, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "t="); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			return time.Unix(n, 0), true
		}
	}
	return time.Time{}, false
}

// readEvent maps a verified Stripe event to kiosko's words; nil, nil for
// events kiosko does not act on.
func readEvent(ev stripe.Event) (*kiosko.BillingEvent, error) {
	out := &kiosko.BillingEvent{ID: ev.ID, Created: time.Unix(ev.Created, 0).UTC()}
	if ev.Data == nil {
		return nil, nil
	}
	raw := ev.Data.Raw
	bad := func(err error) (*kiosko.BillingEvent, error) {
		return nil, &kiosko.Error{Code: kiosko.EINVALID, Key: "error.webhook_invalid", Message: fmt.Sprintf("Event %s: %v", ev.ID, err)}
	}
	switch ev.Type {
	case "checkout.session.completed":
		var cs stripe.CheckoutSession
		if err := json.Unmarshal(raw, &cs); err != nil {
			return bad(err)
		}
		if cs.Mode != stripe.CheckoutSessionModeSubscription {
			return nil, nil
		}
		out.Kind = kiosko.BillingCheckoutCompleted
		out.AccountID, _ = strconv.ParseInt(cs.ClientReferenceID, 10, 64)
		if cs.Customer != nil {
			out.CustomerRef = cs.Customer.ID
		}
		if cs.Subscription != nil {
			out.SubscriptionRef = cs.Subscription.ID
		}
		out.PlanCode = cs.Metadata[metaPlan]
		out.Seats, _ = strconv.Atoi(cs.Metadata[metaSeats])
		out.Currency = strings.ToUpper(string(cs.Currency))
		if cs.PaymentStatus != stripe.CheckoutSessionPaymentStatusPaid && cs.PaymentStatus != stripe.CheckoutSessionPaymentStatusNoPaymentRequired {
			out.SubscriptionRef = "" // not paid yet: only remember the customer
		}
		return out, nil
	case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted":
		var sub stripe.Subscription
		if err := json.Unmarshal(raw, &sub); err != nil {
			return bad(err)
		}
		readSubscription(out, &sub)
		if ev.Type == "customer.subscription.deleted" {
			out.Kind = kiosko.BillingSubscriptionEnded
		}
		return out, nil
	case "invoice.paid", "invoice.payment_failed":
		var inv stripe.Invoice
		if err := json.Unmarshal(raw, &inv); err != nil {
			return bad(err)
		}
		if inv.Parent == nil || inv.Parent.SubscriptionDetails == nil || inv.Parent.SubscriptionDetails.Subscription == nil {
			return nil, nil // not a subscription's invoice
		}
		out.Kind = kiosko.BillingInvoicePaid
		if ev.Type == "invoice.payment_failed" {
			out.Kind = kiosko.BillingPaymentFailed
		}
		out.SubscriptionRef = inv.Parent.SubscriptionDetails.Subscription.ID
		if inv.Customer != nil {
			out.CustomerRef = inv.Customer.ID
		}
		out.AmountCents = inv.AmountPaid
		out.Currency = strings.ToUpper(string(inv.Currency))
		if inv.Lines != nil {
			for _, l := range inv.Lines.Data {
				if l.Period != nil && l.Period.End > 0 {
					if end := time.Unix(l.Period.End, 0).UTC(); end.After(out.PeriodEnd) {
						out.PeriodEnd = end
					}
				}
			}
		}
		return out, nil
	case "charge.refunded":
		var ch stripe.Charge
		if err := json.Unmarshal(raw, &ch); err != nil {
			return bad(err)
		}
		if !ch.Refunded { // a partial refund keeps the subscription
			return nil, nil
		}
		out.Kind = kiosko.BillingRefunded
		if ch.Customer != nil {
			out.CustomerRef = ch.Customer.ID
		}
		out.AmountCents = ch.AmountRefunded
		return out, nil
	}
	return nil, nil
}

// readSubscription reads a subscription's full state.
func readSubscription(out *kiosko.BillingEvent, sub *stripe.Subscription) {
	out.Kind = kiosko.BillingSubscriptionState
	out.SubscriptionRef = sub.ID
	if sub.Customer != nil {
		out.CustomerRef = sub.Customer.ID
	}
	out.AccountID, _ = strconv.ParseInt(sub.Metadata[metaAccount], 10, 64)
	out.PlanCode = sub.Metadata[metaPlan]
	out.Currency = strings.ToUpper(string(sub.Currency))
	out.CancelAtPeriodEnd = sub.CancelAtPeriodEnd
	if sub.Items != nil {
		for _, it := range sub.Items.Data {
			if it.CurrentPeriodEnd > 0 {
				if end := time.Unix(it.CurrentPeriodEnd, 0).UTC(); end.After(out.PeriodEnd) {
					out.PeriodEnd = end
				}
			}
			out.Seats += int(it.Quantity)
			if it.Price != nil {
				out.AmountCents += it.Price.UnitAmount * max(it.Quantity, 1)
			}
		}
	}
	if n, err := strconv.Atoi(sub.Metadata[metaSeats]); err == nil && n > 0 && (out.Seats <= 1) {
		// Plans with a fixed number of seats are sold as one unit.
		out.Seats = n
	}
	switch sub.Status {
	case stripe.SubscriptionStatusActive, stripe.SubscriptionStatusTrialing:
		out.Status = kiosko.StatusActive
		if sub.CancelAtPeriodEnd || sub.CancelAt > 0 {
			out.Status = kiosko.StatusCanceled // access until the period ends
		}
	case stripe.SubscriptionStatusPastDue, stripe.SubscriptionStatusUnpaid:
		out.Status = kiosko.StatusPastDue
	case stripe.SubscriptionStatusCanceled, stripe.SubscriptionStatusIncompleteExpired:
		out.Status = kiosko.StatusExpired
	default: // incomplete, paused: nothing paid for now
		out.Status = ""
	}
	if sub.CancelAt > 0 && out.Status == kiosko.StatusCanceled {
		if at := time.Unix(sub.CancelAt, 0).UTC(); out.PeriodEnd.IsZero() || at.Before(out.PeriodEnd) {
			out.PeriodEnd = at
		}
	}
}
