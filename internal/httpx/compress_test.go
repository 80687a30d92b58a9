package httpx

import (
	"bufio"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var bigHTML = "<!doctype html><p>" + strings.Repeat("Una noticia larga, contada con calma. ", 400) + "</p>"

func serveOnce(t *testing.T, h http.Handler, method, acceptEncoding string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, "/page", nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	Compress(h).ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	var r io.Reader = res.Body
	if res.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatalf("not gzip: %v", err)
		}
		r = gz
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCompress(t *testing.T) {
	page := func(ct, text string, extra map[string]string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ct)
			for k, v := range extra {
				w.Header().Set(k, v)
			}
			// Written in small pieces, as templates do.
			for i := 0; i < len(text); i += 100 {
				_, _ = io.WriteString(w, text[i:min(i+100, len(text))])
			}
		})
	}
	for _, tc := range []struct {
		name, ct, text, accept string
		extra, req             map[string]string
		method                 string
		gzip                   bool
	}{
		{name: "html", ct: "text/html; charset=utf-8", text: bigHTML, accept: "gzip, deflate, br", gzip: true},
		{name: "css", ct: "text/css; charset=utf-8", text: strings.Repeat("a { color: red; }\n", 200), accept: "gzip", gzip: true},
		{name: "js", ct: "text/javascript; charset=utf-8", text: strings.Repeat("const x = 1;\n", 200), accept: "br;q=1, gzip;q=0.5", gzip: true},
		{name: "json", ct: "application/json", text: "[" + strings.Repeat(`{"id":"es-x"},`, 200) + "{}]", accept: "*", gzip: true},
		{name: "small", ct: "text/html; charset=utf-8", text: "<p>hola</p>", accept: "gzip"},
		{name: "no gzip", ct: "text/html; charset=utf-8", text: bigHTML, accept: "br"},
		{name: "gzip refused", ct: "text/html; charset=utf-8", text: bigHTML, accept: "gzip;q=0, br"},
		{name: "image", ct: "image/png", text: strings.Repeat("\x89PNG", 1000), accept: "gzip"},
		{name: "event stream", ct: "text/event-stream", text: strings.Repeat("event: displaced\ndata: {}\n\n", 100), accept: "gzip"},
		{name: "already encoded", ct: "text/html", text: bigHTML, accept: "gzip", extra: map[string]string{"Content-Encoding": "br"}},
		{name: "range", ct: "text/html", text: bigHTML, accept: "gzip", req: map[string]string{"Range": "bytes=0-10"}},
		{name: "head", ct: "text/html", text: "", accept: "gzip", method: http.MethodHead},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := serveOnce(t, page(tc.ct, tc.text, tc.extra), cmpOr(tc.method, "GET"), tc.accept, tc.req)
			got := res.Header.Get("Content-Encoding") == "gzip"
			if got != tc.gzip {
				t.Fatalf("gzip = %v, want %v (headers %v)", got, tc.gzip, res.Header)
			}
			if b := body(t, res); b != tc.text && tc.extra == nil {
				t.Fatalf("body changed: %d bytes, want %d", len(b), len(tc.text))
			}
			if tc.gzip {
				if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") || res.Header.Get("Content-Length") != "" {
					t.Errorf("headers of a compressed answer: %v", res.Header)
				}
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestCompressKeepsStatusAndHeaders: the status and the headers a handler
// sets reach the client, compressed or not, and an ETag becomes weak.
func TestCompressKeepsStatusAndHeaders(t *testing.T) {
	res := serveOnce(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", "99999")
		w.Header().Set("ETag", `"v1"`)
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, bigHTML)
	}), "GET", "gzip", nil)
	if res.StatusCode != http.StatusNotFound || res.Header.Get("ETag") != `W/"v1"` || res.Header.Get("Content-Length") != "" {
		t.Errorf("status %d, headers %v", res.StatusCode, res.Header)
	}
	if body(t, res) != bigHTML {
		t.Error("body changed")
	}
	res = serveOnce(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}), "GET", "gzip", nil)
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Content-Encoding") != "" {
		t.Errorf("204: %d %v", res.StatusCode, res.Header)
	}
}

// TestCompressNeverDelaysAnEventStream: each event reaches the client as
// soon as the handler flushes it, uncompressed, while the stream stays open.
func TestCompressNeverDelaysAnEventStream(t *testing.T) {
	sent := make(chan struct{})
	release := make(chan struct{})
	srv := httptest.NewServer(Compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, ": open\n\n")
		http.NewResponseController(w).Flush()
		_, _ = io.WriteString(w, "event: displaced\ndata: {}\n\n")
		_ = http.NewResponseController(w).Flush()
		close(sent)
		<-release
	})))
	defer srv.Close()
	defer close(release)
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.Header.Get("Content-Encoding") != "" {
		t.Fatalf("event stream encoded: %v", res.Header)
	}
	<-sent
	lines := make(chan string, 8)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case l := <-lines:
			if l == "event: displaced" {
				return
			}
		case <-deadline:
			t.Fatal("the event did not arrive while the stream was open")
		}
	}
}

// TestCompressReachesTheConnection: deadlines set through
// http.ResponseController work through the wrapper.
func TestCompressReachesTheConnection(t *testing.T) {
	errc := make(chan error, 1)
	srv := httptest.NewServer(Compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		errc <- http.NewResponseController(w).SetReadDeadline(time.Now().Add(time.Minute))
	})))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if err := <-errc; err != nil {
		t.Errorf("SetReadDeadline through Compress: %v", err)
	}
}

func BenchmarkCompressArticlePage(b *testing.B) {
	page := []byte(bigHTML)
	h := Compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	}))
	req := httptest.NewRequest("GET", "/es/x", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	b.ReportAllocs()
	b.SetBytes(int64(len(bigHTML)))
	for b.Loop() {
		h.ServeHTTP(discard{header: http.Header{}}, req)
	}
}

type discard struct{ header http.Header }

func (d discard) Header() http.Header         { clear(d.header); return d.header }
func (d discard) Write(p []byte) (int, error) { return len(p), nil }
func (d discard) WriteHeader(int)             {}
