package demo_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/sqlite"
)

// TestSeedSQLite seeds the embedded database a new installation starts with.
func TestSeedSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := demo.Seed(ctx, db, fakeHasher{}, now); err != nil {
		t.Fatal(err)
	}
	checkSeeded(t, ctx, db)
	if err := demo.SeedEditions(ctx, db); err != nil {
		t.Errorf("SeedEditions on a seeded store: %v", err)
	}
	if err := demo.Seed(ctx, db, fakeHasher{}, now); !errors.Is(err, demo.ErrNotEmpty) {
		t.Errorf("second Seed = %v, want ErrNotEmpty", err)
	}
	a, err := db.FindArticleByID(ctx, "es-tranvia-nocturno")
	if err != nil || len(paragraphs(a)) != 6 || a.Status != kiosko.StatusPublished || a.Access != kiosko.AccessFree || !a.PublishedAt.Equal(now.Add(-3*time.Hour-10*time.Minute)) {
		t.Errorf("article read back: %+v, %v", a, err)
	}
	b, err := db.FindAccountByEmail(ctx, "business@kiosko.test")
	if err != nil {
		t.Fatal(err)
	}
	_, sub, err := db.FindSeatForAccount(ctx, b.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if seats, err := db.FindSeats(ctx, sub.ID); err != nil || len(seats) != demo.BusinessSeats {
		t.Errorf("business subscription has %d seats, %v; want %d", len(seats), err, demo.BusinessSeats)
	}
}
