package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/billing"
	"github.com/kiosko/kiosko/internal/billing/stripemock"
)

// newAccountsEnv is the site with Stripe (stripe-mock), real mail to
// Mailpit and the Accounts service.
func newAccountsEnv(t *testing.T) *billingEnv {
	t.Helper()
	stripe, err := billing.NewStripe(billing.StripeConfig{Key: "sk_test_kiosko", WebhookSecret: webhookSecret, APIURL: stripemock.Start(t)})
	if err != nil {
		t.Fatal(err)
	}
	e := newBillingEnv(t, stripe)
	e.d.Accounts = &kiosko.Accounts{Store: e.store, Auth: e.d.Auth, Billing: e.d.Billing, Mail: NewAccountDataMail(e.d), Clock: e.clock,
		Settings: kiosko.DefaultAccountSettings(), Log: e.d.Log}
	return e
}

var accountLinkRE = regexp.MustCompile(`https?://[^\s"<>]+/account/(verify|email/confirm)\?token=[A-Za-z0-9_%-]+`)

// accountLink waits for the n-th email to addr and returns it and the
// path (with query) of its link.
func (e *billingEnv) accountLink(addr string, n int) (string, string) {
	e.t.Helper()
	msgs := e.mp.WaitFor(e.t, addr, n)
	msg := msgs[n-1]
	link := accountLinkRE.FindString(msg.Text)
	if link == "" {
		e.t.Fatalf("no account link in email %d to %s (%q):\n%s", n, addr, msg.Subject, msg.Text)
	}
	u, _ := url.Parse(link)
	return msg.Subject, u.RequestURI()
}

func TestSignUpVerificationGatesPaymentAndExpires(t *testing.T) {
	e := newAccountsEnv(t)
	ctx := context.Background()

	ana := e.browser("es")
	ana.signUp("ana@example.com", "ana's long passphrase", "/")
	subject, link := e.accountLink("ana@example.com", 1)
	if subject != "Confirma tu dirección de correo" {
		t.Errorf("subject = %q, want it in Spanish", subject)
	}
	p := ana.get("/account")
	if !p.has(`id="verify-banner"`) || !strings.Contains(text(p.body), "no puedes pagar un plan ni unirte a la suscripción de tu empresa") {
		t.Fatalf("the account page does not tell why:\n%s", text(p.body))
	}
	// Unverified: reads what a free account reads, cannot pay.
	free := e.articles("es", kiosko.AccessFree)[0]
	if p := ana.get("/es/" + free.ID); p.status != http.StatusOK || !p.has(`id="article-body"`) || !strings.Contains(text(p.body), "Te quedan 19 artículos gratuitos") {
		t.Fatalf("an unverified account cannot read a free article:\n%s", text(p.body))
	}
	if p := ana.get("/billing/upgrade?plan=premium"); !p.has(`id="verify-banner"`) {
		t.Errorf("the upgrade page does not say why paying waits:\n%s", text(p.body))
	}
	p = ana.post("/billing/checkout", url.Values{"plan": {"premium"}})
	if p.status == http.StatusSeeOther || !strings.Contains(text(p.body), "Confirma tu dirección de correo antes de pagar") {
		t.Fatalf("checkout of an unverified account: %d\n%s", p.status, text(p.body))
	}

	// Resend: a new link, the old one stops working; at most three an hour.
	for i := 2; i <= 3; i++ {
		p = ana.post("/account/verify/resend", nil)
		mustStatus(t, "resend", p, http.StatusOK)
		if !p.has(`id="accounts-message"`) {
			t.Fatalf("resend:\n%s", text(p.body))
		}
	}
	p = ana.post("/account/verify/resend", nil)
	if p.status != http.StatusTooManyRequests || !strings.Contains(text(p.body), "varios enlaces") {
		t.Fatalf("fourth resend in an hour: %d\n%s", p.status, text(p.body))
	}
	_, latest := e.accountLink("ana@example.com", 3)
	if p := ana.get(link); p.status == http.StatusOK || !strings.Contains(text(p.body), "caducado o ya se usó") {
		t.Fatalf("the first link still works after a resend: %d\n%s", p.status, text(p.body))
	}
	// The link works without being signed in (another browser).
	if p := e.browser("es").get(latest); p.status != http.StatusOK || !strings.Contains(text(p.body), "confirmada") {
		t.Fatalf("verification link: %d\n%s", p.status, text(p.body))
	}
	if p := ana.get(latest); p.status == http.StatusOK {
		t.Fatal("a verification link worked twice")
	}
	if a := e.account("ana@example.com"); a.EmailVerifiedAt == nil {
		t.Fatal("the account is not verified")
	}
	if p := ana.get("/account"); p.has(`id="verify-banner"`) {
		t.Fatal("the banner stays after verification")
	}
	p = ana.post("/billing/checkout", url.Values{"plan": {"premium"}})
	mustStatus(t, "checkout after verification", p, http.StatusSeeOther)

	// An English reader gets English mail; a link older than 48 hours fails.
	bob := e.browser("en")
	bob.signUp("bob@example.com", "bob's long passphrase", "/")
	subject, link = e.accountLink("bob@example.com", 1)
	if subject != "Confirm your email address" {
		t.Errorf("subject = %q, want it in English", subject)
	}
	e.clock.Add(48*time.Hour + time.Second)
	if p := bob.get(link); p.status == http.StatusOK || !strings.Contains(text(p.body), "expired") {
		t.Fatalf("a link after 48 hours: %d\n%s", p.status, text(p.body))
	}
	if a, _ := e.store.FindAccountByEmail(ctx, "bob@example.com"); a.EmailVerifiedAt != nil {
		t.Fatal("an expired link verified the account")
	}
	// Demo accounts count as verified.
	for _, demoAccount := range []string{"digital@kiosko.test"} {
		if a := e.account(demoAccount); a.EmailVerifiedAt == nil {
			t.Errorf("demo account %s is not verified", demoAccount)
		}
	}
}

func TestEmailChangeNeedsPasswordAndTheNewAddress(t *testing.T) {
	e := newAccountsEnv(t)
	const pw = "ana's long passphrase"
	ana := e.browser("es")
	ana.signUp("ana@example.com", pw, "/")
	_, link := e.accountLink("ana@example.com", 1)
	ana.get(link)
	other := e.browser("es")
	other.signUp("taken@example.com", "another long passphrase", "/")

	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"email": {"new@example.com"}, "current_password": {"wrong password here"}}, "contraseña actual"},
		{url.Values{"email": {"not an address"}, "current_password": {pw}}, "no parece correcta"},
		{url.Values{"email": {"Taken@Example.com"}, "current_password": {pw}}, "no se puede usar para esta cuenta"},
		{url.Values{"email": {"ana@example.com"}, "current_password": {pw}}, "ya es tu dirección"},
	} {
		p := ana.post("/account/email", tc.form)
		if p.status == http.StatusOK || !strings.Contains(text(p.body), tc.want) {
			t.Errorf("change to %s: %d, want %q\n%s", tc.form.Get("email"), p.status, tc.want, text(p.body))
		}
		if strings.Contains(p.body, "taken@example.com") && tc.form.Get("email") != "Taken@Example.com" {
			t.Errorf("the answer names another account")
		}
	}
	p := ana.post("/account/email", url.Values{"email": {"ana.new@example.com"}, "current_password": {pw}})
	mustStatus(t, "email change", p, http.StatusOK)
	// The old address gets a notice, the new one the link.
	notice := e.mp.WaitFor(t, "ana@example.com", 2)[1]
	if notice.Subject != "Tu dirección de correo va a cambiar" || strings.Contains(notice.Text, "ana.new@example.com") {
		t.Errorf("notice to the old address: %q\n%s", notice.Subject, notice.Text)
	}
	subject, confirm := e.accountLink("ana.new@example.com", 1)
	if subject != "Confirma tu nueva dirección de correo" {
		t.Errorf("subject to the new address = %q", subject)
	}
	// Until confirmed, the old address still signs in; the new one does not.
	e.browser("es").signIn("ana@example.com", pw)
	if p := e.browser("es").post("/signin", url.Values{"email": {"ana.new@example.com"}, "password": {pw}}); p.status == http.StatusSeeOther {
		t.Fatal("the new address signs in before it is confirmed")
	}
	// Following the link shows a button; the GET alone changes nothing.
	if p := e.browser("es").get(confirm); !p.has(`id="confirm-email"`) {
		t.Fatalf("confirm page:\n%s", text(p.body))
	}
	if e.account("ana@example.com").Email != "ana@example.com" {
		t.Fatal("a GET changed the address")
	}
	u, _ := url.Parse(confirm)
	p = e.browser("es").post("/account/email/confirm", url.Values{"token": {u.Query().Get("token")}})
	if p.status != http.StatusOK || !strings.Contains(text(p.body), "ya usa la nueva dirección") {
		t.Fatalf("confirm: %d\n%s", p.status, text(p.body))
	}
	e.browser("es").signIn("ana.new@example.com", pw)
	if p := e.browser("es").post("/signin", url.Values{"email": {"ana@example.com"}, "password": {pw}}); p.status == http.StatusSeeOther {
		t.Fatal("the old address still signs in")
	}
	if done := e.mp.WaitFor(t, "ana@example.com", 3)[2]; done.Subject != "Se ha cambiado tu dirección de correo" {
		t.Errorf("last notice to the old address: %q", done.Subject)
	}
	if p := ana.get("/account"); !p.has("ana.new@example.com") {
		t.Fatalf("the account page shows the old address:\n%s", text(p.body))
	}
	// The link works once.
	if p := e.browser("es").post("/account/email/confirm", url.Values{"token": {u.Query().Get("token")}}); p.status == http.StatusOK {
		t.Fatal("a change link worked twice")
	}
}
