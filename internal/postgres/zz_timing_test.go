package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/kiosko/kiosko/internal/postgres/pgtest"
)

func TestZZTiming(t *testing.T) {
	ctx := context.Background()
	for i := range 4 {
		t.Run("x", func(t *testing.T) {
			t0 := time.Now()
			u := pgtest.Reusable(t)
			t.Log(i, "schema", time.Since(t0))
			t0 = time.Now()
			db, err := Open(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			t.Log("open", time.Since(t0))
			t0 = time.Now()
			db.Close()
			t.Cleanup(func() { t.Log("close", time.Since(t0)) })
		})
	}
}
