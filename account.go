package kiosko

import (
	"context"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Roles an account may have.
const (
	RoleReader = "reader"
	RoleEditor = "editor"
	RoleAdmin  = "admin"
)

// Account is one person's login.
type Account struct {
	ID                int64
	Email             string // normalised: trimmed, lower case
	Name              string
	PasswordHash      string // argon2id, PHC string format
	Role              string
	Lang              string // language of emails and of pages outside an edition: the edition the reader uses
	EmailVerifiedAt   *time.Time
	PasswordChangedAt time.Time
	CreatedAt         time.Time
}

// AccountStore keeps accounts.
type AccountStore interface {
	// CreateAccount stores a and sets its ID. ECONFLICT if the email is taken.
	CreateAccount(ctx context.Context, a *Account) error
	FindAccountByID(ctx context.Context, id int64) (*Account, error)
	// FindAccountByEmail looks up a normalised email. ENOTFOUND if none.
	FindAccountByEmail(ctx context.Context, email string) (*Account, error)
	UpdateAccountPassword(ctx context.Context, id int64, hash string, changedAt time.Time) error
	MarkEmailVerified(ctx context.Context, id int64, at time.Time) error
	UpdateAccountRole(ctx context.Context, id int64, role string) error
	// UpdateAccountLang sets the language of the account's emails and of
	// pages outside an edition. EINVALID for a language kiosko does not speak.
	UpdateAccountLang(ctx context.Context, id int64, lang string) error
}

// PasswordHasher hashes and checks passwords (argon2id in production).
type PasswordHasher interface {
	Hash(password string) (string, error)
	// Verify reports whether password matches hash.
	Verify(hash, password string) (bool, error)
}

// NormalizeEmail trims and lower-cases an address and checks its form.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", FieldError("email", "error.email_required", "Email is required.")
	}
	if len(s) > 254 {
		return "", FieldError("email", "error.email_invalid", "Email address is not valid.")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || !strings.Contains(s[strings.LastIndex(s, "@")+1:], ".") {
		return "", FieldError("email", "error.email_invalid", "Email address is not valid.")
	}
	return s, nil
}

// Password length limits (NIST 800-63B; no composition rules).
const (
	MinPasswordLength = 12
	MaxPasswordLength = 128
)

// ValidatePassword checks a new password's length and rejects the most
// common passwords.
func ValidatePassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLength {
		return FieldError("password", "error.password_too_short", "Password must have at least 12 characters.")
	}
	if n > MaxPasswordLength {
		return FieldError("password", "error.password_too_long", "Password must have at most 128 characters.")
	}
	if commonPasswords[strings.ToLower(pw)] || oneCharacter(pw) {
		return errPasswordCommon()
	}
	return nil
}

// commonPasswords holds well-known passwords of 12 characters or more, which
// are the only ones the length rule lets through.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range strings.Fields(`
		123456789012 1234567890123 12345678901234 123456789123 password1234
		password12345 passwordpassword qwertyuiopasdf qwertyuiop12 qwertyuiop123
		111111111111 000000000000 123123123123 abcdefghijkl abc123abc123
		iloveyou1234 letmeinletmein welcome12345 administrator adminadmin123
		1q2w3e4r5t6y 1qaz2wsx3edc zaq12wsxcde3 football1234 baseball1234
		princess1234 sunshine1234 trustno1trustno1 monkeymonkey dragondragon
		contraseña123 contrasena123 contrasena1234 holahola1234 teamo1234567
		kiosko123456 kioskokiosko changeme1234 passw0rd1234 p@ssword1234
		p@ssw0rd1234 superman1234 batman123456 starwars1234 whatever1234
		qazwsxedcrfv asdfghjklzxc zxcvbnm12345 987654321098 555555555555
		aaaaaaaaaaaa 123qweasdzxc`) {
		m[p] = true
	}
	return m
}()
