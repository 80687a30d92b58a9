package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/password"
	"github.com/kiosko/kiosko/internal/postgres"
	"github.com/kiosko/kiosko/internal/postgres/pgtest"
	"github.com/kiosko/kiosko/internal/sqlite"
)

// seedInstallation fills a SQLite installation with the demo publication
// plus what readers leave behind: sessions, devices, lease events, metered
// reads, failed sign-ins, a newsletter subscriber.
func seedInstallation(t *testing.T, path string, now time.Time) {
	t.Helper()
	ctx := t.Context()
	store, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := demo.Seed(ctx, store, &password.Hasher{Memory: 64, Time: 1, Threads: 1}, now); err != nil {
		t.Fatal(err)
	}
	a := &kiosko.Account{Email: "reader@example.com", Name: "Ana", PasswordHash: "h", Role: kiosko.RoleReader, Lang: "es",
		PasswordChangedAt: now, CreatedAt: now}
	must(t, store.CreateAccount(ctx, a))
	for i := range 3 {
		tok := sha256.Sum256([]byte{byte(i)})
		must(t, store.CreateSession(ctx, &kiosko.Session{TokenHash: tok[:], AccountID: a.ID, DeviceID: fmt.Sprintf("dev-%d", i),
			CreatedAt: now, LastSeenAt: now.Add(time.Duration(i) * 7), IdleExpiry: now.Add(time.Hour), ExpiresAt: now.Add(24 * time.Hour)}))
		must(t, store.UpsertDevice(ctx, &kiosko.Device{AccountID: a.ID, ID: fmt.Sprintf("dev-%d", i), Name: "Firefox en Linux ñ",
			FirstSeen: now, LastSeen: now}))
	}
	must(t, store.AppendLeaseEvents(ctx, []kiosko.LeaseEvent{
		{Kind: kiosko.EventClaim, SeatID: 1, AccountID: a.ID, Device: "dev-0", At: now},
		{Kind: kiosko.EventTakeoverContested, SeatID: 1, AccountID: a.ID, Device: "dev-1", OtherDevice: "dev-0", At: now.Add(time.Second)},
	}))
	// Opened in an order that is not the key's: the copy must keep it.
	for _, id := range []string{"zeta", "alpha", "mid"} {
		must(t, store.AddMeteredRead(ctx, a.ID, "2026-11", id))
	}
	must(t, store.RecordFailedSignIn(ctx, "signin:ip:192.0.2.0", now))
	eds, err := store.FindEditions(ctx)
	if err != nil || len(eds) == 0 {
		t.Fatalf("editions: %v %v", eds, err)
	}
	must(t, store.CreateSubscriber(ctx, &kiosko.Subscriber{Edition: eds[0].Code, Email: "news@example.com", Status: kiosko.SubscriberPending,
		Source: "form", ConfirmHash: []byte{1, 2, 3}, UnsubscribeToken: "tok", CreatedAt: now}))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestMigrateData(t *testing.T) {
	pgURL := pgtest.URL(t)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kiosko.db")
	now := time.Date(2026, 11, 3, 10, 0, 0, 123456789, time.UTC) // nanoseconds survive
	seedInstallation(t, path, now)

	var out bytes.Buffer
	args := []string{"--from", "sqlite:" + path, "--to", pgURL}
	if err := migrateDataCommand(ctx, args, &out, &out); err != nil {
		t.Fatalf("migrate-data: %v\n%s", err, out.String())
	}
	t.Log("\n" + out.String())
	if !strings.Contains(out.String(), "checksums match") || strings.Contains(out.String(), "MISMATCH") {
		t.Errorf("report:\n%s", out.String())
	}

	src, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := postgres.Open(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	want, err := src.Counts(ctx)
	must(t, err)
	got, err := dst.Counts(ctx)
	must(t, err)
	if !maps.Equal(got, want) {
		t.Errorf("counts differ:\npostgres %v\nsqlite   %v", got, want)
	}
	for _, table := range []string{"accounts", "articles", "editions", "subscriptions", "seats", "sessions", "devices", "lease_events", "metered_reads", "newsletter_subscribers"} {
		if got[table] == 0 {
			t.Errorf("table %s was not exercised (0 rows)", table)
		}
		if !strings.Contains(out.String(), table) {
			t.Errorf("report lacks table %s", table)
		}
	}

	// Ids and values come across as they were.
	a, err := src.FindAccountByEmail(ctx, "reader@example.com")
	must(t, err)
	b, err := dst.FindAccountByEmail(ctx, "reader@example.com")
	must(t, err)
	if a.ID != b.ID || !a.CreatedAt.Equal(b.CreatedAt) || b.CreatedAt.Nanosecond() != 123456789 {
		t.Errorf("account: sqlite %+v, postgres %+v", a, b)
	}
	devs, err := dst.FindSignedInDevices(ctx, b.ID, now)
	must(t, err)
	if len(devs) != 3 || devs[0].Name != "Firefox en Linux ñ" {
		t.Errorf("devices = %+v", devs)
	}
	reads, err := dst.FindMeteredReads(ctx, b.ID, "2026-11")
	must(t, err)
	if !slices.Equal(reads, []string{"zeta", "alpha", "mid"}) {
		t.Errorf("metered reads = %v, want the order they were opened in", reads)
	}
	// Sequences moved past the copied ids: new rows get fresh ones.
	c := &kiosko.Account{Email: "new@example.com", PasswordHash: "h", Role: kiosko.RoleReader, Lang: "es", CreatedAt: now, PasswordChangedAt: now}
	must(t, dst.CreateAccount(ctx, c))
	if c.ID <= b.ID {
		t.Errorf("new account id %d, not past the copied ones (%d)", c.ID, b.ID)
	}

	// A second run finds the target full and refuses, changing nothing.
	out.Reset()
	err = migrateDataCommand(ctx, args, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("second migrate-data: err = %v\n%s", err, out.String())
	}
	again, err := dst.Counts(ctx)
	must(t, err)
	if again["accounts"] != got["accounts"]+1 {
		t.Errorf("the refused run changed the target: %v", again)
	}
}

func TestMigrateDataRefusesMissingSourceAndBadTarget(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	err := migrateDataCommand(ctx, []string{"--from", "sqlite:" + filepath.Join(t.TempDir(), "nope.db"), "--to", "postgres://127.0.0.1:1/x"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "source") {
		t.Errorf("missing source: err = %v", err)
	}
	err = migrateDataCommand(ctx, []string{"--from", "sqlite:x.db", "--to", "mysql://x"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Errorf("bad target: err = %v", err)
	}
}

func TestMigrateDataConvertIsExact(t *testing.T) {
	for _, c := range []struct {
		typ  string
		in   any
		want any
		ok   bool
	}{
		{"bigint", int64(-7), int64(-7), true},
		{"boolean", int64(1), true, true},
		{"boolean", int64(2), nil, false},
		{"text", "ñ", "ñ", true},
		{"text", string([]byte{0xff}), nil, false},
		{"bytea", []byte{0, 1}, []byte{0, 1}, true},
		{"bigint", "12", nil, false},
		{"bigint", nil, nil, true},
	} {
		got, err := convert(c.typ, c.in)
		if (err == nil) != c.ok || fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("convert(%s, %#v) = %#v, %v", c.typ, c.in, got, err)
		}
	}
}
