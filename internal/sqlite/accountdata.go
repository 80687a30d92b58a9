package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kiosko/kiosko"
)

// CreateEmailToken stores a link that confirms an address.
func (db *DB) CreateEmailToken(ctx context.Context, t *kiosko.EmailToken) error {
	err := db.writer(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO email_tokens (token_hash, account_id, kind, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			t.TokenHash, t.AccountID, t.Kind, t.Email, nanos(t.CreatedAt), nanos(t.ExpiresAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("create email token: %w", constraintErr(err, nil))
	}
	return nil
}

// ConsumeEmailToken deletes a live token of kind and returns it, once.
func (db *DB) ConsumeEmailToken(ctx context.Context, hash []byte, kind string, now time.Time) (*kiosko.EmailToken, error) {
	var t kiosko.EmailToken
	var created, expires int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `DELETE FROM email_tokens WHERE token_hash = ? AND kind = ? AND expires_at > ?
			RETURNING token_hash, account_id, kind, email, created_at, expires_at`, hash, kind, nanos(now)).
			Scan(&t.TokenHash, &t.AccountID, &t.Kind, &t.Email, &created, &expires)
	})
	if err == sql.ErrNoRows {
		return nil, notFound("accounts.error.link_invalid", "This link has expired or was already used.")
	} else if err != nil {
		return nil, fmt.Errorf("consume email token: %w", err)
	}
	t.CreatedAt, t.ExpiresAt = fromNanos(created), fromNanos(expires)
	return &t, nil
}

// DeleteEmailTokens removes an account's tokens of kind.
func (db *DB) DeleteEmailTokens(ctx context.Context, accountID int64, kind string) error {
	err := db.writer(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `DELETE FROM email_tokens WHERE account_id = ? AND kind = ?`, accountID, kind)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete email tokens: %w", err)
	}
	return nil
}

// ChangeAccountEmail sets a new, verified address; ECONFLICT when taken.
func (db *DB) ChangeAccountEmail(ctx context.Context, id int64, email string, verifiedAt time.Time) error {
	err := db.writer(ctx, func(q querier) error {
		return execOne(ctx, q, errAccountNotFound(), `UPDATE accounts SET email = ?, email_verified_at = ? WHERE id = ?`, email, nanos(verifiedAt), id)
	})
	if err != nil {
		return fmt.Errorf("change account email: %w", constraintErr(err, errEmailTaken()))
	}
	return nil
}

// exportQueries select, per table, the rows about one account: ?1 is its
// id, ?2 its address. Every table with an account column must be here;
// accountdata_test.go reads the schema and fails for one that is not.
var exportQueries = []struct{ table, where string }{
	{"accounts", `id = ?1`},
	{"devices", `account_id = ?1`},
	{"sessions", `account_id = ?1`},
	{"password_resets", `account_id = ?1`},
	{"email_tokens", `account_id = ?1`},
	{"subscriptions", `owner_id = ?1`},
	{"seats", `account_id = ?1 OR subscription_id IN (SELECT id FROM subscriptions WHERE owner_id = ?1)`},
	{"invitations", `invited_by = ?1 OR accepted_by = ?1 OR email = ?2 OR subscription_id IN (SELECT id FROM subscriptions WHERE owner_id = ?1)`},
	{"subscription_domains", `subscription_id IN (SELECT id FROM subscriptions WHERE owner_id = ?1)`},
	{"billing_customers", `account_id = ?1`},
	{"billing_events", `subscription_ref <> '' AND subscription_ref IN (SELECT provider_ref FROM subscriptions WHERE owner_id = ?1)`},
	{"lease_events", `account_id = ?1`},
	{"metered_reads", `account_id = ?1`},
	{"events", `account_id = ?1 OR actor_id = ?1`},
	{"newsletter_subscribers", `email = ?2`},
	{"newsletter_deliveries", `subscriber_id IN (SELECT id FROM newsletter_subscribers WHERE email = ?2)`},
}

// ExportAccountData returns every row about the account, secrets left out.
func (db *DB) ExportAccountData(ctx context.Context, a *kiosko.Account) (kiosko.AccountData, error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	defer tx.Rollback()
	out := kiosko.AccountData{}
	for _, e := range exportQueries {
		rows, err := tx.QueryContext(ctx, `SELECT * FROM `+e.table+` WHERE `+e.where+` ORDER BY rowid`, a.ID, a.Email)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", e.table, err)
		}
		list, err := exportRows(rows)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", e.table, err)
		}
		out[e.table] = list
	}
	return out, nil
}

func exportRows(rows *sql.Rows) ([]map[string]any, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	list := []map[string]any{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := map[string]any{}
		for i, c := range cols {
			if !kiosko.SecretColumn(c) {
				row[c] = kiosko.ExportValue(c, vals[i])
			}
		}
		list = append(list, row)
	}
	return list, rows.Err()
}

// DeleteAccountData erases the account and every row about it, then
// rebuilds the file (VACUUM) and empties the write-ahead log, so the
// deleted rows' bytes do not linger in free pages.
func (db *DB) DeleteAccountData(ctx context.Context, a *kiosko.Account, failedKeys []string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		stmts := []struct {
			q    string
			args []any
		}{
			{`DELETE FROM newsletter_subscribers WHERE email = ?`, []any{a.Email}},
			{`DELETE FROM invitations WHERE email = ?`, []any{a.Email}},
			// An event's data should not name the reader, but where one
			// does, the data goes and the anonymous fact stays.
			{`UPDATE events SET data = replace(data, ?1, '') WHERE instr(data, ?1) > 0`, []any{a.Email}},
			// So must the outgoing webhooks' copies of those events.
			{`UPDATE webhook_messages SET body = replace(body, ?1, '') WHERE instr(body, ?1) > 0`, []any{a.Email}},
			{`DELETE FROM accounts WHERE id = ?`, []any{a.ID}},
		}
		for _, k := range failedKeys {
			stmts = append(stmts, struct {
				q    string
				args []any
			}{`DELETE FROM failed_sign_ins WHERE key = ?`, []any{k}})
		}
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete account data: %w", err)
	}
	if _, err := db.write.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("delete account data: vacuum: %w", err)
	}
	if _, err := db.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("delete account data: checkpoint: %w", err)
	}
	return nil
}

// TouchDevices moves devices' last seen forward and sets the language they
// use now, in one transaction; a row changes only when one of them does.
func (db *DB) TouchDevices(ctx context.Context, seen []kiosko.DeviceSeen) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE devices SET last_seen = max(last_seen, ?1), lang = CASE WHEN ?2 <> '' THEN ?2 ELSE lang END
			WHERE account_id = ?3 AND id = ?4 AND (last_seen < ?1 OR (?2 <> '' AND lang <> ?2))`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, s := range seen {
			if _, err := stmt.ExecContext(ctx, nanos(s.At), s.Lang, s.AccountID, s.DeviceID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("touch devices: %w", err)
	}
	return nil
}
