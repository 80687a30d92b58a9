package main

import (
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/password"
	"github.com/kiosko/kiosko/webhook"
)

// TestChangingTheSecret: a kiosko whose KIOSKO_SECRET changes starts with
// the old one as KIOSKO_PREVIOUS_SECRET, keeps its webhook secret and
// entitlement keys, and afterwards needs only the new one; the old one
// alone is refused at start, saying what to do.
func TestChangingTheSecret(t *testing.T) {
	dir := t.TempDir()
	oldSecret, newSecret := strings.Repeat("o", 40), strings.Repeat("n", 40)
	start := func(args ...string) (*Main, error) {
		t.Helper()
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		cfg, err := parseConfig(fs, append([]string{"--addr", "127.0.0.1:0", "--data", dir, "--newsletter-day", "off", "--seed-demo=false"}, args...))
		if err != nil {
			t.Fatal(err)
		}
		m := NewMain(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		m.Hasher = &password.Hasher{Memory: 64, Time: 1, Threads: 1}
		if err := m.Run(t.Context()); err != nil {
			m.Close()
			return nil, err
		}
		return m, nil
	}
	state := func(m *Main) (string, string) {
		t.Helper()
		hooks, _ := kiosko.StoreAs[webhook.Store](m.Store)
		eps, err := hooks.FindWebhookEndpoints(t.Context())
		if err != nil || len(eps) != 1 {
			t.Fatalf("endpoints: %d, %v", len(eps), err)
		}
		set := fetchJWKS(t, m.URL())
		return eps[0].Secret, set.Keys[0].KeyID
	}

	m, err := start("--secret", oldSecret)
	if err != nil {
		t.Fatal(err)
	}
	hooks, _ := kiosko.StoreAs[webhook.Store](m.Store)
	ep := &webhook.Endpoint{URL: "https://crm.example.com/k", Secret: webhook.NewSecret(), Enabled: true, CreatedAt: time.Now()}
	if err := hooks.CreateWebhookEndpoint(t.Context(), ep); err != nil {
		t.Fatal(err)
	}
	_, kid := state(m)
	m.Close()

	if _, err := start("--secret", newSecret); err == nil || !strings.Contains(err.Error(), "KIOSKO_PREVIOUS_SECRET") {
		t.Fatalf("a new secret without the previous one: %v, want a refusal naming KIOSKO_PREVIOUS_SECRET", err)
	}
	for _, args := range [][]string{{"--secret", newSecret, "--previous-secret", oldSecret}, {"--secret", newSecret}} {
		m, err := start(args...)
		if err != nil {
			t.Fatalf("start with %v: %v", args[2:], err)
		}
		if secret, k := state(m); secret != ep.Secret || k != kid {
			t.Errorf("with %v: webhook secret %q and key %s, want %q and %s", args[2:], secret, k, ep.Secret, kid)
		}
		m.Close()
	}
	if _, err := start("--secret", oldSecret); err == nil {
		t.Fatal("the old secret still opens the database after the change")
	}
}
