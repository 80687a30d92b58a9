package httpx

import (
	"net/http"
	"time"
)

// deviceTokenCookie holds the browser's device token (kiosko.Auth's
// devicecookie.go): proof that this browser signed in to the account
// before, so guessing elsewhere never locks it out.
const deviceTokenCookie = "kiosko_device_token"

// DeviceTokenCookieName is the cookie's name; over TLS it carries the
// __Host- prefix like the session cookie.
func (d *Deps) DeviceTokenCookieName() string {
	if d.SecureCookies {
		return "__Host-" + deviceTokenCookie
	}
	return deviceTokenCookie
}

// DeviceToken returns the browser's device token, or "".
func (d *Deps) DeviceToken(r *http.Request) string {
	if c, err := r.Cookie(d.DeviceTokenCookieName()); err == nil && len(c.Value) <= 200 {
		return c.Value
	}
	return ""
}

// SetDeviceToken keeps a new device token in the browser for a year.
func (d *Deps) SetDeviceToken(w http.ResponseWriter, token string) {
	if token != "" {
		d.SetCookie(w, d.DeviceTokenCookieName(), token, 365*24*time.Hour)
	}
}
