package main

import (
	"context"
	"errors"

	"github.com/kiosko/kiosko"
)

// openPostgres opens the PostgreSQL store. Until the scale-out work lands,
// PostgreSQL URLs are refused plainly rather than half-supported.
func openPostgres(ctx context.Context, url string) (kiosko.Store, error) {
	return nil, errors.New("KIOSKO_DATABASE_URL: PostgreSQL is not supported by this build yet; leave it empty to use SQLite")
}
