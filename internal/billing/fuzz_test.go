package billing_test

import (
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/billing"
)

// FuzzStripeWebhook: any payload, correctly signed, is read or refused
// with a user error (never a panic or an internal error); any signature
// header on a fixed payload is refused unless it is the right one.
func FuzzStripeWebhook(f *testing.F) {
	s, err := billing.NewStripe(billing.StripeConfig{Key: "sk_test_123", WebhookSecret: secret})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"id":"evt_1","object":"event","type":"customer.subscription.created","api_version":"2025-03-31.basil","data":{"object":{"id":"sub_1","metadata":{"account_id":"x"}}}}`), "t=1,v1=00")
	f.Add([]byte(`{"id":"evt_2","type":"checkout.session.completed","data":{"object":{"mode":"subscription"}}}`), "t=9999999999,v1=")
	f.Add([]byte(`[]`), "")
	f.Fuzz(func(t *testing.T, payload []byte, header string) {
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: time.Now()})
		if _, err := s.ParseEvent(payload, signed.Header); err != nil && kiosko.ErrorCode(err) == kiosko.EINTERNAL {
			t.Fatalf("internal error for a signed payload: %v", err)
		}
		if header != signed.Header {
			if ev, err := s.ParseEvent(payload, header); err == nil && ev != nil {
				t.Fatalf("header %q accepted for a payload it does not sign", header)
			}
		}
	})
}
