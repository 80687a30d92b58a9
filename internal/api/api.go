// Package api is kiosko's JSON API under /api/v1/, for the site's own
// script, mobile apps and publisher integrations: sessions, articles, the
// reading rule (claim, heartbeat, takeover and the event stream), devices,
// and the reader's own account: password, address, export, receipts and
// deletion (account.go). Its contract is the "Reading API" table of
// DESIGN.md; errors are {error:{code, message}} in the request's language.
package api

import (
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
)

// Handler serves /api/v1/. Mount it at "/api/v1/"; its patterns carry the
// full path.
type Handler struct {
	d   *httpx.Deps
	mux *http.ServeMux
	// csrf turns away cross-site writes that ride on the browser's cookie;
	// guarded is mux behind it.
	csrf    *http.CrossOriginProtection
	guarded http.Handler

	// keepAlive is how often an idle event stream gets a comment, so
	// proxies do not close it.
	keepAlive time.Duration
	streams   streamCounts // open event streams (streamcap.go)
	light     lightStreams // event streams taken over from net/http (events_light.go)

	closeOnce sync.Once
	closed    chan struct{}
}

// routeHooks add routes defined in other files of this package (e.g. the
// newsletter sign-up), each after the reading routes. They append in init().
var routeHooks []func(h *Handler, mux *http.ServeMux)

// New returns the API handler.
func New(d *httpx.Deps) *Handler {
	h := &Handler{d: d, mux: http.NewServeMux(), csrf: http.NewCrossOriginProtection(), keepAlive: 25 * time.Second, closed: make(chan struct{})}
	h.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.Error(w, r, kiosko.Errorf(kiosko.EFORBIDDEN, "error.forbidden", "Cross-origin request refused."))
	}))

	m := h.mux
	m.HandleFunc("POST /api/v1/sessions", h.createSession)
	m.Handle("DELETE /api/v1/sessions/current", h.SignedIn(h.deleteSession))
	m.HandleFunc("GET /api/v1/articles", h.listArticles)
	m.Handle("POST /api/v1/reading/claim", h.SignedIn(h.claim))
	m.Handle("POST /api/v1/reading/heartbeat", h.SignedIn(h.heartbeat))
	m.Handle("POST /api/v1/reading/takeover", h.SignedIn(h.takeover))
	m.Handle("POST /api/v1/reading/presence", h.SignedIn(h.presence))
	m.Handle("GET /api/v1/reading/events", h.SignedIn(h.events))
	m.Handle("GET /api/v1/devices", h.SignedIn(h.listDevices))
	m.Handle("DELETE /api/v1/devices/{id}", h.SignedIn(h.signOutDevice))
	m.Handle("POST /api/v1/account/password", h.SignedIn(h.changePassword))
	for _, hook := range routeHooks {
		hook(h, m)
	}
	h.guarded = h.csrf.Handler(m)
	return h
}

func (h *Handler) log() *slog.Logger {
	if h.d.Log == nil {
		return slog.Default()
	}
	return h.d.Log
}

// Deps returns what the handlers depend on.
func (h *Handler) Deps() *httpx.Deps { return h.d }

// Close ends every open event stream. http.Server.Shutdown does not cancel
// the contexts of requests in flight, so serve should register it with
// RegisterOnShutdown, or shutting down waits for every reader to leave.
func (h *Handler) Close() {
	h.closeOnce.Do(func() { close(h.closed) })
}

// ServeHTTP routes the request; unknown paths and wrong methods answer with
// JSON errors like every other call.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if next, pattern := h.mux.Handler(r); pattern == "" {
		h.unrouted(next, w, r)
		return
	}
	// The mux serves again rather than next, so that it sets path values.
	// A browser's cookie rides along on cross-site requests; apps send a
	// Bearer token, which no other site can.
	if r.Header.Get("Authorization") == "" {
		h.guarded.ServeHTTP(w, r)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// unrouted answers a request no pattern matched. The mux knows whether the
// path exists with another method (405, with Allow) or needs a redirect;
// its plain-text answers are turned into JSON.
func (h *Handler) unrouted(next http.Handler, w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{header: http.Header{}}
	next.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusMethodNotAllowed:
		if allow := rec.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		h.Error(w, r, kiosko.Errorf(kiosko.EINVALID, "error.method_not_allowed", "Method %s not allowed.", r.Method), http.StatusMethodNotAllowed)
	case http.StatusMovedPermanently, http.StatusPermanentRedirect, http.StatusTemporaryRedirect, http.StatusFound:
		http.Redirect(w, r, rec.header.Get("Location"), rec.status)
	default:
		h.Error(w, r, kiosko.Errorf(kiosko.ENOTFOUND, "error.not_found", "No such API call."))
	}
}

// statusRecorder keeps the status and headers of the mux's own answers.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header { return s.header }
func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return len(b), nil
}
func (s *statusRecorder) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
}

// SignedInFunc is a handler for a signed-in request.
type SignedInFunc func(w http.ResponseWriter, r *http.Request, id *kiosko.Identity)

// SignedIn answers 401 unless the request carries a live session (Bearer
// token or cookie), then calls fn with who is asking.
func (h *Handler) SignedIn(fn SignedInFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := h.d.Identify(r)
		if err != nil {
			h.Error(w, r, err)
			return
		}
		h.d.Auth.NoteDeviceLang(id, h.d.DeviceLang(r)) // GET /api/v1/devices shows it
		fn(w, r, id)
	})
}

// Error answers err as a JSON error in the request's language. status, when
// given, overrides the status of the error's code.
func (h *Handler) Error(w http.ResponseWriter, r *http.Request, err error, status ...int) {
	if len(status) == 0 {
		h.d.WriteError(w, r, err)
		return
	}
	var body httpx.ErrorBody
	body.Error.Code = kiosko.ErrorCode(err)
	body.Error.Message = h.d.Catalog.Error(h.d.Lang(r, ""), err)
	httpx.WriteJSON(w, status[0], body)
}

// timestamp is how the API writes times.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
