package httpx

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// CompressMinSize is the smallest body Compress compresses: below it, the
// gzip header and the CPU cost outweigh the bytes saved.
const CompressMinSize = 1024

// compressLevel trades a little size for speed: level 5 gives within a few
// per cent of level 9 on HTML, CSS and JS, at a fraction of the cost.
const compressLevel = 5

// compressible are the media types worth compressing: text, and the
// text-based formats pages and apps load. Everything else (images, fonts
// already compressed, and above all text/event-stream, whose events must
// reach the page at once) passes through untouched.
var compressible = map[string]bool{
	"text/html": true, "text/css": true, "text/plain": true, "text/xml": true, "text/csv": true,
	"text/javascript": true, "application/javascript": true, "application/json": true,
	"application/xml": true, "application/atom+xml": true, "application/rss+xml": true,
	"application/manifest+json": true, "application/problem+json": true, "image/svg+xml": true,
}

// Gzip compresses b as Compress would, for answers kept compressed.
func Gzip(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b) / 3)
	gz := gzipWriters.Get().(*gzip.Writer)
	gz.Reset(&out)
	_, _ = gz.Write(b)
	_ = gz.Close()
	gz.Reset(nil)
	gzipWriters.Put(gz)
	return out.Bytes()
}

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, compressLevel)
	return w
}}

// Compress gzips compressible answers of at least CompressMinSize bytes
// for clients that accept gzip. It decides once it has seen the headers
// and the first CompressMinSize bytes (or the end of a shorter answer), so
// a small answer goes out as it was; answers that carry their own
// Content-Encoding, partial content, and event streams are never touched.
// Writers are pooled, so a compressed answer allocates almost nothing.
func Compress(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !acceptsGzip(r.Header.Get("Accept-Encoding")) || r.Header.Get("Range") != "" {
			next.ServeHTTP(w, r)
			return
		}
		cw := &compressWriter{w: w, head: r.Method == http.MethodHead}
		defer cw.finish()
		next.ServeHTTP(cw, r)
	})
}

// AcceptsGzip reports whether a request may get a gzip answer: it accepts
// gzip (or *) with a q-value above zero and asks for no range. A handler
// that has the compressed bytes already (a kept page) answers them with
// Content-Encoding set, and Compress leaves such an answer alone.
func AcceptsGzip(r *http.Request) bool {
	return r.Header.Get("Range") == "" && acceptsGzip(r.Header.Get("Accept-Encoding"))
}

// acceptsGzip reads an Accept-Encoding header: gzip (or *) with a q-value
// above zero.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		if q > 0 {
			return true
		}
	}
	return false
}

// compressWriter holds back the start of an answer until it knows whether
// to compress it.
type compressWriter struct {
	w      http.ResponseWriter
	head   bool // a HEAD request: no body follows
	status int  // the status the handler set; 0 until then
	buf    []byte
	// decided: the headers are out; gz is non-nil when compressing.
	decided bool
	gz      *gzip.Writer
}

func (c *compressWriter) Header() http.Header { return c.w.Header() }

func (c *compressWriter) WriteHeader(status int) {
	if c.decided || c.status != 0 {
		if c.decided {
			c.w.WriteHeader(status) // let net/http report the superfluous call
		}
		return
	}
	if status < 200 { // 1xx: informational, sent as they come
		c.w.WriteHeader(status)
		return
	}
	c.status = status
	// A body that cannot be compressed need not wait.
	if !c.candidate() {
		c.decide(false)
	}
}

func (c *compressWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	if c.decided {
		if c.gz != nil {
			return c.gz.Write(p)
		}
		return c.w.Write(p)
	}
	if len(c.buf)+len(p) < CompressMinSize {
		if c.buf == nil {
			c.buf = make([]byte, 0, CompressMinSize)
		}
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	c.decide(true)
	return c.gz.Write(p)
}

// candidate reports whether the answer, as its headers stand, may be
// compressed once it is long enough.
func (c *compressWriter) candidate() bool {
	h := c.w.Header()
	if c.head || h.Get("Content-Encoding") != "" || c.status == http.StatusNoContent ||
		c.status == http.StatusNotModified || c.status == http.StatusPartialContent {
		return false
	}
	if n, err := strconv.Atoi(h.Get("Content-Length")); err == nil && n < CompressMinSize {
		return false
	}
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && compressible[mt]
}

// decide sends the headers, compressed or not, and what was held back.
func (c *compressWriter) decide(compress bool) {
	c.decided = true
	h := c.w.Header()
	if compress {
		h.Del("Content-Length")
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
		if etag := h.Get("ETag"); etag != "" && !strings.HasPrefix(etag, "W/") {
			h.Set("ETag", "W/"+etag) // the bytes differ from the identity answer
		}
		c.gz = gzipWriters.Get().(*gzip.Writer)
		c.gz.Reset(c.w)
	}
	if c.status == 0 {
		c.status = http.StatusOK
	}
	c.w.WriteHeader(c.status)
	if len(c.buf) > 0 {
		if c.gz != nil {
			_, _ = c.gz.Write(c.buf)
		} else {
			_, _ = c.w.Write(c.buf)
		}
	}
	c.buf = nil
}

// finish sends what is still held back and returns the gzip writer.
func (c *compressWriter) finish() {
	if !c.decided {
		if c.status == 0 && len(c.buf) == 0 {
			return // the handler wrote nothing: net/http answers 200 itself
		}
		c.decide(false)
	}
	if c.gz != nil {
		_ = c.gz.Close()
		c.gz.Reset(nil)
		gzipWriters.Put(c.gz)
		c.gz = nil
	}
}

// Flush sends what the handler wrote so far: a streaming answer decides
// at its first flush.
func (c *compressWriter) Flush() {
	if !c.decided {
		c.decide(c.candidate() && len(c.buf) >= CompressMinSize)
	}
	if c.gz != nil {
		_ = c.gz.Flush()
	}
	if f, ok := c.w.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection (deadlines).
func (c *compressWriter) Unwrap() http.ResponseWriter { return c.w }

// Hijack hands the connection over, for handlers that upgrade it.
func (c *compressWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := c.w.(http.Hijacker); ok && !c.decided {
		return h.Hijack()
	}
	return nil, nil, errors.New("httpx: the answer has started; the connection cannot be hijacked")
}
