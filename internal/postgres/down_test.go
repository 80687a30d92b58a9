package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/postgres/pgtest"
)

func TestOpenClosedPortFailsFast(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	start := time.Now()
	db, err := Open(t.Context(), "postgres://postgres@"+addr+"/test?sslmode=disable")
	if err == nil {
		db.Close()
		t.Fatal("Open succeeded on a closed port")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Open took %v to fail, want < 2s", d)
	}
	if got := kiosko.ErrorCode(err); got != kiosko.EUNAVAILABLE {
		t.Errorf("error code = %q (%v), want %q", got, err, kiosko.EUNAVAILABLE)
	}
}

func TestOpenRefusesBadURLWithoutEchoingIt(t *testing.T) {
	_, err := Open(t.Context(), "postgres://user:s3cret@host:notaport/db")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v", err)
	}
}

// proxy forwards TCP connections to PostgreSQL; stopping it is the
// database going away, as far as the store can tell.
type proxy struct {
	t      *testing.T
	addr   string // where it listens
	target string
	mu     sync.Mutex
	l      net.Listener
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, addr: "127.0.0.1:0", target: target}
	p.start()
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) start() {
	l, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.l, p.addr = l, l.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
}

// stop closes the listener and cuts every connection.
func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.l != nil {
		p.l.Close()
		p.l = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func TestDatabaseDownFailsCleanlyAndRecovers(t *testing.T) {
	ctx := t.Context()
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.addr
	db, err := Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	owner := &kiosko.Account{Email: "owner@example.com", PasswordHash: "h", Role: kiosko.RoleReader, Lang: "es", CreatedAt: time.Now(), PasswordChangedAt: time.Now()}
	if err := db.CreateAccount(ctx, owner); err != nil {
		t.Fatal(err)
	}

	p.stop()
	calls := map[string]func() error{
		"Ping": func() error { return db.Ping(ctx) },
		"FindAccountByID": func() error {
			_, err := db.FindAccountByID(ctx, owner.ID)
			return err
		},
		"CreateSubscription": func() error {
			return db.CreateSubscription(ctx, &kiosko.Subscription{OwnerID: owner.ID, PlanCode: kiosko.PlanPremium, Status: kiosko.StatusActive, Seats: 2, CreatedAt: time.Now()})
		},
		"AssignSeat": func() error {
			_, err := db.AssignSeat(ctx, 1, owner.ID, time.Now())
			return err
		},
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s took %v with the database down, want < 2s", name, d)
		}
		if err == nil {
			t.Errorf("%s succeeded with the database down", name)
		} else if got := kiosko.ErrorCode(err); got != kiosko.EUNAVAILABLE {
			t.Errorf("%s: error code = %q (%v), want %q", name, got, err, kiosko.EUNAVAILABLE)
		}
	}

	// Back up at the same address: the same store works again, and the
	// subscription that failed left no row behind.
	p.start()
	deadline := time.Now().Add(5 * time.Second)
	for db.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("store did not recover after the database came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	subs, err := db.FindSubscriptionsByOwner(ctx, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 0 {
		t.Errorf("a failed CreateSubscription left %d subscriptions", len(subs))
	}
	counts, err := db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts["seats"] != 0 || counts["accounts"] != 1 {
		t.Errorf("counts = %v", counts)
	}
}

// A transaction cut off half-way leaves nothing: CreateSubscription writes
// the subscription and its seats together or not at all.
func TestCutTransactionLeavesNothing(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	owner := &kiosko.Account{Email: "owner@example.com", PasswordHash: "h", Role: kiosko.RoleReader, Lang: "es"}
	if err := db.CreateAccount(ctx, owner); err != nil {
		t.Fatal(err)
	}
	// A context cancelled during the transaction rolls it back.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err := db.CreateSubscription(cctx, &kiosko.Subscription{OwnerID: owner.ID, PlanCode: kiosko.PlanBusiness, Status: kiosko.StatusActive, Seats: 50})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	counts, err := db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts["subscriptions"] != 0 || counts["seats"] != 0 {
		t.Errorf("counts = %v", counts)
	}
}
