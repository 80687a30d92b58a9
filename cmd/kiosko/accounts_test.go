package main

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/billing/stripemock"
	"github.com/kiosko/kiosko/internal/mailpit"
	"github.com/kiosko/kiosko/internal/sqlite"
)

// TestAccountDeleteCommand erases an account from the command line: the
// owner's manual plan ends with the account, the member of its second seat
// is told by email (Mailpit) and keeps their own account, the address
// leaves the database file.
func TestAccountDeleteCommand(t *testing.T) {
	dir := t.TempDir()
	mp := mailpit.Start(t)
	t.Setenv("KIOSKO_SMTP_ADDR", mp.SMTPAddr)
	t.Setenv("KIOSKO_MAIL_FROM", "kiosko@example.com")
	ok := func(stdin string, args ...string) string {
		t.Helper()
		out, err := kioskoCLI(t, dir, stdin, args...)
		if err != nil {
			t.Fatalf("kiosko %v: %v\n%s", args, err, out)
		}
		return out
	}
	ok("una contraseña muy larga\n", "account", "create", "--email", "gone.owner@example.com", "--plan", "premium")
	ok("otra contraseña muy larga\n", "account", "create", "--email", "member@example.com", "--plan", "free", "--lang", "en")
	ok("", "seat", "add", "--owner", "gone.owner@example.com", "--email", "member@example.com")

	if out, err := kioskoCLI(t, dir, "", "account", "delete", "--email", "nobody@example.com"); err == nil || !strings.Contains(err.Error()+out, "no account") {
		t.Fatalf("deleting an unknown address: %v %s", err, out)
	}
	if out, err := kioskoCLI(t, dir, "", "account", "delete"); err == nil || !strings.Contains(err.Error()+out, "--email is required") {
		t.Fatalf("delete without --email: %v %s", err, out)
	}
	out := ok("", "account", "delete", "--email", "Gone.Owner@example.com")
	if !strings.Contains(out, "1 member(s) told") {
		t.Errorf("output: %s", out)
	}
	told := mp.WaitFor(t, "member@example.com", 1)
	if told[0].Subject != "Your seat of a shared subscription has ended" {
		t.Errorf("the member's email: %q", told[0].Subject)
	}
	if last := mp.WaitFor(t, "gone.owner@example.com", 1); last[0].Subject != "Tu cuenta se ha eliminado" {
		t.Errorf("the last email: %q", last[0].Subject)
	}

	path := filepath.Join(dir, "kiosko.db")
	for _, p := range []string{path, path + "-wal"} {
		raw, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte("gone.owner@example.com")) {
			t.Errorf("the address is still in %s", p)
		}
	}
	store, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	m, err := store.FindAccountByEmail(ctx, "member@example.com")
	if err != nil {
		t.Fatalf("the member's account: %v", err)
	}
	if _, _, err := store.FindSeatForAccount(ctx, m.ID, time.Now()); !kiosko.IsNotFound(err) {
		t.Errorf("the member still holds a seat: %v", err)
	}
	evs, err := store.FindEvents(ctx, kiosko.EventFilter{Types: []string{kiosko.EventAccountDeleted}})
	if err != nil || len(evs) != 1 || evs[0].ActorID != 0 || !strings.Contains(string(evs[0].Data), `"by":"admin"`) {
		t.Errorf("account.deleted = %+v, %v", evs, err)
	}
}

// TestAccountAPIJourney runs the real Main with Mailpit and stripe-mock: a
// reader signs up on the site from the English edition, then uses an app
// whose requests say Spanish. Every email of verification, email change
// and deletion arrives through SMTP in the account's language (English);
// the API's own error messages follow the request's. The app's export is
// the site's file; the device list on both says each device's language;
// deletion through the API cancels at Stripe and erases the address.
func TestAccountAPIJourney(t *testing.T) {
	mp := mailpit.Start(t)
	stripeURL := stripemock.Start(t)
	m := startMain(t, "--smtp-addr", mp.SMTPAddr, "--stripe-key", "sk_test_kiosko", "--stripe-webhook-secret", "whsec_kiosko_test", "--stripe-api-url", stripeURL)
	ctx := context.Background()
	const pw = "a journey's long passphrase"

	site := newBrowser(t, m)
	if code, body, _ := site.post("/signup", url.Values{"email": {"journey@example.com"}, "password": {pw}, "name": {"Jo"}, "next": {"/us/"}}); code != http.StatusSeeOther {
		t.Fatalf("sign up: %d\n%s", code, body)
	}
	if got := mp.WaitFor(t, "journey@example.com", 1)[0].Subject; got != "Confirm your email address" {
		t.Errorf("verification email after sign-up on the English edition: %q", got)
	}
	site.get("/us/") // reading the English edition: the browser's language is now English

	api := func(method, path, token string, body any, lang string) (int, []byte, http.Header) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, m.URL()+path, rd)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("Accept-Language", lang)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		return res.StatusCode, out, res.Header
	}
	code, body, _ := api("POST", "/api/v1/sessions", "", map[string]string{"email": "journey@example.com", "password": pw, "device_name": "Jo's phone"}, "es-ES")
	var sess struct{ Token string }
	if code != http.StatusCreated || json.Unmarshal(body, &sess) != nil {
		t.Fatalf("app sign-in: %d %s", code, body)
	}
	tok := sess.Token

	// A new verification link from the app: in English, as the account.
	if code, body, _ := api("POST", "/api/v1/account/verification", tok, nil, "es-ES"); code != http.StatusAccepted {
		t.Fatalf("resend: %d %s", code, body)
	}
	msg := mp.WaitFor(t, "journey@example.com", 2)[1]
	if msg.Subject != "Confirm your email address" {
		t.Errorf("the resent link's email: %q", msg.Subject)
	}
	token := accountToken(t, msg.Text)
	if code, body, _ := api("POST", "/api/v1/account/verification/confirm", "", map[string]string{"token": "not-the-token"}, "es-ES"); code != http.StatusBadRequest || !strings.Contains(string(body), "caducado o ya se usó") {
		t.Errorf("a wrong token, in the request's language: %d %s", code, body)
	}
	if code, body, _ := api("POST", "/api/v1/account/verification/confirm", "", map[string]string{"token": token}, "es-ES"); code != http.StatusNoContent {
		t.Fatalf("confirm: %d %s", code, body)
	}
	if a, err := m.Store.FindAccountByEmail(ctx, "journey@example.com"); err != nil || a.EmailVerifiedAt == nil {
		t.Fatalf("not verified: %v", err)
	}

	// Email change from the app: link to the new address, notices to the old one, in English.
	if code, body, _ := api("POST", "/api/v1/account/email", tok, map[string]string{"current_password": pw, "email": "journey.new@example.com"}, "es-ES"); code != http.StatusAccepted {
		t.Fatalf("email change: %d %s", code, body)
	}
	msg = mp.WaitFor(t, "journey.new@example.com", 1)[0]
	if msg.Subject != "Confirm your new email address" {
		t.Errorf("the change link's email: %q", msg.Subject)
	}
	if got := mp.WaitFor(t, "journey@example.com", 3)[2].Subject; got != "Your email address is about to change" {
		t.Errorf("notice to the current address: %q", got)
	}
	if code, body, _ := api("POST", "/api/v1/account/email/confirm", "", map[string]string{"token": accountToken(t, msg.Text)}, "es-ES"); code != http.StatusNoContent {
		t.Fatalf("confirm the change: %d %s", code, body)
	}
	if got := mp.WaitFor(t, "journey@example.com", 4)[3].Subject; got != "Your email address was changed" {
		t.Errorf("last notice to the old address: %q", got)
	}

	// Each device's language, written with the last-seen batch.
	site.get("/account")
	api("GET", "/api/v1/devices", tok, nil, "es-ES")
	if err := m.Auth.Seen.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	_, page := site.get("/account")
	if text := html.UnescapeString(page); !strings.Contains(text, "reads in English") || !strings.Contains(text, "reads in Spanish") {
		t.Errorf("the account page does not say each device's language:\n%s", stripVolatile(text))
	}
	_, body, _ = api("GET", "/api/v1/devices", tok, nil, "es-ES")
	var devs []struct {
		Lang    string
		Current bool
	}
	if err := json.Unmarshal(body, &devs); err != nil || len(devs) != 2 {
		t.Fatalf("devices: %s", body)
	}
	for _, d := range devs {
		if want := map[bool]string{true: "es", false: "en"}[d.Current]; d.Lang != want {
			t.Errorf("GET /api/v1/devices: %s", body)
		}
	}

	// The app's export is the site's file.
	_, fromSite, _ := site.do(mustRequest(t, "GET", m.URL()+"/account/export"))
	code, fromApp, h := api("GET", "/api/v1/account/export", tok, nil, "es-ES")
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("API export: %d %s", code, fromApp)
	}
	var a, b kiosko.AccountExport
	if err := json.Unmarshal([]byte(fromSite), &a); err != nil {
		t.Fatalf("site export: %v\n%s", err, fromSite)
	}
	if err := json.Unmarshal(fromApp, &b); err != nil {
		t.Fatal(err)
	}
	if a.Format != b.Format || a.Account != b.Account || a.About != b.About || a.Account.Email != "journey.new@example.com" || len(a.Tables) != len(b.Tables) {
		t.Errorf("the exports differ:\nsite %+v\napp  %+v", a.Account, b.Account)
	}
	for table, rows := range a.Tables {
		if len(b.Tables[table]) != len(rows) {
			t.Errorf("table %s: %d rows on the site, %d in the app", table, len(rows), len(b.Tables[table]))
		}
	}

	// A Stripe subscription, then deletion through the API.
	acct, err := m.Store.FindAccountByEmail(ctx, "journey.new@example.com")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := m.Store.CreateSubscription(ctx, &kiosko.Subscription{OwnerID: acct.ID, PlanCode: kiosko.PlanDigital, Status: kiosko.StatusActive, Seats: 1,
		PriceCents: 999, Currency: "EUR", Provider: kiosko.ProviderStripe, ProviderRef: "sub_journey", CurrentPeriodEnd: now.AddDate(0, 1, 0), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := api("DELETE", "/api/v1/account", tok, map[string]string{"current_password": "not my password"}, "en"); code != http.StatusForbidden {
		t.Fatalf("deletion with a wrong password: %d %s", code, body)
	}
	if code, body, _ := api("DELETE", "/api/v1/account", tok, map[string]string{"current_password": pw}, "es-ES"); code != http.StatusNoContent {
		t.Fatalf("deletion: %d %s", code, body)
	}
	if got := mp.WaitFor(t, "journey.new@example.com", 2)[1].Subject; got != "Your account has been deleted" {
		t.Errorf("the last email: %q", got)
	}
	if code, _, _ := api("GET", "/api/v1/devices", tok, nil, "en"); code != http.StatusUnauthorized {
		t.Errorf("the deleted account's token: %d", code)
	}
	if _, err := m.Store.FindAccountByEmail(ctx, "journey.new@example.com"); !kiosko.IsNotFound(err) {
		t.Errorf("the account is still there: %v", err)
	}
	if code, _ := site.get("/account"); code != http.StatusSeeOther {
		t.Errorf("the site's session outlived the deletion: %d", code)
	}
}

var accountLinkRE = regexp.MustCompile(`/account/(?:verify|email/confirm)\?token=([A-Za-z0-9_%-]+)`)

// accountToken is the token of the account link in an email's text.
func accountToken(t *testing.T, text string) string {
	t.Helper()
	m := accountLinkRE.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no account link in:\n%s", text)
	}
	tok, err := url.QueryUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func mustRequest(t *testing.T, method, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
