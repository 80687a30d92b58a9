package sqlite

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// TestOnErrorCountsRealFailures: not found, a conflict and a request that
// went away are answers; a statement the database cannot run is an error.
func TestOnErrorCountsRealFailures(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "kiosko.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n atomic.Int64
	db.OnError(func(error) { n.Add(1) })
	ctx := t.Context()
	a := &kiosko.Account{Email: "ana@x.test", PasswordHash: "h", Role: kiosko.RoleReader, Lang: "es", CreatedAt: time.Now(), PasswordChangedAt: time.Now()}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindAccountByEmail(ctx, "nobody@x.test"); !kiosko.IsNotFound(err) {
		t.Fatalf("unknown email: %v", err)
	}
	dup := *a
	if err := db.CreateAccount(ctx, &dup); kiosko.ErrorCode(err) != kiosko.ECONFLICT {
		t.Fatalf("a taken email: %v", err)
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	_, _ = db.FindEditions(gone)
	if got := n.Load(); got != 0 {
		t.Fatalf("%d errors counted for answers", got)
	}
	if _, err := db.write.ExecContext(ctx, `DROP TABLE newsletter_deliveries`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CountDeliveries(ctx, 1); err == nil {
		t.Fatal("a query on a dropped table succeeded")
	}
	if got := n.Load(); got != 1 {
		t.Fatalf("%d errors counted for one failed query", got)
	}
}
