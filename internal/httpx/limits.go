package httpx

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
)

// DefaultMaxBody is the body cap of every route that takes no upload.
const DefaultMaxBody = 1 << 20

// ErrTooLarge is the answer to a body over its route's cap (413).
func ErrTooLarge() *kiosko.Error {
	return kiosko.Errorf(kiosko.ETOOLARGE, "error.body_too_large", "The request body is too large.")
}

// BodyLimits caps every request body before any handler reads it, so no
// route can be made to buffer a large upload: a body declared larger than
// its cap is refused at once, and one of unknown length (chunked) is read
// up to the cap and refused beyond it. The refusal is TooLarge's answer,
// a 413 in the usual error shape of the route.
type BodyLimits struct {
	Default int64            // 0: DefaultMaxBody
	Larger  map[string]int64 // path prefix -> cap, for routes that take files
	// TooLarge answers 413; nil: the JSON error.
	TooLarge func(w http.ResponseWriter, r *http.Request)
}

func (l BodyLimits) limit(path string) int64 {
	n := l.Default
	if n <= 0 {
		n = DefaultMaxBody
	}
	best := ""
	for p, v := range l.Larger {
		if strings.HasPrefix(path, p) && len(p) > len(best) {
			best, n = p, v
		}
	}
	return n
}

// Handler wraps next with the caps.
func (l BodyLimits) Handler(next http.Handler) http.Handler {
	refuse := l.TooLarge
	if refuse == nil {
		refuse = func(w http.ResponseWriter, r *http.Request) {
			var body ErrorBody
			body.Error.Code, body.Error.Message = kiosko.ETOOLARGE, "The request body is too large."
			w.Header().Set("Connection", "close")
			WriteJSON(w, http.StatusRequestEntityTooLarge, body)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		max := l.limit(r.URL.Path)
		if r.ContentLength > max {
			w.Header().Set("Connection", "close")
			refuse(w, r)
			return
		}
		if r.ContentLength < 0 {
			// Unknown length: read it now, within the cap and the read deadline.
			data, err := io.ReadAll(io.LimitReader(r.Body, max+1))
			if err != nil {
				w.Header().Set("Connection", "close")
				http.Error(w, "", http.StatusRequestTimeout)
				return
			}
			if int64(len(data)) > max {
				w.Header().Set("Connection", "close")
				refuse(w, r)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(data))
			r.ContentLength = int64(len(data))
			next.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}

// ReadDeadline gives a request with a body d to send all of it: a client
// sending its body a byte at a time cannot hold a connection for minutes.
// Requests without a body (event streams among them) get no deadline; a
// request's deadline is lifted once its body has been read, so a slow
// handler is not cut off.
func ReadDeadline(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d <= 0 || r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
			next.ServeHTTP(w, r)
			return
		}
		r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the read deadline when the body has been read whole.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// HSTS tells browsers to come back over TLS only, for a year, when on
// (the site's public URL is https; a plain-http site must not send it).
func HSTS(on bool, next http.Handler) http.Handler {
	if !on {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		next.ServeHTTP(w, r)
	})
}
