package storetest

import (
	"bytes"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// newSession stores a session of a on device, live for a day from t0
// (idle) and a week (absolute).
func newSession(t *testing.T, s kiosko.Store, a *kiosko.Account, device string, mod ...func(*kiosko.Session)) *kiosko.Session {
	t.Helper()
	sess := &kiosko.Session{TokenHash: kiosko.HashToken(kiosko.NewToken()), AccountID: a.ID, DeviceID: device,
		CreatedAt: t0, LastSeenAt: t0, IdleExpiry: at(24 * time.Hour), ExpiresAt: at(7 * 24 * time.Hour)}
	for _, m := range mod {
		m(sess)
	}
	if err := s.CreateSession(t.Context(), sess); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	return sess
}

func sessionID(s *kiosko.Session) int64 { return s.ID }

var sessionTests = []test{
	{"CreateAndFind", func(t *testing.T, s kiosko.Store) {
		a := newAccount(t, s)
		sess := newSession(t, s, a, "device-aaaa")
		if sess.ID == 0 {
			t.Fatal("CreateSession did not set the ID")
		}
		got, err := s.FindSessionByTokenHash(t.Context(), sess.TokenHash)
		ok(t, err)
		if got.ID != sess.ID || !bytes.Equal(got.TokenHash, sess.TokenHash) || got.AccountID != a.ID || got.DeviceID != "device-aaaa" {
			t.Errorf("found %+v, want %+v", got, sess)
		}
		sameTime(t, "CreatedAt", got.CreatedAt, sess.CreatedAt)
		sameTime(t, "LastSeenAt", got.LastSeenAt, sess.LastSeenAt)
		sameTime(t, "IdleExpiry", got.IdleExpiry, sess.IdleExpiry)
		sameTime(t, "ExpiresAt", got.ExpiresAt, sess.ExpiresAt)
	}},
	{"UnknownToken", func(t *testing.T, s kiosko.Store) {
		newSession(t, s, newAccount(t, s), "device-aaaa")
		_, err := s.FindSessionByTokenHash(t.Context(), kiosko.HashToken("nope"))
		wantCode(t, err, kiosko.ENOTFOUND)
	}},
	{"Touch", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		sess := newSession(t, s, newAccount(t, s), "device-aaaa")
		ok(t, s.TouchSession(ctx, sess.ID, at(time.Hour), at(25*time.Hour)))
		got, err := s.FindSessionByTokenHash(ctx, sess.TokenHash)
		ok(t, err)
		sameTime(t, "LastSeenAt", got.LastSeenAt, at(time.Hour))
		sameTime(t, "IdleExpiry", got.IdleExpiry, at(25*time.Hour))
		sameTime(t, "ExpiresAt", got.ExpiresAt, sess.ExpiresAt)
		wantCode(t, s.TouchSession(ctx, sess.ID+1000, t0, t0), kiosko.ENOTFOUND)
	}},
	{"Delete", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a := newAccount(t, s)
		sess, keep := newSession(t, s, a, "device-aaaa"), newSession(t, s, a, "device-aaaa")
		ok(t, s.DeleteSession(ctx, sess.ID))
		_, err := s.FindSessionByTokenHash(ctx, sess.TokenHash)
		wantCode(t, err, kiosko.ENOTFOUND)
		wantCode(t, s.DeleteSession(ctx, sess.ID), kiosko.ENOTFOUND)
		_, err = s.FindSessionByTokenHash(ctx, keep.TokenHash)
		ok(t, err)
	}},
	{"DeleteByAccountExcept", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a, b := newAccount(t, s), newAccount(t, s)
		s1, s2, s3 := newSession(t, s, a, "device-aaaa"), newSession(t, s, a, "device-bbbb"), newSession(t, s, a, "device-cccc")
		other := newSession(t, s, b, "device-aaaa")
		ended, err := s.DeleteSessionsByAccount(ctx, a.ID, s2.ID)
		ok(t, err)
		sort.Slice(ended, func(i, j int) bool { return ended[i].ID < ended[j].ID })
		sameIDs(t, "ended", ids(ended, sessionID), []int64{s1.ID, s3.ID})
		for _, e := range ended {
			if e.AccountID != a.ID || e.DeviceID == "" {
				t.Errorf("ended session %+v lacks its account or device", e)
			}
		}
		for _, gone := range []*kiosko.Session{s1, s3} {
			_, err := s.FindSessionByTokenHash(ctx, gone.TokenHash)
			wantCode(t, err, kiosko.ENOTFOUND)
		}
		for _, kept := range []*kiosko.Session{s2, other} {
			_, err := s.FindSessionByTokenHash(ctx, kept.TokenHash)
			ok(t, err)
		}
	}},
	{"DeleteByAccountAll", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a := newAccount(t, s)
		s1, s2 := newSession(t, s, a, "device-aaaa"), newSession(t, s, a, "device-bbbb")
		ended, err := s.DeleteSessionsByAccount(ctx, a.ID, 0)
		ok(t, err)
		sort.Slice(ended, func(i, j int) bool { return ended[i].ID < ended[j].ID })
		sameIDs(t, "ended", ids(ended, sessionID), []int64{s1.ID, s2.ID})
		ended, err = s.DeleteSessionsByAccount(ctx, a.ID, 0)
		ok(t, err)
		if len(ended) != 0 {
			t.Errorf("second call ended %d sessions, want 0", len(ended))
		}
	}},
	{"DeleteByDevice", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a, b := newAccount(t, s), newAccount(t, s)
		p1, p2 := newSession(t, s, a, "phone-1234"), newSession(t, s, a, "phone-1234")
		laptop := newSession(t, s, a, "laptop-1234")
		samePhoneOtherAccount := newSession(t, s, b, "phone-1234")
		ended, err := s.DeleteSessionsByDevice(ctx, a.ID, "phone-1234")
		ok(t, err)
		sort.Slice(ended, func(i, j int) bool { return ended[i].ID < ended[j].ID })
		sameIDs(t, "ended", ids(ended, sessionID), []int64{p1.ID, p2.ID})
		for _, kept := range []*kiosko.Session{laptop, samePhoneOtherAccount} {
			_, err := s.FindSessionByTokenHash(ctx, kept.TokenHash)
			ok(t, err)
		}
		ended, err = s.DeleteSessionsByDevice(ctx, a.ID, "unknown-1234")
		ok(t, err)
		if len(ended) != 0 {
			t.Errorf("unknown device ended %d sessions", len(ended))
		}
	}},
}

func newDevice(t *testing.T, s kiosko.Store, a *kiosko.Account, id string, lastSeen time.Time) *kiosko.Device {
	t.Helper()
	d := &kiosko.Device{AccountID: a.ID, ID: id, Name: "Firefox on Linux", UserAgent: "Mozilla/5.0", IP: "192.0.2.0/24",
		Place: "Madrid", FirstSeen: lastSeen, LastSeen: lastSeen}
	if err := s.UpsertDevice(t.Context(), d); err != nil {
		t.Fatalf("UpsertDevice: %v", err)
	}
	return d
}

func deviceIDs(ds []*kiosko.Device) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

var deviceTests = []test{
	{"UpsertKeepsFirstSeen", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a := newAccount(t, s)
		newDevice(t, s, a, "device-aaaa", t0)
		ok(t, s.UpsertDevice(ctx, &kiosko.Device{AccountID: a.ID, ID: "device-aaaa", Name: "Chrome on Android", UserAgent: "UA2",
			IP: "198.51.100.0/24", Place: "Lima", FirstSeen: at(time.Hour), LastSeen: at(time.Hour)}))
		got, err := s.FindDevice(ctx, a.ID, "device-aaaa")
		ok(t, err)
		if got.AccountID != a.ID || got.ID != "device-aaaa" || got.Name != "Chrome on Android" || got.UserAgent != "UA2" ||
			got.IP != "198.51.100.0/24" || got.Place != "Lima" {
			t.Errorf("device = %+v", got)
		}
		sameTime(t, "FirstSeen", got.FirstSeen, t0)
		sameTime(t, "LastSeen", got.LastSeen, at(time.Hour))
	}},
	{"ScopedToAccount", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a, b := newAccount(t, s), newAccount(t, s)
		newDevice(t, s, a, "device-aaaa", t0)
		_, err := s.FindDevice(ctx, b.ID, "device-aaaa")
		wantCode(t, err, kiosko.ENOTFOUND)
		_, err = s.FindDevice(ctx, a.ID, "device-zzzz")
		wantCode(t, err, kiosko.ENOTFOUND)
		newDevice(t, s, b, "device-aaaa", at(time.Hour))
		got, err := s.FindDevice(ctx, a.ID, "device-aaaa")
		ok(t, err)
		sameTime(t, "a's device LastSeen", got.LastSeen, t0)
	}},
	{"SignedIn", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a, b := newAccount(t, s), newAccount(t, s)
		now := at(2 * time.Hour)
		// Live, seen at different times: listed most recent first.
		newDevice(t, s, a, "old-laptop", at(10*time.Minute))
		newSession(t, s, a, "old-laptop")
		newDevice(t, s, a, "phone-1234", at(time.Hour))
		newSession(t, s, a, "phone-1234")
		// One ended and one live session: listed.
		newDevice(t, s, a, "tablet-1234", at(30*time.Minute))
		newSession(t, s, a, "tablet-1234", func(x *kiosko.Session) { x.IdleExpiry = at(time.Hour) })
		newSession(t, s, a, "tablet-1234")
		// Idle expired, absolute expired, no session, signed out: not listed.
		newDevice(t, s, a, "idle-1234", at(time.Hour))
		newSession(t, s, a, "idle-1234", func(x *kiosko.Session) { x.IdleExpiry = now })
		newDevice(t, s, a, "expired-1234", at(time.Hour))
		newSession(t, s, a, "expired-1234", func(x *kiosko.Session) { x.ExpiresAt = at(time.Hour) })
		newDevice(t, s, a, "nosession-1234", at(time.Hour))
		newDevice(t, s, a, "signedout-1234", at(time.Hour))
		out := newSession(t, s, a, "signedout-1234")
		ok(t, s.DeleteSession(ctx, out.ID))
		// Another account's device and session.
		newDevice(t, s, b, "other-1234", at(time.Hour))
		newSession(t, s, b, "other-1234")

		got, err := s.FindSignedInDevices(ctx, a.ID, now)
		ok(t, err)
		if want := []string{"phone-1234", "tablet-1234", "old-laptop"}; fmt.Sprint(deviceIDs(got)) != fmt.Sprint(want) {
			t.Errorf("signed-in devices = %v, want %v", deviceIDs(got), want)
		}
		for _, d := range got {
			if d.AccountID != a.ID || d.Name == "" {
				t.Errorf("device %+v", d)
			}
		}
	}},
}

var resetTests = []test{
	{"ConsumeOnce", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a := newAccount(t, s)
		r := &kiosko.PasswordReset{TokenHash: kiosko.HashToken("reset"), AccountID: a.ID, CreatedAt: t0, ExpiresAt: at(time.Hour)}
		ok(t, s.CreatePasswordReset(ctx, r))
		got, err := s.ConsumePasswordReset(ctx, r.TokenHash, at(59*time.Minute))
		ok(t, err)
		if got.AccountID != a.ID || !bytes.Equal(got.TokenHash, r.TokenHash) {
			t.Errorf("consumed %+v, want %+v", got, r)
		}
		sameTime(t, "CreatedAt", got.CreatedAt, r.CreatedAt)
		sameTime(t, "ExpiresAt", got.ExpiresAt, r.ExpiresAt)
		_, err = s.ConsumePasswordReset(ctx, r.TokenHash, at(59*time.Minute))
		wantCode(t, err, kiosko.ENOTFOUND)
	}},
	{"Expired", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a := newAccount(t, s)
		r := &kiosko.PasswordReset{TokenHash: kiosko.HashToken("reset"), AccountID: a.ID, CreatedAt: t0, ExpiresAt: at(time.Hour)}
		ok(t, s.CreatePasswordReset(ctx, r))
		_, err := s.ConsumePasswordReset(ctx, r.TokenHash, at(time.Hour+time.Second))
		wantCode(t, err, kiosko.ENOTFOUND)
	}},
	{"Unknown", func(t *testing.T, s kiosko.Store) {
		_, err := s.ConsumePasswordReset(t.Context(), kiosko.HashToken("never issued"), t0)
		wantCode(t, err, kiosko.ENOTFOUND)
	}},
	{"SeveralPerAccount", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a := newAccount(t, s)
		first := &kiosko.PasswordReset{TokenHash: kiosko.HashToken("first"), AccountID: a.ID, CreatedAt: t0, ExpiresAt: at(time.Hour)}
		second := &kiosko.PasswordReset{TokenHash: kiosko.HashToken("second"), AccountID: a.ID, CreatedAt: at(time.Minute), ExpiresAt: at(time.Hour + time.Minute)}
		ok(t, s.CreatePasswordReset(ctx, first))
		ok(t, s.CreatePasswordReset(ctx, second))
		for _, r := range []*kiosko.PasswordReset{first, second} {
			_, err := s.ConsumePasswordReset(ctx, r.TokenHash, at(2*time.Minute))
			ok(t, err)
		}
	}},
	{"RaceHasOneWinner", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a := newAccount(t, s)
		r := &kiosko.PasswordReset{TokenHash: kiosko.HashToken("reset"), AccountID: a.ID, CreatedAt: t0, ExpiresAt: at(time.Hour)}
		ok(t, s.CreatePasswordReset(ctx, r))
		errs := race(8, func(int) error {
			_, err := s.ConsumePasswordReset(ctx, r.TokenHash, at(time.Minute))
			return err
		})
		oneWinner(t, errs, kiosko.ENOTFOUND, "")
	}},
}

var failedSignInTests = []test{
	{"CountSince", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		for _, m := range []int{0, 10, 20, 30} {
			ok(t, s.RecordFailedSignIn(ctx, "signin:account:1", at(time.Duration(m)*time.Minute)))
		}
		ok(t, s.RecordFailedSignIn(ctx, "signin:ip:192.0.2.0/24", at(30*time.Minute)))
		for _, c := range []struct {
			key   string
			since time.Time
			want  int
		}{
			{"signin:account:1", t0.Add(-time.Hour), 4},
			{"signin:account:1", at(10 * time.Minute), 3}, // at or after since
			{"signin:account:1", at(31 * time.Minute), 0},
			{"signin:ip:192.0.2.0/24", t0, 1},
			{"signin:account:2", t0, 0},
		} {
			n, err := s.CountFailedSignIns(ctx, c.key, c.since)
			ok(t, err)
			if n != c.want {
				t.Errorf("CountFailedSignIns(%s, %v) = %d, want %d", c.key, c.since, n, c.want)
			}
		}
	}},
	{"OldAttemptsDoNotCount", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		ok(t, s.RecordFailedSignIn(ctx, "k", t0))
		// A day and more later, pruning may happen; recent counts stay right.
		ok(t, s.RecordFailedSignIn(ctx, "k", at(48*time.Hour)))
		ok(t, s.RecordFailedSignIn(ctx, "k", at(48*time.Hour+time.Minute)))
		n, err := s.CountFailedSignIns(ctx, "k", at(47*time.Hour))
		ok(t, err)
		if n != 2 {
			t.Errorf("recent failures = %d, want 2", n)
		}
	}},
}
