package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kiosko/kiosko"
)

// Errors are made afresh each time: callers may set fields on them.
func errAccountNotFound() *kiosko.Error { return notFound("error.account_unknown", "No such account.") }

func errEmailTaken() *kiosko.Error {
	return &kiosko.Error{Code: kiosko.ECONFLICT, Key: "error.email_taken", Message: "An account with this email already exists.", Field: "email"}
}

const accountColumns = `id, email, name, password_hash, role, lang, email_verified_at, password_changed_at, created_at`

func scanAccount(r scanner) (*kiosko.Account, error) {
	var a kiosko.Account
	var verified sql.NullInt64
	var changed, created int64
	if err := r.Scan(&a.ID, &a.Email, &a.Name, &a.PasswordHash, &a.Role, &a.Lang, &verified, &changed, &created); err != nil {
		return nil, err
	}
	a.EmailVerifiedAt = fromNullNanos(verified)
	a.PasswordChangedAt = fromNanos(changed)
	a.CreatedAt = fromNanos(created)
	return &a, nil
}

// CreateAccount stores a and sets its ID. The email is stored as given: the
// domain normalises it. ECONFLICT if the email is taken. The account.created
// event commits with the account, whoever creates it (sign-up, the CLI, an
// invitation), so a publisher's systems hear of every account exactly when
// it exists.
func (db *DB) CreateAccount(ctx context.Context, a *kiosko.Account) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO accounts (email, name, password_hash, role, lang, email_verified_at, password_changed_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.Email, a.Name, a.PasswordHash, a.Role, a.Lang, nullNanos(a.EmailVerifiedAt), nanos(a.PasswordChangedAt), nanos(a.CreatedAt)).Scan(&a.ID); err != nil {
			return err
		}
		return emit(ctx, tx, kiosko.AccountCreatedEvent(a))
	})
	if err != nil {
		a.ID = 0
		return fmt.Errorf("create account: %w", constraintErr(err, errEmailTaken()))
	}
	return nil
}

// FindAccountByID returns an account, or ENOTFOUND.
func (db *DB) FindAccountByID(ctx context.Context, id int64) (*kiosko.Account, error) {
	return queryOne(ctx, db.read, errAccountNotFound(), scanAccount, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id)
}

// FindAccountByEmail looks up a normalised email. ENOTFOUND if none.
func (db *DB) FindAccountByEmail(ctx context.Context, email string) (*kiosko.Account, error) {
	return queryOne(ctx, db.read, errAccountNotFound(), scanAccount, `SELECT `+accountColumns+` FROM accounts WHERE email = ?`, email)
}

// UpdateAccountPassword stores a new password hash.
func (db *DB) UpdateAccountPassword(ctx context.Context, id int64, hash string, changedAt time.Time) error {
	return execOne(ctx, db.write, errAccountNotFound(), `UPDATE accounts SET password_hash = ?, password_changed_at = ? WHERE id = ?`, hash, nanos(changedAt), id)
}

// MarkEmailVerified records when the account's email was verified.
func (db *DB) MarkEmailVerified(ctx context.Context, id int64, at time.Time) error {
	return execOne(ctx, db.write, errAccountNotFound(), `UPDATE accounts SET email_verified_at = ? WHERE id = ?`, at.UnixNano(), id)
}

// UpdateAccountRole changes the account's role.
func (db *DB) UpdateAccountRole(ctx context.Context, id int64, role string) error {
	return execOne(ctx, db.write, errAccountNotFound(), `UPDATE accounts SET role = ? WHERE id = ?`, role, id)
}
