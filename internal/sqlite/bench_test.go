package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// benchData fills a database with n accounts, each with a session and a
// seat in a Premium subscription, and returns their token hashes.
func benchData(b *testing.B, db *DB, n int) (hashes [][]byte, accounts []int64) {
	b.Helper()
	ctx := b.Context()
	now := time.Now().UTC()
	for i := range n {
		a := &kiosko.Account{Email: fmt.Sprintf("r%d@example.com", i), PasswordHash: "h", Role: kiosko.RoleReader, Lang: "es", CreatedAt: now, PasswordChangedAt: now}
		if err := db.CreateAccount(ctx, a); err != nil {
			b.Fatal(err)
		}
		s := &kiosko.Session{TokenHash: kiosko.HashToken(kiosko.NewToken()), AccountID: a.ID, DeviceID: "device-bench",
			CreatedAt: now, LastSeenAt: now, IdleExpiry: now.Add(time.Hour), ExpiresAt: now.Add(24 * time.Hour)}
		if err := db.CreateSession(ctx, s); err != nil {
			b.Fatal(err)
		}
		if err := db.CreateSubscription(ctx, &kiosko.Subscription{OwnerID: a.ID, PlanCode: kiosko.PlanPremium, Status: kiosko.StatusActive,
			Seats: 2, CurrentPeriodEnd: now.Add(30 * 24 * time.Hour), CreatedAt: now}); err != nil {
			b.Fatal(err)
		}
		hashes, accounts = append(hashes, s.TokenHash), append(accounts, a.ID)
	}
	return hashes, accounts
}

func BenchmarkFindSessionByTokenHash(b *testing.B) {
	db := openTest(b)
	hashes, _ := benchData(b, db, 1000)
	ctx := b.Context()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := db.FindSessionByTokenHash(ctx, hashes[i%len(hashes)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

func BenchmarkFindSeatForAccount(b *testing.B) {
	db := openTest(b)
	_, accounts := benchData(b, db, 1000)
	ctx := b.Context()
	now := time.Now().UTC()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, _, err := db.FindSeatForAccount(ctx, accounts[i%len(accounts)], now); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
