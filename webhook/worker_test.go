package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/postgres"
	"github.com/kiosko/kiosko/internal/postgres/pgtest"
	"github.com/kiosko/kiosko/internal/sqlite"
	"github.com/kiosko/kiosko/webhook"
)

// store is what these tests need of a database.
type store interface {
	kiosko.Store
	webhook.Store
}

func openSQLite(t *testing.T) store {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "kiosko.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// clock is a test clock that only moves when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// delivery is one request the receiver got.
type delivery struct {
	path   string
	header http.Header
	body   []byte
}

// receiver is a real HTTP server that answers with the status fail
// returns (200 when fail is nil) and keeps every request.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []delivery
	fail func(n int, d delivery) int
}

func newReceiver(t *testing.T, fail func(n int, d delivery) int) *receiver {
	r := &receiver{fail: fail}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		d := delivery{path: req.URL.Path, header: req.Header.Clone(), body: body}
		r.mu.Lock()
		r.got = append(r.got, d)
		n := len(r.got)
		r.mu.Unlock()
		code := http.StatusOK
		if r.fail != nil {
			code = r.fail(n, d)
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

func addEndpoint(t *testing.T, s store, url string, events ...string) *webhook.Endpoint {
	t.Helper()
	e := &webhook.Endpoint{URL: url, Secret: webhook.NewSecret(), Events: events, Enabled: true, CreatedAt: time.Now()}
	if err := s.CreateWebhookEndpoint(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	return e
}

var seq atomic.Int64

// subscribe creates an account and a subscription, which emit
// account.created and subscription.created.
func subscribe(t *testing.T, s store, at time.Time) *kiosko.Subscription {
	t.Helper()
	a := &kiosko.Account{Email: "reader" + itoa(seq.Add(1)) + "@example.com", PasswordHash: "h",
		Role: kiosko.RoleReader, Lang: kiosko.LangSpanish, CreatedAt: at, PasswordChangedAt: at}
	if err := s.CreateAccount(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	sub := &kiosko.Subscription{OwnerID: a.ID, PlanCode: kiosko.PlanDigital, Status: kiosko.StatusActive, Seats: 1,
		Currency: "EUR", Provider: kiosko.ProviderManual, CreatedAt: at}
	if err := s.CreateSubscription(t.Context(), sub); err != nil {
		t.Fatal(err)
	}
	return sub
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func worker(s webhook.Store, name string, c *clock) *webhook.Worker {
	w := &webhook.Worker{Store: s, Name: name, Client: webhook.Guard{AllowPrivate: true}.Client(5 * time.Second), Logger: slog.New(slog.DiscardHandler)}
	if c != nil {
		w.Now = c.Now
	}
	return w
}

func runOnce(t *testing.T, w *webhook.Worker) int {
	t.Helper()
	n, err := w.RunOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSignatureVerifiesWithTheStandardLibrary delivers one event and
// judges the request with the Standard Webhooks project's own verifier.
func TestSignatureVerifiesWithTheStandardLibrary(t *testing.T) {
	s := openSQLite(t)
	rcv := newReceiver(t, nil)
	ep := addEndpoint(t, s, rcv.URL+"/hooks", kiosko.EventSubscriptionCreated) // one message
	sub := subscribe(t, s, time.Now())
	if n := runOnce(t, worker(s, "w", nil)); n != 1 {
		t.Fatalf("%d attempts, want 1", n)
	}
	got := rcv.deliveries()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	d := got[0]
	wh, err := standardwebhooks.NewWebhook(ep.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(d.body, d.header); err != nil {
		t.Fatalf("standard-webhooks rejects kiosko's request: %v\nheaders %v", err, d.header)
	}
	tampered := append([]byte(nil), d.body...)
	tampered[len(tampered)-2] ^= 1
	if err := wh.Verify(tampered, d.header); err == nil {
		t.Fatal("standard-webhooks accepts a changed body")
	}
	other, _ := standardwebhooks.NewWebhook(webhook.NewSecret())
	if err := other.Verify(d.body, d.header); err == nil {
		t.Fatal("standard-webhooks accepts another endpoint's secret")
	}
	var body struct {
		Type      string         `json:"type"`
		Timestamp time.Time      `json:"timestamp"`
		Data      map[string]any `json:"data"`
	}
	if err := json.Unmarshal(d.body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Type != kiosko.EventSubscriptionCreated || body.Timestamp.IsZero() || body.Data["subscription_id"] != float64(sub.ID) || body.Data["plan"] != kiosko.PlanDigital {
		t.Errorf("body = %s", d.body)
	}
	if d.header.Get("Content-Type") != "application/json" || d.header.Get("webhook-id") == "" {
		t.Errorf("headers = %v", d.header)
	}
	// Delivered once: another round sends nothing.
	if n := runOnce(t, worker(s, "w", nil)); n != 0 || len(rcv.deliveries()) != 1 {
		t.Errorf("a second round made %d attempts", n)
	}
}

// TestRetriesFollowTheSchedule fails every attempt and moves a test clock
// through Standard Webhooks' schedule: each retry comes at its time, never
// before, with the same webhook-id and a fresh valid signature; every
// attempt is logged; the last failure gives the message up and, after a
// day of failures, disables the endpoint.
func TestRetriesFollowTheSchedule(t *testing.T) {
	s := openSQLite(t)
	rcv := newReceiver(t, func(int, delivery) int { return http.StatusServiceUnavailable })
	ep := addEndpoint(t, s, rcv.URL, kiosko.EventSubscriptionCreated) // one message
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	c := &clock{now: start}
	subscribe(t, s, start)
	w := worker(s, "w", c)
	outcomes := map[string]int{}
	var disabled *webhook.Endpoint
	w.Observe = func(o string) { outcomes[o]++ }
	w.OnDisable = func(_ context.Context, e *webhook.Endpoint) { disabled = e }
	wh, _ := standardwebhooks.NewWebhook(ep.Secret)

	when := start
	if runOnce(t, w) != 1 {
		t.Fatal("no first attempt")
	}
	for i, wait := range webhook.Schedule {
		c.Set(when.Add(wait - time.Second))
		if n := runOnce(t, w); n != 0 {
			t.Fatalf("retry %d came %v early", i+1, time.Second)
		}
		when = when.Add(wait)
		c.Set(when)
		if n := runOnce(t, w); n != 1 {
			t.Fatalf("retry %d did not come after %v", i+1, wait)
		}
	}
	c.Set(when.Add(48 * time.Hour))
	if n := runOnce(t, w); n != 0 {
		t.Fatalf("%d attempts after the last retry", n)
	}

	got := rcv.deliveries()
	if len(got) != 1+len(webhook.Schedule) {
		t.Fatalf("receiver got %d requests, want %d", len(got), 1+len(webhook.Schedule))
	}
	for i, d := range got {
		if d.header.Get("webhook-id") != got[0].header.Get("webhook-id") {
			t.Errorf("attempt %d has webhook-id %q, want %q", i+1, d.header.Get("webhook-id"), got[0].header.Get("webhook-id"))
		}
		if err := wh.VerifyIgnoringTimestamp(d.body, d.header); err != nil {
			t.Errorf("attempt %d: %v", i+1, err)
		}
	}
	ms, err := s.FindWebhookMessages(t.Context(), ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Status != webhook.StatusFailed || ms[0].Attempts != 8 {
		t.Fatalf("message = %+v, want failed after 8 attempts", ms[0])
	}
	atts, err := s.FindWebhookAttempts(t.Context(), ms[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	at := start
	for i, a := range atts {
		if i > 0 {
			at = at.Add(webhook.Schedule[i-1])
		}
		if a.N != i+1 || !a.At.Equal(at) || a.StatusCode != http.StatusServiceUnavailable || a.Error == "" {
			t.Errorf("attempt %d logged as %+v, want at %v with 503", i+1, a, at)
		}
	}
	e, err := s.FindWebhookEndpoint(t.Context(), ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.Enabled || e.DisabledAt == nil {
		t.Errorf("endpoint after a day of failures = %+v, want disabled", e)
	}
	if outcomes["retried"] != len(webhook.Schedule) || outcomes["failed"] != 1 || disabled == nil || disabled.ID != ep.ID {
		t.Errorf("outcomes observed %v, disabled %v; want %d retried, 1 failed, endpoint %d disabled", outcomes, disabled, len(webhook.Schedule), ep.ID)
	}
}

// TestInOrderPerEndpoint: a failing message holds back the endpoint's
// later ones, which follow it once it is delivered; another endpoint is
// not held back.
func TestInOrderPerEndpoint(t *testing.T) {
	s := openSQLite(t)
	failFirst := newReceiver(t, func(n int, _ delivery) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	fine := newReceiver(t, nil)
	// Only subscription.created: one message per subscribe.
	addEndpoint(t, s, failFirst.URL, kiosko.EventSubscriptionCreated)
	addEndpoint(t, s, fine.URL, kiosko.EventSubscriptionCreated)
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	c := &clock{now: start}
	for i := range 3 {
		subscribe(t, s, start.Add(time.Duration(i)*time.Millisecond))
	}
	c.Set(start.Add(time.Second))
	w := worker(s, "w", c)
	runOnce(t, w)
	if n := len(failFirst.deliveries()); n != 1 {
		t.Fatalf("failing endpoint got %d requests before its retry, want 1 (the later ones wait)", n)
	}
	if n := len(fine.deliveries()); n != 3 {
		t.Fatalf("the other endpoint got %d requests, want 3", n)
	}
	c.Set(start.Add(time.Second + webhook.Schedule[0]))
	runOnce(t, w)
	ids := func(ds []delivery) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.header.Get("webhook-id"))
		}
		return out
	}
	got, want := ids(failFirst.deliveries()), ids(fine.deliveries())
	if len(got) != 4 || got[0] != got[1] || got[1] != want[0] || got[2] != want[1] || got[3] != want[2] {
		t.Errorf("failing endpoint got %v, want %v with the first repeated", got, want)
	}
}

// TestTwoNodesNeverDeliverOneMessageTwiceAtOnce runs two workers, each on
// its own connection pool to one PostgreSQL database (two nodes), against
// a receiver that notices a message arriving while it is still being
// received, and checks each message arrives once and in order.
func TestTwoNodesNeverDeliverOneMessageTwiceAtOnce(t *testing.T) {
	url := pgtest.URL(t)
	open := func() *postgres.DB {
		db, err := postgres.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := open(), open()
	var inFlight sync.Map
	var overlaps atomic.Int64
	rcv := newReceiver(t, func(_ int, d delivery) int {
		id := d.path + " " + d.header.Get("webhook-id")
		if _, busy := inFlight.LoadOrStore(id, true); busy {
			overlaps.Add(1)
		}
		time.Sleep(2 * time.Millisecond) // widen the window a double send would need
		inFlight.Delete(id)
		return http.StatusOK
	})
	const endpoints, events = 3, 15
	for i := range endpoints {
		addEndpoint(t, a, rcv.URL+"/e"+itoa(int64(i)), kiosko.EventSubscriptionCreated)
	}
	for range events {
		subscribe(t, a, time.Now())
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	var errs [2]error
	for i, db := range []*postgres.DB{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := worker(db, "node"+itoa(int64(i)), nil)
			w.Batch = 1
			for ctx.Err() == nil && len(rcv.deliveries()) < endpoints*events {
				if _, err := w.RunOnce(ctx); err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := rcv.deliveries()
	if len(got) != endpoints*events {
		t.Fatalf("receiver got %d requests, want %d", len(got), endpoints*events)
	}
	if n := overlaps.Load(); n > 0 {
		t.Errorf("%d messages arrived while the same message was still arriving", n)
	}
	// Each endpoint got each event once, in event order.
	seen := map[string]bool{}
	for _, d := range got {
		key := d.path + " " + d.header.Get("webhook-id")
		if seen[key] {
			t.Errorf("delivered twice: %s", key)
		}
		seen[key] = true
	}
	eps, err := a.FindWebhookEndpoints(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	workers := map[string]bool{}
	for _, e := range eps {
		ms, err := a.FindWebhookMessages(t.Context(), e.ID)
		if err != nil {
			t.Fatal(err)
		}
		var last time.Time
		for _, m := range ms {
			if m.Status != webhook.StatusDelivered || m.Attempts != 1 {
				t.Errorf("endpoint %d message %s: %s after %d attempts", e.ID, m.MsgID, m.Status, m.Attempts)
			}
			if m.DoneAt.Before(last) {
				t.Errorf("endpoint %d: %s delivered before the message ahead of it", e.ID, m.MsgID)
			}
			last = *m.DoneAt
			atts, _ := a.FindWebhookAttempts(t.Context(), m.ID)
			for _, at := range atts {
				workers[at.Worker] = true
			}
		}
	}
	t.Logf("workers that delivered: %v", workers)
}

func TestGuardRefusesPrivateAddresses(t *testing.T) {
	ctx := t.Context()
	for _, u := range []string{"ftp://example.com/x", "hooks.example.com/x", "http://user:pw@example.com/", "http://127.0.0.1:9/x", "http://[::1]/",
		"https://10.1.2.3/", "http://192.168.0.10/", "http://169.254.169.254/latest", "http://100.64.0.1/", "http://0.0.0.0/", "http://localhost/"} {
		if err := (webhook.Guard{}).CheckURL(ctx, u); err == nil {
			t.Errorf("CheckURL(%q) accepted", u)
		} else if kiosko.ErrorCode(err) != kiosko.EINVALID {
			t.Errorf("CheckURL(%q) = %v, want an EINVALID error", u, err)
		}
	}
	if err := (webhook.Guard{}).CheckURL(ctx, "https://93.184.215.14/hooks"); err != nil {
		t.Errorf("a public address refused: %v", err)
	}
	if err := (webhook.Guard{AllowPrivate: true}).CheckURL(ctx, "http://127.0.0.1:9/x"); err != nil {
		t.Errorf("loopback refused though allowed: %v", err)
	}
	// The delivery client checks the address it dials, too.
	rcv := newReceiver(t, nil)
	if _, err := (webhook.Guard{}).Client(time.Second).Get(rcv.URL); err == nil {
		t.Error("the default client reached a loopback receiver")
	}
	if len(rcv.deliveries()) != 0 {
		t.Error("the receiver got a request from the default client")
	}
}
