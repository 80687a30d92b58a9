package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kiosko/kiosko/internal/atrest"
	"github.com/kiosko/kiosko/webhook"
)

var _ atrest.Sealer = (*DB)(nil)

// openEndpoints replaces the stored secrets of eps by their clear values.
func (db *DB) openEndpoints(eps []*webhook.Endpoint) error {
	box := db.box.Load()
	for _, e := range eps {
		s, err := box.OpenString(e.Secret, atrest.WebhookSecretLabel)
		if err != nil {
			return fmt.Errorf("webhook endpoint %d: %w", e.ID, err)
		}
		e.Secret = s
	}
	return nil
}

// sealRow returns what to store instead of stored: nil when it is
// sealed under box's current key already, ErrWrongKey when it does not
// open, else the value sealed under the current key (it was clear, or
// sealed under a previous secret).
func sealRow(box *atrest.Box, stored []byte, label string) ([]byte, error) {
	plain, stale, err := box.OpenStale(stored, label)
	if err != nil || !stale {
		return nil, err
	}
	return box.Seal(plain, label), nil
}

// SealSecrets makes box this store's key (see atrest.Sealer). The clear
// rows it seals were written by a kiosko without sealing; their old
// contents would linger in freed pages and in the write-ahead log, so
// after sealing any the database is vacuumed and the log truncated.
func (db *DB) SealSecrets(ctx context.Context, box *atrest.Box) (int, error) {
	if box == nil {
		return 0, errors.New("seal secrets: no key")
	}
	// Writes from now on are sealed; the transaction below then sees
	// every clear row, the single writer being behind it.
	prev := db.box.Swap(box)
	n := 0
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		type key struct {
			kid     string
			private []byte
		}
		keys, err := queryList(ctx, tx, func(sc scanner) (key, error) {
			var k key
			return k, sc.Scan(&k.kid, &k.private)
		}, `SELECT kid, private_key FROM signing_keys`)
		if err != nil {
			return err
		}
		for _, k := range keys {
			sealed, err := sealRow(box, k.private, atrest.SigningKeyLabel(k.kid))
			if err != nil {
				return fmt.Errorf("signing key %s: %w", k.kid, err)
			}
			if sealed != nil {
				if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET private_key = ? WHERE kid = ?`, sealed, k.kid); err != nil {
					return err
				}
				n++
			}
		}
		type endpoint struct {
			id     int64
			secret string
		}
		eps, err := queryList(ctx, tx, func(sc scanner) (endpoint, error) {
			var e endpoint
			return e, sc.Scan(&e.id, &e.secret)
		}, `SELECT id, secret FROM webhook_endpoints`)
		if err != nil {
			return err
		}
		for _, e := range eps {
			sealed, err := sealRow(box, []byte(e.secret), atrest.WebhookSecretLabel)
			if err != nil {
				return fmt.Errorf("webhook endpoint %d: %w", e.id, err)
			}
			if sealed != nil {
				if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET secret = ? WHERE id = ?`, string(sealed), e.id); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	if err != nil {
		db.box.Store(prev)
		return 0, fmt.Errorf("seal secrets: %w", err)
	}
	if n > 0 {
		if _, err := db.write.ExecContext(ctx, `VACUUM`); err != nil {
			return n, fmt.Errorf("seal secrets: vacuum: %w", err)
		}
		if _, err := db.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return n, fmt.Errorf("seal secrets: checkpoint: %w", err)
		}
	}
	return n, nil
}
