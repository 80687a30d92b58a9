package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/kiosko/kiosko/internal/demo"
)

// siblingSites is kiosko at https://cuenta.diario.test and a publisher's
// article page at https://www.diario.test: one site (diario.test), two
// origins, both over TLS with one self-signed certificate. Both names
// resolve to 127.0.0.1 through the test's dialer or Chromium's resolver
// rules. kiosko itself serves plain HTTP behind a TLS proxy, as it does
// behind a load balancer, with KIOSKO_PUBLIC_URL in https.
type siblingSites struct {
	m         *Main
	kiosko    string // https://cuenta.diario.test:PORT
	publisher string // https://www.diario.test:PORT
	article   string // a subscriber article's id
	cert      *x509.Certificate
	spki      string // base64 SHA-256 of the certificate's public key

	mu       sync.Mutex
	accesses []http.Header // headers of POST /embed/v1/access as kiosko saw them
}

func startSiblingSites(t *testing.T) *siblingSites {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "diario.test"},
		DNSNames: []string{"cuenta.diario.test", "www.diario.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	s := &siblingSites{cert: cert, spki: base64.StdEncoding.EncodeToString(sum[:])}
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}

	kln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.kiosko = fmt.Sprintf("https://cuenta.diario.test:%d", kln.Addr().(*net.TCPAddr).Port)
	s.publisher = fmt.Sprintf("https://www.diario.test:%d", pln.Addr().(*net.TCPAddr).Port)
	s.m = startMain(t, "--public-url", s.kiosko, "--embed-origins", s.publisher)

	arts, err := s.m.Store.FindArticles(t.Context(), kioskoFilter("es"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range arts {
		if a.Access == "subscriber" {
			s.article = a.ID
			break
		}
	}
	if s.article == "" {
		t.Fatal("no subscriber article in the demo edition")
	}

	backend, _ := url.Parse(s.m.URL())
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(backend)
		r.Out.Host = r.In.Host // kiosko sees the public host name
		if r.In.Method == http.MethodPost && r.In.URL.Path == "/embed/v1/access" {
			s.mu.Lock()
			s.accesses = append(s.accesses, r.In.Header.Clone())
			s.mu.Unlock()
		}
	}, FlushInterval: -1}
	ks := httptest.NewUnstartedServer(proxy)
	ks.Listener.Close()
	ks.Listener, ks.TLS = kln, tlsCfg
	ks.StartTLS()
	t.Cleanup(ks.Close)

	// The publisher's page, rendered by its own CMS: only the snippet.
	ps := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="es"><head><title>Diario</title></head><body><h1>Una noticia</h1>
<div id="story" data-kiosko-body><p>El cuerpo de la noticia.</p></div>
<script src="%s/embed.js" data-article="%s" data-edition="es" async></script></body></html>`, s.kiosko, s.article)
	}))
	ps.Listener.Close()
	ps.Listener, ps.TLS = pln, tlsCfg.Clone()
	ps.StartTLS()
	t.Cleanup(ps.Close)
	return s
}

// client is an HTTP client that resolves *.diario.test to 127.0.0.1 and
// trusts the test certificate, with a cookie jar that follows the
// browser's rules for domains and Secure.
func (s *siblingSites) client() *http.Client {
	roots := x509.NewCertPool()
	roots.AddCert(s.cert)
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots},
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				host, port, err := net.SplitHostPort(addr)
				if err != nil || !strings.HasSuffix(host, ".diario.test") {
					return nil, fmt.Errorf("the test resolves only *.diario.test, not %q", addr)
				}
				return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
			}}}
}

// TestSiblingSubdomainCookiesAndCORS checks, without a browser, what the
// embed on a sibling subdomain relies on: the session cookie kiosko sets
// over TLS is host-only, __Host- prefixed, Secure, HttpOnly and
// SameSite=Lax; the publisher's origin gets CORS with credentials and the
// reader's session; any other origin, even another subdomain of the same
// site, gets no CORS header at all.
func TestSiblingSubdomainCookiesAndCORS(t *testing.T) {
	s := startSiblingSites(t)
	c := s.client()
	res, err := c.PostForm(s.kiosko+"/signin", url.Values{"email": {"digital@kiosko.test"}, "password": {demo.Password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in on kiosko's own site: %d", res.StatusCode)
	}
	var session string
	for _, line := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(line, "__Host-kiosko_session=") {
			session = line
		}
		if strings.HasPrefix(line, "kiosko_session=") {
			t.Errorf("over TLS a session cookie without the __Host- prefix: %s", line)
		}
	}
	if session == "" {
		t.Fatalf("no __Host-kiosko_session among %q", res.Header.Values("Set-Cookie"))
	}
	low := strings.ToLower(session)
	for _, attr := range []string{"; path=/", "; secure", "; httponly", "; samesite=lax"} {
		if !strings.Contains(low, attr) {
			t.Errorf("session cookie %q lacks %q", session, attr)
		}
	}
	if strings.Contains(low, "domain=") {
		t.Errorf("session cookie %q names a domain: every subdomain of the site would get the session", session)
	}

	access := func(origin string, preflight bool) (*http.Response, string) {
		t.Helper()
		method := http.MethodPost
		if preflight {
			method = http.MethodOptions
		}
		req, _ := http.NewRequest(method, s.kiosko+"/embed/v1/access", strings.NewReader(`{"article":"`+s.article+`"}`))
		req.Header.Set("Origin", origin)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Sec-Fetch-Site", "same-site")
		if preflight {
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "content-type,accept-language")
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, string(b)
	}

	pre, _ := access(s.publisher, true)
	if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != s.publisher ||
		pre.Header.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(pre.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight from the publisher: %d %v", pre.StatusCode, pre.Header)
	}
	got, body := access(s.publisher, false)
	if got.StatusCode != 200 || got.Header.Get("Access-Control-Allow-Origin") != s.publisher || got.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("access from the publisher: %d %v %s", got.StatusCode, got.Header, body)
	}
	if !strings.Contains(body, `"signed_in":true`) || !strings.Contains(body, `"decision":"claim"`) {
		t.Fatalf("the reader's session did not count on the publisher's call: %s", body)
	}

	port := s.publisher[strings.LastIndex(s.publisher, ":"):]
	for _, origin := range []string{
		"https://evil.example.com",
		"https://blog.diario.test" + port,           // same site, not listed
		"http://www.diario.test" + port,             // the publisher's host over plain HTTP
		"https://www.diario.test",                   // another port is another origin
		s.kiosko[:len(s.kiosko)-len(port)] + ":444", // kiosko's host on another port
		"null",
	} {
		for _, preflight := range []bool{true, false} {
			res, _ := access(origin, preflight)
			for k := range res.Header {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Errorf("origin %s (preflight %v) got %s: %q", origin, preflight, k, res.Header.Get(k))
				}
			}
		}
	}
}

// TestEmbedOnASiblingSubdomain is the same in Chromium: a reader signs in
// on https://cuenta.diario.test, opens an article on
// https://www.diario.test whose page uses only embed.js, and reads it:
// the session cookie went with the embed's credentialed calls from the
// publisher's origin. A reader without a session meets the wall.
func TestEmbedOnASiblingSubdomain(t *testing.T) {
	exe := chromium(t)
	s := startSiblingSites(t)
	flags := []chromedp.ExecAllocatorOption{
		chromedp.Flag("host-resolver-rules", "MAP *.diario.test 127.0.0.1"),
		// The test certificate is trusted as if a CA had issued it (unlike
		// --ignore-certificate-errors, the origin stays secure).
		chromedp.Flag("ignore-certificate-errors-spki-list", s.spki),
	}
	reader := newProfile(t, exe, "reader", s.kiosko, flags...)
	reader.signIn("digital@kiosko.test", demo.Password)
	reader.run("the session cookie is host-only, __Host-, Secure, HttpOnly, Lax", func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{s.kiosko}})
		if err != nil {
			return chromedp.Void{}, err
		}
		cookies := res.Cookies
		for _, ck := range cookies {
			if ck.Name == "__Host-kiosko_session" {
				if ck.Domain != "cuenta.diario.test" || !ck.Secure || !ck.HTTPOnly || ck.SameSite != network.CookieSameSiteLax || ck.Path != "/" {
					return chromedp.Void{}, fmt.Errorf("session cookie %+v", ck)
				}
				return chromedp.Void{}, nil
			}
		}
		return chromedp.Void{}, fmt.Errorf("no __Host-kiosko_session among %d cookies", len(cookies))
	})
	reader.run("the reader reads on the publisher's page", chromedp.Navigate(s.publisher+"/es/"+s.article), waitState("reading", true))

	s.mu.Lock()
	seen := append([]http.Header(nil), s.accesses...)
	s.mu.Unlock()
	if len(seen) == 0 {
		t.Fatal("kiosko saw no access call from the embed")
	}
	h := seen[len(seen)-1]
	if h.Get("Origin") != s.publisher || h.Get("Sec-Fetch-Site") != "same-site" || !strings.Contains(h.Get("Cookie"), "__Host-kiosko_session=") {
		t.Fatalf("the embed's call came with Origin %q, Sec-Fetch-Site %q and cookies %q; want the publisher's origin, same-site and the session",
			h.Get("Origin"), h.Get("Sec-Fetch-Site"), h.Get("Cookie"))
	}

	anon := newProfile(t, exe, "anonymous", s.kiosko, flags...)
	anon.run("a reader without a session meets the wall", chromedp.Navigate(s.publisher+"/es/"+s.article), waitState("wall-subscribe", false))
}
