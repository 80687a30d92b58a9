package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
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

// SealSecrets makes box this store's key (see atrest.Sealer). The rows
// are locked while they are sealed, and each update checks the row still
// holds the clear value read, so nodes starting at once agree. After
// sealing any clear row, the two tables are rewritten (VACUUM FULL) so
// that the clear values do not linger in dead row versions; that needs
// the table owner's rights and is skipped without them.
func (db *DB) SealSecrets(ctx context.Context, box *atrest.Box) (int, error) {
	if box == nil {
		return 0, errors.New("seal secrets: no key")
	}
	prev := db.box.Swap(box)
	n := 0
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		n = 0
		if _, err := tx.Exec(ctx, `LOCK TABLE signing_keys, webhook_endpoints IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		type key struct {
			kid     string
			private []byte
		}
		keys, err := queryList(ctx, tx, func(r pgx.Row) (key, error) {
			var k key
			return k, r.Scan(&k.kid, &k.private)
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
				if _, err := tx.Exec(ctx, `UPDATE signing_keys SET private_key = $1 WHERE kid = $2`, sealed, k.kid); err != nil {
					return err
				}
				n++
			}
		}
		type endpoint struct {
			id     int64
			secret string
		}
		eps, err := queryList(ctx, tx, func(r pgx.Row) (endpoint, error) {
			var e endpoint
			return e, r.Scan(&e.id, &e.secret)
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
				if _, err := tx.Exec(ctx, `UPDATE webhook_endpoints SET secret = $1 WHERE id = $2`, string(sealed), e.id); err != nil {
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
		_, _ = db.pool.Exec(ctx, `VACUUM FULL signing_keys, webhook_endpoints`)
	}
	return n, nil
}
