package main

import (
	"context"
	"time"

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

// startIntegration starts what the publisher integration runs in the
// background: the webhook delivery worker, until workers ends.
func (m *Main) startIntegration(workers context.Context) {
	hooks, ok := m.Store.(webhook.Store)
	if !ok {
		return
	}
	w := &webhook.Worker{Store: hooks, Logger: m.Log.With("component", "webhooks"),
		Client: webhook.Guard{AllowPrivate: m.Config.Integration.WebhookAllowPrivate}.Client(15 * time.Second)}
	m.wg.Add(1)
	go func() { defer m.wg.Done(); w.Run(workers, webhookPoll) }()
}
