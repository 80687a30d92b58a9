package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kiosko/kiosko/internal/atrest"
	"github.com/kiosko/kiosko/internal/entitlement"
)

var _ entitlement.KeyStore = (*DB)(nil)

// FindSigningKeys lists every entitlement signing key, oldest first.
func (db *DB) FindSigningKeys(ctx context.Context) ([]*entitlement.Key, error) {
	keys, err := queryList(ctx, db.read, func(sc scanner) (*entitlement.Key, error) {
		var k entitlement.Key
		var created int64
		var retired sql.NullInt64
		if err := sc.Scan(&k.KID, &k.Alg, &k.Private, &created, &retired); err != nil {
			return nil, err
		}
		k.CreatedAt, k.RetiredAt = fromNanos(created), fromNullNanos(retired)
		var err error
		k.Private, err = db.box.Load().Open(k.Private, atrest.SigningKeyLabel(k.KID))
		return &k, err
	}, `SELECT kid, alg, private_key, created_at, retired_at FROM signing_keys ORDER BY created_at, kid`)
	if err != nil {
		return nil, fmt.Errorf("find signing keys: %w", err)
	}
	return keys, nil
}

// CreateSigningKey stores k; with first, only when every key has retired.
func (db *DB) CreateSigningKey(ctx context.Context, k *entitlement.Key, first bool) (bool, error) {
	q := `INSERT INTO signing_keys (kid, alg, private_key, created_at) VALUES (?, ?, ?, ?)`
	if first {
		q = `INSERT INTO signing_keys (kid, alg, private_key, created_at) SELECT ?, ?, ?, ?
			WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL OR retired_at > ?)`
	}
	res, err := db.write.ExecContext(ctx, q, k.KID, k.Alg, db.box.Load().Seal(k.Private, atrest.SigningKeyLabel(k.KID)), nanos(k.CreatedAt), nanos(k.CreatedAt))
	if err != nil {
		return false, fmt.Errorf("create signing key: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RetireSigningKeys retires, at at, every key but kid not yet retired.
func (db *DB) RetireSigningKeys(ctx context.Context, kid string, at time.Time) error {
	if _, err := db.write.ExecContext(ctx, `UPDATE signing_keys SET retired_at = ? WHERE kid <> ? AND retired_at IS NULL`, nanos(at), kid); err != nil {
		return fmt.Errorf("retire signing keys: %w", err)
	}
	return nil
}
