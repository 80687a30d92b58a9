package kiosko_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/inmem"
	"github.com/kiosko/kiosko/internal/password"
	"github.com/kiosko/kiosko/internal/sqlite"
)

type authFixture struct {
	auth *kiosko.Auth
	hub  *inmem.Hub
	mu   sync.Mutex
	now  time.Time
	mail *capturedMail
}

type capturedMail struct {
	mu     sync.Mutex
	tokens []string
	change int
}

func (m *capturedMail) PasswordReset(_ context.Context, _ *kiosko.Account, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens = append(m.tokens, token)
	return nil
}

func (m *capturedMail) PasswordChanged(context.Context, *kiosko.Account) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.change++
	return nil
}

func (m *capturedMail) lastToken(t *testing.T) string {
	t.Helper()
	for i := 0; i < 200; i++ {
		m.mu.Lock()
		n := len(m.tokens)
		var tok string
		if n > 0 {
			tok = m.tokens[n-1]
		}
		m.mu.Unlock()
		if tok != "" {
			return tok
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no reset email sent")
	return ""
}

func newAuth(t *testing.T) *authFixture {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f := &authFixture{hub: inmem.NewHub(), now: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC), mail: &capturedMail{}}
	settings := kiosko.DefaultAuthSettings()
	settings.FailedPerAccount, settings.FailedPerIP = 3, 5
	f.auth = &kiosko.Auth{Store: store, Hasher: &password.Hasher{Memory: 64, Time: 1, Threads: 1}, Clock: kiosko.ClockFunc(f.clock),
		Settings: settings, Hub: f.hub, Mail: f.mail}
	return f
}

func (f *authFixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *authFixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

var ctx = context.Background()

func TestSignUpValidates(t *testing.T) {
	f := newAuth(t)
	for _, tc := range []struct {
		email, pw, key string
	}{
		{"", "a long enough passphrase", "error.email_required"},
		{"not-an-email", "a long enough passphrase", "error.email_invalid"},
		{"a@b.example", "short", "error.password_too_short"},
		{"a@b.example", "password1234", "error.password_common"},
	} {
		if _, err := f.auth.SignUp(ctx, kiosko.SignUpRequest{Email: tc.email, Password: tc.pw}); kiosko.ErrorKey(err) != tc.key {
			t.Errorf("sign up %q/%q: %v, want %s", tc.email, tc.pw, err, tc.key)
		}
	}
	if _, err := f.auth.SignUp(ctx, kiosko.SignUpRequest{Email: " Reader@Example.COM ", Password: "a long enough passphrase"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth.SignUp(ctx, kiosko.SignUpRequest{Email: "reader@example.com", Password: "another long passphrase"}); kiosko.ErrorKey(err) != "error.email_taken" {
		t.Fatalf("duplicate email: %v", err)
	}
}

func TestSignInLimits(t *testing.T) {
	f := newAuth(t)
	if _, err := f.auth.SignUp(ctx, kiosko.SignUpRequest{Email: "r@example.com", Password: "the right passphrase"}); err != nil {
		t.Fatal(err)
	}
	known, err := f.auth.SignIn(ctx, "r@example.com", "the right passphrase", kiosko.Client{IP: "198.51.100.7"})
	if err != nil {
		t.Fatal(err)
	}
	// Unknown email and wrong password answer alike.
	_, e1 := f.auth.SignIn(ctx, "nobody@example.com", "whatever it is", kiosko.Client{IP: "203.0.113.1"})
	_, e2 := f.auth.SignIn(ctx, "r@example.com", "a wrong passphrase", kiosko.Client{IP: "203.0.113.1"})
	if kiosko.ErrorKey(e1) != "error.bad_credentials" || kiosko.ErrorKey(e1) != kiosko.ErrorKey(e2) {
		t.Fatalf("unknown email %v vs wrong password %v", e1, e2)
	}
	for i := 0; i < 3; i++ {
		f.auth.SignIn(ctx, "r@example.com", "a wrong passphrase", kiosko.Client{IP: "192.0.2.9"})
	}
	// The account's limit is reached: a new device is refused, even with the
	// right password, and so is one that only names a known device id; a
	// device holding its device token still gets in.
	if _, err := f.auth.SignIn(ctx, "r@example.com", "the right passphrase", kiosko.Client{IP: "192.0.2.10"}); kiosko.ErrorCode(err) != kiosko.ETOOMANY {
		t.Fatalf("new device over the limit: %v", err)
	}
	if _, err := f.auth.SignIn(ctx, "r@example.com", "the right passphrase", kiosko.Client{IP: "192.0.2.10", DeviceID: known.DeviceID}); kiosko.ErrorCode(err) != kiosko.ETOOMANY {
		t.Fatalf("a device id alone passed the limit: %v", err)
	}
	if _, err := f.auth.SignIn(ctx, "r@example.com", "the right passphrase", kiosko.Client{IP: "192.0.2.10", DeviceID: known.DeviceID, DeviceToken: known.DeviceToken}); err != nil {
		t.Fatalf("known device locked out: %v", err)
	}
	f.advance(61 * time.Minute)
	if _, err := f.auth.SignIn(ctx, "r@example.com", "the right passphrase", kiosko.Client{IP: "192.0.2.10"}); err != nil {
		t.Fatalf("limit did not end after an hour: %v", err)
	}
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	f := newAuth(t)
	f.auth.SignUp(ctx, kiosko.SignUpRequest{Email: "r@example.com", Password: "the right passphrase"})
	a, _ := f.auth.SignIn(ctx, "r@example.com", "the right passphrase", kiosko.Client{IP: "192.0.2.1"})
	b, _ := f.auth.SignIn(ctx, "r@example.com", "the right passphrase", kiosko.Client{IP: "192.0.2.2"})
	notices, cancel := f.hub.Subscribe(b.Account.ID, b.DeviceID)
	defer cancel()
	idA, err := f.auth.Authenticate(ctx, a.Token)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.auth.ChangePassword(ctx, idA, "not the password", "a fresh passphrase"); kiosko.ErrorCode(err) != kiosko.EFORBIDDEN {
		t.Fatalf("wrong current password: %v", err)
	}
	if err := f.auth.ChangePassword(ctx, idA, "the right passphrase", "a fresh passphrase"); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-notices:
		if n.Kind != kiosko.NoticeSignedOut {
			t.Fatalf("notice %+v", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the other device was not told it was signed out")
	}
	if _, err := f.auth.Authenticate(ctx, b.Token); kiosko.ErrorCode(err) != kiosko.EUNAUTHORIZED {
		t.Fatalf("other session survived: %v", err)
	}
	if _, err := f.auth.Authenticate(ctx, a.Token); err != nil {
		t.Fatalf("own session ended: %v", err)
	}
}

func TestPasswordResetOnceAndExpiring(t *testing.T) {
	f := newAuth(t)
	f.auth.SignUp(ctx, kiosko.SignUpRequest{Email: "r@example.com", Password: "the right passphrase"})
	if err := f.auth.RequestPasswordReset(ctx, "nobody@example.com", kiosko.Client{IP: "192.0.2.1"}); err != nil {
		t.Fatalf("unknown email: %v", err)
	}
	if err := f.auth.RequestPasswordReset(ctx, "r@example.com", kiosko.Client{IP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	token := f.mail.lastToken(t)
	if _, err := f.auth.ResetPassword(ctx, token, "short"); kiosko.ErrorKey(err) != "error.password_too_short" {
		t.Fatalf("weak password: %v", err)
	}
	if _, err := f.auth.ResetPassword(ctx, token, "a brand new passphrase"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth.ResetPassword(ctx, token, "yet another passphrase"); kiosko.ErrorKey(err) != "error.reset_link_invalid" {
		t.Fatalf("second use: %v", err)
	}
	f.mail.tokens = nil
	f.auth.RequestPasswordReset(ctx, "r@example.com", kiosko.Client{IP: "192.0.2.1"})
	token = f.mail.lastToken(t)
	f.advance(61 * time.Minute)
	if _, err := f.auth.ResetPassword(ctx, token, "yet another passphrase"); kiosko.ErrorKey(err) != "error.reset_link_invalid" {
		t.Fatalf("expired link: %v", err)
	}
}

func TestSessionExpiry(t *testing.T) {
	f := newAuth(t)
	f.auth.SignUp(ctx, kiosko.SignUpRequest{Email: "r@example.com", Password: "the right passphrase"})
	s, _ := f.auth.SignIn(ctx, "r@example.com", "the right passphrase", kiosko.Client{})
	f.advance(29 * 24 * time.Hour)
	if _, err := f.auth.Authenticate(ctx, s.Token); err != nil {
		t.Fatalf("session idle 29 days: %v", err)
	}
	f.advance(31 * 24 * time.Hour)
	if _, err := f.auth.Authenticate(ctx, s.Token); kiosko.ErrorCode(err) != kiosko.EUNAUTHORIZED {
		t.Fatalf("session idle 31 days still works: %v", err)
	}
	if _, err := f.auth.Authenticate(ctx, "forged-token"); kiosko.ErrorCode(err) != kiosko.EUNAUTHORIZED {
		t.Fatalf("forged token: %v", err)
	}
}
