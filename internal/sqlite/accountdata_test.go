package sqlite

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kiosko/kiosko"
)

// accountColumns name a column that holds an account's id or address.
var accountColumnNames = map[string]bool{"account_id": true, "owner_id": true, "actor_id": true, "invited_by": true, "accepted_by": true, "email": true}

// TestExportCoversEveryTableWithAnAccountColumn reads the schema itself:
// a table that has an account column, or references accounts, must be
// in the export, so a new table cannot be forgotten.
func TestExportCoversEveryTableWithAnAccountColumn(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	a := &kiosko.Account{Email: "ana@example.com", PasswordHash: "h", Role: kiosko.RoleReader, Lang: "es", CreatedAt: time.Now()}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	data, err := db.ExportAccountData(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := queryList(ctx, db.read, func(r scanner) (string, error) { var s string; return s, r.Scan(&s) },
		`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, table := range tables {
		cols, err := queryList(ctx, db.read, func(r scanner) (string, error) { var s string; return s, r.Scan(&s) },
			`SELECT name FROM pragma_table_info(?)`, table)
		if err != nil {
			t.Fatal(err)
		}
		refs, err := queryList(ctx, db.read, func(r scanner) (string, error) { var s string; return s, r.Scan(&s) },
			`SELECT "table" FROM pragma_foreign_key_list(?)`, table)
		if err != nil {
			t.Fatal(err)
		}
		why := ""
		for _, c := range cols {
			if accountColumnNames[c] {
				why = "column " + c
			}
		}
		for _, r := range refs {
			if r == "accounts" {
				why = "a reference to accounts"
			}
		}
		if why == "" {
			continue
		}
		checked++
		if _, ok := data[table]; !ok {
			t.Errorf("table %s has %s but the export leaves it out: add it to exportQueries (and DeleteAccountData)", table, why)
		}
	}
	if checked < 10 {
		t.Fatalf("only %d tables with an account column: the schema scan is broken", checked)
	}
}

// TestDeletedAddressIsNotInTheFiles greps the database file and its
// write-ahead log for the address after the account is deleted.
func TestDeletedAddressIsNotInTheFiles(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	const addr = "findable.reader@example.org"
	a := &kiosko.Account{Email: addr, Name: "Findable Reader", PasswordHash: "h", Role: kiosko.RoleReader, Lang: "es", CreatedAt: time.Now()}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	keep := &kiosko.Account{Email: "stays@example.org", PasswordHash: "h", Role: kiosko.RoleReader, Lang: "es", CreatedAt: time.Now()}
	if err := db.CreateAccount(ctx, keep); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendEvents(ctx, []kiosko.Event{kiosko.NewEvent(kiosko.EventAccountCreated, a.ID, a.ID, map[string]string{"email": addr}, time.Now())}); err != nil {
		t.Fatal(err)
	}
	// An outgoing webhook's copy of the event names the address too.
	if _, err := db.write.ExecContext(ctx, `INSERT INTO webhook_endpoints (id, url, secret, created_at) VALUES (1, 'https://hooks.example/k', 'whsec_x', 1)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `INSERT INTO webhook_messages (endpoint_id, event_id, msg_id, type, body, next_attempt_at, created_at)
		VALUES (1, 1, 'msg_1', 'account.created', ?, 1, 1)`, `{"type":"account.created","data":{"email":"`+addr+`"}}`); err != nil {
		t.Fatal(err)
	}
	// Enough churn that the address sits in several pages and the log.
	for i := 0; i < 50; i++ {
		if err := db.UpsertDevice(ctx, &kiosko.Device{AccountID: a.ID, ID: "device-" + string(rune('a'+i%26)) + "x", Name: addr, FirstSeen: time.Now(), LastSeen: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	grep := func() []string {
		var found []string
		for _, p := range []string{db.Path(), db.Path() + "-wal"} {
			b, err := os.ReadFile(p)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(addr)) {
				found = append(found, p)
			}
		}
		return found
	}
	if len(grep()) == 0 {
		t.Fatal("the address is not in the files before deletion: the grep cannot fail")
	}
	if err := db.DeleteAccountData(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	if found := grep(); len(found) > 0 {
		t.Fatalf("the deleted address is still in %v", found)
	}
	if _, err := db.FindAccountByEmail(ctx, "stays@example.org"); err != nil {
		t.Fatalf("the other account: %v", err)
	}
	var body string
	if err := db.read.QueryRowContext(ctx, `SELECT body FROM webhook_messages`).Scan(&body); err != nil || body != `{"type":"account.created","data":{"email":""}}` {
		t.Errorf("webhook body after deletion = %q, %v", body, err)
	}
}

// TestMigration0008KeepsExistingAccountsVerifiedAndDropsAddresses opens a
// database made before 0008: its accounts count as verified, and devices
// lose the addresses and time zones kept as their place.
func TestMigration0008KeepsExistingAccountsVerifiedAndDropsAddresses(t *testing.T) {
	before := fstest.MapFS{}
	entries, err := fs.ReadDir(migrationFS, ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() < "0008" {
			data, _ := fs.ReadFile(migrationFS, e.Name())
			before[e.Name()] = &fstest.MapFile{Data: data}
		}
	}
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := open(path, before)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	created := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	a := &kiosko.Account{Email: "old@example.com", PasswordHash: "h", Role: kiosko.RoleReader, Lang: "es", CreatedAt: created}
	if err := old.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	// The devices table of then, written as that version wrote it (today's
	// UpsertDevice knows columns added since).
	if _, err := old.write.ExecContext(ctx, `INSERT INTO devices (account_id, id, name, user_agent, ip, place, first_seen, last_seen) VALUES (?, 'old-device', '', '', '203.0.113.0/24', 'Europe/Madrid', ?, ?)`,
		a.ID, nanos(created), nanos(created)); err != nil {
		t.Fatal(err)
	}
	old.Close()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.FindAccountByID(ctx, a.ID)
	if err != nil || got.EmailVerifiedAt == nil || !got.EmailVerifiedAt.Equal(created) {
		t.Errorf("an account from before 0008: %+v, %v; want it verified since it was created", got, err)
	}
	dev, err := db.FindDevice(ctx, a.ID, "old-device")
	if err != nil || dev.IP != "" || dev.Place != "" {
		t.Errorf("device after 0008: %+v, %v; want no address and no time zone", dev, err)
	}
	if dev != nil && dev.Lang != "" {
		t.Errorf("device after 0011: lang %q, want none until its next request", dev.Lang)
	}
}
