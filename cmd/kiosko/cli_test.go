package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/sqlite"
)

// kioskoCLI runs a subcommand in-process against data dir dir.
func kioskoCLI(t *testing.T, dir, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	full := append(append([]string{}, args...), "--data", dir)
	err := run(context.Background(), full, strings.NewReader(stdin), &out, &errb)
	return out.String() + errb.String(), err
}

func TestAccountAndSeatCommands(t *testing.T) {
	dir := t.TempDir()
	ok := func(stdin string, args ...string) string {
		t.Helper()
		out, err := kioskoCLI(t, dir, stdin, args...)
		if err != nil {
			t.Fatalf("kiosko %v: %v\n%s", args, err, out)
		}
		return out
	}
	fails := func(want string, stdin string, args ...string) {
		t.Helper()
		out, err := kioskoCLI(t, dir, stdin, args...)
		if err == nil || !strings.Contains(err.Error()+out, want) {
			t.Fatalf("kiosko %v: err %v, out %q; want an error mentioning %q", args, err, out, want)
		}
	}
	ok("una contraseña muy larga\n", "account", "create", "--email", "Owner@Example.com", "--plan", "premium")
	ok("otra contraseña muy larga\n", "account", "create", "--email", "friend@example.com", "--plan", "free")
	ok("tercera contraseña larga\n", "account", "create", "--email", "third@example.com")

	fails("already exists", "una contraseña muy larga\n", "account", "create", "--email", "owner@example.com", "--plan", "free")
	fails("12 characters", "corta\n", "account", "create", "--email", "x@example.com", "--plan", "free")
	fails("standard input", "", "account", "create", "--email", "y@example.com", "--plan", "free")
	fails("unknown plan", "una contraseña muy larga\n", "account", "create", "--email", "z@example.com", "--plan", "gold")
	fails("unknown plan", "", "account", "grant", "--email", "owner@example.com", "--plan", "gold")
	fails("--seats", "", "account", "grant", "--email", "owner@example.com", "--plan", "business", "--seats", "0")
	fails("no account", "", "account", "grant", "--email", "ghost@example.com", "--plan", "digital")

	ok("", "seat", "add", "--owner", "owner@example.com", "--email", "friend@example.com")
	fails("already", "", "seat", "add", "--owner", "owner@example.com", "--email", "friend@example.com")
	fails("taken", "", "seat", "add", "--owner", "owner@example.com", "--email", "third@example.com")

	ok("", "account", "grant", "--email", "owner@example.com", "--plan", "business", "--seats", "4")
	ok("", "seat", "add", "--owner", "owner@example.com", "--email", "third@example.com")

	store, err := sqlite.Open(filepath.Join(dir, "kiosko.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	now := time.Now()
	for _, email := range []string{"owner@example.com", "friend@example.com", "third@example.com"} {
		a, err := store.FindAccountByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := store.FindSeatForAccount(ctx, a.ID, now); err != nil {
			t.Errorf("%s holds no seat: %v", email, err)
		}
	}
	owner, _ := store.FindAccountByEmail(ctx, "owner@example.com")
	subs, _ := store.FindSubscriptionsByOwner(ctx, owner.ID)
	if len(subs) != 1 || subs[0].PlanCode != kiosko.PlanBusiness || subs[0].Seats != 4 {
		t.Fatalf("grant did not change the running subscription: %+v", subs[0])
	}

	// Sharing warning: set on the owner's seat, cleared from the CLI.
	seat, _, _ := store.FindSeatForAccount(ctx, owner.ID, now)
	at := now.UTC()
	if err := store.SetSeatWarning(ctx, seat.ID, &at); err != nil {
		t.Fatal(err)
	}
	if out := ok("", "warning", "clear", "--email", "owner@example.com"); !strings.Contains(out, "lifted") {
		t.Fatalf("warning clear said %q", out)
	}
	seat, _, _ = store.FindSeatForAccount(ctx, owner.ID, now)
	if seat.SharingWarning != nil {
		t.Fatal("warning clear left the warning")
	}

	ok("", "account", "revoke", "--email", "owner@example.com")
	if _, _, err := store.FindSeatForAccount(ctx, owner.ID, time.Now()); !kiosko.IsNotFound(err) {
		t.Fatalf("revoked owner still holds a seat: %v", err)
	}
	fails("unknown command", "", "frobnicate")
}

// TestServeStopsOnSIGTERM builds the binary, starts serve, and checks it
// answers, then stops cleanly on SIGTERM.
func TestServeStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := kioskoBinary(t)
	addr := "127.0.0.1:" + freePort(t)
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data", t.TempDir(), "--newsletter-day", "off")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not become ready:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM:\n%s", err, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20 s of SIGTERM")
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := strings.Cut(l.Addr().String(), ":")
	return port
}
