package main

import (
	"context"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/postgres"
)

// openPostgres opens the PostgreSQL store named by KIOSKO_DATABASE_URL and
// brings its schema up to date (nodes starting together take turns on an
// advisory lock). It fails within seconds when the database is unreachable.
func openPostgres(ctx context.Context, url string) (kiosko.Store, error) {
	return postgres.Open(ctx, url)
}
