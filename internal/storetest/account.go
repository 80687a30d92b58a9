package storetest

import (
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

var accountTests = []test{
	{"CreateAndFind", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		verified := at(time.Minute)
		a := &kiosko.Account{Email: "ana@example.com", Name: "Ana", PasswordHash: "hash", Role: kiosko.RoleEditor,
			Lang: kiosko.LangEnglish, EmailVerifiedAt: &verified, PasswordChangedAt: at(time.Second), CreatedAt: t0}
		ok(t, s.CreateAccount(ctx, a))
		if a.ID == 0 {
			t.Fatal("CreateAccount did not set the ID")
		}
		for name, find := range map[string]func() (*kiosko.Account, error){
			"ByID":    func() (*kiosko.Account, error) { return s.FindAccountByID(ctx, a.ID) },
			"ByEmail": func() (*kiosko.Account, error) { return s.FindAccountByEmail(ctx, "ana@example.com") },
		} {
			got, err := find()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got.ID != a.ID || got.Email != a.Email || got.Name != a.Name || got.PasswordHash != a.PasswordHash ||
				got.Role != a.Role || got.Lang != a.Lang {
				t.Errorf("%s = %+v, want %+v", name, got, a)
			}
			sameTimePtr(t, name+" EmailVerifiedAt", got.EmailVerifiedAt, a.EmailVerifiedAt)
			sameTime(t, name+" PasswordChangedAt", got.PasswordChangedAt, a.PasswordChangedAt)
			sameTime(t, name+" CreatedAt", got.CreatedAt, a.CreatedAt)
		}
	}},
	{"UnverifiedEmailIsNil", func(t *testing.T, s kiosko.Store) {
		a := newAccount(t, s)
		got, err := s.FindAccountByID(t.Context(), a.ID)
		ok(t, err)
		if got.EmailVerifiedAt != nil {
			t.Errorf("EmailVerifiedAt = %v, want nil", got.EmailVerifiedAt)
		}
	}},
	{"EmailTaken", func(t *testing.T, s kiosko.Store) {
		a := newAccount(t, s)
		dup := &kiosko.Account{Email: a.Email, PasswordHash: "h", Role: kiosko.RoleReader, Lang: kiosko.LangSpanish, CreatedAt: t0, PasswordChangedAt: t0}
		wantCode(t, s.CreateAccount(t.Context(), dup), kiosko.ECONFLICT)
	}},
	{"NotFound", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a := newAccount(t, s)
		_, err := s.FindAccountByID(ctx, a.ID+1000)
		wantCode(t, err, kiosko.ENOTFOUND)
		_, err = s.FindAccountByEmail(ctx, "nobody@example.com")
		wantCode(t, err, kiosko.ENOTFOUND)
		wantCode(t, s.UpdateAccountPassword(ctx, a.ID+1000, "h", t0), kiosko.ENOTFOUND)
		wantCode(t, s.MarkEmailVerified(ctx, a.ID+1000, t0), kiosko.ENOTFOUND)
		wantCode(t, s.UpdateAccountRole(ctx, a.ID+1000, kiosko.RoleAdmin), kiosko.ENOTFOUND)
	}},
	{"Updates", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a, other := newAccount(t, s), newAccount(t, s)
		ok(t, s.UpdateAccountPassword(ctx, a.ID, "new-hash", at(time.Hour)))
		ok(t, s.MarkEmailVerified(ctx, a.ID, at(2*time.Hour)))
		ok(t, s.UpdateAccountRole(ctx, a.ID, kiosko.RoleAdmin))
		got, err := s.FindAccountByID(ctx, a.ID)
		ok(t, err)
		if got.PasswordHash != "new-hash" || got.Role != kiosko.RoleAdmin || got.Email != a.Email {
			t.Errorf("after updates: %+v", got)
		}
		sameTime(t, "PasswordChangedAt", got.PasswordChangedAt, at(time.Hour))
		sameTimePtr(t, "EmailVerifiedAt", got.EmailVerifiedAt, ptr(at(2*time.Hour)))
		o, err := s.FindAccountByID(ctx, other.ID)
		ok(t, err)
		if o.PasswordHash != other.PasswordHash || o.Role != other.Role || o.EmailVerifiedAt != nil {
			t.Errorf("another account changed: %+v", o)
		}
	}},
}
