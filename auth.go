package kiosko

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// AuthSettings are the limits of sign-in and sessions.
type AuthSettings struct {
	SessionIdle      time.Duration // 30 days
	SessionAbsolute  time.Duration // 180 days
	ResetTTL         time.Duration // a reset link lasts this long
	FailedPerAccount int           // failed sign-ins per account per hour
	FailedPerIP      int           // failed sign-ins per client address (AddressKey) per hour
	// FailedPerDeviceToken bounds the failed sign-ins of one device token,
	// and the wrong current passwords of one session, per hour.
	FailedPerDeviceToken int
	Mail                 MailLimits // mail sent on behalf of anonymous visitors
	// TakenPerClient bounds the sign-ups of taken addresses per client
	// address per hour (signup.go); 0: 10.
	TakenPerClient   int
	ResetsPerAccount int           // reset requests per account per hour
	ResetsPerIP      int           // reset requests per IP prefix per hour
	TouchEvery       time.Duration // how often a used session's last-seen is written
	// SessionCacheTTL is how long a looked-up session is trusted without
	// asking the database again (0: DefaultSessionCacheTTL; negative: never).
	// Sessions this process ends leave the cache at once; the TTL bounds
	// how long a session ended by another node stays usable here.
	SessionCacheTTL time.Duration
}

// DefaultAuthSettings follows DESIGN.md's security baseline.
func DefaultAuthSettings() AuthSettings {
	return AuthSettings{
		SessionIdle:          30 * 24 * time.Hour,
		SessionAbsolute:      180 * 24 * time.Hour,
		ResetTTL:             time.Hour,
		FailedPerAccount:     100,
		FailedPerIP:          300,
		FailedPerDeviceToken: 10,
		Mail:                 DefaultMailLimits(),
		ResetsPerAccount:     5,
		ResetsPerIP:          30,
		TouchEvery:           time.Minute,
	}
}

// AccountMail sends the emails about an account. The web package implements
// it with the catalogs and templates.
type AccountMail interface {
	PasswordReset(ctx context.Context, a *Account, token string) error
	PasswordChanged(ctx context.Context, a *Account) error
}

// Client describes where a request comes from.
type Client struct {
	DeviceID string // from the device cookie or the app; empty: a new one is made
	// DeviceToken is the signed token of a device that signed in before
	// (devicecookie.go): the browser's cookie or the app's device_token.
	DeviceToken string
	DeviceName  string // an app's own name for the device; empty: from the User-Agent
	UserAgent   string
	IP          string // full address; stored truncated
	Place       string // coarse place, e.g. from the browser's time zone
	Lang        string // the language the device reads in, for the device list; "" when the request does not say
}

// Identity is a signed-in request: the session and its account.
type Identity struct {
	Session *Session
	Account *Account
}

// Auth signs readers up, in and out, and manages passwords and devices.
type Auth struct {
	Store    Store
	Hasher   PasswordHasher
	Clock    Clock
	Settings AuthSettings
	Hub      Hub
	Mail     AccountMail
	// DeviceName turns a User-Agent into a readable name.
	DeviceName func(userAgent string) string
	// Judge, when set, refuses guessable new passwords (passwordpolicy.go).
	Judge PasswordJudge
	// DeviceKey signs device tokens; every node must share it (empty: a
	// key made for this process).
	DeviceKey []byte
	// Reading, when set, lifts sharing warnings on a password change and
	// releases the leases of signed-out devices.
	Reading *Reading
	Log     *slog.Logger
	// Country, when set, tells the country of a client address; a device
	// keeps only that as its place, never the address (lastseen.go).
	Country func(ip string) string
	// Seen, when set, moves devices' last seen with every request, in
	// batches (lastseen.go).
	Seen *DeviceActivity
	// Changes, when set, tells the other kiosko processes about sessions
	// this one ends, and while it is live sessions stay cached for up to
	// DefaultCacheMaxAge (cache.go). Whoever listens to it calls Forget.
	Changes ChangeFeed

	caches  authCaches // sessions and device names (cache.go)
	touches touchQueue // touch.go
}

func (s *Auth) now() time.Time { return s.Clock.Now() }

func (s *Auth) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// SignUpRequest is the sign-up form.
type SignUpRequest struct {
	Email    string
	Password string
	Name     string
	Lang     string
}

// SignUp creates a reader account on the free plan.
func (s *Auth) SignUp(ctx context.Context, req SignUpRequest) (*Account, error) {
	email, err := NormalizeEmail(req.Email)
	if err != nil {
		return nil, err
	}
	if err := s.validatePassword(req.Password, req.Email, req.Name); err != nil {
		return nil, err
	}
	req.Name = CleanName(req.Name)
	if len(req.Name) > 200 {
		return nil, FieldError("name", "error.name_too_long", "Name is too long.")
	}
	hash, err := s.Hasher.Hash(req.Password)
	if err != nil {
		return nil, fmt.Errorf("sign up: %w", err)
	}
	lang := req.Lang
	if !IsLanguage(lang) {
		lang = LangSpanish
	}
	now := s.now()
	a := &Account{Email: email, Name: strings.TrimSpace(req.Name), PasswordHash: hash, Role: RoleReader, Lang: lang, PasswordChangedAt: now, CreatedAt: now}
	if err := s.Store.CreateAccount(ctx, a); err != nil {
		if ErrorCode(err) == ECONFLICT {
			return nil, &Error{Code: ECONFLICT, Key: "error.email_taken", Message: "An account with this email already exists.", Field: "email"}
		}
		return nil, fmt.Errorf("sign up: %w", err)
	}
	return a, nil
}

// SignInResult is a new session and its token, shown once.
type SignInResult struct {
	Token    string
	Session  *Session
	Account  *Account
	DeviceID string
	// DeviceToken is the device's new device token (devicecookie.go).
	DeviceToken string
}

var errBadCredentials = &Error{Code: EUNAUTHORIZED, Key: "error.bad_credentials", Message: "Wrong email or password."}

func errTooMany() *Error {
	return &Error{Code: ETOOMANY, Key: "error.too_many_attempts", Message: "Too many attempts. Try again later."}
}

// SignIn checks credentials and starts a new session on the client's device.
// Unknown emails and wrong passwords get the same answer. An attempt with a
// valid device token of the account (devicecookie.go) is limited only per
// token; any other attempt is limited per address tried and per client
// address. Successful sign-ins are never counted.
func (s *Auth) SignIn(ctx context.Context, email, password string, c Client) (*SignInResult, error) {
	now := s.now()
	norm, err := NormalizeEmail(email)
	if err != nil {
		return nil, errBadCredentials
	}
	a, err := s.Store.FindAccountByEmail(ctx, norm)
	if err != nil && !IsNotFound(err) {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	var keys []string // where a failure of this attempt is counted
	if a != nil {
		if tokenKey, ok := s.deviceTokenNonce(c.DeviceToken, a.ID); ok {
			if err := s.limit(ctx, tokenKey, s.Settings.FailedPerDeviceToken, now); err != nil {
				return nil, err
			}
			keys = []string{tokenKey}
		}
	}
	if keys == nil {
		ipKey := "signin:ip:" + AddressKey(c.IP)
		acctKey := emailKey("signin:email:", norm)
		if err := s.limit(ctx, ipKey, s.Settings.FailedPerIP, now); err != nil {
			return nil, err
		}
		if err := s.limit(ctx, acctKey, s.Settings.FailedPerAccount, now); err != nil {
			return nil, err
		}
		keys = []string{ipKey, acctKey}
	}
	if a == nil {
		// Spend the same time as a real check so timing tells nothing.
		_, _ = s.Hasher.Verify(dummyHash(s.Hasher), password)
		s.recordFailures(ctx, now, keys...)
		return nil, errBadCredentials
	}
	if a.PasswordHash == NoPassword { // imported without one (members.go)
		_, _ = s.Hasher.Verify(dummyHash(s.Hasher), password)
		s.recordFailures(ctx, now, keys...)
		return nil, errBadCredentials
	}
	ok, err := s.Hasher.Verify(a.PasswordHash, password)
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	if !ok {
		s.recordFailures(ctx, now, keys...)
		return nil, errBadCredentials
	}
	return s.StartSession(ctx, a, c)
}

func (s *Auth) recordFailures(ctx context.Context, now time.Time, keys ...string) {
	for _, k := range keys {
		if err := s.Store.RecordFailedSignIn(ctx, k, now); err != nil {
			s.log().Warn("record failed sign-in", "err", err)
		}
	}
}

// AddressKey is the part of a client address its failed attempts are
// counted under: an IPv4 address whole (so one noisy neighbour does not
// lock out a /24), an IPv6 /64 (one host usually holds a whole /64).
func AddressKey(ip string) string {
	addr, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return ""
	}
	addr = addr.Unmap()
	if addr.Is4() {
		return addr.String()
	}
	p, err := addr.Prefix(64)
	if err != nil {
		return ""
	}
	return p.String()
}

// StartSession signs an account in on the client's device, with a new token.
func (s *Auth) StartSession(ctx context.Context, a *Account, c Client) (*SignInResult, error) {
	now := s.now()
	deviceID := c.DeviceID
	if !ValidDeviceID(deviceID) {
		deviceID = NewDeviceID()
	}
	name := truncate(CleanName(c.DeviceName), 80)
	if name == "" && s.DeviceName != nil {
		name = truncate(CleanName(s.DeviceName(c.UserAgent)), 80)
	}
	dev := &Device{AccountID: a.ID, ID: deviceID, Name: name, UserAgent: truncate(c.UserAgent, 400), IP: TruncateIP(c.IP), Place: truncate(c.Place, 80), FirstSeen: now, LastSeen: now}
	if s.Country != nil { // the country alone: neither the address nor a time zone
		dev.IP, dev.Place = "", s.Country(c.IP)
	}
	if IsLanguage(c.Lang) {
		dev.Lang = c.Lang
	}
	if err := s.Store.UpsertDevice(ctx, dev); err != nil {
		return nil, fmt.Errorf("sign in: device: %w", err)
	}
	k := deviceKey{account: a.ID, device: deviceID} // the device may have a new name
	s.caches.sessions.devices.delete(k.hash(), k)
	s.publish(ctx, a.ID)
	token := NewToken()
	sess := &Session{TokenHash: HashToken(token), AccountID: a.ID, DeviceID: deviceID, CreatedAt: now, LastSeenAt: now,
		IdleExpiry: now.Add(s.Settings.SessionIdle), ExpiresAt: now.Add(s.Settings.SessionAbsolute)}
	if err := s.Store.CreateSession(ctx, sess); err != nil {
		return nil, fmt.Errorf("sign in: session: %w", err)
	}
	// For the account's timeline in the console; a sign-in stands without it.
	if err := s.Store.AppendEvents(ctx, []Event{NewEvent(EventSignedIn, a.ID, a.ID, map[string]string{"device": name, "place": truncate(c.Place, 80)}, now)}); err != nil {
		s.log().Warn("sign-in event", "account", a.ID, "err", err)
	}
	return &SignInResult{Token: token, Session: sess, Account: a, DeviceID: deviceID, DeviceToken: s.IssueDeviceToken(a.ID)}, nil
}

var errSignedOut = &Error{Code: EUNAUTHORIZED, Key: "error.signed_out", Message: "You are not signed in, or your session has ended."}

// Authenticate returns the identity of a session token. EUNAUTHORIZED when
// the token is unknown, ended or expired. A session looked up in the last
// SessionCacheTTL is answered from memory (cache.go says how stale that
// may be); the session's expiry is still checked on every call.
func (s *Auth) Authenticate(ctx context.Context, token string) (*Identity, error) {
	if token == "" || len(token) > 100 {
		return nil, errSignedOut
	}
	hash := sha256.Sum256([]byte(token))
	now := s.now()
	cache := s.sessionCache()
	ttl := s.sessionCacheTTL()
	if cache != nil {
		if e, ok := cache.get(hash, ttl); ok {
			if e.session.Live(now) {
				if now.Sub(e.session.LastSeenAt) >= s.Settings.TouchEvery {
					// Due a touch: queue the write (touch.go), keep the
					// entry, read nothing.
					idle := now.Add(s.Settings.SessionIdle)
					s.queueTouch(SessionTouch{ID: e.session.ID, LastSeen: now, IdleExpiry: idle})
					e.session.LastSeenAt, e.session.IdleExpiry = now, idle
					cache.update(hash, e)
				}
				sess, a := e.session, e.account
				s.Seen.Note(a.ID, sess.DeviceID, now)
				return &Identity{Session: &sess, Account: &a}, nil
			}
			// Expired: the store path below ends it.
			cache.forget(hash)
		}
	}
	var epoch uint64
	readAt := time.Now()
	if cache != nil {
		epoch = cache.snapshot()
	}
	sess, err := s.Store.FindSessionByTokenHash(ctx, hash[:])
	if IsNotFound(err) {
		return nil, errSignedOut
	} else if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if !sess.Live(now) {
		_ = s.Store.DeleteSession(ctx, sess.ID)
		return nil, errSignedOut
	}
	a, err := s.Store.FindAccountByID(ctx, sess.AccountID)
	if err != nil {
		if IsNotFound(err) {
			return nil, errSignedOut
		}
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if now.Sub(sess.LastSeenAt) >= s.Settings.TouchEvery {
		idle := now.Add(s.Settings.SessionIdle)
		if err := s.Store.TouchSession(ctx, sess.ID, now, idle); err != nil {
			s.log().Warn("touch session", "err", err)
		} else {
			sess.LastSeenAt, sess.IdleExpiry = now, idle
		}
	}
	if cache != nil {
		cache.put(hash, sessionEntry{session: *sess, account: *a, epoch: epoch}, readAt, ttl)
	}
	s.Seen.Note(a.ID, sess.DeviceID, now)
	return &Identity{Session: sess, Account: a}, nil
}

// NoteDeviceLang records the language the device of id uses now, written
// to the device list with its next last seen (lastseen.go): an app's or
// browser's language, or the one its reader chose.
func (s *Auth) NoteDeviceLang(id *Identity, lang string) {
	if id == nil || id.Session == nil || id.Account == nil {
		return
	}
	s.Seen.NoteLang(id.Account.ID, id.Session.DeviceID, lang)
}

// sessionCacheTTL is the TTL in force: the setting, or, when it is the
// default and the change feed is live, DefaultCacheMaxAge.
func (s *Auth) sessionCacheTTL() time.Duration {
	if s.Settings.SessionCacheTTL == 0 && s.Changes != nil && s.Changes.Live() {
		return DefaultCacheMaxAge
	}
	return cacheTTL(s.Settings.SessionCacheTTL, DefaultSessionCacheTTL)
}

// Forget drops what this Auth keeps in memory about the account (0: every
// account), after a change feed said it changed.
func (s *Auth) Forget(c Change) {
	if !c.AboutAccounts() {
		return
	}
	if c.Account == 0 {
		s.caches.sessions.revokeAll()
		return
	}
	s.caches.sessions.revoke(c.Account)
}

// publish tells the other processes that the account's sessions or
// devices changed.
func (s *Auth) publish(ctx context.Context, accountID int64) {
	if s.Changes == nil {
		return
	}
	if err := s.Changes.PublishChange(context.WithoutCancel(ctx), Change{Account: accountID}); err != nil {
		s.log().Error("publish session change; other nodes keep their cached copy for a while", "account", accountID, "err", err)
	}
}

// sessionCache returns the cache of the store's sessions, or nil when
// caching is off.
func (s *Auth) sessionCache() *sessionCache {
	if s.sessionCacheTTL() <= 0 {
		return nil
	}
	return &s.caches.sessions
}

// forgetSessions drops the account's cached sessions after the store ended
// some of them, so they stop working on this node at once.
func (s *Auth) forgetSessions(accountID int64) {
	s.caches.sessions.revoke(accountID)
	s.publish(context.Background(), accountID)
}

// Reader is the signed-in device of id asking to read, named as its device
// list shows it (no name when the device is unknown), so the other device's
// interstitial says who has the lease. Heartbeats need it on every call, so
// the name is kept as long as a session is (SessionCacheTTL); a sign-in
// that renames the device is seen at once on this node.
func (s *Auth) Reader(ctx context.Context, id *Identity) (Reader, error) {
	rd := Reader{Account: id.Account, DeviceID: id.Session.DeviceID}
	var err error
	rd.DeviceName, err = s.deviceName(ctx, id)
	return rd, err
}

func (s *Auth) deviceName(ctx context.Context, id *Identity) (string, error) {
	key := deviceKey{account: id.Account.ID, device: id.Session.DeviceID}
	ttl := s.sessionCacheTTL()
	var cache *sessionCache
	if ttl > 0 {
		cache = &s.caches.sessions
	}
	var epoch uint64
	if cache != nil {
		if e, ok := cache.devices.get(key.hash(), key, ttl, time.Now()); ok && !cache.stale(key.account, e.v.epoch) {
			return e.v.name, nil
		}
		epoch = cache.snapshot()
	}
	readAt := time.Now()
	dev, err := s.Store.FindDevice(ctx, key.account, key.device)
	if IsNotFound(err) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("device name: %w", err)
	}
	if cache != nil {
		cache.sawTTL(ttl)
		cache.devices.put(key.hash(), key, cached[deviceEntry]{v: deviceEntry{name: dev.Name, epoch: epoch}, at: readAt}, ttl)
	}
	return dev.Name, nil
}

// EndSession ends a session that a new sign-in in the same browser
// replaces. keepLease is true when the new session is on the same device
// of the same account, which keeps reading.
func (s *Auth) EndSession(ctx context.Context, id *Identity, keepLease bool) error {
	if !keepLease {
		return s.SignOut(ctx, id)
	}
	err := s.Store.DeleteSession(ctx, id.Session.ID)
	s.forgetSessions(id.Account.ID)
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// SignOut ends one session.
func (s *Auth) SignOut(ctx context.Context, id *Identity) error {
	err := s.Store.DeleteSession(ctx, id.Session.ID)
	s.forgetSessions(id.Account.ID)
	if err != nil && !IsNotFound(err) {
		return fmt.Errorf("sign out: %w", err)
	}
	s.releaseDevice(ctx, id.Account.ID, id.Session.DeviceID)
	return nil
}

// CheckPassword verifies the current password for a sensitive change
// (password or email change, signing devices out, deleting the account).
// A wrong one counts as a failed sign-in of the account, and each session
// may get it wrong FailedPerDeviceToken times an hour: a stolen token can
// not be used to guess the password.
func (s *Auth) CheckPassword(ctx context.Context, id *Identity, current string) error {
	now := s.now()
	sessKey := fmt.Sprintf("pwcheck:session:%d", id.Session.ID)
	if err := s.limit(ctx, sessKey, s.Settings.FailedPerDeviceToken, now); err != nil {
		return err
	}
	ok, err := s.Hasher.Verify(id.Account.PasswordHash, current)
	if err != nil {
		return fmt.Errorf("check password: %w", err)
	}
	if !ok {
		s.recordFailures(ctx, now, sessKey, emailKey("signin:email:", id.Account.Email))
		return &Error{Code: EFORBIDDEN, Key: "error.current_password_wrong", Message: "The current password is not right.", Field: "current_password"}
	}
	return nil
}

// ChangePassword sets a new password after checking the current one. Every
// other session of the account ends at once and its pages are told; the
// account's sharing warnings are lifted; the owner is emailed.
func (s *Auth) ChangePassword(ctx context.Context, id *Identity, current, next string) error {
	if err := s.CheckPassword(ctx, id, current); err != nil {
		return err
	}
	if err := s.setPassword(ctx, id.Account, next, id.Session.ID); err != nil {
		return err
	}
	if s.Reading != nil {
		if err := s.Reading.ClearAccountWarnings(ctx, id.Account.ID, "password"); err != nil {
			s.log().Error("clear sharing warning after password change", "account", id.Account.ID, "err", err)
		}
	}
	return nil
}

// setPassword stores a new password and ends every session but keep (0: all).
func (s *Auth) setPassword(ctx context.Context, a *Account, next string, keep int64) error {
	if err := s.validatePassword(next, a.Email, a.Name); err != nil {
		err.(*Error).Field = "new_password"
		return err
	}
	hash, err := s.Hasher.Hash(next)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	now := s.now()
	if err := s.Store.UpdateAccountPassword(ctx, a.ID, hash, now); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	a.PasswordHash, a.PasswordChangedAt = hash, now
	ended, err := s.Store.DeleteSessionsByAccount(ctx, a.ID, keep)
	s.forgetSessions(a.ID) // the kept session's account changed too
	if err != nil {
		return fmt.Errorf("set password: end sessions: %w", err)
	}
	s.signedOut(ctx, a.ID, ended, "password", EventPasswordSignOut)
	if s.Mail != nil {
		acct := *a
		go func() {
			if err := s.Mail.PasswordChanged(context.WithoutCancel(ctx), &acct); err != nil {
				s.log().Error("password changed email", "account", acct.ID, "err", err)
			}
		}()
	}
	return nil
}

// signedOut tells the pages of ended sessions, frees their leases and
// records the events.
func (s *Auth) signedOut(ctx context.Context, accountID int64, ended []*Session, reason, kind string) {
	now := s.now()
	for _, e := range ended {
		if s.Hub != nil {
			if err := s.Hub.Publish(ctx, Notice{Kind: NoticeSignedOut, AccountID: accountID, Device: e.DeviceID, Session: e.ID, Reason: reason}); err != nil {
				s.log().Warn("publish signed_out", "err", err)
			}
		}
	}
	devices := map[string]bool{}
	for _, e := range ended {
		if !devices[e.DeviceID] {
			devices[e.DeviceID] = true
			s.releaseDevice(ctx, accountID, e.DeviceID)
		}
	}
	if s.Reading != nil {
		var evs []LeaseEvent
		for d := range devices {
			evs = append(evs, LeaseEvent{Kind: kind, AccountID: accountID, Device: d, Reason: reason, At: now})
		}
		s.Reading.Record(evs...)
	}
}

func (s *Auth) releaseDevice(ctx context.Context, accountID int64, device string) {
	if s.Reading != nil {
		s.Reading.ReleaseDevice(ctx, accountID, device)
	}
}

// SignOutDevice ends every session of one of the account's devices, after
// checking the current password. The device's open pages are told at once.
func (s *Auth) SignOutDevice(ctx context.Context, id *Identity, deviceID, current string) error {
	if err := s.CheckPassword(ctx, id, current); err != nil {
		return err
	}
	if _, err := s.Store.FindDevice(ctx, id.Account.ID, deviceID); err != nil {
		if IsNotFound(err) {
			return &Error{Code: ENOTFOUND, Key: "error.device_unknown", Message: "No such device."}
		}
		return fmt.Errorf("sign out device: %w", err)
	}
	ended, err := s.Store.DeleteSessionsByDevice(ctx, id.Account.ID, deviceID)
	s.forgetSessions(id.Account.ID)
	if err != nil {
		return fmt.Errorf("sign out device: %w", err)
	}
	s.signedOut(ctx, id.Account.ID, ended, "remote", EventRemoteSignOut)
	return nil
}

// SignOutOthers ends every session of the account but the caller's.
func (s *Auth) SignOutOthers(ctx context.Context, id *Identity, current string) error {
	if err := s.CheckPassword(ctx, id, current); err != nil {
		return err
	}
	ended, err := s.Store.DeleteSessionsByAccount(ctx, id.Account.ID, id.Session.ID)
	s.forgetSessions(id.Account.ID)
	if err != nil {
		return fmt.Errorf("sign out others: %w", err)
	}
	s.signedOut(ctx, id.Account.ID, ended, "remote", EventRemoteSignOut)
	return nil
}

// SignOutEverywhere ends every session of an account (an admin's action,
// or the account's deletion): its pages are told at once and its leases
// freed.
func (s *Auth) SignOutEverywhere(ctx context.Context, accountID int64, reason string) (int, error) {
	ended, err := s.Store.DeleteSessionsByAccount(ctx, accountID, 0)
	s.forgetSessions(accountID)
	if err != nil {
		return 0, fmt.Errorf("sign out everywhere: %w", err)
	}
	s.signedOut(ctx, accountID, ended, reason, EventRemoteSignOut)
	return len(ended), nil
}

// SendPasswordReset emails an account a single-use reset link at once
// (an admin's action, so without the limits of RequestPasswordReset).
func (s *Auth) SendPasswordReset(ctx context.Context, a *Account) error {
	if s.Mail == nil {
		return Errorf(EUNAVAILABLE, "error.unavailable", "Mail is not configured.")
	}
	now := s.now()
	token := NewToken()
	if err := s.Store.CreatePasswordReset(ctx, &PasswordReset{TokenHash: HashToken(token), AccountID: a.ID, CreatedAt: now, ExpiresAt: now.Add(s.Settings.ResetTTL)}); err != nil {
		return fmt.Errorf("password reset: %w", err)
	}
	if err := s.Mail.PasswordReset(ctx, a, token); err != nil {
		return fmt.Errorf("password reset email: %w", err)
	}
	return nil
}

// RequestPasswordReset emails a single-use link if the address has an
// account. It answers the same whether or not it does.
func (s *Auth) RequestPasswordReset(ctx context.Context, email string, c Client) error {
	now := s.now()
	ipKey := "reset:ip:" + TruncateIP(c.IP)
	if err := s.limit(ctx, ipKey, s.Settings.ResetsPerIP, now); err != nil {
		return err
	}
	_ = s.Store.RecordFailedSignIn(ctx, ipKey, now)
	norm, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if send, err := AllowMail(ctx, s.Store, s.Settings.Mail, norm, c.IP, now); err != nil || !send {
		return err
	}
	a, err := s.Store.FindAccountByEmail(ctx, norm)
	if IsNotFound(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("password reset: %w", err)
	}
	acctKey := fmt.Sprintf("reset:account:%d", a.ID)
	if n, err := s.Store.CountFailedSignIns(ctx, acctKey, now.Add(-time.Hour)); err != nil {
		return fmt.Errorf("password reset: %w", err)
	} else if n >= s.Settings.ResetsPerAccount {
		return nil // silently: the same answer as for any address
	}
	_ = s.Store.RecordFailedSignIn(ctx, acctKey, now)
	token := NewToken()
	if err := s.Store.CreatePasswordReset(ctx, &PasswordReset{TokenHash: HashToken(token), AccountID: a.ID, CreatedAt: now, ExpiresAt: now.Add(s.Settings.ResetTTL)}); err != nil {
		return fmt.Errorf("password reset: %w", err)
	}
	if s.Mail != nil {
		// Sent in the background so the answer takes as long for any address.
		go func() {
			if err := s.Mail.PasswordReset(context.WithoutCancel(ctx), a, token); err != nil {
				s.log().Error("password reset email", "account", a.ID, "err", err)
			}
		}()
	}
	return nil
}

// ResetPassword sets a new password with a reset link's token and ends every
// session of the account. The token works once.
func (s *Auth) ResetPassword(ctx context.Context, token, next string) (*Account, error) {
	if err := s.validatePassword(next); err != nil {
		return nil, err
	}
	r, err := s.Store.ConsumePasswordReset(ctx, HashToken(token), s.now())
	if IsNotFound(err) {
		return nil, &Error{Code: EINVALID, Key: "error.reset_link_invalid", Message: "This link has expired or was already used."}
	} else if err != nil {
		return nil, fmt.Errorf("reset password: %w", err)
	}
	a, err := s.Store.FindAccountByID(ctx, r.AccountID)
	if err != nil {
		return nil, fmt.Errorf("reset password: %w", err)
	}
	if err := s.setPassword(ctx, a, next, 0); err != nil {
		return nil, err
	}
	if s.Reading != nil {
		if err := s.Reading.ClearAccountWarnings(ctx, a.ID, "password"); err != nil {
			s.log().Error("clear sharing warning after reset", "account", a.ID, "err", err)
		}
	}
	return a, nil
}

// limit fails with ETOOMANY when key has max or more failures in the last hour.
func (s *Auth) limit(ctx context.Context, key string, max int, now time.Time) error {
	if max <= 0 {
		return nil
	}
	n, err := s.Store.CountFailedSignIns(ctx, key, now.Add(-time.Hour))
	if err != nil {
		return fmt.Errorf("rate limit: %w", err)
	}
	if n >= max {
		return errTooMany()
	}
	return nil
}

// NewToken returns 128 random bits, URL-safe.
func NewToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is how tokens are stored: SHA-256 (they are random, so no salt
// or slow hash is needed).
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// NewDeviceID returns a random device id.
func NewDeviceID() string { return "d_" + NewToken() }

// ValidDeviceID reports whether id looks like a device id (apps may choose
// their own: 8 to 64 letters, digits, '-' or '_').
func ValidDeviceID(id string) bool {
	if len(id) < 8 || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// TruncateIP keeps the network part of an address: IPv4 /24, IPv6 /48.
func TruncateIP(ip string) string {
	addr, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return ""
	}
	addr = addr.Unmap()
	bits := 48
	if addr.Is4() {
		bits = 24
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.String()
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

var dummy struct {
	once sync.Once
	hash string
}

// dummyHash is a real hash of a throwaway password, made once.
func dummyHash(h PasswordHasher) string {
	dummy.once.Do(func() { dummy.hash, _ = h.Hash("not a real password, only for timing") })
	return dummy.hash
}
