package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

var eventTests = []test{
	{"AppendAndFind", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		ok(t, s.AppendLeaseEvents(ctx, nil))
		// Appended out of time order: listed oldest first.
		evs := []kiosko.LeaseEvent{
			{Kind: kiosko.EventClaim, SeatID: 1, AccountID: 10, Device: "phone", At: at(2 * time.Minute)},
			{Kind: kiosko.EventTakeoverContested, SeatID: 1, AccountID: 10, Device: "laptop", OtherDevice: "phone", At: at(3 * time.Minute)},
			{Kind: kiosko.EventClaim, SeatID: 2, AccountID: 20, Device: "tablet", At: at(time.Minute)},
			{Kind: kiosko.EventWarningCleared, SeatID: 1, AccountID: 10, Reason: "password", At: at(4 * time.Minute)},
			{Kind: kiosko.EventPasswordSignOut, AccountID: 10, Device: "phone", Reason: "password", At: at(5 * time.Minute)},
		}
		ok(t, s.AppendLeaseEvents(ctx, evs[:3]))
		ok(t, s.AppendLeaseEvents(ctx, evs[3:]))
		all, err := s.FindLeaseEvents(ctx, kiosko.LeaseEventFilter{})
		ok(t, err)
		if len(all) != 5 {
			t.Fatalf("FindLeaseEvents = %d events, want 5", len(all))
		}
		for i, want := range []kiosko.LeaseEvent{evs[2], evs[0], evs[1], evs[3], evs[4]} {
			got := all[i]
			if got.ID == 0 || got.Kind != want.Kind || got.SeatID != want.SeatID || got.AccountID != want.AccountID ||
				got.Device != want.Device || got.OtherDevice != want.OtherDevice || got.Reason != want.Reason || !got.At.Equal(want.At) {
				t.Errorf("event %d = %+v, want %+v", i, got, want)
			}
		}
		kinds := func(f kiosko.LeaseEventFilter) []string {
			got, err := s.FindLeaseEvents(ctx, f)
			ok(t, err)
			out := []string{}
			for _, e := range got {
				out = append(out, e.Kind+"@"+e.At.Sub(t0).String())
			}
			return out
		}
		for _, c := range []struct {
			name string
			f    kiosko.LeaseEventFilter
			want string
		}{
			{"seat", kiosko.LeaseEventFilter{SeatID: 1}, "[claim@2m0s takeover_contested@3m0s warning_cleared@4m0s]"},
			{"account", kiosko.LeaseEventFilter{AccountID: 20}, "[claim@1m0s]"},
			{"kind", kiosko.LeaseEventFilter{Kind: kiosko.EventClaim}, "[claim@1m0s claim@2m0s]"},
			{"since inclusive", kiosko.LeaseEventFilter{Since: at(3 * time.Minute)}, "[takeover_contested@3m0s warning_cleared@4m0s password_sign_out@5m0s]"},
			{"limit", kiosko.LeaseEventFilter{AccountID: 10, Limit: 2}, "[claim@2m0s takeover_contested@3m0s]"},
			{"combined", kiosko.LeaseEventFilter{SeatID: 1, Kind: kiosko.EventClaim, Since: at(time.Minute)}, "[claim@2m0s]"},
			{"none", kiosko.LeaseEventFilter{SeatID: 99}, "[]"},
		} {
			if got := kinds(c.f); fmt.Sprint(got) != c.want {
				t.Errorf("%s: %v, want %s", c.name, got, c.want)
			}
		}
	}},
}
