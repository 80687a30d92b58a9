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
		ctx := kiosko.WithEvents(t.Context(), kiosko.NewEvent(kiosko.EventAccountCreated, 0, 0, map[string]string{"via": "test"}, t0))
		a := &kiosko.Account{Email: "events@example.com", PasswordHash: "h", Role: kiosko.RoleReader, Lang: kiosko.LangSpanish, CreatedAt: t0, PasswordChangedAt: t0}
		ok(t, s.CreateAccount(ctx, a))
		if kiosko.HasPendingEvents(ctx) {
			t.Error("events still pending after the write committed")
		}
		got, err := s.FindEvents(t.Context(), kiosko.EventFilter{Types: []string{kiosko.EventAccountCreated}})
		ok(t, err)
		if len(got) != 1 || string(got[0].Data) != `{"via":"test"}` {
			t.Fatalf("events after CreateAccount = %+v, want the one pending event", got)
		}
		// A second write on the same context writes nothing more.
		b := &kiosko.Account{Email: "events2@example.com", PasswordHash: "h", Role: kiosko.RoleReader, Lang: kiosko.LangSpanish, CreatedAt: t0, PasswordChangedAt: t0}
		ok(t, s.CreateAccount(ctx, b))
		got, err = s.FindEvents(t.Context(), kiosko.EventFilter{})
		ok(t, err)
		if len(got) != 1 {
			t.Errorf("%d events after a second write, want 1: pending events are written once", len(got))
		}
	}},
	{"NotWrittenWhenTheChangeFails", func(t *testing.T, s kiosko.Store) {
		a := newAccount(t, s)
		ctx := kiosko.WithEvents(t.Context(), kiosko.NewEvent(kiosko.EventAccountCreated, 0, 0, nil, t0))
		dup := &kiosko.Account{Email: a.Email, PasswordHash: "h", Role: kiosko.RoleReader, Lang: kiosko.LangSpanish, CreatedAt: t0, PasswordChangedAt: t0}
		wantCode(t, s.CreateAccount(ctx, dup), kiosko.ECONFLICT)
		got, err := s.FindEvents(t.Context(), kiosko.EventFilter{})
		ok(t, err)
		if len(got) != 0 {
			t.Errorf("a failed change wrote events: %+v", got)
		}
		if !kiosko.HasPendingEvents(ctx) {
			t.Error("the events of a failed change are no longer pending")
		}
	}},
}
