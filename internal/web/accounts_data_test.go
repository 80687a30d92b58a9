package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/billing"
	"github.com/kiosko/kiosko/internal/billing/stripemock"
	"github.com/kiosko/kiosko/internal/demo"
)

// stripeRecorder keeps the calls made to the Stripe API.
type stripeRecorder struct {
	mu    sync.Mutex
	calls []string // "POST /v1/subscriptions/sub_x cancel_at_period_end=true"
}

func (r *stripeRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	form, _ := url.ParseQuery(string(body))
	r.mu.Lock()
	r.calls = append(r.calls, req.Method+" "+req.URL.Path+" "+form.Encode()+" "+req.URL.RawQuery)
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *stripeRecorder) has(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.calls {
		if strings.Contains(c, s) {
			return true
		}
	}
	return false
}

// newAccountsStripeEnv is newAccountsEnv with the Stripe calls recorded.
func newAccountsStripeEnv(t *testing.T) (*billingEnv, *stripeRecorder) {
	t.Helper()
	rec := &stripeRecorder{}
	stripe, err := billing.NewStripe(billing.StripeConfig{Key: "sk_test_kiosko", WebhookSecret: webhookSecret, APIURL: stripemock.Start(t),
		HTTPClient: &http.Client{Transport: rec, Timeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	e := newBillingEnv(t, stripe)
	e.d.Accounts = &kiosko.Accounts{Store: e.store, Auth: e.d.Auth, Billing: e.d.Billing, Mail: NewAccountDataMail(e.d), Clock: e.clock,
		Settings: kiosko.DefaultAccountSettings(), Log: e.d.Log}
	return e, rec
}

// payingOwner makes email a verified reader paying Premium through Stripe,
// with member on the second seat and a newsletter subscription.
func (e *billingEnv) payingOwner(email, pw, member string) (*kiosko.Account, *kiosko.Subscription) {
	e.t.Helper()
	ctx := context.Background()
	owner := e.browser("es")
	owner.signUp(email, pw, "/")
	a := e.account(email)
	now := e.clock.Now()
	if err := e.store.MarkEmailVerified(ctx, a.ID, now); err != nil {
		e.t.Fatal(err)
	}
	sub := &kiosko.Subscription{OwnerID: a.ID, PlanCode: kiosko.PlanPremium, Status: kiosko.StatusActive, Seats: 2, PriceCents: 1499, Currency: "EUR",
		Provider: kiosko.ProviderStripe, ProviderRef: "sub_" + strings.Split(email, "@")[0], CurrentPeriodEnd: now.AddDate(0, 1, 0), CreatedAt: now}
	if err := e.store.CreateSubscription(ctx, sub); err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.SetBillingCustomer(ctx, a.ID, kiosko.ProviderStripe, "cus_"+strings.Split(email, "@")[0]); err != nil {
		e.t.Fatal(err)
	}
	m := e.browser("es")
	m.signUp(member, "the member's long passphrase", "/")
	if _, err := e.store.AssignSeat(ctx, sub.ID, e.account(member).ID, now); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.FindEdition(ctx, "es"); err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.CreateSubscriber(ctx, &kiosko.Subscriber{Edition: "es", Email: email, Status: kiosko.SubscriberConfirmed, Source: "form",
		UnsubscribeToken: kiosko.NewToken(), CreatedAt: now, ConfirmedAt: &now}); err != nil {
		e.t.Fatal(err)
	}
	return a, sub
}

func TestExportReceiptsAndDeletion(t *testing.T) {
	e, rec := newAccountsStripeEnv(t)
	ctx := context.Background()
	const pw = "ana's long passphrase"
	ana, _ := e.payingOwner("ana.deleted@example.com", pw, "bea@example.com")
	b := e.browser("es")
	b.signIn("ana.deleted@example.com", pw)

	// Export: one JSON file with her rows and nobody else's, no secrets.
	p := b.get("/account/export")
	mustStatus(t, "export", p, http.StatusOK)
	if cd := p.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
		t.Errorf("Content-Disposition = %q", cd)
	}
	var exp kiosko.AccountExport
	if err := json.Unmarshal([]byte(p.body), &exp); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, p.body)
	}
	if exp.Account.Email != "ana.deleted@example.com" || len(exp.Tables["devices"]) == 0 || len(exp.Tables["subscriptions"]) != 1 ||
		len(exp.Tables["newsletter_subscribers"]) != 1 || len(exp.Tables["billing_customers"]) != 1 || len(exp.Tables["seats"]) != 2 {
		t.Errorf("export misses rows: %+v", exp.Tables)
	}
	if strings.Contains(p.body, "argon2id") || strings.Contains(p.body, "bea@example.com") || strings.Contains(p.body, "token_hash") {
		t.Errorf("the export holds a secret or another reader's address:\n%s", p.body)
	}

	// Receipts: the invoices at Stripe (stripe-mock), through the API, and
	// a plan an admin granted earlier.
	grant := &kiosko.Subscription{OwnerID: ana.ID, PlanCode: kiosko.PlanDigital, Status: kiosko.StatusExpired, Seats: 1, Currency: "EUR",
		Provider: kiosko.ProviderManual, CurrentPeriodEnd: e.clock.Now().Add(-time.Hour), CreatedAt: e.clock.Now().AddDate(0, -2, 0)}
	if err := e.store.CreateSubscription(ctx, grant); err != nil {
		t.Fatal(err)
	}
	p = b.get("/account/receipts")
	mustStatus(t, "receipts", p, http.StatusOK)
	// stripe-mock answers with one draft invoice of 10.00 USD (drafts have
	// no hosted page or PDF yet); the manual grant is listed as such.
	if !p.has(`id="receipts"`) || !p.has("10,00 USD") || !p.has("en preparación") || !strings.Contains(text(p.body), "concedido por el editor") || !rec.has("GET /v1/invoices") || !rec.has("customer=cus_ana.deleted") {
		t.Fatalf("receipts page:\n%s\ncalls: %v", text(p.body), rec.calls)
	}

	// Deletion needs the box and the current password; a wrong one changes nothing.
	for _, form := range []url.Values{
		{"current_password": {pw}},
		{"confirm": {"yes"}, "current_password": {"not my password at all"}},
	} {
		if p := b.post("/account/delete", form); p.status == http.StatusOK && !p.has(`id="form-error"`) {
			t.Fatalf("deletion with %v went through", form)
		}
	}
	if _, err := e.store.FindAccountByID(ctx, ana.ID); err != nil {
		t.Fatalf("a refused deletion deleted: %v", err)
	}
	p = b.post("/account/delete", url.Values{"confirm": {"yes"}, "current_password": {pw}})
	if p.status != http.StatusOK || !strings.Contains(text(p.body), "Tu cuenta se ha eliminado") {
		t.Fatalf("deletion: %d\n%s", p.status, text(p.body))
	}
	if !rec.has("POST /v1/subscriptions/sub_ana.deleted cancel_at_period_end=true") {
		t.Errorf("Stripe was not asked to cancel at the period's end: %v", rec.calls)
	}
	if p := b.get("/account"); p.status != http.StatusSeeOther {
		t.Errorf("the deleted account's browser still reaches /account: %d", p.status)
	}
	if p := e.browser("es").post("/signin", url.Values{"email": {"ana.deleted@example.com"}, "password": {pw}}); p.status == http.StatusSeeOther {
		t.Fatal("the deleted account signs in")
	}
	// The member is told and keeps her own account, with her seat free.
	told := e.mp.WaitFor(t, "bea@example.com", 2)
	if told[len(told)-1].Subject != "Tu plaza en una suscripción compartida ha terminado" {
		t.Errorf("the member's last email: %q", told[len(told)-1].Subject)
	}
	bea := e.account("bea@example.com")
	if _, _, err := e.store.FindSeatForAccount(ctx, bea.ID, e.clock.Now()); !kiosko.IsNotFound(err) {
		t.Errorf("the member still holds a seat: %v", err)
	}
	// A last email to the deleted address, then nothing about her is stored.
	if last := e.mp.WaitFor(t, "ana.deleted@example.com", 2); last[len(last)-1].Subject != "Tu cuenta se ha eliminado" {
		t.Errorf("last email to the deleted address: %q", last[len(last)-1].Subject)
	}
	left, err := e.store.ExportAccountData(ctx, ana)
	if err != nil {
		t.Fatal(err)
	}
	for table, rows := range left {
		if len(rows) > 0 && table != "events" && table != "lease_events" {
			t.Errorf("%s still holds %v", table, rows)
		}
	}
	evs, err := e.store.FindEvents(ctx, kiosko.EventFilter{AccountID: ana.ID, Types: []string{kiosko.EventAccountDeleted}})
	if err != nil || len(evs) != 1 || evs[0].ActorID != ana.ID {
		t.Errorf("account.deleted events = %+v, %v", evs, err)
	}
	for _, path := range []string{e.store.Path(), e.store.Path() + "-wal"} {
		raw, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte("ana.deleted@example.com")) {
			t.Errorf("the address is still in %s", path)
		}
	}
}

// invoicesProvider is the manual provider with invoices that have their
// hosted page and PDF, which stripe-mock's draft invoice lacks.
type invoicesProvider struct{ billing.Manual }

func (invoicesProvider) Receipts(_ context.Context, customer string, _ int) ([]kiosko.Receipt, error) {
	return []kiosko.Receipt{{Provider: kiosko.ProviderStripe, Ref: "in_1", Number: "KIO-0001", AmountCents: 1499, Currency: "EUR", Status: "paid",
		At: testNow.Add(-24 * time.Hour), HostedURL: "https://invoice.example/in_1", PDFURL: "https://invoice.example/in_1.pdf"}}, nil
}

func TestReceiptsLinkTheInvoiceAndItsPDF(t *testing.T) {
	e := newBillingEnv(t, invoicesProvider{})
	e.d.Accounts = &kiosko.Accounts{Store: e.store, Auth: e.d.Auth, Billing: e.d.Billing, Clock: e.clock, Settings: kiosko.DefaultAccountSettings(), Log: e.d.Log}
	b := e.browser("en")
	b.signUp("paid@example.com", "a long passphrase here", "/")
	if err := e.store.SetBillingCustomer(context.Background(), e.account("paid@example.com").ID, kiosko.ProviderManual, "cus_paid"); err != nil {
		t.Fatal(err)
	}
	p := b.get("/account/receipts")
	mustStatus(t, "receipts", p, http.StatusOK)
	for _, want := range []string{`href="https://invoice.example/in_1"`, `href="https://invoice.example/in_1.pdf"`, "KIO-0001", "EUR 14.99", ">paid<"} {
		if !p.has(want) {
			t.Errorf("receipts page lacks %s:\n%s", want, p.body)
		}
	}
	if p := e.browser("en").get("/account/receipts"); p.status != http.StatusSeeOther {
		t.Errorf("anonymous receipts: %d", p.status)
	}
}

// TestExportIsLimitedPerAccount: five downloads an hour per account (each
// reads every table about the reader); the sixth is a page in the
// reader's language with status 429, another reader is not affected, and
// an hour later it works again.
func TestExportIsLimitedPerAccount(t *testing.T) {
	e := newEnv(t)
	e.d.Accounts = &kiosko.Accounts{Store: e.store, Auth: e.d.Auth, Clock: e.clock, Settings: kiosko.DefaultAccountSettings(), Log: e.d.Log}
	ana, bob := e.browser("es"), e.browser("en")
	ana.signIn("digital@kiosko.test", demo.Password)
	bob.signIn("free@kiosko.test", demo.Password)
	for i := range 5 {
		p := ana.get("/account/export")
		mustStatus(t, fmt.Sprintf("export %d", i+1), p, http.StatusOK)
	}
	p := ana.get("/account/export")
	if p.status != http.StatusTooManyRequests || !strings.Contains(text(p.body), "Ya has descargado tus datos varias veces") {
		t.Fatalf("sixth export in an hour: %d\n%s", p.status, text(p.body))
	}
	if strings.Contains(p.body, `"tables"`) {
		t.Fatal("the refused export still holds the data")
	}
	mustStatus(t, "another reader's export", bob.get("/account/export"), http.StatusOK)
	e.clock.Add(61 * time.Minute)
	mustStatus(t, "export an hour later", ana.get("/account/export"), http.StatusOK)
}
