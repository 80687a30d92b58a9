package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kiosko/kiosko/internal/demo"
)

const publisherOrigin = "https://news.example"

// TestEmbedScript: one cacheable script (ETag, fingerprinted URL) with
// the catalogs' texts in both languages.
func TestEmbedScript(t *testing.T) {
	m := startMain(t)
	res, err := http.Get(m.URL() + "/embed.js")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	etag := res.Header.Get("ETag")
	if res.StatusCode != 200 || etag == "" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") ||
		!strings.Contains(res.Header.Get("Cache-Control"), "max-age=300") || res.Header.Get("Cross-Origin-Resource-Policy") != "cross-origin" {
		t.Fatalf("GET /embed.js: %d %v", res.StatusCode, res.Header)
	}
	b := newBrowser(t, m)
	code, body := b.get("/embed.js")
	for _, want := range []string{"Seguir leyendo aquí", "Continue reading here", "attachShadow", "data-kiosko-body"} {
		if !strings.Contains(body, want) {
			t.Errorf("the script lacks %q", want)
		}
	}
	if code != 200 || strings.Contains(body, "/*TEXTS*/") || strings.Contains(body, "/*VERSION*/") {
		t.Fatalf("the script was not built: %d", code)
	}
	req, _ := http.NewRequest("GET", m.URL()+"/embed.js", nil)
	req.Header.Set("If-None-Match", etag)
	if code, _, _ := b.do(req); code != http.StatusNotModified {
		t.Errorf("a revalidation with the ETag got %d, want 304", code)
	}
	version := strings.Trim(strings.TrimPrefix(etag, "W/"), `"`)
	res, err = http.Get(m.URL() + "/embed/" + version + ".js")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("the fingerprinted URL: %d %v", res.StatusCode, res.Header)
	}
	if code, _ := b.get("/embed/0ld" + version + ".js"); code != http.StatusNotFound {
		t.Errorf("an old fingerprint answered %d", code)
	}
}

// TestEmbedOriginsAndAccess: the allowed origin gets CORS with
// credentials and may write with the reader's cookie; another origin gets
// no CORS header and its cookie writes are refused; the access call meters
// an anonymous reader.
func TestEmbedOriginsAndAccess(t *testing.T) {
	m := startMain(t, "--embed-origins", publisherOrigin+", https://other-allowed.example", "--meter-anonymous", "2")
	b := newBrowser(t, m)
	send := func(method, path, origin, body string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, m.URL()+path, strings.NewReader(body))
		req.Header.Set("Origin", origin)
		req.Header.Set("Sec-Fetch-Site", "same-site")
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		return b.do(req)
	}
	req, _ := http.NewRequest("OPTIONS", m.URL()+"/api/v1/reading/claim", nil)
	req.Header.Set("Origin", publisherOrigin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	code, _, h := b.do(req)
	if code != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != publisherOrigin || h.Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || !strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "content-type") {
		t.Fatalf("preflight from the publisher: %d %v", code, h)
	}
	req.Header.Set("Origin", "https://evil.example")
	if _, _, h := b.do(req); h.Get("Access-Control-Allow-Origin") != "" || h.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("an unknown origin got CORS headers: %v", h)
	}

	article := subscriberArticle(t, m.URL())
	code, body, h := send("POST", "/embed/v1/access", publisherOrigin, `{"article":"`+article+`"}`)
	var acc map[string]any
	_ = json.Unmarshal([]byte(body), &acc)
	if code != 200 || acc["decision"] != "subscribe" || acc["signed_in"] != false || h.Get("Access-Control-Allow-Origin") != publisherOrigin {
		t.Fatalf("anonymous access to a subscriber article: %d %s %v", code, body, h)
	}
	free := freeArticleID(t, m)
	for i := 0; ; i++ {
		code, body, _ = send("POST", "/embed/v1/access", publisherOrigin, `{"article":"`+free[i%len(free)]+`"}`)
		_ = json.Unmarshal([]byte(body), &acc)
		if code != 200 {
			t.Fatalf("access: %d %s", code, body)
		}
		if acc["decision"] == "register" {
			if i != m.Config.Meter.Anonymous || i >= len(free) {
				t.Fatalf("the register wall came after %d free articles, want %d", i, m.Config.Meter.Anonymous)
			}
			break
		}
		if acc["decision"] != "read" || acc["metered"] != true || i > 50 {
			t.Fatalf("free article %d: %s", i, body)
		}
	}

	b.signIn("digital@kiosko.test", demo.Password)
	code, body, h = send("POST", "/api/v1/reading/claim", publisherOrigin, `{"article":"`+article+`"}`)
	if code != 200 || !strings.Contains(body, `"entitlement"`) || h.Get("Access-Control-Allow-Origin") != publisherOrigin {
		t.Fatalf("a claim with the cookie from the publisher's page: %d %s %v", code, body, h)
	}
	code, body, _ = send("POST", "/embed/v1/access", publisherOrigin, `{"article":"`+article+`"}`)
	if code != 200 || !strings.Contains(body, `"decision":"claim"`) {
		t.Fatalf("a subscriber's access: %d %s", code, body)
	}
	code, body, h = send("POST", "/api/v1/reading/claim", "https://evil.example", `{"article":"`+article+`"}`)
	if code != http.StatusForbidden || h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("a cookie write from an unknown origin: %d %s %v", code, body, h)
	}
	if out, err := kioskoCLI(t, t.TempDir(), "", "webhook", "list", "--embed-origins", "not an origin"); err == nil {
		t.Fatalf("a bad KIOSKO_EMBED_ORIGINS was taken: %s", out)
	}
}

// freeArticleID lists free demo articles.
func freeArticleID(t *testing.T, m *Main) []string {
	t.Helper()
	res, err := http.Get(m.URL() + "/api/v1/articles?edition=us")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var list []struct{ ID, Access string }
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range list {
		if a.Access == "free" {
			out = append(out, a.ID)
		}
	}
	if len(out) == 0 {
		t.Fatal("no free demo article")
	}
	return out
}
