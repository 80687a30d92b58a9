package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/webhook"
)

// TestWebhookCommandsAndDelivery adds an endpoint with kiosko webhook add
// beside a running server, makes a change with the CLI, and checks the
// server delivers it signed so that the Standard Webhooks library accepts
// it with the secret add printed on its last line.
func TestWebhookCommandsAndDelivery(t *testing.T) {
	got := make(chan *http.Request, 10)
	bodies := make(chan []byte, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
	}))
	defer rcv.Close()

	m := startMain(t, "--webhook-allow-private=true")
	dir := m.Config.Data
	cli := func(stdin string, args ...string) string {
		t.Helper()
		out, err := kioskoCLI(t, dir, stdin, args...)
		if err != nil {
			t.Fatalf("kiosko %v: %v\n%s", args, err, out)
		}
		return out
	}
	if out, err := kioskoCLI(t, dir, "", "webhook", "add", "--url", rcv.URL); err == nil || !strings.Contains(out+err.Error(), "KIOSKO_WEBHOOK_ALLOW_PRIVATE") {
		t.Fatalf("a loopback endpoint was added without KIOSKO_WEBHOOK_ALLOW_PRIVATE: %v %s", err, out)
	}
	if out, err := kioskoCLI(t, dir, "", "webhook", "add", "--url", "ftp://example.com/"); err == nil {
		t.Fatalf("an ftp endpoint was added: %s", out)
	}
	out := cli("", "webhook", "add", "--url", rcv.URL+"/kiosko", "--events", "subscription.created,seat.added", "--webhook-allow-private=true")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	secret := lines[len(lines)-1]
	if !strings.HasPrefix(secret, "whsec_") || strings.Contains(secret, " ") {
		t.Fatalf("the last line of webhook add is %q, want the whsec_ secret alone", secret)
	}
	if list := cli("", "webhook", "list"); !strings.Contains(list, rcv.URL+"/kiosko") || strings.Contains(list, secret) {
		t.Fatalf("webhook list shows the secret or not the URL:\n%s", list)
	}
	// The secret is sealed in the database: not in its files.
	for _, f := range []string{"kiosko.db", "kiosko.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if strings.Contains(string(b), strings.TrimPrefix(secret, "whsec_")) {
			t.Fatalf("the webhook secret is in %s in clear", f)
		}
	}

	cli("una contraseña muy larga\n", "account", "create", "--email", "hook@example.com", "--plan", "digital")
	select {
	case r := <-got:
		body := <-bodies
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify(body, r.Header); err != nil {
			t.Fatalf("the delivery does not verify: %v", err)
		}
		if r.URL.Path != "/kiosko" || !strings.Contains(string(body), `"type":"subscription.created"`) {
			t.Errorf("delivery to %s: %s", r.URL.Path, body)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no webhook within 20 s of the change")
	}

	// The delivery is recorded as delivered, once.
	hooks, _ := kiosko.StoreAs[webhook.Store](m.Store)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ms, err := hooks.FindWebhookMessages(t.Context(), 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 1 && ms[0].Status == webhook.StatusDelivered && ms[0].Attempts == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages after the delivery: %+v", ms)
		}
	}
	res, err := http.Get(m.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metricsText, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(metricsText), `kiosko_webhook_deliveries_total{result="delivered"} 1`) {
		t.Errorf("/metrics does not count the delivery:\n%s", metricsText)
	}
	cli("", "webhook", "remove", "--id", "1")
	if out, err := kioskoCLI(t, dir, "", "webhook", "remove", "--id", "1"); err == nil || !strings.Contains(err.Error(), "no webhook endpoint") {
		t.Fatalf("removing twice: %v %s", err, out)
	}
}

// TestDisabledWebhookEmailsAdmins: when the worker disables an endpoint,
// every admin gets an email in their language naming it; readers get none.
func TestDisabledWebhookEmailsAdmins(t *testing.T) {
	m := startMain(t)
	before := len(mailFiles(t, m))
	m.webhookDisabled(t.Context(), &webhook.Endpoint{ID: 7, URL: "https://crm.example.com/hooks"})
	var found []string
	for deadline := time.Now().Add(30 * time.Second); len(found) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		files := mailFiles(t, m)
		if len(files) > before {
			for _, f := range files {
				if b := string(readMail(t, f)); strings.Contains(b, "https://crm.example.com/hooks") {
					found = append(found, b)
				}
			}
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d emails name the endpoint, want 1 (the demo has one admin)", len(found))
	}
	if !strings.Contains(found[0], "admin@kiosko.test") || !strings.Contains(found[0], "webhook endpoint 7") || !strings.Contains(found[0], "kiosko webhook remove --id 7") {
		t.Errorf("the email:\n%s", found[0])
	}
}

// TestSignUpSendsAccountCreated: a reader signs up through the site's own
// form and the publisher's endpoint receives account.created for that
// account, which the Standard Webhooks library accepts; a sign-up that is
// refused (the address is taken) sends nothing more.
func TestSignUpSendsAccountCreated(t *testing.T) {
	type delivery struct {
		h    http.Header
		body []byte
	}
	got := make(chan delivery, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- delivery{r.Header.Clone(), b}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()

	m := startMain(t, "--webhook-allow-private=true")
	out, err := kioskoCLI(t, m.Config.Data, "", "webhook", "add", "--url", rcv.URL, "--events", "account.created", "--webhook-allow-private=true")
	if err != nil {
		t.Fatalf("webhook add: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	wh, err := standardwebhooks.NewWebhook(lines[len(lines)-1])
	if err != nil {
		t.Fatal(err)
	}

	reader := newBrowser(t, m)
	code, body, _ := reader.post("/signup", url.Values{"email": {"Nueva.Lectora@example.com"}, "password": {"una frase bastante larga"}})
	if code != http.StatusSeeOther {
		t.Fatalf("sign-up: %d\n%s", code, body)
	}
	a, err := m.Store.FindAccountByEmail(t.Context(), "nueva.lectora@example.com")
	if err != nil {
		t.Fatal(err)
	}
	var d delivery
	select {
	case d = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("no account.created within 20 s of the sign-up")
	}
	if err := wh.Verify(d.body, d.h); err != nil {
		t.Fatalf("the delivery does not verify: %v\n%s", err, d.body)
	}
	var msg struct {
		Type string `json:"type"`
		Data struct {
			AccountID int64  `json:"account_id"`
			Email     string `json:"email"`
			Lang      string `json:"lang"`
		} `json:"data"`
	}
	if err := json.Unmarshal(d.body, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Type != kiosko.EventAccountCreated || msg.Data.AccountID != a.ID || msg.Data.Email != a.Email || msg.Data.Lang != kiosko.LangSpanish {
		t.Fatalf("delivery = %s, want account.created of account %d (%s)", d.body, a.ID, a.Email)
	}

	// The same address again is refused and announces nothing.
	again := newBrowser(t, m)
	if code, _, _ := again.post("/signup", url.Values{"email": {"nueva.lectora@example.com"}, "password": {"otra frase bastante larga"}}); code == http.StatusSeeOther {
		t.Fatal("a second sign-up with a taken address was accepted")
	}
	select {
	case d := <-got:
		t.Fatalf("a refused sign-up sent %s", d.body)
	case <-time.After(2 * time.Second):
	}
	hooks, _ := kiosko.StoreAs[webhook.Store](m.Store)
	ms, err := hooks.FindWebhookMessages(t.Context(), 1)
	if err != nil || len(ms) != 1 {
		t.Fatalf("messages for the endpoint = %d (%v), want the one account.created", len(ms), err)
	}
}
