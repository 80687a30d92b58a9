package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
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

func scanSession(r pgx.Row) (*kiosko.Session, error) {
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
	err := db.pool.QueryRow(ctx, `INSERT INTO sessions (token_hash, account_id, device_id, created_at, last_seen_at, idle_expiry, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		s.TokenHash, s.AccountID, s.DeviceID, nanos(s.CreatedAt), nanos(s.LastSeenAt), nanos(s.IdleExpiry), nanos(s.ExpiresAt)).Scan(&s.ID)
	return fail("create session", constraintErr(err, kiosko.Errorf(kiosko.ECONFLICT, "error.conflict", "Session token already in use.")))
}

// FindSessionByTokenHash returns ENOTFOUND for unknown or ended sessions.
// Whether it is still live is the caller's question (Session.Live).
func (db *DB) FindSessionByTokenHash(ctx context.Context, hash []byte) (*kiosko.Session, error) {
	return queryOne(ctx, db.pool, errSessionNotFound(), scanSession, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = $1`, hash)
}

// TouchSession moves LastSeenAt and IdleExpiry forward.
func (db *DB) TouchSession(ctx context.Context, id int64, lastSeen, idleExpiry time.Time) error {
	return execOne(ctx, db.pool, errSessionNotFound(), `UPDATE sessions SET last_seen_at = $1, idle_expiry = $2 WHERE id = $3`, nanos(lastSeen), nanos(idleExpiry), id)
}

// DeleteSession ends one session; ENOTFOUND if it had already ended.
func (db *DB) DeleteSession(ctx context.Context, id int64) error {
	return execOne(ctx, db.pool, errSessionNotFound(), `DELETE FROM sessions WHERE id = $1`, id)
}

// DeleteSessionsByAccount ends every session of an account except exceptID
// (0: none) and returns the ended ones, oldest first.
func (db *DB) DeleteSessionsByAccount(ctx context.Context, accountID, exceptID int64) ([]*kiosko.Session, error) {
	return db.deleteSessions(ctx, `WITH ended AS (DELETE FROM sessions WHERE account_id = $1 AND id <> $2 RETURNING `+sessionColumns+`)
		SELECT `+sessionColumns+` FROM ended ORDER BY id`, accountID, exceptID)
}

// DeleteSessionsByDevice ends every session of one device of an account.
func (db *DB) DeleteSessionsByDevice(ctx context.Context, accountID int64, deviceID string) ([]*kiosko.Session, error) {
	return db.deleteSessions(ctx, `WITH ended AS (DELETE FROM sessions WHERE account_id = $1 AND device_id = $2 RETURNING `+sessionColumns+`)
		SELECT `+sessionColumns+` FROM ended ORDER BY id`, accountID, deviceID)
}

func (db *DB) deleteSessions(ctx context.Context, query string, args ...any) ([]*kiosko.Session, error) {
	ended, err := queryList(ctx, db.pool, scanSession, query, args...)
	if err != nil {
		return nil, fail("delete sessions", err)
	}
	return ended, nil
}

const deviceColumns = `account_id, id, name, user_agent, ip, place, first_seen, last_seen, lang`

func scanDevice(r pgx.Row) (*kiosko.Device, error) {
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
	err := db.pool.QueryRow(ctx, `INSERT INTO devices (`+deviceColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (account_id, id) DO UPDATE SET name = excluded.name, user_agent = excluded.user_agent,
			ip = excluded.ip, place = excluded.place, last_seen = excluded.last_seen,
			lang = CASE WHEN excluded.lang <> '' THEN excluded.lang ELSE devices.lang END
		RETURNING first_seen`,
		d.AccountID, d.ID, d.Name, d.UserAgent, d.IP, d.Place, nanos(d.FirstSeen), nanos(d.LastSeen), d.Lang).Scan(&first)
	if err != nil {
		return fail("upsert device", constraintErr(err, nil))
	}
	d.FirstSeen = fromNanos(first)
	return nil
}

// FindDevice returns one device of an account, or ENOTFOUND.
func (db *DB) FindDevice(ctx context.Context, accountID int64, deviceID string) (*kiosko.Device, error) {
	return queryOne(ctx, db.pool, errDeviceNotFound(), scanDevice, `SELECT `+deviceColumns+` FROM devices WHERE account_id = $1 AND id = $2`, accountID, deviceID)
}

// FindSignedInDevices lists the devices of an account that have at least one
// session live at now, most recently seen first.
func (db *DB) FindSignedInDevices(ctx context.Context, accountID int64, now time.Time) ([]*kiosko.Device, error) {
	devices, err := queryList(ctx, db.pool, scanDevice, `SELECT `+qualified("d", deviceColumns)+` FROM devices d
		WHERE d.account_id = $1 AND EXISTS (
			SELECT 1 FROM sessions s
			WHERE s.account_id = d.account_id AND s.device_id = d.id AND s.idle_expiry > $2 AND s.expires_at > $2)
		ORDER BY d.last_seen DESC, d.id COLLATE "C"`, accountID, nanos(now))
	if err != nil {
		return nil, fail("find signed-in devices", err)
	}
	return devices, nil
}

// CreatePasswordReset stores a reset, and forgets resets that had expired.
func (db *DB) CreatePasswordReset(ctx context.Context, r *kiosko.PasswordReset) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM password_resets WHERE expires_at <= $1`, nanos(r.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO password_resets (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			r.TokenHash, r.AccountID, nanos(r.CreatedAt), nanos(r.ExpiresAt))
		return constraintErr(err, kiosko.Errorf(kiosko.ECONFLICT, "error.conflict", "Reset token already in use."))
	})
	return fail("create password reset", err)
}

// ConsumePasswordReset deletes the reset and returns it, once. ENOTFOUND
// when unknown, used or expired at now. The DELETE … RETURNING is one
// statement, so two racing calls cannot both get it.
func (db *DB) ConsumePasswordReset(ctx context.Context, hash []byte, now time.Time) (*kiosko.PasswordReset, error) {
	r, err := queryOne(ctx, db.pool, errResetNotFound(), func(row pgx.Row) (*kiosko.PasswordReset, error) {
		var r kiosko.PasswordReset
		var created, expires int64
		if err := row.Scan(&r.TokenHash, &r.AccountID, &created, &expires); err != nil {
			return nil, err
		}
		r.CreatedAt, r.ExpiresAt = fromNanos(created), fromNanos(expires)
		return &r, nil
	}, `DELETE FROM password_resets WHERE token_hash = $1 RETURNING token_hash, account_id, created_at, expires_at`, hash)
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
// every ten minutes of at, per node) it prunes the attempts older than a day.
func (db *DB) RecordFailedSignIn(ctx context.Context, key string, at time.Time) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO failed_sign_ins (key, at) VALUES ($1, $2)`, key, nanos(at)); err != nil {
		return fail("record failed sign-in", err)
	}
	last := db.lastPrune.Load()
	if n := at.UnixNano(); n-last >= int64(10*time.Minute) && db.lastPrune.CompareAndSwap(last, n) {
		if _, err := db.pool.Exec(ctx, `DELETE FROM failed_sign_ins WHERE at < $1`, at.Add(-failedSignInKeep).UnixNano()); err != nil {
			return fail("prune failed sign-ins", err)
		}
	}
	return nil
}

// CountFailedSignIns counts the attempts under key at or after since.
func (db *DB) CountFailedSignIns(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM failed_sign_ins WHERE key = $1 AND at >= $2`, key, nanos(since)).Scan(&n); err != nil {
		return 0, fail("count failed sign-ins", err)
	}
	return n, nil
}
