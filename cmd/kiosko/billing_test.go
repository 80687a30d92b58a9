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

// TestSeatAddLiftsTheOwnersWarning: the owner of a Premium subscription
// was warned for sharing; `kiosko seat add` gives the second seat to
// another person, which lifts the owner's warning and records why.
func TestSeatAddLiftsTheOwnersWarning(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"account", "create", "--email", "owner@example.com", "--plan", "premium"},
		{"account", "create", "--email", "friend@example.com", "--plan", "free"},
	} {
		if out, err := kioskoCLI(t, dir, "una contraseña muy larga\n", args...); err != nil {
			t.Fatalf("kiosko %v: %v\n%s", args, err, out)
		}
	}
	ctx := t.Context()
	store, err := sqlite.Open(filepath.Join(dir, "kiosko.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	owner, err := store.FindAccountByEmail(ctx, "owner@example.com")
	if err != nil {
		t.Fatal(err)
	}
	seat, _, err := store.FindSeatForAccount(ctx, owner.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	warned := time.Now().UTC().Add(-time.Hour)
	if err := store.SetSeatWarning(ctx, seat.ID, &warned); err != nil {
		t.Fatal(err)
	}

	if out, err := kioskoCLI(t, dir, "", "seat", "add", "--owner", "owner@example.com", "--email", "friend@example.com"); err != nil {
		t.Fatalf("seat add: %v\n%s", err, out)
	}
	friend, err := store.FindAccountByEmail(ctx, "friend@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if fs, _, err := store.FindSeatForAccount(ctx, friend.ID, time.Now()); err != nil || fs.Position != 2 {
		t.Fatalf("the friend's seat after seat add: %+v, %v; want the second seat", fs, err)
	}
	if seat, err = store.FindSeatByID(ctx, seat.ID); err != nil {
		t.Fatal(err)
	}
	if seat.SharingWarning != nil {
		t.Error("the owner's sharing warning stays after another person took the second seat")
	}
	evs, err := store.FindLeaseEvents(ctx, kiosko.LeaseEventFilter{SeatID: seat.ID, Kind: kiosko.EventWarningCleared})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Reason != "upgrade" || evs[0].AccountID != owner.ID {
		t.Errorf("warning-cleared events = %+v, want one for the owner with reason upgrade", evs)
	}
}
