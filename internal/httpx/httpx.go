// Package httpx is the HTTP plumbing the site (internal/web) and the API
// (internal/api) share: what handlers depend on, cookies, who is asking,
// in which language, and the security headers.
package httpx

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/entitlement"
	"github.com/kiosko/kiosko/internal/i18n"
)

// Deps is what the site and the API need, wired by cmd/kiosko.
type Deps struct {
	Store           kiosko.Store
	Auth            *kiosko.Auth
	Reading         *kiosko.Reading
	Hub             kiosko.Hub
	Plans           kiosko.PlanSource // the plans table (kiosko.PlanCatalog); a fixed map in tests
	Billing         *kiosko.Billing   // plans sold online or by hand, seats, invitations; may be nil
	Catalog         *i18n.Catalog
	Clock           kiosko.Clock
	Meter           kiosko.MeterSettings
	ReadingSettings kiosko.ReadingSettings
	Mailer          kiosko.Mailer
	Newsletter      *kiosko.Newsletter  // nil: newsletter routes answer 404
	Newsroom        *kiosko.Newsroom    // nil: the newsroom's routes answer 404
	PublicURL       string              // base of links in emails, no trailing slash
	Secret          []byte              // HMAC key: meter cookie and other signed values
	SecureCookies   bool                // serve over TLS: Secure and __Host- cookies
	TrustProxy      bool                // the peer is a proxy (one hop of X-Forwarded-For); see TrustedProxies
	TrustedProxies  []netip.Prefix      // KIOSKO_TRUSTED_PROXIES: peers whose X-Forwarded-For is believed
	HSTS            bool                // send Strict-Transport-Security (KIOSKO_PUBLIC_URL is https)
	Entitlements    *entitlement.Issuer // signs the entitlement of reading answers; nil: none
	Accounts        *kiosko.Accounts    // verification, email change, export, deletion; nil: those routes answer 404
	ContactEmail    string              // KIOSKO_CONTACT_EMAIL: where readers write for a plan
	Log             *slog.Logger
	Views           *kiosko.ViewRecorder // article pages shown, for the insights; nil counts nothing

	// WebhookAllowPrivate (KIOSKO_WEBHOOK_ALLOW_PRIVATE) lets webhook
	// endpoints be on loopback or private addresses.
	WebhookAllowPrivate bool

	// Content keeps editions and articles in memory, forgotten through
	// the change feed; nil: every page reads the store.
	Content *kiosko.ContentCache
}

// Cookie names. Over TLS the session cookie carries the __Host- prefix.
const (
	sessionCookie = "kiosko_session"
	DeviceCookie  = "kiosko_device"
	MeterCookie   = "kiosko_meter"
)

// SessionCookieName returns the session cookie's name.
func (d *Deps) SessionCookieName() string {
	if d.SecureCookies {
		return "__Host-" + sessionCookie
	}
	return sessionCookie
}

// SetCookie sets an HttpOnly, SameSite=Lax cookie on path /, Secure over TLS.
// maxAge 0 makes a browser-session cookie; negative deletes it.
func (d *Deps) SetCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: d.SecureCookies}
	switch {
	case maxAge < 0:
		c.MaxAge = -1
	case maxAge > 0:
		c.MaxAge = int(maxAge.Seconds())
	}
	http.SetCookie(w, c)
}

// SetSession stores a new session token in the cookie.
func (d *Deps) SetSession(w http.ResponseWriter, token string) {
	d.SetCookie(w, d.SessionCookieName(), token, d.Auth.Settings.SessionAbsolute)
}

// ClearSession deletes the session cookie.
func (d *Deps) ClearSession(w http.ResponseWriter) {
	d.SetCookie(w, d.SessionCookieName(), "", -1)
}

// Token returns the session token of a request: the Bearer token of an app,
// else the browser's session cookie.
func (d *Deps) Token(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	if c, err := r.Cookie(d.SessionCookieName()); err == nil {
		return c.Value
	}
	return ""
}

// Identify returns who is signed in on the request, or EUNAUTHORIZED.
func (d *Deps) Identify(r *http.Request) (*kiosko.Identity, error) {
	if id := IdentityFrom(r.Context()); id != nil {
		return id, nil
	}
	return d.Auth.Authenticate(r.Context(), d.Token(r))
}

// DeviceID returns the device id cookie, or "" when the browser has none.
func DeviceID(r *http.Request) string {
	if c, err := r.Cookie(DeviceCookie); err == nil && kiosko.ValidDeviceID(c.Value) {
		return c.Value
	}
	return ""
}

// EnsureDevice returns the browser's device id, setting a new long-lived
// cookie when it has none.
func (d *Deps) EnsureDevice(w http.ResponseWriter, r *http.Request) string {
	if id := DeviceID(r); id != "" {
		return id
	}
	id := kiosko.NewDeviceID()
	d.SetCookie(w, DeviceCookie, id, 5*365*24*time.Hour)
	return id
}

// ClientIP returns the client's address (clientip.go says whom it believes).
func (d *Deps) ClientIP(r *http.Request) string { return d.clientAddr(r) }

// Client describes the request's device for sign-in.
func (d *Deps) Client(r *http.Request, deviceID, place string) kiosko.Client {
	return kiosko.Client{DeviceID: deviceID, DeviceToken: d.DeviceToken(r), UserAgent: r.UserAgent(), IP: d.ClientIP(r), Place: place, Lang: d.DeviceLang(r)}
}

// DeviceLang is the language the request's device reads in, for the device
// list: the one its reader chose (the lang cookie), else its browser's or
// app's Accept-Language; "" when the request says neither, rather than the
// default a page would fall back to.
func (d *Deps) DeviceLang(r *http.Request) string {
	if _, err := r.Cookie("kiosko_lang"); err != nil && r.Header.Get("Accept-Language") == "" {
		return ""
	}
	return d.Lang(r, "")
}

// Lang picks the language of a response: the edition's language when the
// page belongs to one, then a "lang" cookie the reader chose, then
// Accept-Language, then Spanish.
func (d *Deps) Lang(r *http.Request, editionLang string) string {
	if kiosko.IsLanguage(editionLang) {
		return editionLang
	}
	if c, err := r.Cookie("kiosko_lang"); err == nil && kiosko.IsLanguage(c.Value) {
		return c.Value
	}
	return i18n.Negotiate(r.Header.Get("Accept-Language"), kiosko.LangSpanish)
}

// Sign returns value with an HMAC-SHA256 signature appended ("value.sig").
func (d *Deps) Sign(value string) string {
	m := hmac.New(sha256.New, d.Secret)
	m.Write([]byte(value))
	return value + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Verify checks a signed value and returns the value; ok is false when the
// signature does not match (a tampered cookie).
func (d *Deps) Verify(signed string) (value string, ok bool) {
	i := strings.LastIndexByte(signed, '.')
	if i < 0 {
		return "", false
	}
	value = signed[:i]
	if !hmac.Equal([]byte(d.Sign(value)), []byte(signed)) {
		return "", false
	}
	return value, true
}

type identityKey struct{}

// WithIdentity stores the identity of a request in its context.
func WithIdentity(ctx context.Context, id *kiosko.Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the identity stored by WithIdentity, or nil.
func IdentityFrom(ctx context.Context) *kiosko.Identity {
	id, _ := ctx.Value(identityKey{}).(*kiosko.Identity)
	return id
}

// HTTPStatus maps a domain error code to a status.
func HTTPStatus(code string) int {
	switch code {
	case kiosko.EINVALID:
		return http.StatusBadRequest
	case kiosko.ECONFLICT:
		return http.StatusConflict
	case kiosko.ENOTFOUND:
		return http.StatusNotFound
	case kiosko.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case kiosko.EFORBIDDEN:
		return http.StatusForbidden
	case kiosko.ETOOMANY:
		return http.StatusTooManyRequests
	case kiosko.EPAYMENT:
		return http.StatusPaymentRequired
	case kiosko.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case kiosko.ENOTIMPLEMENTED:
		return http.StatusNotImplemented
	case kiosko.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case kiosko.EGONE:
		return http.StatusGone
	}
	return http.StatusInternalServerError
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ErrorBody is the JSON shape of an error: {error:{code, message}}.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	} `json:"error"`
}

// WriteError answers err as JSON in the request's language; internal
// errors are logged and never shown.
func (d *Deps) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	code := kiosko.ErrorCode(err)
	if code == kiosko.EINTERNAL {
		d.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var body ErrorBody
	body.Error.Code = code
	body.Error.Message = d.Catalog.Error(d.Lang(r, ""), err)
	if e := (*kiosko.Error)(nil); errors.As(err, &e) {
		body.Error.Field = e.Field
	}
	WriteJSON(w, HTTPStatus(code), body)
}

// SecurityHeaders sets the headers every answer carries: a CSP without
// inline script, no framing, no sniffing, no referrer leaks.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}
