package main

import (
	"flag"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
	"github.com/kiosko/kiosko/internal/i18n"
	"github.com/kiosko/kiosko/internal/sqlite"
)

func TestNewBillingPicksTheProvider(t *testing.T) {
	d := &httpx.Deps{Plans: kiosko.DefaultPlans(), Catalog: i18n.Default(), Clock: kiosko.SystemClock{}}
	for _, tc := range []struct {
		args     []string
		provider string
		online   bool
		err      string
	}{
		{nil, kiosko.ProviderManual, false, ""},
		{[]string{"--stripe-key", "sk_test_1", "--stripe-webhook-secret", "whsec_1", "--stripe-api-url", "http://127.0.0.1:12111/"}, kiosko.ProviderStripe, true, ""},
		{[]string{"--stripe-key", "sk_test_1"}, "", false, "KIOSKO_STRIPE_WEBHOOK_SECRET is required"},
		{[]string{"--stripe-webhook-secret", "whsec_1"}, "", false, "without KIOSKO_STRIPE_KEY"},
	} {
		cfg, err := parseConfig(flag.NewFlagSet("t", flag.ContinueOnError), tc.args)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		b, err := newBilling(cfg, d)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: err = %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if b.Provider.Name() != tc.provider || b.Online() != tc.online || b.Mail == nil {
			t.Errorf("%v: provider %s online %v", tc.args, b.Provider.Name(), b.Online())
		}
	}
}

func TestStripeSettingsAreCheckedAndRedacted(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	_, err := parseConfig(fs, []string{"--stripe-key", "pk_live_secretvalue"})
	if err == nil || strings.Contains(err.Error(), "secretvalue") || !strings.Contains(err.Error(), "sk_") {
		t.Errorf("a publishable key: err = %v (must refuse it without echoing it)", err)
	}
	fs = flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if _, err := parseConfig(fs, []string{"--stripe-api-url", "localhost:12111"}); err == nil {
		t.Error("a Stripe API URL without a scheme was accepted")
	}
}

func TestClearOwnerWarningAfterSeatAdd(t *testing.T) {
	ctx := t.Context()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "kiosko.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	owner := &kiosko.Account{Email: "o@example.com", PasswordHash: "x", Role: kiosko.RoleReader, Lang: "es", PasswordChangedAt: now, CreatedAt: now}
	if err := store.CreateAccount(ctx, owner); err != nil {
		t.Fatal(err)
	}
	sub := &kiosko.Subscription{OwnerID: owner.ID, PlanCode: kiosko.PlanPremium, Status: kiosko.StatusActive, Seats: 2, Provider: kiosko.ProviderManual, CurrentPeriodEnd: now.AddDate(0, 1, 0), CreatedAt: now}
	if err := store.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	seat, _, _ := store.FindSeatForAccount(ctx, owner.ID, now)
	if err := store.SetSeatWarning(ctx, seat.ID, &now); err != nil {
		t.Fatal(err)
	}
	if err := clearOwnerWarning(ctx, store, sub, now); err != nil {
		t.Fatal(err)
	}
	if seat, _ = store.FindSeatByID(ctx, seat.ID); seat.SharingWarning != nil {
		t.Error("the owner's warning stays")
	}
	evs, _ := store.FindLeaseEvents(ctx, kiosko.LeaseEventFilter{SeatID: seat.ID, Kind: kiosko.EventWarningCleared})
	if len(evs) != 1 || evs[0].Reason != "upgrade" {
		t.Errorf("events = %+v", evs)
	}
}
