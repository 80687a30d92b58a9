package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/kiosko/kiosko"
)

func errSessionNotFound() *kiosko.Error {
	return notFound("error.signed_out", "No such session.")
}

func errDeviceNotFound() *kiosko.Error { return notFound("error.device_unknown", "No such device.") }

func errResetNotFound() *kiosko.Error {
	return notFound("error.reset_link_invalid", "This link has expired or was already used.")
}

const sessionColumns = `id, token_hash, account_id, device_id, created_at, last_seen_at, idle_expiry, expires_at`

func scanSession(r scanner) (*kiosko.Session, error) {
	var s kiosko.Session
	var created, seen, idle, expires int64
	if err := r.Scan(&s.ID, &s.TokenHash, &s.AccountID, &s.DeviceID, &created, &seen, &idle, &expires); err != nil {
		return nil, err
	}
	s.CreatedAt, s.LastSeenAt, s.IdleExpiry, s.ExpiresAt = fromNanos(created), fromNanos(seen), fromNanos(idle), fromNanos(expires)
	return &s, nil
}

// CreateSession stores s and sets its ID.
func (db *DB) CreateSession(ctx context.Context, s *kiosko.Session) error {
	err := db.write.QueryRowContext(ctx, `INSERT INTO sessions (token_hash, account_id, device_id, created_at, last_seen_at, idle_expiry, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		s.TokenHash, s.AccountID, s.DeviceID, nanos(s.CreatedAt), nanos(s.LastSeenAt), nanos(s.IdleExpiry), nanos(s.ExpiresAt)).Scan(&s.ID)
	if err != nil {
		return fmt.Errorf("create session: %w", constraintErr(err, kiosko.Errorf(kiosko.ECONFLICT, "error.conflict", "Session token already in use.")))
	}
	return nil
}

// FindSessionByTokenHash returns ENOTFOUND for unknown or ended sessions.
// Whether it is still live is the caller's question (Session.Live).
func (db *DB) FindSessionByTokenHash(ctx context.Context, hash []byte) (*kiosko.Session, error) {
	return queryOne(ctx, db.read, errSessionNotFound(), scanSession, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = ?`, hash)
}

// TouchSession moves LastSeenAt and IdleExpiry forward.
func (db *DB) TouchSession(ctx context.Context, id int64, lastSeen, idleExpiry time.Time) error {
	return execOne(ctx, db.write, errSessionNotFound(), `UPDATE sessions SET last_seen_at = ?, idle_expiry = ? WHERE id = ?`, nanos(lastSeen), nanos(idleExpiry), id)
}

// DeleteSession ends one session; ENOTFOUND if it had already ended.
func (db *DB) DeleteSession(ctx context.Context, id int64) error {
	return execOne(ctx, db.write, errSessionNotFound(), `DELETE FROM sessions WHERE id = ?`, id)
}

// DeleteSessionsByAccount ends every session of an account except exceptID
// (0: none) and returns the ended ones, oldest first.
func (db *DB) DeleteSessionsByAccount(ctx context.Context, accountID, exceptID int64) ([]*kiosko.Session, error) {
	return db.deleteSessions(ctx, `DELETE FROM sessions WHERE account_id = ? AND id <> ? RETURNING `+sessionColumns, accountID, exceptID)
}

// DeleteSessionsByDevice ends every session of one device of an account.
func (db *DB) DeleteSessionsByDevice(ctx context.Context, accountID int64, deviceID string) ([]*kiosko.Session, error) {
	return db.deleteSessions(ctx, `DELETE FROM sessions WHERE account_id = ? AND device_id = ? RETURNING `+sessionColumns, accountID, deviceID)
}

func (db *DB) deleteSessions(ctx context.Context, query string, args ...any) ([]*kiosko.Session, error) {
	ended, err := queryList(ctx, db.write, scanSession, query, args...)
	if err != nil {
		return nil, fmt.Errorf("delete sessions: %w", err)
	}
	// RETURNING gives rows in no promised order.
	slices.SortFunc(ended, func(a, b *kiosko.Session) int { return cmp.Compare(a.ID, b.ID) })
	return ended, nil
}

const deviceColumns = `account_id, id, name, user_agent, ip, place, first_seen, last_seen, lang`

func scanDevice(r scanner) (*kiosko.Device, error) {
	var d kiosko.Device
	var first, last int64
	if err := r.Scan(&d.AccountID, &d.ID, &d.Name, &d.UserAgent, &d.IP, &d.Place, &first, &last, &d.Lang); err != nil {
		return nil, err
	}
	d.FirstSeen, d.LastSeen = fromNanos(first), fromNanos(last)
	return &d, nil
}

// UpsertDevice creates the device or updates name, user agent, IP, place,
// LastSeen and (when d has one) Lang, keeping FirstSeen (which it copies
// back into d).
func (db *DB) UpsertDevice(ctx context.Context, d *kiosko.Device) error {
	var first int64
	err := db.write.QueryRowContext(ctx, `INSERT INTO devices (`+deviceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, id) DO UPDATE SET name = excluded.name, user_agent = excluded.user_agent,
			ip = excluded.ip, place = excluded.place, last_seen = excluded.last_seen,
			lang = CASE WHEN excluded.lang <> '' THEN excluded.lang ELSE devices.lang END
		RETURNING first_seen`,
		d.AccountID, d.ID, d.Name, d.UserAgent, d.IP, d.Place, nanos(d.FirstSeen), nanos(d.LastSeen), d.Lang).Scan(&first)
	if err != nil {
		return fmt.Errorf("upsert device: %w", constraintErr(err, nil))
	}
	d.FirstSeen = fromNanos(first)
	return nil
}

// FindDevice returns one device of an account, or ENOTFOUND.
func (db *DB) FindDevice(ctx context.Context, accountID int64, deviceID string) (*kiosko.Device, error) {
	return queryOne(ctx, db.read, errDeviceNotFound(), scanDevice, `SELECT `+deviceColumns+` FROM devices WHERE account_id = ? AND id = ?`, accountID, deviceID)
}

// FindSignedInDevices lists the devices of an account that have at least one
// session live at now, most recently seen first.
func (db *DB) FindSignedInDevices(ctx context.Context, accountID int64, now time.Time) ([]*kiosko.Device, error) {
	n := nanos(now)
	devices, err := queryList(ctx, db.read, scanDevice, `SELECT `+deviceColumns+` FROM devices d
		WHERE d.account_id = ? AND EXISTS (
			SELECT 1 FROM sessions s
			WHERE s.account_id = d.account_id AND s.device_id = d.id AND s.idle_expiry > ? AND s.expires_at > ?)
		ORDER BY d.last_seen DESC, d.id`, accountID, n, n)
	if err != nil {
		return nil, fmt.Errorf("find signed-in devices: %w", err)
	}
	return devices, nil
}

// CreatePasswordReset stores a reset, and forgets resets that had expired.
func (db *DB) CreatePasswordReset(ctx context.Context, r *kiosko.PasswordReset) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM password_resets WHERE expires_at <= ?`, nanos(r.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO password_resets (token_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			r.TokenHash, r.AccountID, nanos(r.CreatedAt), nanos(r.ExpiresAt))
		return constraintErr(err, kiosko.Errorf(kiosko.ECONFLICT, "error.conflict", "Reset token already in use."))
	})
	if err != nil {
		return fmt.Errorf("create password reset: %w", err)
	}
	return nil
}

// ConsumePasswordReset deletes the reset and returns it, once. ENOTFOUND
// when unknown, used or expired at now. The DELETE … RETURNING is one
// statement, so two racing calls cannot both get it.
func (db *DB) ConsumePasswordReset(ctx context.Context, hash []byte, now time.Time) (*kiosko.PasswordReset, error) {
	r, err := queryOne(ctx, db.write, errResetNotFound(), func(row scanner) (*kiosko.PasswordReset, error) {
		var r kiosko.PasswordReset
		var created, expires int64
		if err := row.Scan(&r.TokenHash, &r.AccountID, &created, &expires); err != nil {
			return nil, err
		}
		r.CreatedAt, r.ExpiresAt = fromNanos(created), fromNanos(expires)
		return &r, nil
	}, `DELETE FROM password_resets WHERE token_hash = ? RETURNING token_hash, account_id, created_at, expires_at`, hash)
	if err != nil {
		return nil, err
	}
	if !now.Before(r.ExpiresAt) {
		return nil, errResetNotFound()
	}
	return r, nil
}

// failedSignInKeep is how long failed sign-ins are kept: every limit looks
// back one hour, so a day is plenty.
const failedSignInKeep = 24 * time.Hour

// RecordFailedSignIn notes a failed attempt under key. Now and then (at most
// every ten minutes of at) it prunes the attempts older than a day.
func (db *DB) RecordFailedSignIn(ctx context.Context, key string, at time.Time) error {
	if _, err := db.write.ExecContext(ctx, `INSERT INTO failed_sign_ins (key, at) VALUES (?, ?)`, key, nanos(at)); err != nil {
		return fmt.Errorf("record failed sign-in: %w", err)
	}
	last := db.lastPrune.Load()
	if n := at.UnixNano(); n-last >= int64(10*time.Minute) && db.lastPrune.CompareAndSwap(last, n) {
		if _, err := db.write.ExecContext(ctx, `DELETE FROM failed_sign_ins WHERE at < ?`, at.Add(-failedSignInKeep).UnixNano()); err != nil {
			return fmt.Errorf("prune failed sign-ins: %w", err)
		}
	}
	return nil
}

// CountFailedSignIns counts the attempts under key at or after since.
func (db *DB) CountFailedSignIns(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM failed_sign_ins WHERE key = ? AND at >= ?`, key, nanos(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count failed sign-ins: %w", err)
	}
	return n, nil
}
