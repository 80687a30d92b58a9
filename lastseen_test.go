package kiosko_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// countingTouch counts the batches written to the store.
type countingTouch struct {
	kiosko.Store
	batches atomic.Int64
}

func (c *countingTouch) TouchDevices(ctx context.Context, seen []kiosko.DeviceSeen) error {
	c.batches.Add(1)
	return c.Store.TouchDevices(ctx, seen)
}

// TestLastSeenMovesWithRequestsInOneBatch: every authenticated request
// (a heartbeat is one) moves the device's last seen, but in memory; the
// flush writes them all in one batch, and only forward.
func TestLastSeenMovesWithRequestsInOneBatch(t *testing.T) {
	f := newAuth(t)
	store := &countingTouch{Store: f.auth.Store}
	f.auth.Seen = &kiosko.DeviceActivity{Store: store}
	f.auth.Country = func(ip string) string {
		if ip == "8.8.8.8" {
			return "US"
		}
		return ""
	}
	if _, err := f.auth.SignUp(ctx, kiosko.SignUpRequest{Email: "ana@example.com", Password: "a long enough passphrase"}); err != nil {
		t.Fatal(err)
	}
	start := f.clock()
	res, err := f.auth.SignIn(ctx, "ana@example.com", "a long enough passphrase", kiosko.Client{IP: "8.8.8.8", UserAgent: "test", Place: "Europe/Madrid"})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := f.auth.Store.FindDevice(ctx, res.Account.ID, res.DeviceID)
	if err != nil {
		t.Fatal(err)
	}
	if dev.Place != "US" || dev.IP != "" {
		t.Errorf("device place %q, ip %q: want the country alone", dev.Place, dev.IP)
	}
	for i := 0; i < 100; i++ { // 100 heartbeats, 30 s apart
		f.advance(30 * time.Second)
		if _, err := f.auth.Authenticate(ctx, res.Token); err != nil {
			t.Fatal(err)
		}
	}
	if n := store.batches.Load(); n != 0 {
		t.Fatalf("%d batches written before a flush", n)
	}
	if dev, _ := f.auth.Store.FindDevice(ctx, res.Account.ID, res.DeviceID); !dev.LastSeen.Equal(start) {
		t.Fatalf("last seen moved before the flush: %v", dev.LastSeen)
	}
	if err := f.auth.Seen.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := store.batches.Load(); n != 1 {
		t.Errorf("%d batches for one flush", n)
	}
	want := start.Add(100 * 30 * time.Second)
	if dev, _ := f.auth.Store.FindDevice(ctx, res.Account.ID, res.DeviceID); !dev.LastSeen.Equal(want) {
		t.Errorf("last seen = %v, want %v", dev.LastSeen, want)
	}
	// An older time never moves it back; nothing noted writes nothing.
	f.auth.Seen.Note(res.Account.ID, res.DeviceID, start)
	if err := f.auth.Seen.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if dev, _ := f.auth.Store.FindDevice(ctx, res.Account.ID, res.DeviceID); !dev.LastSeen.Equal(want) {
		t.Errorf("last seen went back to %v", dev.LastSeen)
	}
	if err := f.auth.Seen.Flush(ctx); err != nil || store.batches.Load() != 2 {
		t.Errorf("an empty flush wrote: %d batches, %v", store.batches.Load(), err)
	}
}

// TestDeviceActivityNotesWhileFlushing: requests keep noting while a
// flush writes; nothing is lost and the newest time wins (run with -race).
func TestDeviceActivityNotesWhileFlushing(t *testing.T) {
	f := newAuth(t)
	a := &kiosko.Account{Email: "race@example.com", PasswordHash: "x", Role: kiosko.RoleReader, Lang: "es", CreatedAt: f.clock()}
	if err := f.auth.Store.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	t0 := f.clock()
	if err := f.auth.Store.UpsertDevice(ctx, &kiosko.Device{AccountID: a.ID, ID: "device-race", FirstSeen: t0, LastSeen: t0}); err != nil {
		t.Fatal(err)
	}
	d := &kiosko.DeviceActivity{Store: f.auth.Store}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= 2000; i++ {
			d.Note(a.ID, "device-race", t0.Add(time.Duration(i)*time.Second))
		}
	}()
	for i := 0; i < 20; i++ {
		if err := d.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	dev, err := f.auth.Store.FindDevice(ctx, a.ID, "device-race")
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(2000 * time.Second); !dev.LastSeen.Equal(want) {
		t.Errorf("last seen = %v, want %v", dev.LastSeen, want)
	}
}

// failingTouch fails its first TouchDevices, like a database that is
// briefly away.
type failingTouch struct {
	kiosko.Store
	failed atomic.Bool
}

func (f *failingTouch) TouchDevices(ctx context.Context, seen []kiosko.DeviceSeen) error {
	if !f.failed.Swap(true) {
		return errors.New("database away")
	}
	return f.Store.TouchDevices(ctx, seen)
}

// TestDeviceLanguageFollowsTheDevice: a sign-in keeps the language the
// request said; a later request's language is written with the next flush,
// kept for the one after when the database is away, and a language kiosko
// does not speak is ignored.
func TestDeviceLanguageFollowsTheDevice(t *testing.T) {
	f := newAuth(t)
	store := &failingTouch{Store: f.auth.Store}
	f.auth.Seen = &kiosko.DeviceActivity{Store: store}
	if _, err := f.auth.SignUp(ctx, kiosko.SignUpRequest{Email: "lang@example.com", Password: "a long enough passphrase"}); err != nil {
		t.Fatal(err)
	}
	res, err := f.auth.SignIn(ctx, "lang@example.com", "a long enough passphrase", kiosko.Client{UserAgent: "test", Lang: "en"})
	if err != nil {
		t.Fatal(err)
	}
	lang := func() string {
		t.Helper()
		dev, err := f.auth.Store.FindDevice(ctx, res.Account.ID, res.DeviceID)
		if err != nil {
			t.Fatal(err)
		}
		return dev.Lang
	}
	if got := lang(); got != "en" {
		t.Fatalf("lang at sign-in = %q, want en", got)
	}
	id, err := f.auth.Authenticate(ctx, res.Token)
	if err != nil {
		t.Fatal(err)
	}
	f.auth.NoteDeviceLang(id, "es")
	if err := f.auth.Seen.Flush(ctx); err == nil {
		t.Fatal("the first flush should have failed")
	}
	if got := lang(); got != "en" {
		t.Fatalf("lang changed by a failed flush: %q", got)
	}
	f.auth.NoteDeviceLang(id, "fr") // not a language kiosko speaks: ignored
	if err := f.auth.Seen.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := lang(); got != "es" {
		t.Errorf("lang after the retried flush = %q, want es", got)
	}
	var nobody *kiosko.DeviceActivity
	nobody.NoteLang(1, "x", "es") // a site without the worker: no effect, no panic
}

// chunkTouch records the size of every write and fails the second one.
type chunkTouch struct {
	kiosko.Store
	sizes []int
}

func (c *chunkTouch) TouchDevices(ctx context.Context, seen []kiosko.DeviceSeen) error {
	c.sizes = append(c.sizes, len(seen))
	if len(c.sizes) == 2 {
		return errors.New("database away")
	}
	return c.Store.TouchDevices(ctx, seen)
}

// TestDeviceActivityWritesInChunks: a flush writes at most Chunk devices
// at a time; when a chunk fails, that chunk and the ones after it are kept
// for the next flush, which writes them all, and none is written twice.
func TestDeviceActivityWritesInChunks(t *testing.T) {
	f := newAuth(t)
	store := &chunkTouch{Store: f.auth.Store}
	seen := &kiosko.DeviceActivity{Store: store, Chunk: 2}
	for i := range 5 {
		seen.Note(int64(i+1), "dev", t0.Add(time.Duration(i)*time.Second))
	}
	if err := seen.Flush(ctx); err == nil {
		t.Fatal("flush with a failing chunk: no error")
	}
	if err := seen.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	want := []int{2, 2, 2, 1} // 2 written, 2 failed; then the 3 kept
	if len(store.sizes) != len(want) {
		t.Fatalf("writes of %v devices, want %v", store.sizes, want)
	}
	for i := range want {
		if store.sizes[i] != want[i] {
			t.Fatalf("writes of %v devices, want %v", store.sizes, want)
		}
	}
	if err := seen.Flush(ctx); err != nil || len(store.sizes) != len(want) {
		t.Fatalf("a third flush wrote again: %v (%v)", store.sizes, err)
	}
}
