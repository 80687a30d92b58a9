package billing

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/stripe/stripe-go/v82"
)

var (
	_ kiosko.PeriodEndCanceler = (*Stripe)(nil)
	_ kiosko.ReceiptLister     = (*Stripe)(nil)
)

// CancelAtPeriodEnd asks Stripe to end a subscription when the period the
// customer paid for ends: no further charge, no refund of that period.
func (s *Stripe) CancelAtPeriodEnd(ctx context.Context, ref string) error {
	if _, err := s.client.V1Subscriptions.Update(ctx, ref, &stripe.SubscriptionUpdateParams{CancelAtPeriodEnd: stripe.Bool(true)}); err != nil {
		return fmt.Errorf("stripe cancel at period end %s: %w", ref, err)
	}
	return nil
}

// Receipts lists a customer's invoices at Stripe, newest first, at most
// limit of them.
func (s *Stripe) Receipts(ctx context.Context, customerRef string, limit int) ([]kiosko.Receipt, error) {
	params := &stripe.InvoiceListParams{Customer: stripe.String(customerRef)}
	params.Limit = stripe.Int64(int64(min(max(limit, 1), 100)))
	var out []kiosko.Receipt
	for inv, err := range s.client.V1Invoices.List(ctx, params) {
		if err != nil {
			return nil, fmt.Errorf("stripe invoices of %s: %w", customerRef, err)
		}
		amount := inv.AmountPaid
		if inv.Status != stripe.InvoiceStatusPaid {
			amount = inv.AmountDue
		}
		out = append(out, kiosko.Receipt{
			Provider: kiosko.ProviderStripe, Ref: inv.ID, Number: inv.Number, AmountCents: amount,
			Currency: strings.ToUpper(string(inv.Currency)), Status: string(inv.Status), At: time.Unix(inv.Created, 0).UTC(),
			HostedURL: inv.HostedInvoiceURL, PDFURL: inv.InvoicePDF,
		})
		if len(out) >= limit {
			break
		}
	}
	return out, nil
}
