package web

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/billing"
	"github.com/kiosko/kiosko/internal/billing/stripemock"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/mail"
	"github.com/kiosko/kiosko/internal/mailpit"
)

// billingEnv is the site with billing wired, real mail to Mailpit and
// links in emails pointing at the test server.
type billingEnv struct {
	*env
	mp *mailpit.Server
}

func newBillingEnv(t *testing.T, provider kiosko.BillingProvider) *billingEnv {
	t.Helper()
	e := newEnv(t)
	mp := mailpit.Start(t)
	e.d.Mailer = mail.New(mail.Config{Addr: mp.SMTPAddr, From: "El Kiosko <noreply@kiosko.test>", Log: e.d.Log})
	e.d.PublicURL = e.srv.URL
	e.d.Billing = &kiosko.Billing{Store: e.store, Plans: e.d.Plans, Provider: provider, Clock: e.clock, Reading: e.d.Reading,
		Mail: NewBillingMail(e.d), Log: e.d.Log}
	return &billingEnv{env: e, mp: mp}
}

var linkRE = regexp.MustCompile(`https?://[^\s"<>]+/invite/[A-Za-z0-9_-]+`)

// inviteLink waits for the n-th email to addr and returns the path of its
// invitation link.
func (e *billingEnv) inviteLink(addr string, n int) (path string, msg *mailpit.Message) {
	e.t.Helper()
	msgs := e.mp.WaitFor(e.t, addr, n)
	msg = msgs[n-1]
	link := linkRE.FindString(msg.Text)
	if link == "" {
		e.t.Fatalf("no invitation link in the email to %s:\n%s", addr, msg.Text)
	}
	u, _ := url.Parse(link)
	return u.Path, msg
}

// reads reports whether the page shows the article's body (no wall, no
// conflict).
func reads(p page) bool {
	return p.status == http.StatusOK && p.has(`id="article-body"`) && !p.has(`data-wall=`) &&
		regexp.MustCompile(`<section id="interstitial"[^>]*hidden`).MatchString(p.body)
}

// warnedBanner reports whether the page shows the sharing warning.
func warnedBanner(p page) bool {
	return strings.Contains(p.body, `id="sharing-banner"`) && !regexp.MustCompile(`id="sharing-banner"[^>]*hidden`).MatchString(p.body)
}

func mustStatus(t *testing.T, what string, p page, status int) {
	t.Helper()
	if p.status != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, p.status, status, text(p.body))
	}
}

// signUp creates an account through the site, with next.
func (b *browser) signUp(email, pw, next string) page {
	b.e.t.Helper()
	p := b.post("/signup", url.Values{"email": {email}, "password": {pw}, "next": {next}, "tz": {"Europe/Madrid"}})
	mustStatus(b.e.t, "sign up "+email, p, http.StatusSeeOther)
	return p
}

func (e *billingEnv) account(email string) *kiosko.Account {
	e.t.Helper()
	a, err := e.store.FindAccountByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *billingEnv) ownedSub(owner string) *kiosko.Subscription {
	e.t.Helper()
	sub, err := e.d.Billing.OwnedSubscription(context.Background(), e.account(owner).ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return sub
}

// Digital → Premium (granted by an admin: no online payment) → invite →
// the second reader reads at the same time as the owner, each on their
// own seat, and the owner's sharing warning is lifted.
func TestPremiumUpgradeInviteAndReadTogether(t *testing.T) {
	e := newBillingEnv(t, billing.Manual{})
	ctx := context.Background()
	const owner = "digital@kiosko.test"
	art := e.articles("es", kiosko.AccessSubscriber)[0]
	articlePath := "/es/" + art.ID

	ana := e.browser("es")
	ana.signIn(owner, demo.Password)
	if p := ana.get(articlePath); !reads(p) {
		t.Fatalf("the Digital owner cannot read:\n%s", text(p.body))
	}
	// The seat is under sharing warning (someone else used the login).
	seat, _, err := e.store.FindSeatForAccount(ctx, e.account(owner).ID, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	warnedAt := e.clock.Now()
	if err := e.store.SetSeatWarning(ctx, seat.ID, &warnedAt); err != nil {
		t.Fatal(err)
	}
	if p := ana.get("/billing"); !warnedBanner(p) {
		t.Fatal("no sharing banner on the warned seat")
	}

	// From the interstitial: "upgrade to Premium". Without online payment
	// the page says so plainly and what to do; nothing takes money.
	p := ana.get("/billing/upgrade?plan=premium")
	mustStatus(t, "upgrade page", p, http.StatusOK)
	for _, want := range []string{`id="payment-manual"`, "El pago en línea no está configurado", owner} {
		if !p.has(want) {
			t.Errorf("upgrade page lacks %q:\n%s", want, text(p.body))
		}
	}
	if p.has(`id="checkout-form"`) {
		t.Error("the upgrade page offers a payment that cannot be taken")
	}
	p = ana.post("/billing/checkout", url.Values{"plan": {"premium"}})
	mustStatus(t, "checkout without a provider", p, http.StatusNotImplemented)
	if !p.has("El pago en línea no está configurado") {
		t.Errorf("checkout without a provider does not say why:\n%s", text(p.body))
	}
	p = ana.post("/billing/invite", url.Values{"email": {"bea@example.com"}})
	mustStatus(t, "invite on Digital", p, http.StatusUnprocessableEntity)
	if !p.has("Pasa a Premium") {
		t.Errorf("invite on Digital does not say why:\n%s", text(p.body))
	}

	// The admin grants Premium (kiosko account grant --plan premium).
	sub := e.ownedSub(owner)
	premium, seats := kiosko.PlanPremium, 2
	if _, err := e.store.UpdateSubscription(ctx, sub.ID, kiosko.SubscriptionUpdate{PlanCode: &premium, Seats: &seats}); err != nil {
		t.Fatal(err)
	}
	p = ana.get("/billing/upgrade?plan=premium")
	if p.status != http.StatusSeeOther || p.location() != "/billing#invite" {
		t.Fatalf("upgrade page with Premium: %d %q, want straight to inviting", p.status, p.location())
	}

	// Bad input changes nothing and says why, in the reader's language.
	for _, tc := range []struct{ email, want string }{
		{"no es un correo", "no parece correcta"},
		{owner, "ya ocupa una plaza"},
	} {
		p := ana.post("/billing/invite", url.Values{"email": {tc.email}})
		mustStatus(t, "invite "+tc.email, p, http.StatusUnprocessableEntity)
		if !p.has(tc.want) {
			t.Errorf("invite %q: page lacks %q:\n%s", tc.email, tc.want, text(p.body))
		}
	}
	p = ana.post("/billing/invite", url.Values{"email": {"Bea@Example.com"}})
	mustStatus(t, "invite", p, http.StatusSeeOther)
	p = ana.post("/billing/invite", url.Values{"email": {"carl@example.com"}})
	mustStatus(t, "invite on a full Premium", p, http.StatusUnprocessableEntity)
	if !p.has("Todas las plazas de esta suscripción") {
		t.Errorf("full subscription not explained:\n%s", text(p.body))
	}

	// The invitation is in the owner's language (Spanish), with a link.
	link, msg := e.inviteLink("bea@example.com", 1)
	if !strings.Contains(msg.Subject, "te invita") {
		t.Errorf("invitation subject %q is not in the owner's language", msg.Subject)
	}

	// Bea, on her own browser, creates her account from the link.
	bea := e.browser("en")
	p = bea.get(link)
	mustStatus(t, "invitation page", p, http.StatusOK)
	if !p.has(`id="invite-signup"`) || !p.has(owner) {
		t.Fatalf("invitation page:\n%s", text(p.body))
	}
	p = bea.signUp("bea@example.com", "bea's own long passphrase", link)
	if p.location() != link {
		t.Fatalf("sign-up from the invitation went to %q, want back to %q", p.location(), link)
	}
	p = bea.post(link, nil)
	mustStatus(t, "accept", p, http.StatusSeeOther)
	if p = bea.get("/billing?done=joined"); !p.has(`id="member-of"`) || !p.has(owner) {
		t.Fatalf("Bea's billing page:\n%s", text(p.body))
	}
	// The link worked once.
	carl := e.browser("en")
	carl.signUp("carl@example.com", "carl's own long passphrase", "/")
	p = carl.post(link, nil)
	if p.status == http.StatusSeeOther || !p.has("already used") {
		t.Fatalf("a used invitation: %d\n%s", p.status, text(p.body))
	}

	// The warning is lifted: sharing became a second seat.
	if p := ana.get("/billing"); warnedBanner(p) {
		t.Error("the sharing warning stays after the other person took their own seat")
	}
	// Both read the same article at the same time, without conflict.
	if p := ana.get(articlePath); !reads(p) {
		t.Fatalf("the owner cannot read:\n%s", text(p.body))
	}
	if p := bea.get(articlePath); !reads(p) {
		t.Fatalf("the second reader cannot read at the same time:\n%s", text(p.body))
	}
	if p := ana.get(articlePath); !reads(p) {
		t.Fatalf("the owner was displaced by the second reader:\n%s", text(p.body))
	}
	leases := 0
	for _, a := range []string{owner, "bea@example.com"} {
		if _, ok := e.d.Reading.Holder(ctx, e.account(a).ID); ok {
			leases++
		}
	}
	if leases != 2 {
		t.Errorf("%d leases, want 2 (one per seat)", leases)
	}

	// The owner revokes Bea's seat and can invite someone else.
	seatsNow, err := e.store.FindSeats(ctx, sub.ID)
	if err != nil || len(seatsNow) < 2 {
		t.Fatalf("seats: %d, %v; want Bea's second seat", len(seatsNow), err)
	}
	p = ana.post("/billing/seats/"+itoa(seatsNow[1].ID)+"/remove", nil)
	mustStatus(t, "remove", p, http.StatusSeeOther)
	if p := bea.get(articlePath); reads(p) {
		t.Fatal("a removed member still reads")
	}
	p = ana.post("/billing/invite", url.Values{"email": {"carl@example.com"}})
	mustStatus(t, "invite after revoking", p, http.StatusSeeOther)
	link2, _ := e.inviteLink("carl@example.com", 1)
	mustStatus(t, "carl accepts", carl.post(link2, nil), http.StatusSeeOther)
	if p := carl.get(articlePath); !reads(p) {
		t.Fatalf("the new member cannot read (the freed seat's lease must not block him):\n%s", text(p.body))
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// upload posts a file to the CSV form.
func (b *browser) upload(path, name string, data []byte) page {
	b.e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept-Language", b.lang)
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		b.e.t.Fatalf("upload %s: reading the answer: %v", path, err)
	}
	return page{status: res.StatusCode, body: string(out), header: res.Header}
}

// A company admin invites three people (a CSV file and one by one),
// removes one, and a colleague at the company's domain joins by
// themselves; when the company subscription ends, members lose access.
func TestBusinessSeatsInvitesDomainsAndEnd(t *testing.T) {
	e := newBillingEnv(t, billing.Manual{})
	ctx := context.Background()
	const owner = "business@kiosko.test"
	art := e.articles("us", kiosko.AccessSubscriber)[0]
	articlePath := "/us/" + art.ID
	boss := e.browser("en")
	boss.signIn(owner, demo.Password)
	sub := e.ownedSub(owner)
	if sub.Seats != 5 {
		t.Fatalf("demo business subscription has %d seats", sub.Seats)
	}
	p := boss.get("/billing")
	if !p.has("1 of 5 seats used, 4 free") {
		t.Fatalf("seats overview:\n%s", text(p.body))
	}

	// An unusable file changes nothing and says why.
	p = boss.upload("/billing/invite/csv", "people.csv", []byte("name,address\nAna,ana@corp.test\n"))
	mustStatus(t, "csv without an email column", p, http.StatusUnprocessableEntity)
	if !p.has("no column named email") {
		t.Errorf("unusable file not explained:\n%s", text(p.body))
	}
	// A usable file invites its good rows and reports the others.
	p = boss.upload("/billing/invite/csv", "people.csv", []byte("name,email\nAna,ana@corp.test\nNot one,not-an-address\nBea,bea@corp.test\nAna,ana@corp.test\n"))
	mustStatus(t, "csv", p, http.StatusOK)
	if !p.has(`id="csv-report"`) || !p.has("2 invited; 2 lines were not") || !p.has("Line 3:") || !p.has("earlier in the file") {
		t.Fatalf("csv report:\n%s", text(p.body))
	}
	mustStatus(t, "invite carl", boss.post("/billing/invite", url.Values{"email": {"carl@corp.test"}}), http.StatusSeeOther)

	members := map[string]*browser{}
	for _, who := range []string{"ana@corp.test", "bea@corp.test", "carl@corp.test"} {
		link, msg := e.inviteLink(who, 1)
		if !strings.Contains(msg.Subject, "invites you") { // the owner's language: English
			t.Errorf("invitation to %s: subject %q", who, msg.Subject)
		}
		b := e.browser("en")
		b.signUp(who, "a long passphrase for "+who, link)
		mustStatus(t, "accept "+who, b.post(link, nil), http.StatusSeeOther)
		if p := b.get(articlePath); !reads(p) {
			t.Fatalf("%s cannot read:\n%s", who, text(p.body))
		}
		members[who] = b
	}
	if p := boss.get("/billing"); !p.has("4 of 5 seats used, 1 free") {
		t.Fatalf("after three joined:\n%s", text(p.body))
	}

	// Remove Bea.
	seats, err := e.store.FindSeats(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	var beaSeat int64
	for _, s := range seats {
		if s.AccountID == e.account("bea@corp.test").ID {
			beaSeat = s.ID
		}
	}
	mustStatus(t, "remove bea", boss.post("/billing/seats/"+itoa(beaSeat)+"/remove", nil), http.StatusSeeOther)
	if p := members["bea@corp.test"].get(articlePath); reads(p) {
		t.Fatal("a removed member still reads")
	}

	// Company domains: a public one is refused, the company's is saved.
	p = boss.post("/billing/domains", url.Values{"domains": {"gmail.com"}})
	mustStatus(t, "public domain", p, http.StatusUnprocessableEntity)
	if !p.has("public email service") {
		t.Errorf("public domain not explained:\n%s", text(p.body))
	}
	mustStatus(t, "domains", boss.post("/billing/domains", url.Values{"domains": {"@corp.test"}}), http.StatusSeeOther)

	// Eve, at corp.test, joins by herself after confirming her address.
	eve := e.browser("en")
	eve.signUp("eve@corp.test", "eve's long passphrase", "/")
	p = eve.post("/billing/join", nil)
	mustStatus(t, "join", p, http.StatusOK)
	if !p.has(`id="join-sent"`) {
		t.Fatalf("join page:\n%s", text(p.body))
	}
	link, _ := e.inviteLink("eve@corp.test", 1)
	mustStatus(t, "eve confirms", eve.post(link, nil), http.StatusSeeOther)
	if p := eve.get(articlePath); !reads(p) {
		t.Fatalf("the domain colleague cannot read:\n%s", text(p.body))
	}
	if p := boss.get("/billing"); !p.has("4 of 5 seats used, 1 free") {
		t.Fatalf("after the colleague joined:\n%s", text(p.body))
	}
	// Someone at another domain cannot.
	zed := e.browser("en")
	zed.signUp("zed@elsewhere.test", "zed's long passphrase", "/")
	p = zed.post("/billing/join", nil)
	mustStatus(t, "join from another domain", p, http.StatusNotFound)

	// The company subscription ends: members lose access.
	e.clock.Add(sub.CurrentPeriodEnd.Sub(e.clock.Now()) + time.Minute)
	for _, b := range []*browser{members["ana@corp.test"], eve} {
		if p := b.get(articlePath); reads(p) {
			t.Fatal("a member still reads after the company subscription ended")
		}
	}
}

const webhookSecret = "whsec_kiosko_test"

// postEvent delivers a signed Stripe event to the webhook.
func (e *billingEnv) postEvent(id, typ string, created time.Time, object any) int {
	e.t.Helper()
	payload, sig := stripemock.Event(e.t, webhookSecret, id, typ, created, object)
	return e.postWebhook(payload, sig)
}

func (e *billingEnv) postWebhook(payload []byte, sig string) int {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/billing/webhook", bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("Stripe-Signature", sig)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// Stripe: checkout (against stripe-mock) → webhook → active → cancel →
// access ends at the end of the period.
func TestStripeCheckoutWebhookCancel(t *testing.T) {
	stripe, err := billing.NewStripe(billing.StripeConfig{Key: "sk_test_kiosko", WebhookSecret: webhookSecret, APIURL: stripemock.Start(t)})
	if err != nil {
		t.Fatal(err)
	}
	e := newBillingEnv(t, stripe)
	art := e.articles("es", kiosko.AccessSubscriber)[0]
	articlePath := "/es/" + art.ID

	ana := e.browser("es")
	ana.signUp("ana@example.com", "ana's long passphrase", "/")
	anaID := e.account("ana@example.com").ID
	if err := e.store.MarkEmailVerified(context.Background(), anaID, e.clock.Now()); err != nil { // only a verified address may pay
		t.Fatal(err)
	}
	if p := ana.get(articlePath); reads(p) {
		t.Fatal("a free account reads a subscriber article")
	}
	p := ana.get("/billing/upgrade?plan=premium")
	if !p.has(`id="checkout-form"`) {
		t.Fatalf("upgrade page with Stripe:\n%s", text(p.body))
	}
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"plan": {"gold"}}, "No existe ningún plan"},
		{url.Values{"plan": {"business"}, "seats": {"0"}}, "1 o más"},
	} {
		p := ana.post("/billing/checkout", tc.form)
		if p.status == http.StatusSeeOther || !strings.Contains(text(p.body), tc.want) {
			t.Errorf("checkout %v: %d, want the reason %q\n%s", tc.form, p.status, tc.want, text(p.body))
		}
	}
	p = ana.post("/billing/checkout", url.Values{"plan": {"premium"}})
	mustStatus(t, "checkout", p, http.StatusSeeOther)
	if !strings.HasPrefix(p.location(), "http") {
		t.Fatalf("checkout sent the reader to %q", p.location())
	}

	// Stripe calls back. A bad signature is refused and changes nothing.
	now := e.clock.Now()
	end := now.AddDate(0, 1, 0)
	sub := stripemock.Subscription{ID: "sub_ana", Customer: "cus_ana", Status: "active", AccountID: anaID, Plan: "premium", Seats: 2, Quantity: 1, UnitAmount: 1499, Currency: "eur", PeriodEnd: end}
	payload, forged := stripemock.Event(t, "whsec_forged", "evt_forged", "customer.subscription.created", now, sub.Object())
	if got := e.postWebhook(payload, forged); got != http.StatusBadRequest {
		t.Fatalf("forged webhook: %d, want 400", got)
	}
	if p := ana.get(articlePath); reads(p) {
		t.Fatal("a forged webhook opened the paywall")
	}
	if got := e.postEvent("evt_1", "checkout.session.completed", now, stripemock.CheckoutSession("cs_1", anaID, "cus_ana", "sub_ana", "premium", 2)); got != http.StatusOK {
		t.Fatalf("checkout.session.completed: %d", got)
	}
	if got := e.postEvent("evt_2", "customer.subscription.created", now, sub.Object()); got != http.StatusOK {
		t.Fatalf("customer.subscription.created: %d", got)
	}
	// Replayed: nothing happens twice.
	if got := e.postEvent("evt_2", "customer.subscription.created", now, sub.Object()); got != http.StatusOK {
		t.Fatalf("replayed event: %d", got)
	}
	subs, err := e.store.FindSubscriptionsByOwner(context.Background(), anaID)
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 1 || subs[0].Status != kiosko.StatusActive || subs[0].Seats != 2 || subs[0].PriceCents != 1499 {
		t.Fatalf("subscriptions after checkout: %+v", subs)
	}
	p = ana.get("/billing/done?plan=premium")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/billing?done=checkout") {
		t.Fatalf("return from checkout: %d %q", p.status, p.location())
	}
	if p := ana.get(articlePath); !reads(p) {
		t.Fatalf("the paying reader cannot read:\n%s", text(p.body))
	}
	p = ana.get("/billing?done=checkout")
	if !p.has(`id="invite"`) || !p.has(`id="portal"`) {
		t.Fatalf("billing page after checkout:\n%s", text(p.body))
	}
	p = ana.post("/billing/portal", nil)
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "http") {
		t.Fatalf("portal: %d %q", p.status, p.location())
	}

	// The reader cancels in the portal: access lasts until the period ends.
	sub.CancelAtPeriodEnd = true
	if got := e.postEvent("evt_3", "customer.subscription.updated", now.Add(time.Hour), sub.Object()); got != http.StatusOK {
		t.Fatalf("cancel: %d", got)
	}
	// An older update arriving late does not undo the cancellation.
	sub.CancelAtPeriodEnd = false
	e.postEvent("evt_2b", "customer.subscription.updated", now.Add(time.Minute), sub.Object())
	if s, err := e.d.Billing.OwnedSubscription(context.Background(), anaID); err != nil || s.Status != kiosko.StatusCanceled {
		t.Fatalf("after a late event: %+v, %v; want canceled", s, err)
	}
	e.clock.Add(10 * 24 * time.Hour)
	if p := ana.get(articlePath); !reads(p) {
		t.Fatal("a canceled subscription stopped before its period ended")
	}
	e.clock.Add(end.Sub(e.clock.Now()) + time.Minute)
	if p := ana.get(articlePath); reads(p) {
		t.Fatal("a canceled subscription still reads after its period ended")
	}
	sub.Status = "canceled"
	if got := e.postEvent("evt_4", "customer.subscription.deleted", end, sub.Object()); got != http.StatusOK {
		t.Fatalf("deleted: %d", got)
	}
	if p := ana.get("/billing"); !p.has(`id="no-subscription"`) {
		t.Fatalf("billing page after the end:\n%s", text(p.body))
	}
}

// The plans page's payment section (template billing_payment) says plainly
// whether money can be taken on the site.
func TestPaymentSectionSaysWhetherPaymentIsOnline(t *testing.T) {
	stripe, err := billing.NewStripe(billing.StripeConfig{Key: "sk_test_kiosko", WebhookSecret: webhookSecret})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		provider kiosko.BillingProvider
		want     string
	}{{billing.Manual{}, "Online payment is not configured"}, {stripe, "Pay by card"}} {
		e := newBillingEnv(t, tc.provider)
		site, err := New(e.d)
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("GET", "/plans", nil)
		r.Header.Set("Accept-Language", "en")
		var buf bytes.Buffer
		if err := site.tmpl.ExecuteTemplate(&buf, "billing_payment", site.NewPage(r, "en")); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), tc.want) {
			t.Errorf("%s: payment section lacks %q:\n%s", tc.provider.Name(), tc.want, buf.String())
		}
	}
}
