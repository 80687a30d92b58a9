package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kiosko/kiosko"
)

// CreateEmailToken stores a link that confirms an address.
func (db *DB) CreateEmailToken(ctx context.Context, t *kiosko.EmailToken) error {
	err := db.writer(ctx, func(q Querier) error {
		_, err := q.Exec(ctx, `INSERT INTO email_tokens (token_hash, account_id, kind, email, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			t.TokenHash, t.AccountID, t.Kind, t.Email, nanos(t.CreatedAt), nanos(t.ExpiresAt))
		return err
	})
	return fail("create email token", constraintErr(err, nil))
}

// ConsumeEmailToken deletes a live token of kind and returns it, once.
func (db *DB) ConsumeEmailToken(ctx context.Context, hash []byte, kind string, now time.Time) (*kiosko.EmailToken, error) {
	var t kiosko.EmailToken
	var created, expires int64
	err := db.writer(ctx, func(q Querier) error {
		return q.QueryRow(ctx, `DELETE FROM email_tokens WHERE token_hash = $1 AND kind = $2 AND expires_at > $3
			RETURNING token_hash, account_id, kind, email, created_at, expires_at`, hash, kind, nanos(now)).
			Scan(&t.TokenHash, &t.AccountID, &t.Kind, &t.Email, &created, &expires)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("accounts.error.link_invalid", "This link has expired or was already used.")
	} else if err != nil {
		return nil, fail("consume email token", err)
	}
	t.CreatedAt, t.ExpiresAt = fromNanos(created), fromNanos(expires)
	return &t, nil
}

// DeleteEmailTokens removes an account's tokens of kind.
func (db *DB) DeleteEmailTokens(ctx context.Context, accountID int64, kind string) error {
	err := db.writer(ctx, func(q Querier) error {
		_, err := q.Exec(ctx, `DELETE FROM email_tokens WHERE account_id = $1 AND kind = $2`, accountID, kind)
		return err
	})
	return fail("delete email tokens", err)
}

// ChangeAccountEmail sets a new, verified address; ECONFLICT when taken.
func (db *DB) ChangeAccountEmail(ctx context.Context, id int64, email string, verifiedAt time.Time) error {
	err := db.writer(ctx, func(q Querier) error {
		return execOne(ctx, q, errAccountNotFound(), `UPDATE accounts SET email = $1, email_verified_at = $2 WHERE id = $3`, email, nanos(verifiedAt), id)
	})
	return fail("change account email", constraintErr(err, errEmailTaken()))
}

// exportQueries select, per table, the rows about one account: $1 is its
// id, $2 its address. Every table with an account column must be here;
// accountdata_test.go reads the schema and fails for one that is not.
var exportQueries = []struct{ table, where string }{
	{"accounts", `id = $1`},
	{"devices", `account_id = $1`},
	{"sessions", `account_id = $1`},
	{"password_resets", `account_id = $1`},
	{"email_tokens", `account_id = $1`},
	{"subscriptions", `owner_id = $1`},
	{"seats", `account_id = $1 OR subscription_id IN (SELECT id FROM subscriptions WHERE owner_id = $1)`},
	{"invitations", `invited_by = $1 OR accepted_by = $1 OR email = $2 OR subscription_id IN (SELECT id FROM subscriptions WHERE owner_id = $1)`},
	{"subscription_domains", `subscription_id IN (SELECT id FROM subscriptions WHERE owner_id = $1)`},
	{"billing_customers", `account_id = $1`},
	{"billing_events", `subscription_ref <> '' AND subscription_ref IN (SELECT provider_ref FROM subscriptions WHERE owner_id = $1)`},
	{"lease_events", `account_id = $1`},
	{"metered_reads", `account_id = $1`},
	{"events", `account_id = $1 OR actor_id = $1`},
	{"newsletter_subscribers", `email = $2::text`},
	{"newsletter_deliveries", `subscriber_id IN (SELECT id FROM newsletter_subscribers WHERE email = $2::text)`},
}

// ExportAccountData returns every row about the account, secrets left out.
func (db *DB) ExportAccountData(ctx context.Context, a *kiosko.Account) (kiosko.AccountData, error) {
	out := kiosko.AccountData{}
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		for _, e := range exportQueries {
			// Both parameters are sent, so each query names both, with
			// a type PostgreSQL can tell.
			where := `(` + e.where + `)`
			if !strings.Contains(where, "$1") {
				where += ` AND $1::bigint <> 0`
			}
			if !strings.Contains(where, "$2") {
				where += ` AND $2::text IS NOT NULL`
			}
			rows, err := tx.Query(ctx, `SELECT * FROM `+e.table+` WHERE `+where+` ORDER BY 1`, a.ID, a.Email)
			if err != nil {
				return fmt.Errorf("export %s: %w", e.table, err)
			}
			list, err := exportRows(rows)
			if err != nil {
				return fmt.Errorf("export %s: %w", e.table, err)
			}
			out[e.table] = list
		}
		return nil
	})
	if err != nil {
		return nil, fail("export", err)
	}
	return out, nil
}

func exportRows(rows pgx.Rows) ([]map[string]any, error) {
	defer rows.Close()
	fields := rows.FieldDescriptions()
	list := []map[string]any{}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		row := map[string]any{}
		for i, f := range fields {
			if !kiosko.SecretColumn(f.Name) {
				row[f.Name] = kiosko.ExportValue(f.Name, vals[i])
			}
		}
		list = append(list, row)
	}
	return list, rows.Err()
}

// DeleteAccountData erases the account and every row about it in one
// transaction. PostgreSQL reuses the space of deleted rows once autovacuum
// has passed; a plain VACUUM of the tables touched asks for that now.
func (db *DB) DeleteAccountData(ctx context.Context, a *kiosko.Account, failedKeys []string) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM newsletter_subscribers WHERE email = $1`, a.Email); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM invitations WHERE email = $1`, a.Email); err != nil {
			return err
		}
		// An event's data should not name the reader, but where one does,
		// the data goes and the anonymous fact stays.
		if _, err := tx.Exec(ctx, `UPDATE events SET data = replace(data, $1, '') WHERE strpos(data, $1) > 0`, a.Email); err != nil {
			return err
		}
		// So must the outgoing webhooks' copies of those events.
		if _, err := tx.Exec(ctx, `UPDATE webhook_messages SET body = replace(body, $1, '') WHERE strpos(body, $1) > 0`, a.Email); err != nil {
			return err
		}
		// So do webhook messages that name the reader (webhook/).
		if _, err := tx.Exec(ctx, `UPDATE webhook_messages SET body = jsonb_set(body::jsonb, '{data}', '{}'::jsonb)::text WHERE strpos(lower(body), $1) > 0`, strings.ToLower(a.Email)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM accounts WHERE id = $1`, a.ID); err != nil {
			return err
		}
		if len(failedKeys) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM failed_sign_ins WHERE key = ANY($1)`, failedKeys); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fail("delete account data", err)
	}
	for _, t := range []string{"accounts", "newsletter_subscribers", "invitations", "events", "webhook_messages", "devices", "sessions"} {
		if _, err := db.pool.Exec(ctx, `VACUUM `+t); err != nil {
			return fail("delete account data: vacuum", err)
		}
	}
	return nil
}

// TouchDevices moves devices' last seen forward and sets the language they
// use now, in one transaction; a row changes only when one of them does.
func (db *DB) TouchDevices(ctx context.Context, seen []kiosko.DeviceSeen) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, s := range seen {
			b.Queue(`UPDATE devices SET last_seen = GREATEST(last_seen, $1), lang = CASE WHEN $2 <> '' THEN $2 ELSE lang END
				WHERE account_id = $3 AND id = $4 AND (last_seen < $1 OR ($2 <> '' AND lang <> $2))`, nanos(s.At), s.Lang, s.AccountID, s.DeviceID)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	return fail("touch devices", err)
}
