package main

import (
	"context"
	"errors"
	"time"

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

// clearOwnerWarning lifts the sharing warning of a subscription's owner
// seat once another person holds a seat of it, as an accepted invitation
// does on the site: `kiosko seat add` calls it. The server follows the
// database, so a running server lifts the banner at the next request.
func clearOwnerWarning(ctx context.Context, store kiosko.Store, sub *kiosko.Subscription, now time.Time) error {
	seats, err := store.FindSeats(ctx, sub.ID)
	if err != nil {
		return err
	}
	for _, s := range seats {
		if s.Position != 1 || s.SharingWarning == nil {
			continue
		}
		if err := store.SetSeatWarning(ctx, s.ID, nil); err != nil {
			return err
		}
		return store.AppendLeaseEvents(ctx, []kiosko.LeaseEvent{{Kind: kiosko.EventWarningCleared, SeatID: s.ID, AccountID: sub.OwnerID, Reason: "upgrade", At: now}})
	}
	return nil
}
