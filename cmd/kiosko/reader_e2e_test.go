package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kiosko/kiosko/internal/demo"
)

// TestCompressedPages: the real server gzips its pages, CSS and script for
// a browser that asks, and leaves the reading event stream alone.
func TestCompressedPages(t *testing.T) {
	m := startMain(t)
	get := func(path string, hdr map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", m.URL()+path, nil)
		req.Header.Set("Accept-Encoding", "gzip, deflate, br")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultTransport.RoundTrip(req) // no transparent decompression
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	css := ""
	for _, path := range []string{"/es/", "/us/es-x-not-here", "/plans"} {
		res := get(path, nil)
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s: not compressed (%d bytes, %v)", path, len(raw), res.Header)
			continue
		}
		zr, err := gzip.NewReader(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		page, _ := io.ReadAll(zr)
		t.Logf("%s: %d bytes of HTML sent as %d", path, len(page), len(raw))
		if !strings.Contains(string(page), "</html>") || len(raw)*2 > len(page) {
			t.Errorf("%s: %d bytes compressed to %d", path, len(page), len(raw))
		}
		if path == "/es/" {
			if i := strings.Index(string(page), `href="/static/site.`); i >= 0 {
				css = string(page)[i+6:]
				css = css[:strings.IndexByte(css, '"')]
			}
		}
	}
	if css == "" {
		t.Fatal("no stylesheet link on the front page")
	}
	if res := get(css, nil); res.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("%s: not compressed", css)
	} else {
		res.Body.Close()
	}

	// The event stream: uncompressed, its first line at once.
	body, _ := json.Marshal(map[string]string{"email": "digital@kiosko.test", "password": demo.Password})
	res, err := http.Post(m.URL()+"/api/v1/sessions", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	var sess struct{ Token string }
	_ = json.NewDecoder(res.Body).Decode(&sess)
	res.Body.Close()
	if sess.Token == "" {
		t.Fatalf("no session: %d", res.StatusCode)
	}
	ev := get("/api/v1/reading/events", map[string]string{"Authorization": "Bearer " + sess.Token, "Accept": "text/event-stream"})
	defer ev.Body.Close()
	if ev.Header.Get("Content-Encoding") != "" || !strings.HasPrefix(ev.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("event stream: %v", ev.Header)
	}
	line, err := bufio.NewReader(ev.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, ":") {
		t.Errorf("first line of the stream %q, %v", line, err)
	}
}
