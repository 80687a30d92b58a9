package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

var eventLogTests = []test{
	{"AppendAndFind", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		ok(t, s.AppendEvents(ctx, nil))
		evs := []kiosko.Event{
			kiosko.NewEvent(kiosko.EventAccountCreated, 10, 10, map[string]string{"lang": "es"}, at(time.Minute)),
			kiosko.NewEvent(kiosko.EventSubscriptionCreated, 10, 0, map[string]any{"plan": "digital", "seats": 1}, at(2*time.Minute)),
			kiosko.NewEvent(kiosko.EventAccountCreated, 20, 20, nil, at(3*time.Minute)),
			{Type: kiosko.EventArticlePublished, Data: json.RawMessage(`{"id":"una-historia","edition":"es"}`), At: at(4 * time.Minute)},
		}
		ok(t, s.AppendEvents(ctx, evs[:2]))
		ok(t, s.AppendEvents(ctx, evs[2:]))
		for i, e := range evs {
			if e.ID == 0 || (i > 0 && e.ID <= evs[i-1].ID) {
				t.Fatalf("event %d has ID %d after %d: IDs must grow with every append", i, e.ID, evs[max(i-1, 0)].ID)
			}
		}
		all, err := s.FindEvents(ctx, kiosko.EventFilter{})
		ok(t, err)
		if len(all) != len(evs) {
			t.Fatalf("FindEvents = %d events, want %d", len(all), len(evs))
		}
		for i, want := range evs {
			got := all[i]
			if got.ID != want.ID || got.Type != want.Type || got.AccountID != want.AccountID || got.ActorID != want.ActorID ||
				string(got.Data) != string(want.Data) || !got.At.Equal(want.At) {
				t.Errorf("event %d = %+v (data %s), want %+v (data %s)", i, got, got.Data, want, want.Data)
			}
		}
		if string(all[2].Data) != "{}" {
			t.Errorf("event without data stored %q, want {}", all[2].Data)
		}
		ids := func(f kiosko.EventFilter) []int64 {
			got, err := s.FindEvents(ctx, f)
			ok(t, err)
			out := []int64{}
			for _, e := range got {
				out = append(out, e.ID)
			}
			return out
		}
		for name, c := range map[string]struct {
			f    kiosko.EventFilter
			want []int64
		}{
			"account":   {kiosko.EventFilter{AccountID: 10}, []int64{evs[0].ID, evs[1].ID}},
			"types":     {kiosko.EventFilter{Types: []string{kiosko.EventAccountCreated, kiosko.EventArticlePublished}}, []int64{evs[0].ID, evs[2].ID, evs[3].ID}},
			"one type":  {kiosko.EventFilter{Types: []string{kiosko.EventSubscriptionCreated}}, []int64{evs[1].ID}},
			"after":     {kiosko.EventFilter{AfterID: evs[1].ID}, []int64{evs[2].ID, evs[3].ID}},
			"since":     {kiosko.EventFilter{Since: at(2 * time.Minute)}, []int64{evs[1].ID, evs[2].ID, evs[3].ID}},
			"until":     {kiosko.EventFilter{Until: at(2 * time.Minute)}, []int64{evs[0].ID}},
			"limit":     {kiosko.EventFilter{Limit: 2}, []int64{evs[0].ID, evs[1].ID}},
			"combined":  {kiosko.EventFilter{AccountID: 10, AfterID: evs[0].ID, Types: []string{kiosko.EventSubscriptionCreated}}, []int64{evs[1].ID}},
			"no match":  {kiosko.EventFilter{AccountID: 99}, []int64{}},
			"no type":   {kiosko.EventFilter{Types: []string{"nothing.happened"}}, []int64{}},
			"after all": {kiosko.EventFilter{AfterID: evs[3].ID}, []int64{}},
		} {
			sameIDs(t, name, ids(c.f), c.want)
		}
	}},
	{"WrittenWithTheChange", func(t *testing.T, s kiosko.Store) {
		// "test.pending" is a type no store write emits of its own, so
		// what is found of it is exactly what was pending.
		ctx := kiosko.WithEvents(t.Context(), kiosko.NewEvent("test.pending", 0, 0, map[string]string{"via": "test"}, t0))
		a := &kiosko.Account{Email: "events@example.com", PasswordHash: "h", Role: kiosko.RoleReader, Lang: kiosko.LangSpanish, CreatedAt: t0, PasswordChangedAt: t0}
		ok(t, s.CreateAccount(ctx, a))
		if kiosko.HasPendingEvents(ctx) {
			t.Error("events still pending after the write committed")
		}
		pending := kiosko.EventFilter{Types: []string{"test.pending"}}
		got, err := s.FindEvents(t.Context(), pending)
		ok(t, err)
		if len(got) != 1 || string(got[0].Data) != `{"via":"test"}` {
			t.Fatalf("events after CreateAccount = %+v, want the one pending event", got)
		}
		// A second write on the same context writes nothing more.
		b := &kiosko.Account{Email: "events2@example.com", PasswordHash: "h", Role: kiosko.RoleReader, Lang: kiosko.LangSpanish, CreatedAt: t0, PasswordChangedAt: t0}
		ok(t, s.CreateAccount(ctx, b))
		got, err = s.FindEvents(t.Context(), pending)
		ok(t, err)
		if len(got) != 1 {
			t.Errorf("%d pending events after a second write, want 1: pending events are written once", len(got))
		}
	}},
	{"NotWrittenWhenTheChangeFails", func(t *testing.T, s kiosko.Store) {
		a := newAccount(t, s)
		before, err := s.FindEvents(t.Context(), kiosko.EventFilter{})
		ok(t, err)
		ctx := kiosko.WithEvents(t.Context(), kiosko.NewEvent("test.pending", 0, 0, nil, t0))
		dup := &kiosko.Account{Email: a.Email, PasswordHash: "h", Role: kiosko.RoleReader, Lang: kiosko.LangSpanish, CreatedAt: t0, PasswordChangedAt: t0}
		wantCode(t, s.CreateAccount(ctx, dup), kiosko.ECONFLICT)
		got, err := s.FindEvents(t.Context(), kiosko.EventFilter{})
		ok(t, err)
		if len(got) != len(before) {
			t.Errorf("a failed change wrote events: %d before, %d after", len(before), len(got))
		}
		if !kiosko.HasPendingEvents(ctx) {
			t.Error("the events of a failed change are no longer pending")
		}
	}},
	{"AccountCreated", func(t *testing.T, s kiosko.Store) {
		// Every new account is an account.created event of its own, in
		// the same transaction, with the address and language a
		// publisher's CRM needs.
		a := &kiosko.Account{Email: "nueva@example.com", PasswordHash: "h", Role: kiosko.RoleReader, Lang: kiosko.LangEnglish, CreatedAt: t0, PasswordChangedAt: t0}
		ok(t, s.CreateAccount(t.Context(), a))
		got, err := s.FindEvents(t.Context(), kiosko.EventFilter{Types: []string{kiosko.EventAccountCreated}})
		ok(t, err)
		if len(got) != 1 {
			t.Fatalf("%d account.created events after one CreateAccount, want 1", len(got))
		}
		e := got[0]
		if e.AccountID != a.ID || e.ActorID != a.ID || !e.At.Equal(t0) {
			t.Errorf("event = %+v, want account and actor %d at %v", e, a.ID, t0)
		}
		var data struct {
			AccountID int64  `json:"account_id"`
			Email     string `json:"email"`
			Lang      string `json:"lang"`
		}
		ok(t, json.Unmarshal(e.Data, &data))
		if data.AccountID != a.ID || data.Email != a.Email || data.Lang != kiosko.LangEnglish {
			t.Errorf("data = %s, want the account's id, email and language", e.Data)
		}
		// A taken address creates nothing and says nothing.
		wantCode(t, s.CreateAccount(t.Context(), &kiosko.Account{Email: a.Email, PasswordHash: "h", Role: kiosko.RoleReader, Lang: kiosko.LangSpanish, CreatedAt: t0, PasswordChangedAt: t0}), kiosko.ECONFLICT)
		got, err = s.FindEvents(t.Context(), kiosko.EventFilter{Types: []string{kiosko.EventAccountCreated}})
		ok(t, err)
		if len(got) != 1 {
			t.Errorf("%d account.created events after a refused duplicate, want still 1", len(got))
		}
	}},
}
