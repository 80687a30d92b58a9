package storetest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

var accountDataTests = []test{
	{"TouchDevicesOnlyMovesForward", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a := newAccount(t, s)
		ok(t, s.UpsertDevice(ctx, &kiosko.Device{AccountID: a.ID, ID: "dev-one", Name: "One", FirstSeen: t0, LastSeen: at(time.Hour)}))
		ok(t, s.UpsertDevice(ctx, &kiosko.Device{AccountID: a.ID, ID: "dev-two", Name: "Two", FirstSeen: t0, LastSeen: at(time.Hour)}))
		ok(t, s.TouchDevices(ctx, []kiosko.DeviceSeen{
			{AccountID: a.ID, DeviceID: "dev-one", At: at(2 * time.Hour)},
			{AccountID: a.ID, DeviceID: "dev-two", At: at(time.Minute)}, // older: ignored
			{AccountID: a.ID, DeviceID: "unknown", At: at(2 * time.Hour)},
		}))
		one, err := s.FindDevice(ctx, a.ID, "dev-one")
		ok(t, err)
		sameTime(t, "one.LastSeen", one.LastSeen, at(2*time.Hour))
		sameTime(t, "one.FirstSeen", one.FirstSeen, t0)
		two, err := s.FindDevice(ctx, a.ID, "dev-two")
		ok(t, err)
		sameTime(t, "two.LastSeen", two.LastSeen, at(time.Hour))
	}},
	{"DeviceLanguage", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a, b := newAccount(t, s), newAccount(t, s)
		// Signed in reading English; a sign-in that does not say keeps it.
		ok(t, s.UpsertDevice(ctx, &kiosko.Device{AccountID: a.ID, ID: "dev-lang", Name: "One", Lang: "en", FirstSeen: t0, LastSeen: t0}))
		ok(t, s.UpsertDevice(ctx, &kiosko.Device{AccountID: a.ID, ID: "dev-lang", Name: "One", FirstSeen: at(time.Minute), LastSeen: at(time.Minute)}))
		ok(t, s.UpsertDevice(ctx, &kiosko.Device{AccountID: b.ID, ID: "dev-lang", Name: "Other", Lang: "en", FirstSeen: t0, LastSeen: t0}))
		got, err := s.FindDevice(ctx, a.ID, "dev-lang")
		ok(t, err)
		if got.Lang != "en" {
			t.Fatalf("after a sign-in without a language: lang %q, want en", got.Lang)
		}
		// The reader switches to Spanish: a touch with only the language
		// changes it and leaves last seen alone; a later one moves both.
		ok(t, s.TouchDevices(ctx, []kiosko.DeviceSeen{{AccountID: a.ID, DeviceID: "dev-lang", Lang: "es"}}))
		got, err = s.FindDevice(ctx, a.ID, "dev-lang")
		ok(t, err)
		if got.Lang != "es" {
			t.Errorf("lang %q after the switch, want es", got.Lang)
		}
		sameTime(t, "LastSeen after a language-only touch", got.LastSeen, at(time.Minute))
		ok(t, s.TouchDevices(ctx, []kiosko.DeviceSeen{{AccountID: a.ID, DeviceID: "dev-lang", At: at(time.Hour), Lang: "en"}}))
		// An older touch moves nothing back but may still say the language.
		ok(t, s.TouchDevices(ctx, []kiosko.DeviceSeen{{AccountID: a.ID, DeviceID: "dev-lang", At: at(2 * time.Minute)}}))
		got, err = s.FindDevice(ctx, a.ID, "dev-lang")
		ok(t, err)
		if got.Lang != "en" {
			t.Errorf("lang %q, want en", got.Lang)
		}
		sameTime(t, "LastSeen", got.LastSeen, at(time.Hour))
		// Another account's device of the same id is untouched.
		other, err := s.FindDevice(ctx, b.ID, "dev-lang")
		ok(t, err)
		if other.Lang != "en" || !other.LastSeen.Equal(t0) {
			t.Errorf("the other account's device changed: %+v", other)
		}
		// The signed-in list carries it.
		newSession(t, s, a, "dev-lang")
		list, err := s.FindSignedInDevices(ctx, a.ID, at(time.Hour))
		ok(t, err)
		if len(list) != 1 || list[0].Lang != "en" {
			t.Errorf("signed-in devices = %+v", list)
		}
		// The export shows it.
		data, err := s.ExportAccountData(ctx, a)
		ok(t, err)
		if rows := data["devices"]; len(rows) != 1 || rows[0]["lang"] != "en" {
			t.Errorf("exported devices = %v", rows)
		}
	}},
	{"EmailTokenWorksOnceUntilItExpires", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a := newAccount(t, s)
		tok := &kiosko.EmailToken{TokenHash: []byte("hash-verify"), AccountID: a.ID, Kind: kiosko.EmailTokenVerify, Email: a.Email, CreatedAt: t0, ExpiresAt: at(48 * time.Hour)}
		ok(t, s.CreateEmailToken(ctx, tok))
		_, err := s.ConsumeEmailToken(ctx, tok.TokenHash, kiosko.EmailTokenChange, t0)
		wantCode(t, err, kiosko.ENOTFOUND) // another kind
		_, err = s.ConsumeEmailToken(ctx, tok.TokenHash, kiosko.EmailTokenVerify, at(48*time.Hour))
		wantCode(t, err, kiosko.ENOTFOUND) // expired
		got, err := s.ConsumeEmailToken(ctx, tok.TokenHash, kiosko.EmailTokenVerify, at(47*time.Hour))
		ok(t, err)
		if got.AccountID != a.ID || got.Email != a.Email || got.Kind != kiosko.EmailTokenVerify {
			t.Fatalf("ConsumeEmailToken = %+v", got)
		}
		sameTime(t, "ExpiresAt", got.ExpiresAt, tok.ExpiresAt)
		_, err = s.ConsumeEmailToken(ctx, tok.TokenHash, kiosko.EmailTokenVerify, at(time.Hour))
		wantCode(t, err, kiosko.ENOTFOUND) // used

		ok(t, s.CreateEmailToken(ctx, &kiosko.EmailToken{TokenHash: []byte("hash-a"), AccountID: a.ID, Kind: kiosko.EmailTokenChange, Email: "new@example.com", CreatedAt: t0, ExpiresAt: at(time.Hour)}))
		ok(t, s.CreateEmailToken(ctx, &kiosko.EmailToken{TokenHash: []byte("hash-b"), AccountID: a.ID, Kind: kiosko.EmailTokenVerify, Email: a.Email, CreatedAt: t0, ExpiresAt: at(time.Hour)}))
		ok(t, s.DeleteEmailTokens(ctx, a.ID, kiosko.EmailTokenChange))
		_, err = s.ConsumeEmailToken(ctx, []byte("hash-a"), kiosko.EmailTokenChange, t0)
		wantCode(t, err, kiosko.ENOTFOUND)
		_, err = s.ConsumeEmailToken(ctx, []byte("hash-b"), kiosko.EmailTokenVerify, t0)
		ok(t, err) // the other kind stays
	}},
	{"ChangeAccountEmail", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a, b := newAccount(t, s), newAccount(t, s)
		wantCode(t, s.ChangeAccountEmail(ctx, a.ID, b.Email, t0), kiosko.ECONFLICT)
		ok(t, s.ChangeAccountEmail(ctx, a.ID, "moved@example.com", at(time.Hour)))
		got, err := s.FindAccountByEmail(ctx, "moved@example.com")
		ok(t, err)
		if got.ID != a.ID {
			t.Fatalf("the new address finds account %d, want %d", got.ID, a.ID)
		}
		sameTimePtr(t, "EmailVerifiedAt", got.EmailVerifiedAt, ptr(at(time.Hour)))
		_, err = s.FindAccountByEmail(ctx, a.Email)
		wantCode(t, err, kiosko.ENOTFOUND)
		wantCode(t, s.ChangeAccountEmail(ctx, a.ID+1000, "x@example.com", t0), kiosko.ENOTFOUND)
	}},
	{"ExportHoldsTheReadersRowsOnlyWithoutSecrets", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a, other := fillAccount(t, s), fillAccount(t, s)
		data, err := s.ExportAccountData(ctx, a)
		ok(t, err)
		raw, err := json.Marshal(data)
		ok(t, err)
		js := string(raw)
		for _, want := range []string{a.Email, "Firefox on Linux", "art-1", "lector-" + a.Email} {
			if !strings.Contains(js, want) {
				t.Errorf("the export lacks %q:\n%s", want, js)
			}
		}
		for _, secret := range []string{other.Email, "argon2id", "password_hash", "token_hash", "unsubscribe_token", "secret-unsub"} {
			if strings.Contains(js, secret) {
				t.Errorf("the export holds %q:\n%s", secret, js)
			}
		}
		// events: the one written here, and those the store writes emit
		// themselves (subscription.created, seat.added, ...).
		if got := len(data["events"]); got < 1 {
			t.Errorf("export[events] has %d rows, want at least 1", got)
		}
		for table, n := range map[string]int{"accounts": 1, "devices": 1, "sessions": 1, "subscriptions": 1, "seats": 2, "metered_reads": 1,
			"newsletter_subscribers": 1, "email_tokens": 1, "lease_events": 1, "invitations": 1} {
			if got := len(data[table]); got != n {
				t.Errorf("export[%s] has %d rows, want %d", table, got, n)
			}
		}
		if len(data["events"]) == 0 {
			t.Errorf("export has no events")
		}
		if got := data["accounts"][0]["created_at"]; got != t0.Format(time.RFC3339Nano) {
			t.Errorf("created_at = %v, want a readable time", got)
		}
	}},
	{"DeleteErasesTheReaderAndNobodyElse", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a, other := fillAccount(t, s), fillAccount(t, s)
		// a holds a seat of other's subscription: it becomes free.
		otherSub, err := s.FindSubscriptionsByOwner(ctx, other.ID)
		ok(t, err)
		_, err = s.AssignSeat(ctx, otherSub[0].ID, a.ID, t0)
		ok(t, err)
		before, err := s.ExportAccountData(ctx, other)
		ok(t, err)

		evsBefore, err := s.FindEvents(ctx, kiosko.EventFilter{AccountID: a.ID})
		ok(t, err)
		ctx = kiosko.WithEvents(ctx, kiosko.NewEvent(kiosko.EventAccountDeleted, a.ID, 0, map[string]int64{"account_id": a.ID}, at(time.Hour)))
		ok(t, s.DeleteAccountData(ctx, a, []string{"signin:email:" + a.Email}))
		if _, err := s.FindAccountByID(ctx, a.ID); !kiosko.IsNotFound(err) {
			t.Fatalf("the account is still there: %v", err)
		}
		left, err := s.ExportAccountData(ctx, a)
		ok(t, err)
		for table, rows := range left {
			if table == "events" || table == "lease_events" {
				continue
			}
			if len(rows) > 0 {
				t.Errorf("after deletion %s still holds %v", table, rows)
			}
		}
		raw, _ := json.Marshal(left)
		if strings.Contains(string(raw), a.Email) {
			t.Errorf("the address is still stored: %s", raw)
		}
		evs, err := s.FindEvents(ctx, kiosko.EventFilter{AccountID: a.ID})
		ok(t, err)
		if len(evs) != len(evsBefore)+1 || evs[len(evs)-1].Type != kiosko.EventAccountDeleted {
			t.Fatalf("%d events after deletion, %d before: want them all kept and account.deleted", len(evs), len(evsBefore))
		}
		for _, e := range evs {
			if strings.Contains(string(e.Data), a.Email) {
				t.Errorf("event %s still names the reader: %s", e.Type, e.Data)
			}
		}
		if n, err := s.CountFailedSignIns(ctx, "signin:email:"+a.Email, time.Time{}); err != nil || n != 0 {
			t.Errorf("failed sign-ins left = %d, %v", n, err)
		}
		after, err := s.ExportAccountData(ctx, other)
		ok(t, err)
		for table, rows := range before {
			n := len(rows)
			if table == "seats" {
				// the seat a held is free now, still other's
				for _, r := range after[table] {
					if r["account_id"] != nil && r["account_id"] != other.ID {
						t.Errorf("seat still names someone: %v", r)
					}
				}
			}
			if len(after[table]) != n {
				t.Errorf("the other reader's %s went from %d to %d rows", table, n, len(after[table]))
			}
		}
	}},
}

// fillAccount stores a reader with a row in most tables that hold data
// about a reader: device, session, subscription (2 seats, one held by the
// owner), meter, event, lease event, newsletter subscription, link,
// failed sign-in and an invitation sent.
func fillAccount(t *testing.T, s kiosko.Store) *kiosko.Account {
	t.Helper()
	ctx := t.Context()
	a := newAccount(t, s)
	ok(t, s.UpsertDevice(ctx, &kiosko.Device{AccountID: a.ID, ID: "d_" + strings.ReplaceAll(a.Email, "@", "_"), Name: "Firefox on Linux", FirstSeen: t0, LastSeen: t0}))
	ok(t, s.CreateSession(ctx, &kiosko.Session{TokenHash: []byte("session-" + a.Email), AccountID: a.ID, DeviceID: "d1", CreatedAt: t0, LastSeenAt: t0, IdleExpiry: at(time.Hour), ExpiresAt: at(2 * time.Hour)}))
	sub := newSubscription(t, s, a, 2) // the owner takes the first seat
	ok(t, s.CreateInvitation(ctx, &kiosko.Invitation{TokenHash: []byte("inv-" + a.Email), SubscriptionID: sub.ID, Kind: kiosko.InviteByOwner, Email: "friend-" + a.Email, InvitedBy: a.ID, CreatedAt: t0, ExpiresAt: at(time.Hour)}))
	ok(t, s.AddMeteredRead(ctx, a.ID, "2026-11", "art-1"))
	ok(t, s.AppendEvents(ctx, []kiosko.Event{kiosko.NewEvent(kiosko.EventAccountCreated, a.ID, a.ID, map[string]string{"email": a.Email}, t0)}))
	ok(t, s.AppendLeaseEvents(ctx, []kiosko.LeaseEvent{{Kind: kiosko.EventClaim, AccountID: a.ID, Device: "d1", At: t0}}))
	ok(t, s.CreateEmailToken(ctx, &kiosko.EmailToken{TokenHash: []byte("tok-" + a.Email), AccountID: a.ID, Kind: kiosko.EmailTokenVerify, Email: a.Email, CreatedAt: t0, ExpiresAt: at(time.Hour)}))
	ok(t, s.RecordFailedSignIn(ctx, "signin:email:"+a.Email, t0))
	if _, err := s.FindEdition(ctx, "es"); kiosko.IsNotFound(err) {
		newEdition(t, s, "es", kiosko.LangSpanish)
	}
	ok(t, s.CreateSubscriber(ctx, &kiosko.Subscriber{Edition: "es", Email: a.Email, Name: "lector-" + a.Email, Status: kiosko.SubscriberConfirmed, Source: "form",
		UnsubscribeToken: "secret-unsub-" + a.Email, CreatedAt: t0, ConfirmedAt: ptr(t0)}))
	return a
}
