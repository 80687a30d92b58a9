package main

import (
	"context"
	"fmt"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/atrest"
)

// sealSecrets gives the store its key for the secrets it keeps (the
// entitlement signing keys, the webhook secrets), derived from kiosko's
// secret: KIOSKO_SECRET or secret.key in the data directory. A database
// written by a kiosko that kept them clear is sealed here, on its first
// start, and what KIOSKO_PREVIOUS_SECRET sealed is sealed again under
// the current secret; a database sealed under another secret is refused
// with a clear error, rather than failing later at the first webhook or
// entitlement.
func sealSecrets(ctx context.Context, cfg *Config, store kiosko.Store) error {
	sealer, ok := kiosko.StoreAs[atrest.Sealer](store)
	if !ok {
		return nil
	}
	secret, err := loadSecret(cfg)
	if err != nil {
		return err
	}
	var previous [][]byte
	if cfg.PreviousSecret != "" {
		previous = append(previous, []byte(cfg.PreviousSecret))
	}
	box, err := atrest.New(secret, previous...)
	if err != nil {
		return fmt.Errorf("KIOSKO_SECRET: %w", err)
	}
	if _, err := sealer.SealSecrets(ctx, box); err != nil {
		return err
	}
	return nil
}
