package kiosko_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/inmem"
	"github.com/kiosko/kiosko/internal/password"
	"github.com/kiosko/kiosko/internal/sqlite"
)

// countingStore counts the reads a heartbeat could make.
type countingStore struct {
	kiosko.Store
	reads atomic.Int64
}

func (s *countingStore) FindSessionByTokenHash(ctx context.Context, hash []byte) (*kiosko.Session, error) {
	s.reads.Add(1)
	return s.Store.FindSessionByTokenHash(ctx, hash)
}

func (s *countingStore) FindAccountByID(ctx context.Context, id int64) (*kiosko.Account, error) {
	s.reads.Add(1)
	return s.Store.FindAccountByID(ctx, id)
}

func (s *countingStore) FindDevice(ctx context.Context, accountID int64, deviceID string) (*kiosko.Device, error) {
	s.reads.Add(1)
	return s.Store.FindDevice(ctx, accountID, deviceID)
}

func (s *countingStore) FindSeatForAccount(ctx context.Context, accountID int64, now time.Time) (*kiosko.Seat, *kiosko.Subscription, error) {
	s.reads.Add(1)
	return s.Store.FindSeatForAccount(ctx, accountID, now)
}

// feedWorld is one node, as serve wires it: a store that publishes its
// changes to a live feed, and an Auth and a Reading that listen.
type feedWorld struct {
	db      *sqlite.DB
	counted *countingStore
	store   *kiosko.NotifyingStore
	feed    *inmem.ChangeFeed
	auth    *kiosko.Auth
	reading *kiosko.Reading
	clock   *atomic.Pointer[time.Time]
}

func newFeedWorld(t *testing.T, db *sqlite.DB, feed *inmem.ChangeFeed) *feedWorld {
	t.Helper()
	w := &feedWorld{db: db, feed: feed, clock: new(atomic.Pointer[time.Time])}
	now := time.Now().UTC()
	w.clock.Store(&now)
	clock := kiosko.ClockFunc(func() time.Time { return *w.clock.Load() })
	w.counted = &countingStore{Store: db}
	w.store = &kiosko.NotifyingStore{Store: w.counted, Changes: feed, Log: slog.New(slog.DiscardHandler)}
	s := kiosko.DefaultReadingSettings()
	w.reading = &kiosko.Reading{Store: w.store, Leases: inmem.NewLeaseEngine(s), Clock: clock, Settings: s,
		Log: slog.New(slog.DiscardHandler), Changes: feed}
	w.auth = &kiosko.Auth{Store: w.store, Hasher: &password.Hasher{Memory: 64, Time: 1, Threads: 1}, Clock: clock,
		Settings: kiosko.DefaultAuthSettings(), Hub: inmem.NewHub(), Reading: w.reading, Changes: feed, Log: slog.New(slog.DiscardHandler)}
	feed.Listen(w.auth.Forget)
	feed.Listen(w.reading.Forget)
	return w
}

func (w *feedWorld) advance(d time.Duration) {
	now := w.clock.Load().Add(d)
	w.clock.Store(&now)
}

// subscriber makes a Digital subscriber signed in on one device.
func (w *feedWorld) subscriber(t *testing.T, email string) (*kiosko.Account, *kiosko.Subscription, string) {
	t.Helper()
	now := w.clock.Load().UTC()
	a := &kiosko.Account{Email: email, PasswordHash: "x", Role: kiosko.RoleReader, Lang: "es", PasswordChangedAt: now, CreatedAt: now}
	if err := w.store.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	sub := &kiosko.Subscription{OwnerID: a.ID, PlanCode: kiosko.PlanDigital, Status: kiosko.StatusActive, Seats: 1, Currency: "EUR",
		Provider: kiosko.ProviderManual, CurrentPeriodEnd: now.AddDate(0, 1, 0), CreatedAt: now}
	if err := w.store.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	res, err := w.auth.StartSession(ctx, a, kiosko.Client{DeviceName: "Laptop"})
	if err != nil {
		t.Fatal(err)
	}
	return a, sub, res.Token
}

// heartbeat is what the API does for POST /api/v1/reading/heartbeat.
func (w *feedWorld) heartbeat(t *testing.T, token string) (string, error) {
	t.Helper()
	id, err := w.auth.Authenticate(ctx, token)
	if err != nil {
		return "", err
	}
	rd, err := w.auth.Reader(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	st, err := w.reading.Heartbeat(ctx, rd, true)
	if err != nil {
		t.Fatal(err)
	}
	return st.Status, nil
}

func openDB(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// With a live change feed, a heartbeat at steady state reads nothing from
// the database, though the page's heartbeats are far apart (the short TTLs
// would have missed every one), and a
// change made through the store still stops it at once.
func TestHeartbeatReadsNoDatabaseWithALiveFeed(t *testing.T) {
	w := newFeedWorld(t, openDB(t, filepath.Join(t.TempDir(), "k.db")), inmem.NewChangeFeed(""))
	a, sub, token := w.subscriber(t, "r@example.com")
	if st, err := w.heartbeat(t, token); err != nil || st != kiosko.ReadingOK {
		t.Fatalf("first heartbeat: %v %v", st, err)
	}
	before := w.counted.reads.Load()
	// 5 s apart, the most often a page heartbeats, for 250 s: touches are
	// due now and then (writes, not reads), and the entries stay within
	// DefaultCacheMaxAge.
	for i := 0; i < 50; i++ {
		w.advance(5 * time.Second)
		if st, err := w.heartbeat(t, token); err != nil || st != kiosko.ReadingOK {
			t.Fatalf("heartbeat %d: %v %v", i, st, err)
		}
	}
	if n := w.counted.reads.Load() - before; n != 0 {
		t.Fatalf("50 heartbeats read the database %d times, want 0", n)
	}

	// The plan ends (an admin, billing): the next heartbeat sees it.
	expired, end := kiosko.StatusExpired, w.clock.Load().Add(-time.Second)
	if _, err := w.store.UpdateSubscription(ctx, sub.ID, kiosko.SubscriptionUpdate{Status: &expired, CurrentPeriodEnd: &end}); err != nil {
		t.Fatal(err)
	}
	if st, _ := w.heartbeat(t, token); st != kiosko.ReadingPaywall {
		t.Fatalf("heartbeat after the plan ended: %s", st)
	}
	// The role changes: the cached account is not used any more.
	if err := w.store.UpdateAccountRole(ctx, a.ID, kiosko.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if id, err := w.auth.Authenticate(ctx, token); err != nil || id.Account.Role != kiosko.RoleAdmin {
		t.Fatalf("after the role changed: %v %v", id, err)
	}
}

// A session past its idle or absolute expiry is not served from the cache
// however long the cache keeps it.
func TestLongCacheKeepsExpiry(t *testing.T) {
	w := newFeedWorld(t, openDB(t, filepath.Join(t.TempDir(), "k.db")), inmem.NewChangeFeed(""))
	_, _, token := w.subscriber(t, "r@example.com")
	if _, err := w.heartbeat(t, token); err != nil {
		t.Fatal(err)
	}
	w.advance(w.auth.Settings.SessionAbsolute + time.Minute)
	if _, err := w.heartbeat(t, token); kiosko.ErrorCode(err) != kiosko.EUNAUTHORIZED {
		t.Fatalf("expired session: %v", err)
	}
}

// Two processes on one data directory without Redis: what one writes
// through its store (the command line) reaches the other's caches through
// the change file, and a seat or session changed there stops the other's
// heartbeats at its next poll.
func TestChangeFileReachesTheServer(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k.db")
	server := newFeedWorld(t, openDB(t, path), inmem.NewChangeFeed(filepath.Join(dir, "changes")))
	cli := &kiosko.NotifyingStore{Store: openDB(t, path), Changes: inmem.ChangeFile{Path: filepath.Join(dir, "changes")}}

	a, sub, token := server.subscriber(t, "r@example.com")
	_, _, other := server.subscriber(t, "s@example.com")
	for _, tok := range []string{token, other} {
		if st, err := server.heartbeat(t, tok); err != nil || st != kiosko.ReadingOK {
			t.Fatalf("heartbeat: %v %v", st, err)
		}
	}
	expired, end := kiosko.StatusExpired, time.Now().UTC().Add(-time.Second)
	if _, err := cli.UpdateSubscription(ctx, sub.ID, kiosko.SubscriptionUpdate{Status: &expired, CurrentPeriodEnd: &end}); err != nil {
		t.Fatal(err)
	}
	if st, _ := server.heartbeat(t, token); st != kiosko.ReadingOK {
		t.Fatalf("before the poll the cached seat is used; got %s", st)
	}
	server.feed.Poll()
	if st, _ := server.heartbeat(t, token); st != kiosko.ReadingPaywall {
		t.Fatalf("after the poll: %s, want paywall", st)
	}
	if _, err := cli.DeleteSessionsByAccount(ctx, a.ID, 0); err != nil {
		t.Fatal(err)
	}
	server.feed.Poll()
	if _, err := server.heartbeat(t, token); kiosko.ErrorCode(err) != kiosko.EUNAUTHORIZED {
		t.Fatalf("session ended by the command line: %v", err)
	}
	before := server.counted.reads.Load()
	if st, err := server.heartbeat(t, other); err != nil || st != kiosko.ReadingOK {
		t.Fatalf("the other reader: %v %v", st, err)
	}
	if n := server.counted.reads.Load() - before; n != 0 {
		t.Fatalf("another account's change made its heartbeat read %d times", n)
	}
}

// A change racing lookups is never undone by a lookup that read the store
// before it.
func TestChangeRacingLookups(t *testing.T) {
	w := newFeedWorld(t, openDB(t, filepath.Join(t.TempDir(), "k.db")), inmem.NewChangeFeed(""))
	for round := 0; round < 10; round++ {
		a, _, token := w.subscriber(t, "r"+string(rune('a'+round))+"@example.com")
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
						_, _ = w.auth.Authenticate(ctx, token)
					}
				}
			}()
		}
		if _, err := w.store.DeleteSessionsByAccount(ctx, a.ID, 0); err != nil {
			t.Fatal(err)
		}
		close(stop)
		wg.Wait()
		if _, err := w.auth.Authenticate(ctx, token); kiosko.ErrorCode(err) != kiosko.EUNAUTHORIZED {
			t.Fatalf("round %d: a session ended while others looked it up still works: %v", round, err)
		}
	}
}

// A cached session due a touch gets it written in the background, in one
// batch, and the write reaches the database by the time FlushTouches
// (shutdown) returns.
func TestCachedSessionTouchIsWritten(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "k.db"))
	w := newFeedWorld(t, db, inmem.NewChangeFeed(""))
	_, _, token := w.subscriber(t, "r@example.com")
	if _, err := w.auth.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	w.advance(2 * w.auth.Settings.TouchEvery)
	now := *w.clock.Load()
	if id, err := w.auth.Authenticate(ctx, token); err != nil || !id.Session.LastSeenAt.Equal(now) {
		t.Fatalf("the cached session was not touched: %v %v", id, err)
	}
	w.auth.FlushTouches(ctx)
	got, err := db.FindSessionByTokenHash(ctx, kiosko.HashToken(token))
	if err != nil {
		t.Fatal(err)
	}
	if !got.LastSeenAt.Equal(now) || !got.IdleExpiry.Equal(now.Add(w.auth.Settings.SessionIdle)) {
		t.Fatalf("stored session: last seen %v, idle expiry %v; want %v", got.LastSeenAt, got.IdleExpiry, now)
	}
}
