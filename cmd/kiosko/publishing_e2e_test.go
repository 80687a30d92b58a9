package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/webhook"
)

// TestConsolePublishingPages: newsletter issues with their counts,
// editions, API keys (revoked after confirmation, recorded) and webhook
// endpoints with their deliveries, for admins only.
func TestConsolePublishingPages(t *testing.T) {
	m := startMain(t)
	ctx := context.Background()
	key, secret, err := kiosko.NewAPIKey("cms-sync", []string{"newsroom"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Store.CreateAPIKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	hooks := m.Store.(*kiosko.NotifyingStore).Store.(webhook.Store)
	ep := &webhook.Endpoint{URL: "https://hooks.example/kiosko", Secret: webhook.NewSecret(), Enabled: true, CreatedAt: time.Now()}
	if err := hooks.CreateWebhookEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	if err := m.Store.CreateIssue(ctx, &kiosko.Issue{Edition: "es", Week: "2026-W48", Since: time.Now().Add(-7 * 24 * time.Hour), Until: time.Now(), ArticleIDs: []string{"a", "b"}, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"", "editor@kiosko.test"} {
		b := newBrowser(t, m)
		if who != "" {
			b.signIn(who, demo.Password)
		}
		for _, p := range []string{"/admin/editions", "/admin/apikeys", "/admin/webhooks", fmt.Sprintf("/admin/webhooks/%d", ep.ID)} {
			if code, _ := b.get(p); code != 404 {
				t.Errorf("%q: %s answered %d", who, p, code)
			}
		}
		if code, _, _ := b.post(fmt.Sprintf("/admin/apikeys/%d/revoke", key.ID), url.Values{"confirm": {"yes"}}); code != 404 {
			t.Errorf("%q: revoke answered %d", who, code)
		}
	}
	b := newBrowser(t, m)
	b.signIn("admin@kiosko.test", demo.Password)
	for path, want := range map[string]string{
		"/admin/newsletter": "2026-W48", "/admin/editions": "<code>us</code>", "/admin/apikeys": "cms-sync",
		"/admin/webhooks": "https://hooks.example/kiosko", fmt.Sprintf("/admin/webhooks/%d", ep.ID): "https://hooks.example/kiosko",
	} {
		if code, body := b.get(path); code != 200 || !strings.Contains(body, want) {
			t.Errorf("%s: %d, without %q", path, code, want)
		}
	}
	if _, body := b.get("/admin/apikeys"); strings.Contains(body, secret) {
		t.Fatal("the API keys page shows a key")
	}
	revoke := fmt.Sprintf("/admin/apikeys/%d/revoke", key.ID)
	if code, body, _ := b.post(revoke, nil); code != 200 || !strings.Contains(body, `name="confirm" value="yes"`) {
		t.Fatalf("revoke without confirmation: %d", code)
	}
	if k, _ := m.Store.FindAPIKeyByHash(ctx, kiosko.HashAPIKey(secret)); k == nil || k.Revoked() {
		t.Fatal("the confirmation page revoked the key")
	}
	if code, _, _ := b.post(revoke, url.Values{"confirm": {"yes"}}); code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", code)
	}
	if k, err := m.Store.FindAPIKeyByHash(ctx, kiosko.HashAPIKey(secret)); err == nil && !k.Revoked() {
		t.Fatal("the key still works after revoking it")
	}
	evs, _ := m.Store.FindEvents(ctx, kiosko.EventFilter{Types: []string{kiosko.EventAdminKeyRevoked}})
	if len(evs) != 1 || evs[0].ActorID == 0 {
		t.Fatalf("revocation events: %+v", evs)
	}
}
