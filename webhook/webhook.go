// Package webhook delivers kiosko's events to a publisher's systems as
// Standard Webhooks 1.0 (https://www.standardwebhooks.com): headers
// webhook-id, webhook-timestamp and webhook-signature ("v1," and the
// base64 HMAC-SHA256 of "id.timestamp.body" under a whsec_ secret), a JSON
// body {type, timestamp, data}.
//
// The event log is the outbox. The store transaction that writes an event
// also writes one Message for every enabled endpoint that wants its type
// (see Enqueue), so a change and its deliveries commit together or not at
// all. A Worker then delivers each endpoint's messages at least once, in
// order, one at a time, retrying a failure with the same webhook-id on
// Schedule, and logs every attempt.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
)

// Types are the event types an endpoint may receive (DESIGN.md,
// "Publisher integration"). Other entries of the event log stay inside.
var Types = []string{
	kiosko.EventAccountCreated,
	kiosko.EventAccountDeleted,
	kiosko.EventSubscriptionCreated,
	kiosko.EventSubscriptionUpdated,
	kiosko.EventSubscriptionCanceled,
	kiosko.EventSeatAdded,
	kiosko.EventSeatRemoved,
	kiosko.EventSharingWarningSet,
	kiosko.EventSharingWarningCleared,
	kiosko.EventNewsletterSubscribed,
	kiosko.EventNewsletterUnsubscribed,
	kiosko.EventArticlePublished,
}

// Schedule is the wait before each retry of a failed delivery: Standard
// Webhooks' schedule, about 27.6 hours in all. A message that fails its
// last retry is given up (StatusFailed).
var Schedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// DisableAfter is how long an endpoint may fail without a single success
// before a message given up disables it.
const DisableAfter = 24 * time.Hour

// Message statuses.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusFailed    = "failed"
)

// Endpoint is a URL that receives webhooks.
type Endpoint struct {
	ID           int64
	URL          string
	Secret       string   // "whsec_" and the base64 key
	Events       []string // empty: every type
	Enabled      bool
	CreatedAt    time.Time
	FailingSince *time.Time // first failure since the last success
	DisabledAt   *time.Time
}

// Wants reports whether the endpoint receives events of type typ.
func (e *Endpoint) Wants(typ string) bool {
	return e.Enabled && (len(e.Events) == 0 || slices.Contains(e.Events, typ))
}

// Message is one event on its way to one endpoint.
type Message struct {
	ID            int64
	EndpointID    int64
	EventID       int64
	MsgID         string // the webhook-id, the same on every attempt
	Type          string
	Body          []byte
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	CreatedAt     time.Time
	DoneAt        *time.Time
}

// Attempt is one try at delivering a message, as logged.
type Attempt struct {
	ID         int64
	MessageID  int64
	EndpointID int64
	N          int // 1 for the first try
	At         time.Time
	StatusCode int    // 0 when no answer came
	Error      string // why it failed; empty on success
	Duration   time.Duration
	Worker     string
}

// Outcome is what a worker records after an attempt: the message's new
// status and, while pending, when to try next.
type Outcome struct {
	Status string
	Next   time.Time
}

// Store keeps endpoints, messages and attempts. *sqlite.DB and
// *postgres.DB implement it; their event writes call Enqueue.
type Store interface {
	CreateWebhookEndpoint(ctx context.Context, e *Endpoint) error
	FindWebhookEndpoints(ctx context.Context) ([]*Endpoint, error)
	FindWebhookEndpoint(ctx context.Context, id int64) (*Endpoint, error)
	DeleteWebhookEndpoint(ctx context.Context, id int64) error
	// ClaimWebhookEndpoints makes worker the deliverer, until until, of at
	// most limit enabled endpoints whose first pending message is due at
	// now and that no other worker holds. Of two workers, only one gets an
	// endpoint.
	ClaimWebhookEndpoints(ctx context.Context, worker string, now, until time.Time, limit int) ([]*Endpoint, error)
	// ReleaseWebhookEndpoint gives up worker's claim.
	ReleaseWebhookEndpoint(ctx context.Context, id int64, worker string) error
	// NextWebhookMessage returns the endpoint's first pending message, or
	// ENOTFOUND.
	NextWebhookMessage(ctx context.Context, endpointID int64) (*Message, error)
	// RecordWebhookAttempt logs a and sets the message's outcome, if
	// worker still holds the endpoint (ECONFLICT otherwise, and nothing is
	// written). A success clears the endpoint's FailingSince, a failure
	// sets it if unset; disable also disables the endpoint.
	RecordWebhookAttempt(ctx context.Context, worker string, a *Attempt, o Outcome, disable bool) error
	FindWebhookMessages(ctx context.Context, endpointID int64) ([]*Message, error)
	FindWebhookAttempts(ctx context.Context, messageID int64) ([]*Attempt, error)
}

// Body is the JSON body of a webhook.
type Body struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// Deliverable reports whether events of type typ leave kiosko.
func Deliverable(typ string) bool { return slices.Contains(Types, typ) }

// NewMessage builds the message that carries ev to endpoint e.
func NewMessage(e *Endpoint, ev *kiosko.Event) *Message {
	data := ev.Data
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	body, err := json.Marshal(Body{Type: ev.Type, Timestamp: ev.At.UTC(), Data: data})
	if err != nil {
		panic("webhook: body: " + err.Error()) // event data is JSON by construction
	}
	return &Message{
		EndpointID: e.ID, EventID: ev.ID, MsgID: "msg_" + strconv.FormatInt(ev.ID, 10), Type: ev.Type,
		Body: body, Status: StatusPending, NextAttemptAt: ev.At, CreatedAt: ev.At,
	}
}

// Enqueue returns the messages that carry events to the endpoints that
// want them: what a store writes in the transaction of the events.
func Enqueue(endpoints []*Endpoint, events []kiosko.Event) []*Message {
	var out []*Message
	for i := range events {
		if !Deliverable(events[i].Type) {
			continue
		}
		for _, e := range endpoints {
			if e.Wants(events[i].Type) {
				out = append(out, NewMessage(e, &events[i]))
			}
		}
	}
	return out
}

// NewSecret returns a new endpoint secret: "whsec_" and 32 random bytes
// in base64.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// secretKey decodes a whsec_ secret.
func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("webhook: the secret is not whsec_ and base64")
	}
	return key, nil
}

// Sign returns the webhook-signature header value of a message sent at ts.
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", msgID, ts.Unix())
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// ParseEvents checks a comma-separated list of event types; empty means
// every type.
func ParseEvents(list string) ([]string, error) {
	var out []string
	for t := range strings.SplitSeq(list, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if !Deliverable(t) {
			return nil, kiosko.FieldError("events", "error.webhook_event_unknown",
				fmt.Sprintf("Unknown event type %q; the types are %s.", t, strings.Join(Types, ", ")))
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// Admin is whom to tell when an endpoint is disabled.
type Admin struct {
	Email, Lang string
}

// AdminDirectory lists the publication's admins. *sqlite.DB and
// *postgres.DB implement it.
type AdminDirectory interface {
	FindAdmins(ctx context.Context) ([]Admin, error)
}
