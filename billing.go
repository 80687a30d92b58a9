package kiosko

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// BillingProvider takes payments for plans. internal/billing has two: Stripe,
// and manual (no online payment: an admin grants plans from the command line).
type BillingProvider interface {
	// Name is the provider code stored on subscriptions (ProviderStripe…).
	Name() string
	// Online reports whether readers can pay on the site.
	Online() bool
	// Checkout starts a payment and returns the page to send the reader to.
	Checkout(ctx context.Context, req CheckoutRequest) (url string, err error)
	// Portal returns a page where the customer manages or cancels.
	Portal(ctx context.Context, customerRef, returnURL string) (url string, err error)
	// Cancel ends a provider subscription at once (replaced by an upgrade).
	Cancel(ctx context.Context, subscriptionRef string) error
	// SignatureHeader names the HTTP header that signs webhooks.
	SignatureHeader() string
	// ParseEvent checks a webhook's signature and reads it: EINVALID
	// ("error.webhook_signature") when the signature is wrong; nil, nil
	// for an event kiosko does not act on.
	ParseEvent(payload []byte, signature string) (*BillingEvent, error)
}

// CheckoutRequest is what a provider needs to take a payment.
type CheckoutRequest struct {
	Account     *Account
	Plan        *Plan
	Seats       int
	CustomerRef string // the account's customer at the provider, if known
	SuccessURL  string
	CancelURL   string
	Lang        string
}

// Billing event kinds, the provider's events in kiosko's words.
const (
	BillingCheckoutCompleted = "checkout_completed" // the reader paid; may name the subscription
	BillingSubscriptionState = "subscription_state" // the full state of a subscription (created, updated)
	BillingSubscriptionEnded = "subscription_ended" // the subscription is over
	BillingInvoicePaid       = "invoice_paid"       // a period was paid: activation or renewal
	BillingPaymentFailed     = "payment_failed"     // a renewal could not be charged
	BillingRefunded          = "refunded"           // a payment was refunded in full
)

// BillingEvent is one webhook event of a provider.
type BillingEvent struct {
	ID                string
	Kind              string
	Created           time.Time
	AccountID         int64 // ours, from the checkout's metadata (0: unknown)
	CustomerRef       string
	SubscriptionRef   string
	PlanCode          string
	Seats             int
	Status            string // for subscription_state: StatusActive…; "" means not yet paid
	PeriodEnd         time.Time
	CancelAtPeriodEnd bool
	AmountCents       int64 // what the period costs (or was paid)
	Currency          string
}

// BillingEventRecord is a handled event, kept so a replay changes nothing.
type BillingEventRecord struct {
	Provider        string
	ID              string
	Kind            string
	SubscriptionRef string
	Created         time.Time
	HandledAt       time.Time
}

// BillingStore keeps payment customers and handled webhook events.
type BillingStore interface {
	// SetBillingCustomer records the account's customer at a provider.
	SetBillingCustomer(ctx context.Context, accountID int64, provider, ref string) error
	// FindBillingCustomer returns the account's customer ref, or ENOTFOUND.
	FindBillingCustomer(ctx context.Context, accountID int64, provider string) (string, error)
	// FindAccountIDByBillingCustomer returns the account of a customer, or ENOTFOUND.
	FindAccountIDByBillingCustomer(ctx context.Context, provider, ref string) (int64, error)
	// RecordBillingEvent notes an event as handled: ECONFLICT when it already was.
	RecordBillingEvent(ctx context.Context, r *BillingEventRecord) error
	// HasBillingEvent reports whether an event was handled.
	HasBillingEvent(ctx context.Context, provider, id string) (bool, error)
	// LastBillingEventAt is the creation time of the newest handled event of
	// a provider subscription; the zero time when there is none.
	LastBillingEventAt(ctx context.Context, provider, subscriptionRef string) (time.Time, error)
}

// Billing sells plans and manages seats: checkout, webhook events,
// invitations, company domains.
type Billing struct {
	Store    Store
	Plans    PlanSource
	Provider BillingProvider
	Clock    Clock
	Reading  *Reading // lifts sharing warnings and frees leases; may be nil
	Mail     BillingMail
	// InviteTTL is how long an invitation link works (default 7 days).
	InviteTTL time.Duration
	Log       *slog.Logger
}

// BillingMail sends the emails of seat management; internal/web implements
// it with the catalogs.
type BillingMail interface {
	// Invitation asks to to take a seat of owner's subscription, in lang.
	Invitation(ctx context.Context, to, lang string, owner *Account, plan *Plan, token string) error
	// JoinVerification asks a reader to confirm their company address.
	JoinVerification(ctx context.Context, a *Account, token string) error
}

func (b *Billing) now() time.Time { return b.Clock.Now() }

func (b *Billing) log() *slog.Logger {
	if b.Log == nil {
		return slog.Default()
	}
	return b.Log
}

// Online reports whether readers can pay on the site.
func (b *Billing) Online() bool { return b.Provider != nil && b.Provider.Online() }

var errPaymentNotConfigured = &Error{Code: ENOTIMPLEMENTED, Key: "error.payment_not_configured",
	Message: "Online payment is not configured on this site; the publisher activates plans."}

// SeatsFor checks the number of seats asked for a plan: plans sold by the
// seat take 1 or more, the others their own number (0 means it).
func SeatsFor(p *Plan, seats int) (int, error) {
	if !p.SeatsPerUnit {
		if seats != 0 && seats != p.Seats {
			return 0, FieldError("seats", "error.seats_fixed", fmt.Sprintf("Plan %s has %d seat(s).", p.Code, p.Seats))
		}
		return p.Seats, nil
	}
	if seats < 1 {
		return 0, FieldError("seats", "error.seats_invalid", "The number of seats must be 1 or more.")
	}
	if seats > 10000 {
		return 0, FieldError("seats", "error.seats_too_many", "That is too many seats to buy online; contact the publisher.")
	}
	return seats, nil
}

// PriceFor is what a plan costs a period with seats.
func PriceFor(p *Plan, seats int) int64 {
	if p.SeatsPerUnit {
		return p.PriceCents * int64(max(seats, 1))
	}
	return p.PriceCents
}

// paidPlan finds a plan a reader may buy.
func (b *Billing) paidPlan(code string) (*Plan, error) {
	p, err := b.Plans.Find(code)
	if err != nil {
		return nil, &Error{Code: EINVALID, Key: "error.plan_unknown", Message: fmt.Sprintf("Unknown plan %q.", code), Field: "plan"}
	}
	if !p.Paid() {
		return nil, &Error{Code: EINVALID, Key: "error.plan_not_for_sale", Message: "That plan is not sold.", Field: "plan"}
	}
	return p, nil
}

// Checkout starts a payment of a plan for a reader and returns the
// provider's page. ENOTIMPLEMENTED without online payment.
func (b *Billing) Checkout(ctx context.Context, a *Account, planCode string, seats int, successURL, cancelURL, lang string) (string, error) {
	p, err := b.paidPlan(planCode)
	if err != nil {
		return "", err
	}
	if seats, err = SeatsFor(p, seats); err != nil {
		return "", err
	}
	if !b.Online() {
		return "", errPaymentNotConfigured
	}
	if err := RequireVerified(a); err != nil { // accountdata.go
		return "", err
	}
	customer, err := b.Store.FindBillingCustomer(ctx, a.ID, b.Provider.Name())
	if err != nil && !IsNotFound(err) {
		return "", fmt.Errorf("checkout: %w", err)
	}
	url, err := b.Provider.Checkout(ctx, CheckoutRequest{Account: a, Plan: p, Seats: seats, CustomerRef: customer, SuccessURL: successURL, CancelURL: cancelURL, Lang: lang})
	if err != nil {
		return "", fmt.Errorf("checkout: %w", err)
	}
	return url, nil
}

// Portal returns the provider's page where the owner manages or cancels.
func (b *Billing) Portal(ctx context.Context, a *Account, returnURL string) (string, error) {
	if !b.Online() {
		return "", errPaymentNotConfigured
	}
	customer, err := b.Store.FindBillingCustomer(ctx, a.ID, b.Provider.Name())
	if IsNotFound(err) {
		return "", &Error{Code: ENOTFOUND, Key: "error.no_online_subscription", Message: "You have no subscription paid online."}
	} else if err != nil {
		return "", fmt.Errorf("portal: %w", err)
	}
	url, err := b.Provider.Portal(ctx, customer, returnURL)
	if err != nil {
		return "", fmt.Errorf("portal: %w", err)
	}
	return url, nil
}

// ParseWebhook checks and reads a provider's webhook.
func (b *Billing) ParseWebhook(payload []byte, signature string) (*BillingEvent, error) {
	if b.Provider == nil || !b.Provider.Online() {
		return nil, errPaymentNotConfigured
	}
	return b.Provider.ParseEvent(payload, signature)
}

// HandleEvent applies a provider's event once: a replayed event changes
// nothing, and an event older than one already applied to the same
// subscription does not undo it.
func (b *Billing) HandleEvent(ctx context.Context, ev *BillingEvent) error {
	prov := b.Provider.Name()
	if ev.ID == "" {
		return FieldError("id", "error.invalid", "The event has no id.")
	}
	seen, err := b.Store.HasBillingEvent(ctx, prov, ev.ID)
	if err != nil {
		return fmt.Errorf("billing event: %w", err)
	} else if seen {
		b.log().Info("billing event replayed; ignored", "event", ev.ID, "kind", ev.Kind)
		return nil
	}
	if err := b.apply(ctx, prov, ev); err != nil {
		return fmt.Errorf("billing event %s (%s): %w", ev.ID, ev.Kind, err)
	}
	err = b.Store.RecordBillingEvent(ctx, &BillingEventRecord{Provider: prov, ID: ev.ID, Kind: ev.Kind, SubscriptionRef: ev.SubscriptionRef, Created: ev.Created, HandledAt: b.now()})
	if err != nil && ErrorCode(err) != ECONFLICT { // ECONFLICT: a concurrent delivery recorded it
		return fmt.Errorf("billing event: %w", err)
	}
	return nil
}

func (b *Billing) apply(ctx context.Context, prov string, ev *BillingEvent) error {
	if ev.AccountID != 0 && ev.CustomerRef != "" {
		if err := b.Store.SetBillingCustomer(ctx, ev.AccountID, prov, ev.CustomerRef); err != nil && ErrorCode(err) != ECONFLICT {
			return err
		}
	}
	// Whether a newer event of this subscription was applied already.
	stale := false
	if ev.SubscriptionRef != "" {
		last, err := b.Store.LastBillingEventAt(ctx, prov, ev.SubscriptionRef)
		if err != nil {
			return err
		}
		stale = ev.Created.Before(last)
	}
	switch ev.Kind {
	case BillingCheckoutCompleted:
		if ev.SubscriptionRef == "" || ev.PlanCode == "" {
			return nil
		}
		_, _, err := b.ensureSubscription(ctx, prov, ev)
		return err
	case BillingSubscriptionState:
		if ev.Status == "" { // not paid yet (incomplete): nothing to open
			return nil
		}
		sub, created, err := b.ensureSubscription(ctx, prov, ev)
		if err != nil || sub == nil || created || stale {
			return err
		}
		upd := SubscriptionUpdate{Status: &ev.Status, CancelAtPeriodEnd: &ev.CancelAtPeriodEnd}
		if !ev.PeriodEnd.IsZero() {
			upd.CurrentPeriodEnd = &ev.PeriodEnd
		}
		if ev.PlanCode != "" && ev.PlanCode != sub.PlanCode {
			if _, err := b.Plans.Find(ev.PlanCode); err == nil {
				upd.PlanCode = &ev.PlanCode
				if ev.AmountCents > 0 { // a new plan is a new purchase: its price is copied
					upd.PriceCents = &ev.AmountCents
				}
			}
		}
		if ev.Seats > 0 && ev.Seats != sub.Seats {
			upd.Seats = &ev.Seats
		}
		_, err = b.Store.UpdateSubscription(ctx, sub.ID, upd)
		if ErrorCode(err) == ECONFLICT && upd.Seats != nil { // fewer seats than members: keep the seats
			b.log().Warn("billing: seats lowered below the members; seats kept", "subscription", sub.ID)
			upd.Seats = nil
			_, err = b.Store.UpdateSubscription(ctx, sub.ID, upd)
		}
		return err
	case BillingSubscriptionEnded:
		sub, err := b.Store.FindSubscriptionByProviderRef(ctx, prov, ev.SubscriptionRef)
		if IsNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		st := StatusExpired
		end := sub.CurrentPeriodEnd
		if end.IsZero() || ev.Created.Before(end) {
			end = ev.Created
		}
		_, err = b.Store.UpdateSubscription(ctx, sub.ID, SubscriptionUpdate{Status: &st, CurrentPeriodEnd: &end})
		return err
	case BillingInvoicePaid:
		sub, err := b.Store.FindSubscriptionByProviderRef(ctx, prov, ev.SubscriptionRef)
		if IsNotFound(err) {
			return nil // the subscription's own event creates it
		} else if err != nil {
			return err
		}
		// Periods only move forward, so an old invoice arriving late
		// changes nothing.
		if !ev.PeriodEnd.After(sub.CurrentPeriodEnd) {
			return nil
		}
		upd := SubscriptionUpdate{CurrentPeriodEnd: &ev.PeriodEnd}
		if !sub.CancelAtPeriodEnd {
			st := StatusActive
			upd.Status = &st
		}
		if ev.AmountCents > 0 { // a renewal copies what the period cost
			upd.PriceCents = &ev.AmountCents
		}
		_, err = b.Store.UpdateSubscription(ctx, sub.ID, upd)
		return err
	case BillingPaymentFailed:
		sub, err := b.Store.FindSubscriptionByProviderRef(ctx, prov, ev.SubscriptionRef)
		if IsNotFound(err) || (err == nil && (stale || sub.Status != StatusActive)) {
			return nil
		} else if err != nil {
			return err
		}
		st := StatusPastDue
		_, err = b.Store.UpdateSubscription(ctx, sub.ID, SubscriptionUpdate{Status: &st})
		return err
	case BillingRefunded:
		return b.refunded(ctx, prov, ev)
	}
	return nil
}

// ensureSubscription returns the subscription of a provider's event,
// creating it from the event when it is new (created is then true).
func (b *Billing) ensureSubscription(ctx context.Context, prov string, ev *BillingEvent) (*Subscription, bool, error) {
	sub, err := b.Store.FindSubscriptionByProviderRef(ctx, prov, ev.SubscriptionRef)
	if err == nil || !IsNotFound(err) {
		return sub, false, err
	}
	plan, perr := b.Plans.Find(ev.PlanCode)
	owner := ev.AccountID
	if owner == 0 && ev.CustomerRef != "" {
		owner, _ = b.Store.FindAccountIDByBillingCustomer(ctx, prov, ev.CustomerRef)
	}
	if perr != nil || owner == 0 {
		b.log().Warn("billing: subscription of an unknown plan or account; ignored", "ref", ev.SubscriptionRef, "plan", ev.PlanCode, "account", owner)
		return nil, false, nil
	}
	seats := ev.Seats
	if seats <= 0 || !plan.SeatsPerUnit {
		seats = max(seats, plan.Seats)
	}
	status := ev.Status
	if status == "" {
		status = StatusActive
	}
	end := ev.PeriodEnd
	if end.IsZero() { // until the subscription's own event tells
		end = periodEnd(plan, ev.Created)
	}
	price := ev.AmountCents
	if price <= 0 {
		price = PriceFor(plan, seats)
	}
	currency := ev.Currency
	if currency == "" {
		currency = plan.Currency
	}
	sub = &Subscription{OwnerID: owner, PlanCode: plan.Code, Status: status, Seats: seats, PriceCents: price, Currency: currency,
		Provider: prov, ProviderRef: ev.SubscriptionRef, CurrentPeriodEnd: end, CancelAtPeriodEnd: ev.CancelAtPeriodEnd, CreatedAt: b.now()}
	if err := b.Store.CreateSubscription(ctx, sub); err != nil {
		if ErrorCode(err) == ECONFLICT { // a concurrent delivery created it
			sub, err = b.Store.FindSubscriptionByProviderRef(ctx, prov, ev.SubscriptionRef)
			return sub, false, err
		}
		return nil, false, err
	}
	b.replaceOlder(ctx, sub)
	return sub, true, nil
}

func periodEnd(p *Plan, from time.Time) time.Time {
	if p.Period == "year" {
		return from.AddDate(1, 0, 0)
	}
	return from.AddDate(0, 1, 0)
}

// replaceOlder ends the owner's other running subscriptions when a new one
// starts (an upgrade bought online): members move to the new one, the
// owner's sharing warning goes with them until the other person holds a
// seat, and company domains follow.
func (b *Billing) replaceOlder(ctx context.Context, sub *Subscription) {
	now := b.now()
	subs, err := b.Store.FindSubscriptionsByOwner(ctx, sub.OwnerID)
	if err != nil {
		b.log().Error("billing: replace older subscriptions", "err", err)
		return
	}
	for _, old := range subs {
		if old.ID == sub.ID || !old.Grants(now) {
			continue
		}
		seats, err := b.Store.FindSeats(ctx, old.ID)
		if err != nil {
			b.log().Error("billing: replace older subscription", "subscription", old.ID, "err", err)
			continue
		}
		for _, s := range seats {
			switch {
			case s.Position == 1 && s.SharingWarning != nil:
				if own, err := b.ownerSeat(ctx, sub.ID); err == nil {
					_ = b.Store.SetSeatWarning(ctx, own.ID, s.SharingWarning)
				}
			case s.Position > 1 && s.AccountID != 0:
				if _, err := b.Store.AssignSeat(ctx, sub.ID, s.AccountID, now); err != nil {
					b.log().Warn("billing: member could not move to the new subscription", "account", s.AccountID, "err", err)
				}
			}
		}
		if domains, err := b.Store.FindSubscriptionDomains(ctx, old.ID); err == nil && len(domains) > 0 {
			if err := b.Store.SetSubscriptionDomains(ctx, old.ID, nil); err == nil {
				_ = b.Store.SetSubscriptionDomains(ctx, sub.ID, domains)
			}
		}
		if old.Provider == b.Provider.Name() && old.ProviderRef != "" && old.Provider != ProviderManual {
			if err := b.Provider.Cancel(ctx, old.ProviderRef); err != nil {
				b.log().Error("billing: cancel the replaced subscription at the provider", "ref", old.ProviderRef, "err", err)
			}
		}
		st := StatusExpired
		if _, err := b.Store.UpdateSubscription(ctx, old.ID, SubscriptionUpdate{Status: &st, CurrentPeriodEnd: &now}); err != nil {
			b.log().Error("billing: end replaced subscription", "subscription", old.ID, "err", err)
		}
	}
}

// refunded ends at once the running subscription of a refunded customer.
func (b *Billing) refunded(ctx context.Context, prov string, ev *BillingEvent) error {
	var sub *Subscription
	var err error
	if ev.SubscriptionRef != "" {
		if sub, err = b.Store.FindSubscriptionByProviderRef(ctx, prov, ev.SubscriptionRef); err != nil && !IsNotFound(err) {
			return err
		}
	}
	if sub == nil && ev.CustomerRef != "" {
		owner, err := b.Store.FindAccountIDByBillingCustomer(ctx, prov, ev.CustomerRef)
		if IsNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		subs, err := b.Store.FindSubscriptionsByOwner(ctx, owner)
		if err != nil {
			return err
		}
		for _, s := range subs {
			if s.Provider == prov && s.Grants(b.now()) {
				sub = s
				break
			}
		}
	}
	if sub == nil || sub.Status == StatusExpired {
		return nil
	}
	st, end := StatusExpired, ev.Created
	if end.IsZero() || end.After(b.now()) {
		end = b.now()
	}
	_, err = b.Store.UpdateSubscription(ctx, sub.ID, SubscriptionUpdate{Status: &st, CurrentPeriodEnd: &end})
	return err
}
