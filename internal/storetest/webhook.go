package storetest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/webhook"
)

// hooks returns the store's webhook side, which every kiosko store has.
func hooks(t *testing.T, s kiosko.Store) webhook.Store {
	t.Helper()
	w, isHooks := s.(webhook.Store)
	if !isHooks {
		t.Fatalf("%T does not keep webhooks", s)
	}
	return w
}

// eventTypes lists the types of the events after cursor, and moves it.
func eventTypes(t *testing.T, s kiosko.Store, cursor *int64) []string {
	t.Helper()
	evs, err := s.FindEvents(t.Context(), kiosko.EventFilter{AfterID: *cursor})
	ok(t, err)
	out := []string{}
	for _, e := range evs {
		out = append(out, e.Type)
		*cursor = e.ID
	}
	return out
}

func sameTypes(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: events %v, want %v", what, got, want)
	}
}

func newEndpoint(t *testing.T, s kiosko.Store, events ...string) *webhook.Endpoint {
	t.Helper()
	e := &webhook.Endpoint{URL: "https://hooks.example.com/kiosko", Secret: webhook.NewSecret(), Events: events, Enabled: true, CreatedAt: t0}
	ok(t, hooks(t, s).CreateWebhookEndpoint(t.Context(), e))
	return e
}

var webhookTests = []test{
	{"StoreWritesEmitEvents", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		var cur int64
		owner, other := newAccount(t, s), newAccount(t, s)
		sameTypes(t, "CreateAccount twice", eventTypes(t, s, &cur), kiosko.EventAccountCreated, kiosko.EventAccountCreated)
		sub := newSubscription(t, s, owner, 2)
		sameTypes(t, "CreateSubscription", eventTypes(t, s, &cur), kiosko.EventSubscriptionCreated)

		_, err := s.UpdateSubscription(ctx, sub.ID, kiosko.SubscriptionUpdate{PlanCode: ptr(kiosko.PlanPremium)})
		ok(t, err)
		sameTypes(t, "an update that changes nothing", eventTypes(t, s, &cur))
		_, err = s.UpdateSubscription(ctx, sub.ID, kiosko.SubscriptionUpdate{Seats: ptr(3)})
		ok(t, err)
		sameTypes(t, "more seats", eventTypes(t, s, &cur), kiosko.EventSubscriptionUpdated)

		seat, err := s.AssignSeat(ctx, sub.ID, other.ID, at(time.Minute))
		ok(t, err)
		sameTypes(t, "AssignSeat", eventTypes(t, s, &cur), kiosko.EventSeatAdded)
		wantCode(t, func() error { _, err := s.AssignSeat(ctx, sub.ID, other.ID, at(time.Minute)); return err }(), kiosko.ECONFLICT)
		sameTypes(t, "a refused AssignSeat", eventTypes(t, s, &cur))

		ok(t, s.SetSeatWarning(ctx, seat.ID, ptr(at(2*time.Minute))))
		ok(t, s.SetSeatWarning(ctx, seat.ID, ptr(at(3*time.Minute))))
		ok(t, s.SetSeatWarning(ctx, seat.ID, nil))
		ok(t, s.SetSeatWarning(ctx, seat.ID, nil))
		sameTypes(t, "set, set again, clear, clear again", eventTypes(t, s, &cur), kiosko.EventSharingWarningSet, kiosko.EventSharingWarningCleared)

		ok(t, s.SetSeatWarning(ctx, seat.ID, ptr(at(4*time.Minute))))
		ok(t, s.FreeSeat(ctx, seat.ID))
		sameTypes(t, "a warned seat freed", eventTypes(t, s, &cur),
			kiosko.EventSharingWarningSet, kiosko.EventSharingWarningCleared, kiosko.EventSeatRemoved)
		evs, err := s.FindEvents(ctx, kiosko.EventFilter{Types: []string{kiosko.EventSeatRemoved}})
		ok(t, err)
		var data map[string]any
		ok(t, json.Unmarshal(evs[0].Data, &data))
		if evs[0].AccountID != other.ID || data["account_id"] != float64(other.ID) || data["subscription_id"] != float64(sub.ID) {
			t.Errorf("seat.removed = account %d, data %v; want account %d of subscription %d", evs[0].AccountID, data, other.ID, sub.ID)
		}

		_, err = s.UpdateSubscription(ctx, sub.ID, kiosko.SubscriptionUpdate{Status: ptr(kiosko.StatusCanceled)})
		ok(t, err)
		sameTypes(t, "cancel", eventTypes(t, s, &cur), kiosko.EventSubscriptionCanceled)
	}},
	{"NewsletterWritesEmitEvents", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		var cur int64
		newEdition(t, s, "wh", kiosko.LangSpanish)
		sub := newSubscriber(t, s, "wh", kiosko.SubscriberPending)
		sameTypes(t, "a pending subscriber", eventTypes(t, s, &cur))
		confirmed, err := s.ConfirmSubscriber(ctx, sub.ID, at(time.Minute))
		ok(t, err)
		again, err := s.ConfirmSubscriber(ctx, sub.ID, at(2*time.Minute))
		ok(t, err)
		if !confirmed || again {
			t.Errorf("ConfirmSubscriber = %v then %v, want true then false", confirmed, again)
		}
		sameTypes(t, "confirm twice", eventTypes(t, s, &cur), kiosko.EventNewsletterSubscribed)
		ok(t, s.UnsubscribeSubscriber(ctx, sub.ID, at(3*time.Minute)))
		ok(t, s.UnsubscribeSubscriber(ctx, sub.ID, at(4*time.Minute)))
		sameTypes(t, "unsubscribe twice", eventTypes(t, s, &cur), kiosko.EventNewsletterUnsubscribed)

		imported := []*kiosko.Subscriber{{Edition: "wh", Email: "new@example.com", Status: kiosko.SubscriberConfirmed, Source: "import", UnsubscribeToken: "tok-imp-1", CreatedAt: t0}}
		_, err = s.ImportSubscribers(ctx, imported, at(5*time.Minute), nil)
		ok(t, err)
		sameTypes(t, "import", eventTypes(t, s, &cur), kiosko.EventNewsletterSubscribed)
		evs, err := s.FindEvents(ctx, kiosko.EventFilter{AfterID: cur - 1})
		ok(t, err)
		var data map[string]any
		ok(t, json.Unmarshal(evs[0].Data, &data))
		if data["email"] != "new@example.com" || data["edition"] != "wh" {
			t.Errorf("newsletter.subscribed data = %v", data)
		}
	}},
	{"OutboxWrittenWithTheEvent", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		h := hooks(t, s)
		all := newEndpoint(t, s)
		seats := newEndpoint(t, s, kiosko.EventSeatAdded)
		// An endpoint stored disabled gets nothing.
		off2 := &webhook.Endpoint{URL: "https://off.example.com/", Secret: webhook.NewSecret(), CreatedAt: t0}
		ok(t, h.CreateWebhookEndpoint(ctx, off2))

		owner, other := newAccount(t, s), newAccount(t, s)
		sub := newSubscription(t, s, owner, 2)
		_, err := s.AssignSeat(ctx, sub.ID, other.ID, at(time.Minute))
		ok(t, err)
		// A change that fails writes no message.
		_, err = s.AssignSeat(ctx, sub.ID, newAccount(t, s).ID, at(time.Minute))
		wantCode(t, err, kiosko.EINVALID)
		// Events that are not webhook types stay inside.
		ok(t, s.AppendEvents(ctx, []kiosko.Event{kiosko.NewEvent("internal.note", 0, 0, nil, t0)}))

		msgTypes := func(e *webhook.Endpoint) []string {
			ms, err := h.FindWebhookMessages(ctx, e.ID)
			ok(t, err)
			out := []string{}
			for _, m := range ms {
				out = append(out, m.Type)
				var b webhook.Body
				ok(t, json.Unmarshal(m.Body, &b))
				if b.Type != m.Type || m.Status != webhook.StatusPending || m.MsgID == "" || len(b.Data) == 0 {
					t.Errorf("message %+v has body %s", m, m.Body)
				}
			}
			return out
		}
		// The third account, created for the refused AssignSeat, is an
		// account.created of its own: only the refused change is silent.
		sameTypes(t, "endpoint for every type", msgTypes(all), kiosko.EventAccountCreated, kiosko.EventAccountCreated,
			kiosko.EventSubscriptionCreated, kiosko.EventSeatAdded, kiosko.EventAccountCreated)
		sameTypes(t, "endpoint for seat.added", msgTypes(seats), kiosko.EventSeatAdded)
		sameTypes(t, "disabled endpoint", msgTypes(off2))

		a, _ := h.FindWebhookMessages(ctx, all.ID)
		b, _ := h.FindWebhookMessages(ctx, seats.ID)
		if a[3].MsgID != b[0].MsgID || a[2].MsgID == a[3].MsgID || a[0].MsgID == a[1].MsgID {
			t.Errorf("webhook-ids %q %q %q and %q: want one per event", a[0].MsgID, a[2].MsgID, a[3].MsgID, b[0].MsgID)
		}

		ok(t, h.DeleteWebhookEndpoint(ctx, seats.ID))
		wantCode(t, h.DeleteWebhookEndpoint(ctx, seats.ID), kiosko.ENOTFOUND)
		eps, err := h.FindWebhookEndpoints(ctx)
		ok(t, err)
		if len(eps) != 2 || eps[0].ID != all.ID || eps[0].Secret != all.Secret || len(eps[0].Events) != 0 {
			t.Errorf("endpoints after a delete = %+v", eps)
		}
	}},
	{"ClaimAndRecord", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		h := hooks(t, s)
		owner := newAccount(t, s) // before the endpoint: its account.created is not for it
		ep := newEndpoint(t, s)
		newSubscription(t, s, owner, 1) // t0
		now := at(time.Minute)

		if got, err := h.ClaimWebhookEndpoints(ctx, "w1", t0.Add(-time.Second), now.Add(time.Minute), 10); err != nil || len(got) != 0 {
			t.Fatalf("claim before the message is due = %v, %v", got, err)
		}
		got, err := h.ClaimWebhookEndpoints(ctx, "w1", now, now.Add(time.Minute), 10)
		ok(t, err)
		if len(got) != 1 || got[0].ID != ep.ID {
			t.Fatalf("w1 claimed %v, want endpoint %d", got, ep.ID)
		}
		if got, err := h.ClaimWebhookEndpoints(ctx, "w2", now, now.Add(time.Minute), 10); err != nil || len(got) != 0 {
			t.Fatalf("w2 claimed %v (%v) while w1 holds it", got, err)
		}
		m, err := h.NextWebhookMessage(ctx, ep.ID)
		ok(t, err)
		fail := &webhook.Attempt{MessageID: m.ID, EndpointID: ep.ID, N: 1, At: now, StatusCode: 500, Error: "HTTP 500", Worker: "w2"}
		wantCode(t, h.RecordWebhookAttempt(ctx, "w2", fail, webhook.Outcome{Status: webhook.StatusPending, Next: now.Add(5 * time.Second)}, false), kiosko.ECONFLICT)
		fail.Worker = "w1"
		ok(t, h.RecordWebhookAttempt(ctx, "w1", fail, webhook.Outcome{Status: webhook.StatusPending, Next: now.Add(5 * time.Second)}, false))
		ok(t, h.ReleaseWebhookEndpoint(ctx, ep.ID, "w1"))

		if got, err := h.ClaimWebhookEndpoints(ctx, "w2", now.Add(4*time.Second), now.Add(time.Minute), 10); err != nil || len(got) != 0 {
			t.Fatalf("claim before the retry is due = %v, %v", got, err)
		}
		got, err = h.ClaimWebhookEndpoints(ctx, "w2", now.Add(5*time.Second), now.Add(time.Minute), 10)
		ok(t, err)
		if len(got) != 1 || got[0].FailingSince == nil || !got[0].FailingSince.Equal(now) {
			t.Fatalf("claim at the retry = %+v, want the endpoint failing since %v", got, now)
		}
		okA := &webhook.Attempt{MessageID: m.ID, EndpointID: ep.ID, N: 2, At: now.Add(5 * time.Second), StatusCode: 204, Worker: "w2", Duration: 12 * time.Millisecond}
		ok(t, h.RecordWebhookAttempt(ctx, "w2", okA, webhook.Outcome{Status: webhook.StatusDelivered}, false))
		ok(t, h.ReleaseWebhookEndpoint(ctx, ep.ID, "w2"))
		if _, err := h.NextWebhookMessage(ctx, ep.ID); !kiosko.IsNotFound(err) {
			t.Errorf("a pending message after delivery: %v", err)
		}
		atts, err := h.FindWebhookAttempts(ctx, m.ID)
		ok(t, err)
		if len(atts) != 2 || atts[0].StatusCode != 500 || atts[0].Worker != "w1" || atts[1].N != 2 || atts[1].Duration != 12*time.Millisecond {
			t.Errorf("attempts = %+v %+v", atts[0], atts[len(atts)-1])
		}
		e, err := h.FindWebhookEndpoint(ctx, ep.ID)
		ok(t, err)
		if e.FailingSince != nil || !e.Enabled {
			t.Errorf("after a success the endpoint is %+v", e)
		}
		ms, err := h.FindWebhookMessages(ctx, ep.ID)
		ok(t, err)
		if ms[0].Status != webhook.StatusDelivered || ms[0].Attempts != 2 || ms[0].DoneAt == nil {
			t.Errorf("message after delivery = %+v", ms[0])
		}

		// Given up with disable: the endpoint is disabled and claims skip it.
		newSubscription(t, s, newAccount(t, s), 1)
		later := at(48 * time.Hour)
		got, err = h.ClaimWebhookEndpoints(ctx, "w1", later, later.Add(time.Minute), 10)
		ok(t, err)
		if len(got) != 1 {
			t.Fatalf("claim of the second message = %v", got)
		}
		m2, err := h.NextWebhookMessage(ctx, ep.ID)
		ok(t, err)
		ok(t, h.RecordWebhookAttempt(ctx, "w1", &webhook.Attempt{MessageID: m2.ID, EndpointID: ep.ID, N: 8, At: later, Error: "refused", Worker: "w1"},
			webhook.Outcome{Status: webhook.StatusFailed}, true))
		ok(t, h.ReleaseWebhookEndpoint(ctx, ep.ID, "w1"))
		e, err = h.FindWebhookEndpoint(ctx, ep.ID)
		ok(t, err)
		if e.Enabled || e.DisabledAt == nil {
			t.Errorf("endpoint after a give-up with disable = %+v", e)
		}
	}},
}

var webhookDeletionTests = []test{
	{"DeletingAnAccountScrubsItsMessages", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		h := hooks(t, s)
		ep := newEndpoint(t, s)
		a := newAccount(t, s)
		newEdition(t, s, "es", kiosko.LangSpanish)
		ok(t, s.CreateSubscriber(ctx, &kiosko.Subscriber{Edition: "es", Email: a.Email, Status: kiosko.SubscriberConfirmed, Source: "form",
			UnsubscribeToken: "unsub-scrub", CreatedAt: t0, ConfirmedAt: ptr(t0)}))
		ok(t, s.DeleteAccountData(ctx, a, nil))
		ms, err := h.FindWebhookMessages(ctx, ep.ID)
		ok(t, err)
		if len(ms) != 2 || ms[0].Type != kiosko.EventAccountCreated || ms[1].Type != kiosko.EventNewsletterSubscribed {
			t.Fatalf("messages after deleting the account: %d, want account.created and newsletter.subscribed", len(ms))
		}
		for _, m := range ms {
			if strings.Contains(string(m.Body), a.Email) {
				t.Errorf("the deleted address is still in %s", m.Body)
			}
			var b webhook.Body
			ok(t, json.Unmarshal(m.Body, &b))
			// What is left stays a well-formed message with its
			// anonymous fields.
			if !json.Valid(b.Data) || b.Timestamp.IsZero() || b.Type != m.Type {
				t.Errorf("scrubbed body = %s", m.Body)
			}
		}
	}},
}
