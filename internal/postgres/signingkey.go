package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kiosko/kiosko/internal/atrest"
	"github.com/kiosko/kiosko/internal/entitlement"
)

var _ entitlement.KeyStore = (*DB)(nil)

// FindSigningKeys lists every entitlement signing key, oldest first.
func (db *DB) FindSigningKeys(ctx context.Context) ([]*entitlement.Key, error) {
	keys, err := queryList(ctx, db.pool, func(r pgx.Row) (*entitlement.Key, error) {
		var k entitlement.Key
		var created int64
		var retired *int64
		if err := r.Scan(&k.KID, &k.Alg, &k.Private, &created, &retired); err != nil {
			return nil, err
		}
		k.CreatedAt, k.RetiredAt = fromNanos(created), fromNullNanos(retired)
		var err error
		k.Private, err = db.box.Load().Open(k.Private, atrest.SigningKeyLabel(k.KID))
		return &k, err
	}, `SELECT kid, alg, private_key, created_at, retired_at FROM signing_keys ORDER BY created_at, kid`)
	return keys, fail("find signing keys", err)
}

// CreateSigningKey stores k; with first, only when every key has retired.
// The table lock makes two nodes that start at once agree on one key.
func (db *DB) CreateSigningKey(ctx context.Context, k *entitlement.Key, first bool) (bool, error) {
	created := false
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if first {
			if _, err := tx.Exec(ctx, `LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE`); err != nil {
				return err
			}
			var live bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL OR retired_at > $1)`, nanos(k.CreatedAt)).Scan(&live); err != nil {
				return err
			}
			if live {
				return nil
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO signing_keys (kid, alg, private_key, created_at) VALUES ($1, $2, $3, $4)`, k.KID, k.Alg, db.box.Load().Seal(k.Private, atrest.SigningKeyLabel(k.KID)), nanos(k.CreatedAt)); err != nil {
			return err
		}
		created = true
		return nil
	})
	return created, fail("create signing key", err)
}

// RetireSigningKeys retires, at at, every key but kid not yet retired.
func (db *DB) RetireSigningKeys(ctx context.Context, kid string, at time.Time) error {
	_, err := db.pool.Exec(ctx, `UPDATE signing_keys SET retired_at = $1 WHERE kid <> $2 AND retired_at IS NULL`, nanos(at), kid)
	return fail("retire signing keys", err)
}
