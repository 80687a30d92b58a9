package main

import (
	"errors"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/billing"
	"github.com/kiosko/kiosko/internal/httpx"
	"github.com/kiosko/kiosko/internal/web"
)

// newBilling builds the billing service from the settings and the site's
// dependencies (store, plans, clock, reading rule, mailer, public URL):
// Stripe when KIOSKO_STRIPE_KEY is set, else the manual provider, where
// nothing is paid on the site and admins grant plans from the command line.
func newBilling(cfg *Config, d *httpx.Deps) (*kiosko.Billing, error) {
	var provider kiosko.BillingProvider = billing.Manual{}
	switch {
	case cfg.StripeKey != "":
		p, err := billing.NewStripe(billing.StripeConfig{Key: cfg.StripeKey, WebhookSecret: cfg.StripeWebhookSecret, APIURL: cfg.StripeAPIURL})
		if err != nil {
			return nil, err
		}
		provider = p
	case cfg.StripeWebhookSecret != "":
		return nil, errors.New("KIOSKO_STRIPE_WEBHOOK_SECRET is set without KIOSKO_STRIPE_KEY")
	}
	return &kiosko.Billing{Store: d.Store, Plans: d.Plans, Provider: provider, Clock: d.Clock, Reading: d.Reading,
		Mail: web.NewBillingMail(d), Log: d.Log}, nil
}
