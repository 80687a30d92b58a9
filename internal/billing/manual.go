// Package billing holds kiosko's payment providers (kiosko.BillingProvider):
// Stripe, through stripe-go, and manual, used when no Stripe key is set:
// nothing is paid on the site and an admin grants plans from the command
// line (kiosko account grant).
package billing

import (
	"context"

	"github.com/kiosko/kiosko"
)

// Manual is the provider without online payment. Every payment call says
// so plainly (ENOTIMPLEMENTED); nothing pretends to take money.
type Manual struct{}

var _ kiosko.BillingProvider = Manual{}

var errManual = &kiosko.Error{Code: kiosko.ENOTIMPLEMENTED, Key: "error.payment_not_configured",
	Message: "Online payment is not configured on this site; the publisher activates plans."}

// Name is kiosko.ProviderManual.
func (Manual) Name() string { return kiosko.ProviderManual }

// Online is false: readers cannot pay on the site.
func (Manual) Online() bool { return false }

// Checkout refuses: there is no payment to take.
func (Manual) Checkout(context.Context, kiosko.CheckoutRequest) (string, error) { return "", errManual }

// Portal refuses: there is no customer to manage.
func (Manual) Portal(context.Context, string, string) (string, error) { return "", errManual }

// Cancel does nothing: a manual subscription ends in kiosko's database alone.
func (Manual) Cancel(context.Context, string) error { return nil }

// SignatureHeader is empty: there are no webhooks.
func (Manual) SignatureHeader() string { return "" }

// ParseEvent refuses every webhook.
func (Manual) ParseEvent([]byte, string) (*kiosko.BillingEvent, error) { return nil, errManual }
