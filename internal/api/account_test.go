package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/billing"
	"github.com/kiosko/kiosko/internal/billing/stripemock"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/httpx"
	"github.com/kiosko/kiosko/internal/mail"
	"github.com/kiosko/kiosko/internal/mailpit"
	"github.com/kiosko/kiosko/internal/web"
)

// accountsEnv is the API with the Accounts service as serve wires it:
// real mail to Mailpit (the site's own templates), Stripe at stripe-mock.
func accountsEnv(t *testing.T) (*env, *mailpit.Server) {
	t.Helper()
	mp := mailpit.Start(t)
	stripe, err := billing.NewStripe(billing.StripeConfig{Key: "sk_test_kiosko", WebhookSecret: "whsec_kiosko_test", APIURL: stripemock.Start(t)})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(d *httpx.Deps) {
		d.PublicURL = "https://news.example.com"
		d.Mailer = mail.New(mail.Config{Addr: mp.SMTPAddr, From: "kiosko@example.com", Log: d.Log})
		d.Billing = &kiosko.Billing{Store: d.Store, Plans: d.Plans, Provider: stripe, Clock: d.Clock, Reading: d.Reading, Log: d.Log}
		d.Auth.Seen = &kiosko.DeviceActivity{Store: d.Store}
		d.Accounts = &kiosko.Accounts{Store: d.Store, Auth: d.Auth, Billing: d.Billing, Mail: web.NewAccountDataMail(d), Clock: d.Clock,
			Settings: kiosko.DefaultAccountSettings(), Log: d.Log}
	})
	return e, mp
}

var linkTokenRE = regexp.MustCompile(`/account/(?:verify|email/confirm)\?token=([A-Za-z0-9_%-]+)`)

// linkToken waits for the n-th email to addr and returns its subject and
// the token of its link.
func linkToken(t *testing.T, mp *mailpit.Server, addr string, n int) (subject, token string) {
	t.Helper()
	msg := mp.WaitFor(t, addr, n)[n-1]
	m := linkTokenRE.FindStringSubmatch(msg.Text)
	if m == nil {
		t.Fatalf("no link in email %d to %s (%q):\n%s", n, addr, msg.Subject, msg.Text)
	}
	tok, _ := url.QueryUnescape(m[1])
	return msg.Subject, tok
}

// checkAccountRoutes drives the account routes as an app does, from a
// fresh sign-up to deletion, every request and answer validated against
// openapi.json by v; every email goes through SMTP to Mailpit and is in
// the reader's language (English here, the account's; the API's error
// messages follow Accept-Language).
func checkAccountRoutes(t *testing.T, v *validator) {
	e, mp := accountsEnv(t)
	ctx := t.Context()
	en := map[string]string{"Accept-Language": "en"}
	const pw = "an app reader's long passphrase"
	if _, err := e.deps.Auth.SignUp(ctx, kiosko.SignUpRequest{Email: "app.reader@example.com", Password: pw, Lang: kiosko.LangEnglish}); err != nil {
		t.Fatal(err)
	}
	signIn := func(email, pw string) string {
		t.Helper()
		r := v.do(e, call{method: "POST", path: "/api/v1/sessions", body: map[string]string{"email": email, "password": pw, "device_name": "Reader app"}, header: en}, 201)
		tok, _ := r.json(t)["token"].(string)
		return tok
	}
	tok := signIn("app.reader@example.com", pw)
	acct, err := e.deps.Store.FindAccountByEmail(ctx, "app.reader@example.com")
	if err != nil {
		t.Fatal(err)
	}

	r0 := v.do(e, call{method: "GET", path: "/api/v1/account", token: tok}, 200)
	if got := r0.json(t); got["email"] != "app.reader@example.com" || got["email_verified"] != false || got["lang"] != "en" {
		t.Errorf("GET /api/v1/account before verification: %s", r0.body)
	}
	v.do(e, call{method: "GET", path: "/api/v1/account"}, 401)

	// Verification: three links an hour, each new one ending the last.
	for range 3 {
		v.do(e, call{method: "POST", path: "/api/v1/account/verification", token: tok, header: en}, 202)
	}
	r := v.do(e, call{method: "POST", path: "/api/v1/account/verification", token: tok, header: en}, 429)
	if msg := r.errorMessage(t); !strings.Contains(msg, "several links this hour") {
		t.Errorf("fourth link in an hour: %q", msg)
	}
	subject, first := linkToken(t, mp, "app.reader@example.com", 1)
	if subject != "Confirm your email address" {
		t.Errorf("verification email subject %q, want it in English", subject)
	}
	if body := mp.WaitFor(t, "app.reader@example.com", 1)[0].Text; !strings.Contains(body, "The link works once, for 48 hours.") || strings.Contains(body, "enlace") {
		t.Errorf("the verification email's text is not in English:\n%s", body)
	}
	_, last := linkToken(t, mp, "app.reader@example.com", 3)
	r = v.do(e, call{method: "POST", path: "/api/v1/account/verification/confirm", body: map[string]string{"token": first}, header: en}, 400)
	if !strings.Contains(r.errorMessage(t), "expired or was already used") {
		t.Errorf("an older link: %s", r.body)
	}
	v.do(e, call{method: "POST", path: "/api/v1/account/verification/confirm", body: map[string]string{"token": ""}}, 400)
	v.do(e, call{method: "POST", path: "/api/v1/account/verification/confirm", body: map[string]string{"token": last}}, 204)
	v.do(e, call{method: "POST", path: "/api/v1/account/verification/confirm", body: map[string]string{"token": last}}, 400)
	if a, _ := e.deps.Store.FindAccountByID(ctx, acct.ID); a.EmailVerifiedAt == nil {
		t.Fatal("the confirmed link did not verify the address")
	}
	if got := v.do(e, call{method: "GET", path: "/api/v1/account", token: tok}, 200).json(t); got["email_verified"] != true {
		t.Errorf("GET /api/v1/account after verification: %v", got)
	}
	v.do(e, call{method: "POST", path: "/api/v1/account/verification", token: tok}, 204) // nothing to send
	v.do(e, call{method: "POST", path: "/api/v1/account/verification"}, 401)

	// Email change: current password, an address nobody else has.
	change := func(pw, email string) call {
		return call{method: "POST", path: "/api/v1/account/email", token: tok, body: map[string]string{"current_password": pw, "email": email}, header: en}
	}
	v.do(e, change("not my password at all", "app.new@example.com"), 403)
	r = v.do(e, change(pw, "digital@kiosko.test"), 409)
	if msg := r.errorMessage(t); !strings.Contains(msg, "cannot be used for this account") || strings.Contains(msg, "digital") {
		t.Errorf("an address in use: %q", msg)
	}
	v.do(e, change(pw, "app.reader@example.com"), 400)
	v.do(e, change(pw, "not an address"), 400)
	v.do(e, change(pw, "app.new@example.com"), 202)
	subject, changeTok := linkToken(t, mp, "app.new@example.com", 1)
	if subject != "Confirm your new email address" {
		t.Errorf("change link subject %q", subject)
	}
	if got := mp.WaitFor(t, "app.reader@example.com", 4)[3].Subject; got != "Your email address is about to change" {
		t.Errorf("notice to the current address: %q", got)
	}
	if a, _ := e.deps.Store.FindAccountByID(ctx, acct.ID); a.Email != "app.reader@example.com" {
		t.Fatal("the address changed before the link was followed")
	}
	v.do(e, call{method: "POST", path: "/api/v1/account/email/confirm", body: map[string]string{"token": "not-a-token"}}, 400)
	v.do(e, call{method: "POST", path: "/api/v1/account/email/confirm", body: map[string]string{"token": changeTok}}, 204)
	if got := mp.WaitFor(t, "app.reader@example.com", 5)[4].Subject; got != "Your email address was changed" {
		t.Errorf("last notice to the old address: %q", got)
	}
	tok = signIn("app.new@example.com", pw)

	// The device list says the language the app reads in.
	v.do(e, call{method: "GET", path: "/api/v1/devices", token: tok, header: map[string]string{"Accept-Language": "es-ES"}}, 200)
	if err := e.deps.Auth.Seen.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r = v.do(e, call{method: "GET", path: "/api/v1/devices", token: tok, header: map[string]string{"Accept-Language": "es-ES"}}, 200)
	// Two devices: the first sign-in's, whose app said English, and this
	// one, which signed in in English and reads in Spanish since.
	var devs []map[string]any
	if err := json.Unmarshal(r.body, &devs); err != nil || len(devs) != 2 {
		t.Fatalf("devices: %s", r.body)
	}
	for _, d := range devs {
		if want := map[bool]string{true: "es", false: "en"}[d["current"] == true]; d["lang"] != want {
			t.Errorf("device %v: lang %v, want %s", d["id"], d["lang"], want)
		}
	}

	// Export: the reader's rows, five an hour.
	r = v.do(e, call{method: "GET", path: "/api/v1/account/export", token: tok}, 200)
	var exp kiosko.AccountExport
	if err := json.Unmarshal(r.body, &exp); err != nil {
		t.Fatal(err)
	}
	if exp.Format != "kiosko-account-export/1" || exp.Account.Email != "app.new@example.com" || len(exp.Tables["devices"]) != 2 || exp.Tables["devices"][0]["lang"] == "" ||
		!strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment;") {
		t.Errorf("export: %s %s", r.header.Get("Content-Disposition"), r.body)
	}
	if strings.Contains(string(r.body), "argon2id") || strings.Contains(string(r.body), "digital@kiosko.test") {
		t.Errorf("the export holds a secret or another reader's address")
	}
	for range 4 {
		v.do(e, call{method: "GET", path: "/api/v1/account/export", token: tok}, 200)
	}
	r = v.do(e, call{method: "GET", path: "/api/v1/account/export", token: tok, header: en}, 429)
	if r.errorCode(t) != kiosko.ETOOMANY || !strings.Contains(r.errorMessage(t), "downloaded your data several times") {
		t.Errorf("sixth export: %s", r.body)
	}
	r = v.do(e, call{method: "GET", path: "/api/v1/account/export", token: tok, header: map[string]string{"Accept-Language": "es"}}, 429)
	if !strings.Contains(r.errorMessage(t), "Ya has descargado tus datos") {
		t.Errorf("sixth export in Spanish: %s", r.body)
	}
	v.do(e, call{method: "GET", path: "/api/v1/account/export"}, 401)

	// Receipts: Stripe's invoices (stripe-mock answers one draft of 10.00
	// USD) and a plan granted by hand.
	if err := e.deps.Store.SetBillingCustomer(ctx, acct.ID, kiosko.ProviderStripe, "cus_app_reader"); err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	grant := &kiosko.Subscription{OwnerID: acct.ID, PlanCode: kiosko.PlanDigital, Status: kiosko.StatusActive, Seats: 1, Currency: "EUR",
		Provider: kiosko.ProviderManual, CurrentPeriodEnd: now.AddDate(0, 1, 0), CreatedAt: now.Add(-time.Hour)}
	if err := e.deps.Store.CreateSubscription(ctx, grant); err != nil {
		t.Fatal(err)
	}
	r = v.do(e, call{method: "GET", path: "/api/v1/account/receipts", token: tok}, 200)
	var receipts []map[string]any
	if err := json.Unmarshal(r.body, &receipts); err != nil {
		t.Fatal(err)
	}
	var stripeSeen, grantSeen bool
	for _, rc := range receipts {
		switch rc["provider"] {
		case kiosko.ProviderStripe:
			stripeSeen = rc["amount_cents"] == float64(1000) && rc["currency"] == "USD" && rc["granted"] == false
		case kiosko.ProviderManual:
			grantSeen = rc["plan"] == kiosko.PlanDigital && rc["granted"] == true && rc["status"] == "granted" && rc["until"] != nil
		}
	}
	if !stripeSeen || !grantSeen {
		t.Errorf("receipts: %s", r.body)
	}

	// Deletion: the current password; then the token is dead, the address
	// gone, and a last email in English confirms it.
	v.do(e, call{method: "DELETE", path: "/api/v1/account", token: tok, body: map[string]string{"current_password": "not my password at all"}}, 403)
	v.do(e, call{method: "DELETE", path: "/api/v1/account", token: tok, body: "{"}, 400)
	if _, err := e.deps.Store.FindAccountByID(ctx, acct.ID); err != nil {
		t.Fatalf("a refused deletion deleted: %v", err)
	}
	v.do(e, call{method: "DELETE", path: "/api/v1/account", token: tok, body: map[string]string{"current_password": pw}}, 204)
	v.do(e, call{method: "GET", path: "/api/v1/devices", token: tok}, 401)
	if _, err := e.deps.Store.FindAccountByEmail(ctx, "app.new@example.com"); !kiosko.IsNotFound(err) {
		t.Errorf("the address is still an account: %v", err)
	}
	if got := mp.WaitFor(t, "app.new@example.com", 2)[1].Subject; got != "Your account has been deleted" {
		t.Errorf("the last email: %q", got)
	}
	// Another reader is untouched.
	if _, err := e.deps.Store.FindAccountByEmail(ctx, "digital@kiosko.test"); err != nil {
		t.Errorf("another reader: %v", err)
	}
	signIn("digital@kiosko.test", demo.Password)
}

// TestAccountRoutesWithoutTheService: a site without the Accounts service
// answers its routes with a JSON 404.
func TestAccountRoutesWithoutTheService(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.signIn(t, "free@kiosko.test", "Phone")
	for _, c := range []call{
		{method: "POST", path: "/api/v1/account/verification", token: s.token},
		{method: "POST", path: "/api/v1/account/verification/confirm", body: map[string]string{"token": "x"}},
		{method: "GET", path: "/api/v1/account/export", token: s.token},
		{method: "GET", path: "/api/v1/account/receipts", token: s.token},
		{method: "DELETE", path: "/api/v1/account", token: s.token, body: map[string]string{"current_password": demo.Password}},
	} {
		if r := e.expect(t, c, http.StatusNotFound); r.errorCode(t) != kiosko.ENOTFOUND {
			t.Errorf("%s %s: %s", c.method, c.path, r.body)
		}
	}
	if _, err := e.deps.Store.FindAccountByEmail(t.Context(), "free@kiosko.test"); err != nil {
		t.Fatal(err)
	}
}
