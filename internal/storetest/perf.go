package storetest

import (
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// perfTests cover what the hot paths use in bulk (issue 18).
var perfTests = []test{
	{"TouchSessions", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		toucher, isToucher := s.(kiosko.SessionToucher)
		if !isToucher {
			t.Fatal("the store cannot touch sessions in bulk (kiosko.SessionToucher)")
		}
		a := newAccount(t, s)
		one, two, untouched := newSession(t, s, a, "device-aaaa"), newSession(t, s, a, "device-bbbb"), newSession(t, s, a, "device-cccc")
		ended := newSession(t, s, a, "device-dddd")
		ok(t, s.DeleteSession(ctx, ended.ID))
		ok(t, toucher.TouchSessions(ctx, []kiosko.SessionTouch{
			{ID: one.ID, LastSeen: at(time.Hour), IdleExpiry: at(25 * time.Hour)},
			{ID: two.ID, LastSeen: at(2 * time.Hour), IdleExpiry: at(26 * time.Hour)},
			{ID: ended.ID, LastSeen: at(3 * time.Hour), IdleExpiry: at(27 * time.Hour)}, // skipped, no error
		}))
		ok(t, toucher.TouchSessions(ctx, nil))
		for _, c := range []struct {
			sess       *kiosko.Session
			seen, idle time.Time
		}{{one, at(time.Hour), at(25 * time.Hour)}, {two, at(2 * time.Hour), at(26 * time.Hour)}, {untouched, t0, untouched.IdleExpiry}} {
			got, err := s.FindSessionByTokenHash(ctx, c.sess.TokenHash)
			ok(t, err)
			sameTime(t, "LastSeenAt", got.LastSeenAt, c.seen)
			sameTime(t, "IdleExpiry", got.IdleExpiry, c.idle)
			sameTime(t, "ExpiresAt", got.ExpiresAt, c.sess.ExpiresAt)
		}
		if _, err := s.FindSessionByTokenHash(ctx, ended.TokenHash); kiosko.ErrorCode(err) != kiosko.ENOTFOUND {
			t.Fatalf("an ended session came back: %v", err)
		}
	}},
}
