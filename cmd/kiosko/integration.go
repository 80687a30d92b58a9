package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/api"
	"github.com/kiosko/kiosko/internal/embed"
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
	// EmbedOrigins may use /embed.js with the reader's cookies
	// (KIOSKO_EMBED_ORIGINS).
	EmbedOrigins []string
	// DemoSiteAddr, when set, is where kiosko serve also serves the demo
	// publisher site (KIOSKO_DEMO_SITE_ADDR); DemoSiteURL is its URL once
	// it listens.
	DemoSiteAddr, DemoSiteURL string
}

// webhookPoll is how often a node looks for due webhook messages.
const webhookPoll = time.Second

// startIntegration sets up the publisher integration: the entitlement
// issuer (making the shared signing key if the database has none) and the
// webhook delivery worker, which runs until workers ends.
func (m *Main) startIntegration(ctx context.Context, workers context.Context) error {
	keys, ok := kiosko.StoreAs[entitlement.KeyStore](m.Store)
	if !ok {
		return errors.New("integration: the database keeps no entitlement keys")
	}
	iss := &entitlement.Issuer{Store: keys, Issuer: m.Config.PublicURL, Now: m.Clock.Now}
	if err := iss.Init(ctx); err != nil {
		return err
	}
	m.Deps.Entitlements = iss
	if addr := m.Config.Integration.DemoSiteAddr; addr != "" {
		if err := m.startDemoSite(addr); err != nil {
			return err
		}
	}
	m.Deps.WebhookAllowPrivate = m.Config.Integration.WebhookAllowPrivate
	hooks, ok := kiosko.StoreAs[webhook.Store](m.Store)
	if !ok {
		return errors.New("integration: the database keeps no webhooks")
	}
	{
		w := &webhook.Worker{Store: hooks, Logger: m.Log.With("component", "webhooks"),
			Client: webhook.Guard{AllowPrivate: m.Config.Integration.WebhookAllowPrivate}.Client(15 * time.Second)}
		if m.Metrics != nil {
			w.Observe = func(outcome string) { m.Metrics.WebhookDeliveries.WithLabelValues(outcome).Inc() }
		}
		w.OnDisable = m.webhookDisabled
		m.wg.Add(1)
		go func() { defer m.wg.Done(); w.Run(workers, webhookPoll) }()
	}
	return nil
}

// startDemoSite serves the demo publisher site on addr, another origin
// that may use embed.js.
func (m *Main) startDemoSite(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("demo publisher site: listen on %s: %w", addr, err)
	}
	url := "http://" + ln.Addr().String()
	m.Config.Integration.DemoSiteURL = url
	m.Config.Integration.EmbedOrigins = append(m.Config.Integration.EmbedOrigins, url)
	srv := &http.Server{Handler: embed.DemoSite(m.Store, m.Deps.Catalog, m.Config.PublicURL), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("demo publisher site", "err", err)
		}
	}()
	m.closers = append(m.closers, srv.Close)
	m.Log.Info("demo publisher site (uses only embed.js)", "url", url)
	return nil
}

// webhookDisabled emails every admin that an endpoint was disabled after
// a day of failures, in the admin's language.
func (m *Main) webhookDisabled(ctx context.Context, e *webhook.Endpoint) {
	dir, ok := kiosko.StoreAs[webhook.AdminDirectory](m.Store)
	if !ok || m.Deps.Mailer == nil {
		return
	}
	admins, err := dir.FindAdmins(ctx)
	if err != nil {
		m.Log.Error("webhook disabled: find admins", "err", err)
		return
	}
	cat := m.Deps.Catalog
	for _, a := range admins {
		msg := &kiosko.Message{To: a.Email, Subject: cat.T(a.Lang, "integration.webhook_disabled_subject"),
			Text: cat.T(a.Lang, "integration.webhook_disabled_text", e.ID, e.URL, e.ID)}
		if err := m.Deps.Mailer.Send(ctx, msg); err != nil {
			m.Log.Error("webhook disabled: mail an admin", "err", err)
		}
	}
}

// mountIntegration adds the integration's routes outside /api/v1: the
// key set of entitlements and the embed script with its calls.
func (m *Main) mountIntegration(mux *http.ServeMux) error {
	mux.HandleFunc("GET /.well-known/jwks.json", m.jwks)
	e, err := embed.New(m.Deps)
	if err != nil {
		return err
	}
	e.Register(mux)
	return nil
}

// embedOrigins lets the pages of KIOSKO_EMBED_ORIGINS call kiosko with the
// reader's cookies: CORS with credentials for them (and no CORS header for
// anyone else), and their writes past cross-origin protection.
func (m *Main) embedOrigins(next http.Handler, csrf *http.CrossOriginProtection, a *api.Handler) (http.Handler, error) {
	origins := m.Config.Integration.EmbedOrigins
	for _, o := range origins {
		if err := csrf.AddTrustedOrigin(o); err != nil {
			return nil, err
		}
	}
	if err := a.TrustOrigins(origins); err != nil {
		return nil, err
	}
	return embed.CORS(origins, next), nil
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
