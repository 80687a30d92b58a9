package embed

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
	"github.com/kiosko/kiosko/internal/i18n"
)

func TestParseOrigins(t *testing.T) {
	got, err := ParseOrigins(" https://www.example.com, http://127.0.0.1:8081/ ,")
	if err != nil || len(got) != 2 || got[0] != "https://www.example.com" || got[1] != "http://127.0.0.1:8081" {
		t.Fatalf("ParseOrigins = %v, %v", got, err)
	}
	for _, bad := range []string{"www.example.com", "ftp://example.com", "https://example.com/path", "https://u:p@example.com", "https://example.com?x=1"} {
		if _, err := ParseOrigins(bad); err == nil {
			t.Errorf("ParseOrigins(%q) accepted", bad)
		}
	}
}

func TestCORSOnlyForListedOrigins(t *testing.T) {
	h := CORS([]string{"https://news.example"}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) }))
	do := func(method, path, origin string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if method == http.MethodOptions {
			r.Header.Set("Access-Control-Request-Method", "POST")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := do("POST", "/api/v1/reading/claim", "https://news.example"); w.Code != 299 || w.Header().Get("Access-Control-Allow-Origin") != "https://news.example" ||
		w.Header().Get("Access-Control-Allow-Credentials") != "true" || w.Header().Get("Vary") != "Origin" {
		t.Errorf("listed origin: %d %v", w.Code, w.Header())
	}
	if w := do("OPTIONS", "/embed/v1/access", "https://news.example"); w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Methods") == "" {
		t.Errorf("preflight: %d %v", w.Code, w.Header())
	}
	for _, c := range []struct{ path, origin string }{{"/api/v1/reading/claim", "https://evil.example"}, {"/account", "https://news.example"}, {"/api/v1/devices", ""}} {
		if w := do("POST", c.path, c.origin); w.Code != 299 || w.Header().Get("Access-Control-Allow-Origin") != "" || w.Header().Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s from %q got CORS headers: %v", c.path, c.origin, w.Header())
		}
	}
}

func TestETagMatch(t *testing.T) {
	for header, want := range map[string]bool{`"v1"`: true, `W/"v1"`: true, `"v0", W/"v1"`: true, `*`: true, `"v2"`: false, ``: false} {
		if got := ETagMatch(header, `"v1"`); got != want {
			t.Errorf("ETagMatch(%q) = %v, want %v", header, got, want)
		}
	}
}

// TestEveryTextInBothLanguages: the script's texts come from the catalogs,
// and each language has every one of them.
func TestEveryTextInBothLanguages(t *testing.T) {
	h, err := New(&httpx.Deps{Catalog: i18n.Default()})
	if err != nil {
		t.Fatal(err)
	}
	cat := i18n.Default()
	n := 0
	for _, lang := range kiosko.Languages {
		for _, k := range cat.Keys(lang) {
			if len(k) > len(TextPrefix) && k[:len(TextPrefix)] == TextPrefix {
				n++
				for _, other := range kiosko.Languages {
					if !cat.Has(other, k) || cat.T(other, k) == "" {
						t.Errorf("%s lacks %s", other, k)
					}
				}
			}
		}
	}
	if n < 2*25 {
		t.Fatalf("only %d embed texts found", n)
	}
	if len(h.Script()) == 0 || h.Version == "" {
		t.Fatal("no script built")
	}
}
