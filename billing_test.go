package kiosko_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/inmem"
	"github.com/kiosko/kiosko/internal/sqlite"
)

// fakeProvider is an online provider that records what it is asked.
type fakeProvider struct {
	mu       sync.Mutex
	canceled []string
	online   bool
}

func (p *fakeProvider) Name() string { return kiosko.ProviderStripe }
func (p *fakeProvider) Online() bool { return p.online }
func (p *fakeProvider) Checkout(_ context.Context, req kiosko.CheckoutRequest) (string, error) {
	return "https://pay.test/" + req.Plan.Code, nil
}
func (p *fakeProvider) Portal(context.Context, string, string) (string, error) {
	return "https://portal.test", nil
}
func (p *fakeProvider) Cancel(_ context.Context, ref string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.canceled = append(p.canceled, ref)
	return nil
}
func (p *fakeProvider) SignatureHeader() string { return "X-Sig" }
func (p *fakeProvider) ParseEvent([]byte, string) (*kiosko.BillingEvent, error) {
	return nil, nil
}

// inviteMail keeps the tokens of the emails sent.
type inviteMail struct {
	mu     sync.Mutex
	tokens map[string]string // address -> last token
	langs  map[string]string
}

func (m *inviteMail) Invitation(_ context.Context, to, lang string, _ *kiosko.Account, _ *kiosko.Plan, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[to], m.langs[to] = token, lang
	return nil
}

func (m *inviteMail) JoinVerification(_ context.Context, a *kiosko.Account, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[a.Email] = token
	return nil
}

func (m *inviteMail) token(t *testing.T, to string) string {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	tok, ok := m.tokens[to]
	if !ok {
		t.Fatalf("no email to %s", to)
	}
	return tok
}

type billingEnv struct {
	store    *sqlite.DB
	billing  *kiosko.Billing
	provider *fakeProvider
	mail     *inviteMail
	now      *time.Time
	reading  *kiosko.Reading
}

func newBillingEnv(t *testing.T) *billingEnv {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "kiosko.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := t0
	clock := kiosko.ClockFunc(func() time.Time { return now })
	settings := kiosko.DefaultReadingSettings()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reading := &kiosko.Reading{Store: store, Leases: inmem.NewLeaseEngine(settings), Clock: clock, Settings: settings, Log: log}
	e := &billingEnv{store: store, provider: &fakeProvider{online: true}, mail: &inviteMail{tokens: map[string]string{}, langs: map[string]string{}}, now: &now, reading: reading}
	e.billing = &kiosko.Billing{Store: store, Plans: kiosko.DefaultPlans(), Provider: e.provider, Clock: clock, Reading: reading, Mail: e.mail, Log: log}
	return e
}

func (e *billingEnv) account(t *testing.T, email, lang string) *kiosko.Account {
	t.Helper()
	a := &kiosko.Account{Email: email, PasswordHash: "x", Role: kiosko.RoleReader, Lang: lang, PasswordChangedAt: t0, CreatedAt: t0}
	if err := e.store.CreateAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *billingEnv) handle(t *testing.T, ev *kiosko.BillingEvent) {
	t.Helper()
	if err := e.billing.HandleEvent(context.Background(), ev); err != nil {
		t.Fatalf("HandleEvent %s: %v", ev.ID, err)
	}
}

func (e *billingEnv) sub(t *testing.T, ref string) *kiosko.Subscription {
	t.Helper()
	s, err := e.store.FindSubscriptionByProviderRef(context.Background(), kiosko.ProviderStripe, ref)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func wantErrKey(t *testing.T, err error, key string) {
	t.Helper()
	if got := kiosko.ErrorKey(err); got != key {
		t.Fatalf("error = %v (key %q), want key %q", err, got, key)
	}
}

func TestBillingEventsAreIdempotentAndOrdered(t *testing.T) {
	e := newBillingEnv(t)
	ana := e.account(t, "ana@example.com", "es")
	end1 := t0.AddDate(0, 1, 0)
	state := func(id string, created time.Time, status string, cancel bool, end time.Time) *kiosko.BillingEvent {
		return &kiosko.BillingEvent{ID: id, Kind: kiosko.BillingSubscriptionState, Created: created, AccountID: ana.ID, CustomerRef: "cus_1",
			SubscriptionRef: "sub_1", PlanCode: kiosko.PlanPremium, Seats: 2, Status: status, PeriodEnd: end, CancelAtPeriodEnd: cancel, AmountCents: 1499, Currency: "EUR"}
	}
	// Activate.
	e.handle(t, state("evt_1", t0, kiosko.StatusActive, false, end1))
	sub := e.sub(t, "sub_1")
	if sub.OwnerID != ana.ID || sub.Status != kiosko.StatusActive || sub.Seats != 2 || sub.PriceCents != 1499 || !sub.CurrentPeriodEnd.Equal(end1) {
		t.Fatalf("activated = %+v", sub)
	}
	if ref, err := e.store.FindBillingCustomer(context.Background(), ana.ID, kiosko.ProviderStripe); err != nil || ref != "cus_1" {
		t.Fatalf("customer = %q, %v", ref, err)
	}
	// Editing the plan never changes what the subscriber pays before renewal.
	e.billing.Plans.(kiosko.Plans)[kiosko.PlanPremium].PriceCents = 1999
	e.handle(t, state("evt_2", t0.Add(time.Minute), kiosko.StatusActive, false, end1))
	if got := e.sub(t, "sub_1").PriceCents; got != 1499 {
		t.Fatalf("price after a plan edit = %d, want 1499", got)
	}
	// Cancel at period end, then a replay and an older event arrive: nothing changes.
	e.handle(t, state("evt_3", t0.Add(2*time.Minute), kiosko.StatusCanceled, true, end1))
	e.handle(t, state("evt_1", t0, kiosko.StatusActive, false, end1))                   // replayed
	e.handle(t, state("evt_0", t0.Add(-time.Minute), kiosko.StatusActive, false, end1)) // late
	sub = e.sub(t, "sub_1")
	if sub.Status != kiosko.StatusCanceled || !sub.CancelAtPeriodEnd {
		t.Fatalf("after replays = %+v", sub)
	}
	// Renewal: uncancelled, then a paid invoice copies the price paid and moves the period.
	e.handle(t, state("evt_4", t0.Add(3*time.Minute), kiosko.StatusActive, false, end1))
	end2 := end1.AddDate(0, 1, 0)
	paid := &kiosko.BillingEvent{ID: "evt_5", Kind: kiosko.BillingInvoicePaid, Created: end1, SubscriptionRef: "sub_1", CustomerRef: "cus_1", AmountCents: 1999, PeriodEnd: end2}
	e.handle(t, paid)
	old := &kiosko.BillingEvent{ID: "evt_5b", Kind: kiosko.BillingInvoicePaid, Created: t0, SubscriptionRef: "sub_1", AmountCents: 1499, PeriodEnd: end1}
	e.handle(t, old) // a late invoice of the first period changes nothing
	sub = e.sub(t, "sub_1")
	if sub.PriceCents != 1999 || !sub.CurrentPeriodEnd.Equal(end2) || sub.Status != kiosko.StatusActive {
		t.Fatalf("after renewal = %+v", sub)
	}
	// Past due keeps access until the period ends.
	e.handle(t, &kiosko.BillingEvent{ID: "evt_6", Kind: kiosko.BillingPaymentFailed, Created: end1.Add(time.Hour), SubscriptionRef: "sub_1"})
	if sub = e.sub(t, "sub_1"); sub.Status != kiosko.StatusPastDue || !sub.Grants(end1.Add(2*time.Hour)) {
		t.Fatalf("past due = %+v", sub)
	}
	// A full refund ends access at once.
	*e.now = end1.Add(3 * time.Hour)
	e.handle(t, &kiosko.BillingEvent{ID: "evt_7", Kind: kiosko.BillingRefunded, Created: *e.now, CustomerRef: "cus_1"})
	if sub = e.sub(t, "sub_1"); sub.Status != kiosko.StatusExpired || sub.Grants(*e.now) {
		t.Fatalf("refunded = %+v", sub)
	}
	// Replaying the refund and the renewal changes nothing.
	e.handle(t, paid)
	if sub = e.sub(t, "sub_1"); sub.Status != kiosko.StatusExpired {
		t.Fatalf("replayed renewal revived a refunded subscription: %+v", sub)
	}
}

func TestBillingCheckoutValidates(t *testing.T) {
	e := newBillingEnv(t)
	ana := e.account(t, "ana@example.com", "es")
	ctx := context.Background()
	for _, tc := range []struct {
		plan  string
		seats int
		key   string
	}{
		{"gold", 0, "error.plan_unknown"},
		{kiosko.PlanFree, 0, "error.plan_not_for_sale"},
		{kiosko.PlanBusiness, 0, "error.seats_invalid"},
		{kiosko.PlanBusiness, -3, "error.seats_invalid"},
		{kiosko.PlanPremium, 5, "error.seats_fixed"},
	} {
		_, err := e.billing.Checkout(ctx, ana, tc.plan, tc.seats, "http://x/ok", "http://x/no", "es")
		wantErrKey(t, err, tc.key)
	}
	// Only a verified address may pay (accountdata.go).
	_, err := e.billing.Checkout(ctx, ana, kiosko.PlanBusiness, 10, "http://x/ok", "http://x/no", "es")
	wantErrKey(t, err, "accounts.error.verify_to_pay")
	verified := time.Now()
	ana.EmailVerifiedAt = &verified
	url, err := e.billing.Checkout(ctx, ana, kiosko.PlanBusiness, 10, "http://x/ok", "http://x/no", "es")
	if err != nil || url != "https://pay.test/business" {
		t.Fatalf("Checkout = %q, %v", url, err)
	}
	e.provider.online = false
	_, err = e.billing.Checkout(ctx, ana, kiosko.PlanPremium, 0, "http://x/ok", "http://x/no", "es")
	wantErrKey(t, err, "error.payment_not_configured")
}

func TestUpgradeBoughtOnlineReplacesTheOldSubscription(t *testing.T) {
	e := newBillingEnv(t)
	ctx := context.Background()
	ana := e.account(t, "ana@example.com", "es")
	old := &kiosko.Subscription{OwnerID: ana.ID, PlanCode: kiosko.PlanDigital, Status: kiosko.StatusActive, Seats: 1, PriceCents: 999, Currency: "EUR",
		Provider: kiosko.ProviderStripe, ProviderRef: "sub_old", CurrentPeriodEnd: t0.AddDate(0, 1, 0), CreatedAt: t0.Add(-time.Hour)}
	if err := e.store.CreateSubscription(ctx, old); err != nil {
		t.Fatal(err)
	}
	seat, _, err := e.store.FindSeatForAccount(ctx, ana.ID, t0)
	if err != nil {
		t.Fatal(err)
	}
	warned := t0.Add(-time.Minute)
	if err := e.store.SetSeatWarning(ctx, seat.ID, &warned); err != nil {
		t.Fatal(err)
	}
	e.handle(t, &kiosko.BillingEvent{ID: "evt_1", Kind: kiosko.BillingSubscriptionState, Created: t0, AccountID: ana.ID, CustomerRef: "cus_1",
		SubscriptionRef: "sub_new", PlanCode: kiosko.PlanPremium, Seats: 2, Status: kiosko.StatusActive, PeriodEnd: t0.AddDate(0, 1, 0), AmountCents: 1499})
	if got, _ := e.store.FindSubscriptionByID(ctx, old.ID); got.Grants(t0) {
		t.Errorf("the replaced Digital subscription still grants: %+v", got)
	}
	if len(e.provider.canceled) != 1 || e.provider.canceled[0] != "sub_old" {
		t.Errorf("canceled at the provider = %v", e.provider.canceled)
	}
	// The warning follows the owner until the other person holds a seat.
	seat, sub, err := e.store.FindSeatForAccount(ctx, ana.ID, t0)
	if err != nil || sub.ProviderRef != "sub_new" || seat.SharingWarning == nil {
		t.Fatalf("owner's seat after the upgrade = %+v (%+v), %v", seat, sub, err)
	}
}
