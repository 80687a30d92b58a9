package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/kiosko/kiosko/internal/httpx"
	"github.com/kiosko/kiosko/internal/web"
)

// bodyReadTimeout is how long a client has to send a request body.
const bodyReadTimeout = 30 * time.Second

// secure wraps the whole server in the protections every route shares
// (docs/security.md): HSTS over https, a read deadline for request bodies,
// and the body caps, refused with the site's page or the API's JSON.
func secure(d *httpx.Deps, site *web.Server, bodyTimeout time.Duration, next http.Handler) http.Handler {
	limits := httpx.BodyLimits{Default: httpx.DefaultMaxBody, Larger: uploadLimits, TooLarge: func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			d.WriteError(w, r, httpx.ErrTooLarge())
			return
		}
		site.TooLarge(w, r)
	}}
	return httpx.HSTS(d.HSTS, httpx.ReadDeadline(bodyTimeout, limits.Handler(next)))
}

// uploadLimits are the routes that take files, with their larger caps
// (path prefix -> bytes). None takes files yet.
var uploadLimits = map[string]int64{}

// mailDir is where emails go without an SMTP server.
func mailDir(cfg *Config) string { return filepath.Join(cfg.Data, "mail") }

// deviceKey derives the key of device tokens from the site's secret, so
// it differs from the key of other signed values.
func deviceKey(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("kiosko device tokens v1"))
	return m.Sum(nil)
}
