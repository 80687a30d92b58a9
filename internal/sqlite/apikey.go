package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
)

func errAPIKeyNotFound() *kiosko.Error { return notFound("error.apikey_unknown", "No such API key.") }

const apiKeyColumns = `id, name, prefix, hash, scopes, created_at, last_used_at, revoked_at`

func scanAPIKey(r scanner) (*kiosko.APIKey, error) {
	var k kiosko.APIKey
	var scopes string
	var created int64
	var used, revoked sql.NullInt64
	if err := r.Scan(&k.ID, &k.Name, &k.Prefix, &k.Hash, &scopes, &created, &used, &revoked); err != nil {
		return nil, err
	}
	k.Scopes = strings.Split(scopes, ",")
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = fromNanos(created), fromNullNanos(used), fromNullNanos(revoked)
	return &k, nil
}

// CreateAPIKey stores k and sets its ID.
func (db *DB) CreateAPIKey(ctx context.Context, k *kiosko.APIKey) error {
	err := db.write.QueryRowContext(ctx, `INSERT INTO api_keys (name, prefix, hash, scopes, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		k.Name, k.Prefix, k.Hash, strings.Join(k.Scopes, ","), nanos(k.CreatedAt)).Scan(&k.ID)
	if err != nil {
		return fmt.Errorf("create api key: %w", err)
	}
	return nil
}

// FindAPIKeyByHash returns the key with that hash, or ENOTFOUND.
func (db *DB) FindAPIKeyByHash(ctx context.Context, hash string) (*kiosko.APIKey, error) {
	return queryOne(ctx, db.read, errAPIKeyNotFound(), scanAPIKey, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = ?`, hash)
}

// FindAPIKeys lists every key, oldest first.
func (db *DB) FindAPIKeys(ctx context.Context) ([]*kiosko.APIKey, error) {
	keys, err := queryList(ctx, db.read, scanAPIKey, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("find api keys: %w", err)
	}
	return keys, nil
}

// RevokeAPIKey revokes a key; its first revocation stays.
func (db *DB) RevokeAPIKey(ctx context.Context, id int64, at time.Time) error {
	return db.writer(ctx, func(q querier) error {
		return execOne(ctx, q, errAPIKeyNotFound(), `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`, nanos(at), id)
	})
}

// TouchAPIKey records that the key was used at at.
func (db *DB) TouchAPIKey(ctx context.Context, id int64, at time.Time) error {
	return execOne(ctx, db.write, errAPIKeyNotFound(), `UPDATE api_keys SET last_used_at = ? WHERE id = ?`, nanos(at), id)
}
