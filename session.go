package kiosko

import (
	"context"
	"time"
)

// Session is one sign-in of an account on one device. The token itself is
// never stored, only its SHA-256 hash.
type Session struct {
	ID         int64
	TokenHash  []byte
	AccountID  int64
	DeviceID   string
	CreatedAt  time.Time
	LastSeenAt time.Time
	IdleExpiry time.Time // slides forward with use
	ExpiresAt  time.Time // absolute limit
}

// Live reports whether the session may still be used at now.
func (s *Session) Live(now time.Time) bool {
	return now.Before(s.IdleExpiry) && now.Before(s.ExpiresAt)
}

// Device is one browser or app of an account, identified by a random id kept
// in a long-lived cookie (or sent by an app).
type Device struct {
	AccountID int64
	ID        string
	Name      string // "Firefox on Android", derived from the User-Agent
	UserAgent string
	IP        string // truncated: IPv4 /24, IPv6 /48
	Place     string // coarse place, when known
	Lang      string // the language the device reads in (es, en); "" when not known yet
	FirstSeen time.Time
	LastSeen  time.Time
}

// PasswordReset is a single-use, expiring link sent by email.
type PasswordReset struct {
	TokenHash []byte
	AccountID int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SessionStore keeps sessions, devices, password resets and failed sign-ins.
type SessionStore interface {
	CreateSession(ctx context.Context, s *Session) error
	// FindSessionByTokenHash returns ENOTFOUND for unknown or ended sessions.
	FindSessionByTokenHash(ctx context.Context, hash []byte) (*Session, error)
	// TouchSession moves LastSeenAt and IdleExpiry forward.
	TouchSession(ctx context.Context, id int64, lastSeen, idleExpiry time.Time) error
	DeleteSession(ctx context.Context, id int64) error
	// DeleteSessionsByAccount ends every session of an account except
	// exceptID (0: none) and returns the ended ones.
	DeleteSessionsByAccount(ctx context.Context, accountID, exceptID int64) ([]*Session, error)
	// DeleteSessionsByDevice ends every session of one device of an account.
	DeleteSessionsByDevice(ctx context.Context, accountID int64, deviceID string) ([]*Session, error)

	// UpsertDevice creates the device or updates name, user agent, IP, place
	// and LastSeen, keeping FirstSeen.
	UpsertDevice(ctx context.Context, d *Device) error
	FindDevice(ctx context.Context, accountID int64, deviceID string) (*Device, error)
	// FindSignedInDevices lists the devices of an account that have at least
	// one session live at now, most recently seen first.
	FindSignedInDevices(ctx context.Context, accountID int64, now time.Time) ([]*Device, error)

	CreatePasswordReset(ctx context.Context, r *PasswordReset) error
	// ConsumePasswordReset deletes the reset and returns it, once. ENOTFOUND
	// when unknown, used or expired at now.
	ConsumePasswordReset(ctx context.Context, hash []byte, now time.Time) (*PasswordReset, error)

	// RecordFailedSignIn notes a failed attempt under key ("account:ID" or
	// "ip:PREFIX"); CountFailedSignIns counts those at or after since.
	RecordFailedSignIn(ctx context.Context, key string, at time.Time) error
	CountFailedSignIns(ctx context.Context, key string, since time.Time) (int, error)
}
