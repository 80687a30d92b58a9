package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/mailpit"
	"github.com/kiosko/kiosko/internal/sqlite"
)

// TestAccountDeleteCommand erases an account from the command line: the
// owner's manual plan ends with the account, the member of its second seat
// is told by email (Mailpit) and keeps their own account, the address
// leaves the database file.
func TestAccountDeleteCommand(t *testing.T) {
	dir := t.TempDir()
	mp := mailpit.Start(t)
	t.Setenv("KIOSKO_SMTP_ADDR", mp.SMTPAddr)
	t.Setenv("KIOSKO_MAIL_FROM", "kiosko@example.com")
	ok := func(stdin string, args ...string) string {
		t.Helper()
		out, err := kioskoCLI(t, dir, stdin, args...)
		if err != nil {
			t.Fatalf("kiosko %v: %v\n%s", args, err, out)
		}
		return out
	}
	ok("una contraseña muy larga\n", "account", "create", "--email", "gone.owner@example.com", "--plan", "premium")
	ok("otra contraseña muy larga\n", "account", "create", "--email", "member@example.com", "--plan", "free", "--lang", "en")
	ok("", "seat", "add", "--owner", "gone.owner@example.com", "--email", "member@example.com")

	if out, err := kioskoCLI(t, dir, "", "account", "delete", "--email", "nobody@example.com"); err == nil || !strings.Contains(err.Error()+out, "no account") {
		t.Fatalf("deleting an unknown address: %v %s", err, out)
	}
	if out, err := kioskoCLI(t, dir, "", "account", "delete"); err == nil || !strings.Contains(err.Error()+out, "--email is required") {
		t.Fatalf("delete without --email: %v %s", err, out)
	}
	out := ok("", "account", "delete", "--email", "Gone.Owner@example.com")
	if !strings.Contains(out, "1 member(s) told") {
		t.Errorf("output: %s", out)
	}
	told := mp.WaitFor(t, "member@example.com", 1)
	if told[0].Subject != "Your seat of a shared subscription has ended" {
		t.Errorf("the member's email: %q", told[0].Subject)
	}
	if last := mp.WaitFor(t, "gone.owner@example.com", 1); last[0].Subject != "Tu cuenta se ha eliminado" {
		t.Errorf("the last email: %q", last[0].Subject)
	}

	path := filepath.Join(dir, "kiosko.db")
	for _, p := range []string{path, path + "-wal"} {
		raw, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte("gone.owner@example.com")) {
			t.Errorf("the address is still in %s", p)
		}
	}
	store, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	m, err := store.FindAccountByEmail(ctx, "member@example.com")
	if err != nil {
		t.Fatalf("the member's account: %v", err)
	}
	if _, _, err := store.FindSeatForAccount(ctx, m.ID, time.Now()); !kiosko.IsNotFound(err) {
		t.Errorf("the member still holds a seat: %v", err)
	}
	evs, err := store.FindEvents(ctx, kiosko.EventFilter{Types: []string{kiosko.EventAccountDeleted}})
	if err != nil || len(evs) != 1 || evs[0].ActorID != 0 || !strings.Contains(string(evs[0].Data), `"by":"admin"`) {
		t.Errorf("account.deleted = %+v, %v", evs, err)
	}
}
