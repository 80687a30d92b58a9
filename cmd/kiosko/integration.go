package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/kiosko/kiosko/internal/entitlement"
	"github.com/kiosko/kiosko/internal/httpx"
	"github.com/kiosko/kiosko/webhook"
)

// IntegrationConfig holds the publisher integration settings (DESIGN.md,
// "Publisher integration").
type IntegrationConfig struct {
	// WebhookAllowPrivate lets endpoints be on loopback or private
	// addresses (KIOSKO_WEBHOOK_ALLOW_PRIVATE).
	WebhookAllowPrivate bool
}

// webhookPoll is how often a node looks for due webhook messages.
const webhookPoll = time.Second

// startIntegration sets up the publisher integration: the entitlement
// issuer (making the shared signing key if the database has none) and the
// webhook delivery worker, which runs until workers ends.
func (m *Main) startIntegration(ctx context.Context, workers context.Context) error {
	if keys, ok := m.Store.(entitlement.KeyStore); ok {
		iss := &entitlement.Issuer{Store: keys, Issuer: m.Config.PublicURL, Now: m.Clock.Now}
		if err := iss.Init(ctx); err != nil {
			return err
		}
		m.Deps.Entitlements = iss
	}
	if hooks, ok := m.Store.(webhook.Store); ok {
		w := &webhook.Worker{Store: hooks, Logger: m.Log.With("component", "webhooks"),
			Client: webhook.Guard{AllowPrivate: m.Config.Integration.WebhookAllowPrivate}.Client(15 * time.Second), OnAttempt: m.Metrics.CountWebhook}
		m.wg.Add(1)
		go func() { defer m.wg.Done(); w.Run(workers, webhookPoll) }()
	}
	return nil
}

// mountIntegration adds the integration's routes outside /api/v1.
func (m *Main) mountIntegration(mux *http.ServeMux) {
	mux.HandleFunc("GET /.well-known/jwks.json", m.jwks)
}

// jwks is GET /.well-known/jwks.json: the public keys that verify
// entitlements. Anyone may fetch it, from any origin; caches may keep it
// for entitlement.CacheFor (a new key is published well before it signs).
func (m *Main) jwks(w http.ResponseWriter, r *http.Request) {
	iss := m.Deps.Entitlements
	if iss == nil {
		http.NotFound(w, r)
		return
	}
	set, err := iss.JWKS(r.Context())
	if err != nil {
		m.Log.Error("jwks", "err", err)
		httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"error": map[string]string{"code": "unavailable", "message": "The keys cannot be read now."}})
		return
	}
	b, err := json.Marshal(set)
	if err != nil {
		m.Log.Error("jwks", "err", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(entitlement.CacheFor.Seconds())))
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(b)
}
