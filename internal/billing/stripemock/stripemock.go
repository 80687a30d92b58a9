// Package stripemock runs stripe-mock (github.com/stripe/stripe-mock), the
// Stripe API peer of tests, on free local ports.
//
// The binary must be installed (go install
// github.com/stripe/stripe-mock@v0.203.0); a missing binary fails the test
// rather than skipping it, so a green run means Stripe calls were really
// made. $STRIPE_MOCK names the binary explicitly.
package stripemock

import (
	"encoding/json"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"
)

// Start runs stripe-mock until the test ends and returns its HTTP base URL,
// for KIOSKO_STRIPE_API_URL.
func Start(t testing.TB) string {
	t.Helper()
	bin := Binary()
	if bin == "" {
		t.Fatal("stripe-mock: binary not found; install it: go install github.com/stripe/stripe-mock@v0.203.0 (or set $STRIPE_MOCK)")
	}
	var lastErr error
	for try := 0; try < 3; try++ { // a free port can be taken between lookup and use
		httpPort, httpsPort := freePort(t), freePort(t)
		cmd := exec.Command(bin, "-http-port", fmt.Sprint(httpPort), "-https-port", fmt.Sprint(httpsPort))
		cmd.Stdout, cmd.Stderr = nil, nil
		if err := cmd.Start(); err != nil {
			t.Fatalf("stripe-mock: %v", err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		url := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
		if lastErr = waitReady(url, exited); lastErr == nil {
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
			})
			return url
		}
		_ = cmd.Process.Kill()
		<-exited
	}
	t.Fatalf("stripe-mock did not start: %v", lastErr)
	return ""
}

// Binary finds stripe-mock: $STRIPE_MOCK, $PATH, then $GOPATH/bin.
func Binary() string {
	if b := os.Getenv("STRIPE_MOCK"); b != "" {
		return b
	}
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		gopath = build.Default.GOPATH
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "stripe-mock")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitReady(url string, exited <-chan struct{}) error {
	deadline := time.Now().Add(20 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("stripe-mock exited")
		default:
		}
		req, _ := http.NewRequest(http.MethodGet, url+"/v1/customers", nil)
		req.Header.Set("Authorization", "Bearer sk_test_123")
		if res, err := client.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no answer on %s", url)
}

// Event is a webhook event signed with secret as Stripe signs it, now: the
// payload and its Stripe-Signature header. object is the event's
// data.object (a map or a stripe-go type marshalled to JSON).
func Event(t testing.TB, secret, id, typ string, created time.Time, object any) (payload []byte, signature string) {
	t.Helper()
	payload = EventPayload(t, id, typ, created, object)
	return payload, Sign(payload, secret, time.Now())
}

// Sign is the Stripe-Signature header of payload signed with secret at
// the moment at: a well-formed header, valid or not depending on the
// secret and on how long ago at was.
func Sign(payload []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at}).Header
}

// EventPayload is the body of a webhook event, unsigned.
func EventPayload(t testing.TB, id, typ string, created time.Time, object any) []byte {
	t.Helper()
	obj, err := json.Marshal(object)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "type": typ, "created": created.Unix(), "api_version": stripe.APIVersion,
		"livemode": false, "data": map[string]json.RawMessage{"object": obj},
	})
	if err != nil {
		t.Fatal(err)
	}
	return payload
}

// Subscription is the data.object of a customer.subscription.* event.
type Subscription struct {
	ID                string
	Customer          string
	Status            string // active, past_due, canceled…
	AccountID         int64
	Plan              string
	Seats             int   // metadata seats
	Quantity          int64 // of the one item (1 unless sold by the seat)
	UnitAmount        int64
	Currency          string
	PeriodEnd         time.Time
	CancelAtPeriodEnd bool
}

// Object renders s as Stripe's JSON.
func (s Subscription) Object() map[string]any {
	return map[string]any{
		"id": s.ID, "object": "subscription", "customer": s.Customer, "status": s.Status, "currency": s.Currency,
		"cancel_at_period_end": s.CancelAtPeriodEnd,
		"metadata":             map[string]string{"kiosko_account": fmt.Sprint(s.AccountID), "kiosko_plan": s.Plan, "kiosko_seats": fmt.Sprint(s.Seats)},
		"items": map[string]any{"object": "list", "data": []map[string]any{{
			"id": "si_" + s.ID, "object": "subscription_item", "quantity": s.Quantity, "current_period_end": s.PeriodEnd.Unix(),
			"price": map[string]any{"id": "price_" + s.ID, "object": "price", "unit_amount": s.UnitAmount, "currency": s.Currency},
		}}},
	}
}

// Invoice is the data.object of an invoice.paid or invoice.payment_failed event.
func Invoice(id, subscription, customer string, amountPaid int64, periodEnd time.Time) map[string]any {
	return map[string]any{
		"id": id, "object": "invoice", "customer": customer, "amount_paid": amountPaid, "currency": "eur",
		"parent": map[string]any{"type": "subscription_details", "subscription_details": map[string]any{"subscription": subscription}},
		"lines":  map[string]any{"object": "list", "data": []map[string]any{{"id": "il_" + id, "object": "line_item", "period": map[string]any{"start": periodEnd.AddDate(0, -1, 0).Unix(), "end": periodEnd.Unix()}}}},
	}
}

// CheckoutSession is the data.object of a checkout.session.completed event.
func CheckoutSession(id string, accountID int64, customer, subscription, plan string, seats int) map[string]any {
	return map[string]any{
		"id": id, "object": "checkout.session", "mode": "subscription", "payment_status": "paid", "status": "complete",
		"client_reference_id": fmt.Sprint(accountID), "customer": customer, "subscription": subscription, "currency": "eur",
		"metadata": map[string]string{"kiosko_account": fmt.Sprint(accountID), "kiosko_plan": plan, "kiosko_seats": fmt.Sprint(seats)},
	}
}
