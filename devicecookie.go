package kiosko

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Device tokens slow down online guessing the way OWASP's "Slow Down
// Online Guessing Attacks with Device Cookies" describes. A browser (in a
// cookie) or an app (the device_token of the sign-in answer) that signed
// in to an account successfully holds a token signed by the server:
//
//	dt1.ACCOUNT.ISSUED.NONCE.SIGNATURE
//
// A sign-in attempt that presents a valid token for the account it names
// is a trusted attempt: it is counted only against that token (a small
// limit per token, DeviceTokenFailures an hour), never against the account
// or the client's address, so nobody can lock the owner out of a device
// they have used. Every other attempt is untrusted and counts against the
// account and the client's address. A device_id the client chooses is only
// a name for its device; it confers no trust at all.
//
// Tokens are not stored: the signature is the proof. A token's lock-out is
// a count of its failures in the failed sign-ins table, keyed by its nonce.

const deviceTokenPrefix = "dt1"

// DeviceTokenTTL is how long a device token is honoured after it was issued
// (each successful sign-in issues a new one).
const DeviceTokenTTL = 365 * 24 * time.Hour

// deviceKeys holds the key of a process whose Auth was given none (tests):
// tokens then work for the life of the process.
var deviceKeys struct {
	once sync.Once
	key  []byte
}

func (s *Auth) deviceKey() []byte {
	if len(s.DeviceKey) > 0 {
		return s.DeviceKey
	}
	deviceKeys.once.Do(func() {
		deviceKeys.key = make([]byte, 32)
		if _, err := rand.Read(deviceKeys.key); err != nil {
			panic(err)
		}
	})
	return deviceKeys.key
}

func (s *Auth) deviceSignature(payload string) string {
	m := hmac.New(sha256.New, s.deviceKey())
	m.Write([]byte("kiosko device token\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// IssueDeviceToken returns a new device token for the account.
func (s *Auth) IssueDeviceToken(accountID int64) string {
	payload := deviceTokenPrefix + "." + strconv.FormatInt(accountID, 10) + "." + strconv.FormatInt(s.now().Unix(), 10) + "." + NewToken()
	return payload + "." + s.deviceSignature(payload)
}

// deviceTokenNonce checks token for accountID and returns the key its
// failures are counted under; ok is false for anything but a valid,
// unexpired token of that account.
func (s *Auth) deviceTokenNonce(token string, accountID int64) (key string, ok bool) {
	if token == "" || len(token) > 200 {
		return "", false
	}
	parts := strings.Split(token, ".")
	if len(parts) != 5 || parts[0] != deviceTokenPrefix {
		return "", false
	}
	payload := strings.Join(parts[:4], ".")
	if !hmac.Equal([]byte(parts[4]), []byte(s.deviceSignature(payload))) {
		return "", false
	}
	id, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || id != accountID {
		return "", false
	}
	issued, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return "", false
	}
	if at := time.Unix(issued, 0); s.now().Sub(at) > DeviceTokenTTL || at.After(s.now().Add(time.Hour)) {
		return "", false
	}
	sum := sha256.Sum256([]byte(parts[3]))
	return "signin:devicetoken:" + hex.EncodeToString(sum[:12]), true
}

// ValidDeviceToken reports whether token is a valid device token of the
// account (used to decide whether a signed-in browser needs a new one).
func (s *Auth) ValidDeviceToken(token string, accountID int64) bool {
	_, ok := s.deviceTokenNonce(token, accountID)
	return ok
}

// emailKey is the key of an address's untrusted failures. It is derived
// from the address, not the account, so unknown addresses are limited the
// same way and the limit tells nobody whether an account exists.
func emailKey(prefix, email string) string {
	sum := sha256.Sum256([]byte(email))
	return prefix + hex.EncodeToString(sum[:12])
}
