package kiosko_test

import (
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/inmem"
	"github.com/kiosko/kiosko/internal/sqlite"
)

// signedIn signs up an account and signs it in on n devices.
func (f *authFixture) signedIn(t *testing.T, email string, n int) []*kiosko.SignInResult {
	t.Helper()
	if _, err := f.auth.SignUp(ctx, kiosko.SignUpRequest{Email: email, Password: "the right passphrase"}); err != nil {
		t.Fatal(err)
	}
	var out []*kiosko.SignInResult
	for i := 0; i < n; i++ {
		res, err := f.auth.SignIn(ctx, email, "the right passphrase", kiosko.Client{IP: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res)
	}
	return out
}

func (f *authFixture) mustAuthenticate(t *testing.T, token string) *kiosko.Identity {
	t.Helper()
	id, err := f.auth.Authenticate(ctx, token)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return id
}

func (f *authFixture) mustBeSignedOut(t *testing.T, token, why string) {
	t.Helper()
	if _, err := f.auth.Authenticate(ctx, token); kiosko.ErrorCode(err) != kiosko.EUNAUTHORIZED {
		t.Fatalf("%s: the session still works (%v)", why, err)
	}
}

// A session ended on this node stops working at once, however long the
// cache would keep it.
func TestSessionCacheForgetsEndedSessionsAtOnce(t *testing.T) {
	f := newAuth(t)
	f.auth.Settings.SessionCacheTTL = time.Hour
	s := f.signedIn(t, "r@example.com", 4)
	for _, r := range s {
		f.mustAuthenticate(t, r.Token) // now cached
	}
	id0 := f.mustAuthenticate(t, s[0].Token)

	if err := f.auth.SignOut(ctx, f.mustAuthenticate(t, s[3].Token)); err != nil {
		t.Fatal(err)
	}
	f.mustBeSignedOut(t, s[3].Token, "signed out")
	if err := f.auth.SignOutDevice(ctx, id0, s[2].DeviceID, "the right passphrase"); err != nil {
		t.Fatal(err)
	}
	f.mustBeSignedOut(t, s[2].Token, "device signed out")
	if err := f.auth.SignOutOthers(ctx, id0, "the right passphrase"); err != nil {
		t.Fatal(err)
	}
	f.mustBeSignedOut(t, s[1].Token, "signed out everywhere else")
	f.mustAuthenticate(t, s[0].Token)

	// A password change ends every other session and changes the account
	// the kept one sees.
	more := f.signedIn(t, "s@example.com", 2)
	f.mustAuthenticate(t, more[1].Token)
	keep := f.mustAuthenticate(t, more[0].Token)
	if err := f.auth.ChangePassword(ctx, keep, "the right passphrase", "a fresh passphrase"); err != nil {
		t.Fatal(err)
	}
	f.mustBeSignedOut(t, more[1].Token, "password changed")
	if got := f.mustAuthenticate(t, more[0].Token); got.Account.PasswordHash != keep.Account.PasswordHash {
		t.Fatal("the kept session sees the old password hash")
	}
}

// A session ended in the database by someone else (another node) works
// here for at most SessionCacheTTL.
func TestSessionCacheTTLBoundsOtherNodes(t *testing.T) {
	f := newAuth(t)
	f.auth.Settings.SessionCacheTTL = 50 * time.Millisecond
	s := f.signedIn(t, "r@example.com", 1)
	id := f.mustAuthenticate(t, s[0].Token)
	if err := f.auth.Store.DeleteSession(ctx, id.Session.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	f.mustBeSignedOut(t, s[0].Token, "ended elsewhere, TTL passed")

	f.auth.Settings.SessionCacheTTL = -1 // off
	s = f.signedIn(t, "s@example.com", 1)
	id = f.mustAuthenticate(t, s[0].Token)
	if err := f.auth.Store.DeleteSession(ctx, id.Session.ID); err != nil {
		t.Fatal(err)
	}
	f.mustBeSignedOut(t, s[0].Token, "ended elsewhere, cache off")
}

// A cached session still expires on time, and callers get copies they may
// change.
func TestSessionCacheKeepsExpiryAndCopies(t *testing.T) {
	f := newAuth(t)
	f.auth.Settings.SessionCacheTTL = time.Hour
	s := f.signedIn(t, "r@example.com", 1)
	id := f.mustAuthenticate(t, s[0].Token)
	id.Account.Name, id.Session.DeviceID = "changed by a handler", "changed"
	if again := f.mustAuthenticate(t, s[0].Token); again.Account.Name == "changed by a handler" || again.Session.DeviceID == "changed" {
		t.Fatal("a caller's change leaked into the cache")
	}
	f.advance(f.auth.Settings.SessionAbsolute + time.Minute)
	f.mustBeSignedOut(t, s[0].Token, "expired")
}

// Authenticating while the session is being ended never brings it back.
func TestSessionCacheRacingSignOut(t *testing.T) {
	f := newAuth(t)
	f.auth.Settings.SessionCacheTTL = time.Hour
	for round := 0; round < 20; round++ {
		s := f.signedIn(t, "r"+string(rune('a'+round))+"@example.com", 1)
		id := f.mustAuthenticate(t, s[0].Token)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
						_, _ = f.auth.Authenticate(ctx, s[0].Token)
					}
				}
			}()
		}
		if err := f.auth.SignOut(ctx, id); err != nil {
			t.Fatal(err)
		}
		f.mustBeSignedOut(t, s[0].Token, "signed out while others authenticated")
		close(stop)
		wg.Wait()
		f.mustBeSignedOut(t, s[0].Token, "signed out while others authenticated")
	}
}

// seatWorld is a Reading on a real store: one Digital subscriber.
type seatWorld struct {
	r     *kiosko.Reading
	store *sqlite.DB
	acct  *kiosko.Account
	sub   *kiosko.Subscription
	seat  *kiosko.Seat
}

func newSeatWorld(t *testing.T, ttl time.Duration) *seatWorld {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := time.Now().UTC()
	a := &kiosko.Account{Email: "r@example.com", PasswordHash: "x", Role: kiosko.RoleReader, Lang: "es", PasswordChangedAt: now, CreatedAt: now}
	if err := store.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	sub := &kiosko.Subscription{OwnerID: a.ID, PlanCode: kiosko.PlanDigital, Status: kiosko.StatusActive, Seats: 1, Currency: "EUR",
		Provider: kiosko.ProviderManual, CurrentPeriodEnd: now.AddDate(0, 1, 0), CreatedAt: now}
	if err := store.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	seat, _, err := store.FindSeatForAccount(ctx, a.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	s := kiosko.DefaultReadingSettings()
	r := &kiosko.Reading{Store: store, Leases: inmem.NewLeaseEngine(s), Clock: kiosko.SystemClock{}, Settings: s,
		Log: slog.New(slog.DiscardHandler), SeatCacheTTL: ttl}
	return &seatWorld{r: r, store: store, acct: a, sub: sub, seat: seat}
}

func (w *seatWorld) heartbeat(t *testing.T) kiosko.ReadingStatus {
	t.Helper()
	st, err := w.r.Heartbeat(ctx, kiosko.Reader{Account: w.acct, DeviceID: "d_laptop0001", DeviceName: "Laptop"}, true)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// A plan revoked in the database (the command line, another node) stops
// heartbeats within SeatCacheTTL, and other calls at once.
func TestSeatCacheRevokedPlan(t *testing.T) {
	w := newSeatWorld(t, 50*time.Millisecond)
	if st := w.heartbeat(t); st.Status != kiosko.ReadingOK {
		t.Fatalf("heartbeat: %+v", st)
	}
	expired, end := kiosko.StatusExpired, time.Now().UTC().Add(-time.Second)
	if _, err := w.store.UpdateSubscription(ctx, w.sub.ID, kiosko.SubscriptionUpdate{Status: &expired, CurrentPeriodEnd: &end}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.r.Seat(ctx, w.acct.ID); !kiosko.IsNotFound(err) {
		t.Fatalf("seat after the plan ended: %v", err)
	}
	time.Sleep(60 * time.Millisecond)
	if st := w.heartbeat(t); st.Status != kiosko.ReadingPaywall {
		t.Fatalf("heartbeat once the TTL passed: %+v", st)
	}
}

// A warning set elsewhere shows within the TTL; one lifted on this node
// is gone at once.
func TestSeatCacheFollowsWarnings(t *testing.T) {
	w := newSeatWorld(t, 50*time.Millisecond)
	w.heartbeat(t)
	at := time.Now().UTC()
	if err := w.store.SetSeatWarning(ctx, w.seat.ID, &at); err != nil {
		t.Fatal(err)
	}
	if !w.r.Warned(ctx, w.acct.ID) {
		t.Fatal("a page does not show a warning set elsewhere")
	}
	time.Sleep(60 * time.Millisecond)
	if st := w.heartbeat(t); !st.SharingWarning {
		t.Fatal("heartbeat misses a warning set elsewhere once the TTL passed")
	}
	w.r.SeatCacheTTL = time.Hour
	w.heartbeat(t)
	if err := w.r.ClearSeatWarning(ctx, w.seat.ID, w.acct.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	if st := w.heartbeat(t); st.SharingWarning {
		t.Fatal("heartbeat still warns after the warning was lifted on this node")
	}
}
