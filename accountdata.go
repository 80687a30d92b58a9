package kiosko

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Kinds of EmailToken.
const (
	EmailTokenVerify = "verify" // confirms the address the account signed up with
	EmailTokenChange = "change" // confirms the new address of an email change
)

// EmailToken is a single-use, expiring link that confirms an address. Only
// the token's SHA-256 is kept.
type EmailToken struct {
	TokenHash []byte
	AccountID int64
	Kind      string // EmailTokenVerify or EmailTokenChange
	Email     string // the address the link confirms
	CreatedAt time.Time
	ExpiresAt time.Time
}

// AccountData is everything stored about one reader, table by table, as
// the export shows it: each row a column -> value map, secrets (password
// and token hashes) left out.
type AccountData map[string][]map[string]any

// AccountDataStore keeps the links that confirm addresses and reads or
// erases everything stored about an account.
type AccountDataStore interface {
	CreateEmailToken(ctx context.Context, t *EmailToken) error
	// ConsumeEmailToken deletes a token of kind and returns it, once.
	// ENOTFOUND when unknown, used, expired at now, or of another kind.
	ConsumeEmailToken(ctx context.Context, hash []byte, kind string, now time.Time) (*EmailToken, error)
	// DeleteEmailTokens removes an account's tokens of kind, so earlier
	// links stop working.
	DeleteEmailTokens(ctx context.Context, accountID int64, kind string) error
	// ChangeAccountEmail sets a new, verified address. ECONFLICT when
	// another account has it.
	ChangeAccountEmail(ctx context.Context, id int64, email string, verifiedAt time.Time) error
	// ExportAccountData returns every row about the account: one entry per
	// table that can hold some, present (maybe empty) even without rows.
	ExportAccountData(ctx context.Context, a *Account) (AccountData, error)
	// DeleteAccountData erases the account and every row about it in one
	// transaction (with the events pending in ctx): the account, its
	// devices, sessions, links, meter, billing customers, subscriptions
	// and the seats and invitations of those, the newsletter
	// subscriptions and deliveries of its address, invitations to it, the
	// failed-attempt counters under failedKeys, and the address wherever
	// an event's data mentions it. Events and lease events stay, with
	// account ids that now name nobody. Seats the account held in other
	// subscriptions become free. The space the rows took is then
	// reclaimed so the address is not left in the database files.
	DeleteAccountData(ctx context.Context, a *Account, failedKeys []string) error
	// TouchDevices moves each device's last seen forward to At (never
	// back) and sets its language to Lang when Lang is not empty, in one
	// transaction; unknown devices are skipped.
	TouchDevices(ctx context.Context, seen []DeviceSeen) error
}

// AccountDataMail sends the emails of verification, email change and
// deletion, in the account's language; internal/web implements it.
type AccountDataMail interface {
	// VerifyAddress sends the link that verifies a's address.
	VerifyAddress(ctx context.Context, a *Account, token string) error
	// ConfirmNewAddress sends the link that confirms newEmail to newEmail.
	ConfirmNewAddress(ctx context.Context, a *Account, newEmail, token string) error
	// AddressChangeRequested tells a's current address that a change to
	// another one was asked for (without naming the new one).
	AddressChangeRequested(ctx context.Context, a *Account) error
	// AddressChanged tells the old address the change is done.
	AddressChanged(ctx context.Context, a *Account, oldEmail string) error
	// AccountDeleted confirms to a's address that the account is gone.
	AccountDeleted(ctx context.Context, a *Account) error
	// SeatEnded tells a member their seat of a subscription whose owner
	// deleted their account has ended.
	SeatEnded(ctx context.Context, member *Account) error
}

// AccountSettings are the limits of the account's own emails.
type AccountSettings struct {
	VerifyTTL      time.Duration // a verification or change link lasts this long (48h)
	ResendsPerHour int           // verification emails an account may ask for in an hour (3)
	ChangesPerHour int           // email changes an account may ask for in an hour (3)
	ExportsPerHour int           // data exports an account may download in an hour (5)
}

// DefaultAccountSettings: links last 48 hours; three emails an hour; five
// exports an hour (each reads every table about the reader).
func DefaultAccountSettings() AccountSettings {
	return AccountSettings{VerifyTTL: 48 * time.Hour, ResendsPerHour: 3, ChangesPerHour: 3, ExportsPerHour: 5}
}

// Accounts is what a reader does with their own account beyond signing in:
// verify the address, change it, download or delete everything stored
// about them. The console calls Delete for an admin.
type Accounts struct {
	Store    Store
	Auth     *Auth
	Billing  *Billing // cancels payments and lists receipts; may be nil
	Mail     AccountDataMail
	Clock    Clock
	Settings AccountSettings
	Log      *slog.Logger
}

func (s *Accounts) now() time.Time { return s.Clock.Now() }

func (s *Accounts) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

func (s *Accounts) ttl() time.Duration {
	if s.Settings.VerifyTTL > 0 {
		return s.Settings.VerifyTTL
	}
	return 48 * time.Hour
}

// ErrVerifyToPay is what an unverified account is told when it tries to pay.
var ErrVerifyToPay = &Error{Code: EFORBIDDEN, Key: "accounts.error.verify_to_pay",
	Message: "Confirm your email address before you pay: follow the link we sent you, or ask for a new one on your account page."}

// RequireVerified fails with ErrVerifyToPay when a's address is not verified.
func RequireVerified(a *Account) error {
	if a.EmailVerifiedAt == nil {
		return ErrVerifyToPay
	}
	return nil
}

// SendVerification emails a new verification link to an unverified
// account, at most ResendsPerHour times an hour. Earlier links stop
// working. A verified account gets nothing and no error.
func (s *Accounts) SendVerification(ctx context.Context, a *Account) error {
	if a.EmailVerifiedAt != nil {
		return nil
	}
	now := s.now()
	key := fmt.Sprintf("verify:account:%d", a.ID)
	if err := s.Auth.limit(ctx, key, s.Settings.ResendsPerHour, now); err != nil {
		return &Error{Code: ETOOMANY, Key: "accounts.error.resend_limit", Message: "We already sent you several links this hour; use the last one, or try again later."}
	}
	if err := s.Store.RecordFailedSignIn(ctx, key, now); err != nil {
		return fmt.Errorf("send verification: %w", err)
	}
	// Sign-up mail shares the site's limits on mail to one address.
	if send, err := AllowMail(ctx, s.Store, s.Auth.Settings.Mail, a.Email, "", now); err != nil {
		return err
	} else if !send {
		return nil
	}
	if err := s.Store.DeleteEmailTokens(ctx, a.ID, EmailTokenVerify); err != nil {
		return fmt.Errorf("send verification: %w", err)
	}
	token := NewToken()
	if err := s.Store.CreateEmailToken(ctx, &EmailToken{TokenHash: HashToken(token), AccountID: a.ID, Kind: EmailTokenVerify, Email: a.Email,
		CreatedAt: now, ExpiresAt: now.Add(s.ttl())}); err != nil {
		return fmt.Errorf("send verification: %w", err)
	}
	if s.Mail == nil {
		return nil
	}
	if err := s.Mail.VerifyAddress(ctx, a, token); err != nil {
		s.log().Error("verification email", "account", a.ID, "err", err)
		return &Error{Code: EUNAVAILABLE, Key: "accounts.error.mail_failed", Message: "The email could not be sent; try again later."}
	}
	return nil
}

var errLinkInvalid = &Error{Code: EINVALID, Key: "accounts.error.link_invalid", Message: "This link has expired or was already used."}

// Verify marks the address of a verification link as verified. The link
// works once, within VerifyTTL, and only while the account still has the
// address it was sent to.
func (s *Accounts) Verify(ctx context.Context, token string) (*Account, error) {
	if token == "" || len(token) > 100 {
		return nil, errLinkInvalid
	}
	now := s.now()
	t, err := s.Store.ConsumeEmailToken(ctx, HashToken(token), EmailTokenVerify, now)
	if IsNotFound(err) {
		return nil, errLinkInvalid
	} else if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	a, err := s.Store.FindAccountByID(ctx, t.AccountID)
	if IsNotFound(err) {
		return nil, errLinkInvalid
	} else if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if a.Email != t.Email {
		return nil, errLinkInvalid
	}
	if a.EmailVerifiedAt == nil {
		if err := s.Store.MarkEmailVerified(ctx, a.ID, now); err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		a.EmailVerifiedAt = &now
		s.Auth.forgetSessions(a.ID)
	}
	return a, nil
}

var errEmailUnavailable = &Error{Code: ECONFLICT, Key: "accounts.error.email_unavailable", Field: "email",
	Message: "That address cannot be used for this account. Choose another one."}

// RequestEmailChange checks the current password and emails a link to the
// new address; the current one keeps working until the link is followed,
// and is told a change was asked for. An address another account has is
// refused without saying whose it is.
func (s *Accounts) RequestEmailChange(ctx context.Context, id *Identity, current, newEmail string) error {
	norm, err := NormalizeEmail(newEmail)
	if err != nil {
		return err
	}
	if err := s.Auth.CheckPassword(ctx, id, current); err != nil {
		return err
	}
	a := id.Account
	if norm == a.Email {
		return &Error{Code: EINVALID, Key: "accounts.error.email_same", Field: "email", Message: "That is already your address."}
	}
	now := s.now()
	key := fmt.Sprintf("change:account:%d", a.ID)
	if err := s.Auth.limit(ctx, key, s.Settings.ChangesPerHour, now); err != nil {
		return &Error{Code: ETOOMANY, Key: "accounts.error.change_limit", Message: "You asked for several changes this hour; use the last link, or try again later."}
	}
	if _, err := s.Store.FindAccountByEmail(ctx, norm); err == nil {
		return errEmailUnavailable
	} else if !IsNotFound(err) {
		return fmt.Errorf("email change: %w", err)
	}
	if err := s.Store.RecordFailedSignIn(ctx, key, now); err != nil {
		return fmt.Errorf("email change: %w", err)
	}
	if err := s.Store.DeleteEmailTokens(ctx, a.ID, EmailTokenChange); err != nil {
		return fmt.Errorf("email change: %w", err)
	}
	token := NewToken()
	if err := s.Store.CreateEmailToken(ctx, &EmailToken{TokenHash: HashToken(token), AccountID: a.ID, Kind: EmailTokenChange, Email: norm,
		CreatedAt: now, ExpiresAt: now.Add(s.ttl())}); err != nil {
		return fmt.Errorf("email change: %w", err)
	}
	if s.Mail == nil {
		return nil
	}
	if err := s.Mail.ConfirmNewAddress(ctx, a, norm, token); err != nil {
		_ = s.Store.DeleteEmailTokens(ctx, a.ID, EmailTokenChange)
		s.log().Error("email change link", "account", a.ID, "err", err)
		return &Error{Code: EUNAVAILABLE, Key: "accounts.error.mail_failed", Message: "The email could not be sent; try again later."}
	}
	if err := s.Mail.AddressChangeRequested(ctx, a); err != nil {
		s.log().Error("email change notice", "account", a.ID, "err", err)
	}
	return nil
}

// ConfirmEmailChange switches the account to the new address of a change
// link, verified. The old address gets a notice. If someone took the
// address in the meantime, the link is refused as any used link.
func (s *Accounts) ConfirmEmailChange(ctx context.Context, token string) (*Account, error) {
	if token == "" || len(token) > 100 {
		return nil, errLinkInvalid
	}
	now := s.now()
	t, err := s.Store.ConsumeEmailToken(ctx, HashToken(token), EmailTokenChange, now)
	if IsNotFound(err) {
		return nil, errLinkInvalid
	} else if err != nil {
		return nil, fmt.Errorf("confirm email change: %w", err)
	}
	a, err := s.Store.FindAccountByID(ctx, t.AccountID)
	if IsNotFound(err) {
		return nil, errLinkInvalid
	} else if err != nil {
		return nil, fmt.Errorf("confirm email change: %w", err)
	}
	old := a.Email
	if err := s.Store.ChangeAccountEmail(ctx, a.ID, t.Email, now); err != nil {
		if ErrorCode(err) == ECONFLICT {
			return nil, errEmailUnavailable
		}
		return nil, fmt.Errorf("confirm email change: %w", err)
	}
	a.Email, a.EmailVerifiedAt = t.Email, &now
	s.Auth.forgetSessions(a.ID)
	if s.Mail != nil {
		if err := s.Mail.AddressChanged(ctx, a, old); err != nil {
			s.log().Error("email changed notice", "account", a.ID, "err", err)
		}
	}
	return a, nil
}

// SecretColumn reports whether a column holds a secret that an export
// leaves out: password and token hashes, unsubscribe tokens.
func SecretColumn(name string) bool {
	return strings.HasSuffix(name, "_hash") || strings.HasSuffix(name, "_token") || name == "lock_owner"
}

// timeColumns are the columns that store a time as nanoseconds.
var timeColumns = map[string]bool{"at": true, "first_seen": true, "last_seen": true, "idle_expiry": true, "current_period_end": true,
	"sharing_warning": true, "since": true, "until": true, "next_attempt_at": true}

// ExportValue turns a stored value into what an export shows: times as
// RFC 3339 text, the rest as stored.
func ExportValue(column string, v any) any {
	n, ok := v.(int64)
	if ok && (timeColumns[column] || strings.HasSuffix(column, "_at")) {
		if n == 0 {
			return nil
		}
		return time.Unix(0, n).UTC().Format(time.RFC3339Nano)
	}
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v
}
