package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
)

// route carries the pattern the innermost ServeMux matched back out to
// Observe, which runs before any mux.
type route struct{ pattern string }

type routeKey struct{}

// Observe counts and times every request by route pattern and writes the
// access log line: method, route pattern, status, duration and the
// client's truncated address (never the query, which may carry a token).
// addr names the client as the site believes it (trusted proxies).
// Wrap the whole server with Observe and the outermost mux with Routes.
func (m *Metrics) Observe(log *slog.Logger, addr func(*http.Request) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rt := &route{}
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), routeKey{}, rt)))
		d := time.Since(start)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		pattern := rt.pattern
		if pattern == "" {
			pattern = "unmatched" // refused before routing (body cap, cross-origin)
		}
		// Drop the method from "GET /x": it has its own label.
		if _, p, ok := strings.Cut(pattern, " "); ok {
			pattern = p
		}
		m.HTTPRequests.WithLabelValues(pattern, r.Method, strconv.Itoa(status)).Inc()
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/event-stream") {
			m.HTTPDuration.WithLabelValues(pattern, r.Method).Observe(d.Seconds())
		}
		if log != nil {
			log.LogAttrs(r.Context(), slog.LevelInfo, "http request", slog.String("method", r.Method), slog.String("route", pattern),
				slog.Int("status", status), slog.Duration("duration", d), slog.String("client", kiosko.TruncateIP(addr(r))))
		}
	})
}

// Routes wraps the outermost ServeMux. A ServeMux sets Request.Pattern on
// the request it was given, and nested muxes (the site's, the API's) are
// given the same request, so after serving it holds the innermost match.
func Routes(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		if rt, ok := r.Context().Value(routeKey{}).(*route); ok {
			rt.pattern = r.Pattern
		}
	})
}

// recorder keeps the status of an answer; it flushes for event streams
// and unwraps for http.ResponseController.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
