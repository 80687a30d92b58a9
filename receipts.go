package kiosko

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// PeriodEndCanceler is a BillingProvider that can end a subscription when
// its paid period ends (Stripe); deleting an account uses it.
type PeriodEndCanceler interface {
	CancelAtPeriodEnd(ctx context.Context, subscriptionRef string) error
}

// ReceiptLister is a BillingProvider that lists what a customer paid.
type ReceiptLister interface {
	Receipts(ctx context.Context, customerRef string, limit int) ([]Receipt, error)
}

// Receipt is one thing a reader paid (or owes), or a plan granted by hand.
type Receipt struct {
	Provider    string // ProviderStripe, or ProviderManual for a grant
	Ref         string // the provider's invoice id; the subscription id for a grant
	Number      string // the invoice number, when there is one
	AmountCents int64
	Currency    string
	Status      string // the provider's: paid, open, void, uncollectible, draft; "granted" for a grant
	At          time.Time
	HostedURL   string // the invoice's page at the provider
	PDFURL      string
	PlanCode    string // for a grant: the plan granted
	Until       time.Time
}

// Receipts lists what the reader paid at the payment provider and the
// plans an admin granted them by hand, newest first.
func (s *Accounts) Receipts(ctx context.Context, a *Account) ([]Receipt, error) {
	var out []Receipt
	if s.Billing != nil && s.Billing.Provider != nil {
		if rl, ok := s.Billing.Provider.(ReceiptLister); ok {
			ref, err := s.Store.FindBillingCustomer(ctx, a.ID, s.Billing.Provider.Name())
			if err != nil && !IsNotFound(err) {
				return nil, fmt.Errorf("receipts: %w", err)
			}
			if ref != "" {
				rs, err := rl.Receipts(ctx, ref, 100)
				if err != nil {
					s.log().Error("receipts from the payment provider", "account", a.ID, "err", err)
					return nil, &Error{Code: EUNAVAILABLE, Key: "accounts.error.receipts_unavailable", Message: "Your invoices cannot be fetched right now; try again later."}
				}
				out = append(out, rs...)
			}
		}
	}
	subs, err := s.Store.FindSubscriptionsByOwner(ctx, a.ID)
	if err != nil {
		return nil, fmt.Errorf("receipts: %w", err)
	}
	for _, sub := range subs {
		if sub.Provider == ProviderManual {
			out = append(out, Receipt{Provider: ProviderManual, Ref: fmt.Sprint(sub.ID), Status: "granted", At: sub.CreatedAt,
				PlanCode: sub.PlanCode, Until: sub.CurrentPeriodEnd, Currency: sub.Currency})
		}
	}
	slices.SortStableFunc(out, func(x, y Receipt) int { return y.At.Compare(x.At) })
	return out, nil
}
