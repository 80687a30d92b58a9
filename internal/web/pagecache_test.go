package web

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/inmem"
)

// cached turns on what a server has: writes through a NotifyingStore on a
// change feed, and the content cache listening to it.
func (e *env) cached() *kiosko.NotifyingStore {
	feed := inmem.NewChangeFeed("")
	ns := &kiosko.NotifyingStore{Store: e.store, Changes: feed}
	e.d.Store = ns
	e.d.Content = &kiosko.ContentCache{Store: ns, Changes: feed}
	feed.Listen(e.d.Content.Forget)
	return ns
}

// uncached renders every page afresh, as a server without the cache does.
func (e *env) uncached() { e.d.Content = nil }

func TestCachedPagesKeepTheMeterExact(t *testing.T) {
	e := newEnv(t)
	e.cached()
	free := append(e.articles("es", kiosko.AccessFree), e.addFreeArticles("es", 8)...)
	// Two readers read the same articles in turn: the second gets kept
	// pages, yet each sees their own meter.
	a, b := e.browser("es"), e.browser("es")
	for i, art := range free[:10] {
		for _, br := range []*browser{a, b} {
			p := br.get(articlePath(art))
			if !showsBody(p, art) {
				t.Fatalf("free article %d is not shown", i+1)
			}
			if left := 9 - i; left > 1 && !p.has("Te quedan ") {
				t.Errorf("article %d: no meter notice", i+1)
			}
			if cc := p.header.Get("Cache-Control"); cc != "private, no-store" {
				t.Errorf("a metered page says Cache-Control %q", cc)
			}
		}
	}
	for _, br := range []*browser{a, b} {
		if p := br.get(articlePath(free[10])); showsBody(p, free[10]) || !p.has(`data-wall="register"`) {
			t.Fatal("the 11th free article is not behind the wall")
		}
	}
	// A third reader, new, still has the whole meter.
	if p := e.browser("es").get(articlePath(free[10])); !showsBody(p, free[10]) || !p.has("Te quedan 9 artículos") {
		t.Errorf("a new reader does not get the first free article with 9 left:\n%s", text(p.body))
	}
}

func TestCachedPagesShowAnEditAtOnce(t *testing.T) {
	e := newEnv(t)
	ns := e.cached()
	ctx := context.Background()
	open := e.articles("es", kiosko.AccessOpen)[0]
	b := e.browser("es")
	before := b.get(articlePath(open))
	if before.status != http.StatusOK {
		t.Fatal(before.status)
	}
	b.get("/es/")
	a, err := ns.FindArticleByID(ctx, open.ID)
	if err != nil {
		t.Fatal(err)
	}
	a.Title = "Un titular corregido"
	if err := ns.SaveArticle(ctx, a, "test"); err != nil {
		t.Fatal(err)
	}
	if p := b.get(articlePath(open)); !p.has("Un titular corregido") {
		t.Error("the article page still shows the old title")
	}
	if p := b.get("/es/"); !p.has("Un titular corregido") {
		t.Error("the front page still shows the old title")
	}
	a.Status = kiosko.StatusUnpublished
	if err := ns.SaveArticle(ctx, a, "test"); err != nil {
		t.Fatal(err)
	}
	if p := b.get(articlePath(open)); p.status != http.StatusGone {
		t.Errorf("an unpublished article answers %d", p.status)
	}
}

func TestCachedPagesAreTheSameBytes(t *testing.T) {
	e := newEnv(t)
	e.cached()
	e.d.Newsletter = &kiosko.Newsletter{} // the box with the reader's address; nothing is sent
	sub := e.articles("us", kiosko.AccessSubscriber)[0]
	open := e.articles("us", kiosko.AccessOpen)[0]
	digital, premium := e.browser("en"), e.browser("en")
	digital.signIn("digital@kiosko.test", demo.Password)
	premium.signIn("premium@kiosko.test", demo.Password)
	anon := e.browser("en")
	anon.get("/us/") // its language cookie
	for _, path := range []string{articlePath(sub), articlePath(open), "/us/", articlePath(open) + "?utm_source=x&a=<b>"} {
		for _, br := range []*browser{digital, premium, anon} {
			br.get(path) // kept by the first, taken from the cache by the others
		}
		for _, br := range []*browser{digital, premium, anon} {
			kept := br.get(path)
			e.uncached()
			fresh := br.get(path)
			e.cached()
			if kept.body != fresh.body {
				t.Errorf("%s: the kept page differs from a fresh one", path)
			}
		}
	}
	p := premium.get(articlePath(sub))
	if !p.has(`value="premium@kiosko.test"`) || p.has("digital@kiosko.test") {
		t.Error("a signed-in page does not carry its own reader's address only")
	}
}

func TestCacheHeaders(t *testing.T) {
	e := newEnv(t)
	e.cached()
	open := e.articles("es", kiosko.AccessOpen)[0]
	free := e.articles("es", kiosko.AccessFree)[0]
	sub := e.articles("es", kiosko.AccessSubscriber)[0]
	b := e.browser("es")
	// The first page sets the language cookie: not for shared caches.
	if p := b.get(articlePath(open)); p.header.Get("Cache-Control") != "private, no-store" {
		t.Errorf("a page that sets a cookie says %q", p.header.Get("Cache-Control"))
	}
	for _, path := range []string{articlePath(open), "/es/"} {
		p := b.get(path)
		if p.header.Get("Cache-Control") != publicPage || !strings.Contains(strings.Join(p.header.Values("Vary"), ","), "Cookie") {
			t.Errorf("%s: Cache-Control %q, Vary %q", path, p.header.Get("Cache-Control"), p.header.Values("Vary"))
		}
	}
	for _, path := range []string{articlePath(free), articlePath(sub)} {
		if p := b.get(path); p.header.Get("Cache-Control") != "private, no-store" {
			t.Errorf("%s: Cache-Control %q", path, p.header.Get("Cache-Control"))
		}
	}
	b.signIn("digital@kiosko.test", demo.Password)
	for _, path := range []string{articlePath(open), "/es/"} {
		if p := b.get(path); p.header.Get("Cache-Control") != "private, no-store" {
			t.Errorf("signed in, %s: Cache-Control %q", path, p.header.Get("Cache-Control"))
		}
	}
}

// getGzip is b.get asking for gzip, the answer's body as it came.
func (b *browser) getGzip(path string) page {
	b.e.t.Helper()
	req, err := http.NewRequest("GET", b.e.srv.URL+path, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Accept-Language", b.lang)
	req.Header.Set("User-Agent", b.ua)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br") // set by hand: the client does not decompress
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return page{status: res.StatusCode, body: string(data), header: res.Header}
}

// TestKeptPagesAreKeptGzipped: kept pages are kept gzipped too, so a
// browser that takes gzip gets bytes compressed once per page version
// (a signed-in reader's page gets its address written between two kept
// runs of the stream); they open, checksum included, to exactly what a
// fresh render gives, with the headers a cache needs; a client that does
// not take gzip gets plain bytes.
func TestKeptPagesAreKeptGzipped(t *testing.T) {
	e := newEnv(t)
	e.cached()
	e.d.Newsletter = &kiosko.Newsletter{} // the box with the reader's address; nothing is sent
	open := e.articles("us", kiosko.AccessOpen)[0]
	sub := e.articles("us", kiosko.AccessSubscriber)[0]
	anon := e.browser("en")
	anon.get("/us/") // its language cookie
	reader, other := e.browser("en"), e.browser("en")
	reader.signIn("digital@kiosko.test", demo.Password)
	other.signIn("premium@kiosko.test", demo.Password)
	for _, c := range []struct {
		b    *browser
		path string
	}{{anon, articlePath(open)}, {anon, "/us/"}, {reader, articlePath(sub)}, {reader, articlePath(open)}} {
		anon, path := c.b, c.path
		other.get(path) // kept by another reader where it may be
		anon.get(path)
		anon.get(path) // kept
		z := anon.getGzip(path)
		if z.status != http.StatusOK || z.header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s with gzip: status %d, Content-Encoding %q", path, z.status, z.header.Get("Content-Encoding"))
		}
		if n, _ := strconv.Atoi(z.header.Get("Content-Length")); n != len(z.body) {
			t.Errorf("%s: Content-Length %q for %d bytes", path, z.header.Get("Content-Length"), len(z.body))
		}
		vary := strings.Join(z.header.Values("Vary"), ",")
		if !strings.Contains(vary, "Accept-Encoding") || anon == reader && z.header.Get("Cache-Control") != "private, no-store" ||
			anon != reader && (!strings.Contains(vary, "Cookie") || z.header.Get("Cache-Control") != publicPage) {
			t.Errorf("%s: Vary %q, Cache-Control %q", path, vary, z.header.Get("Cache-Control"))
		}
		zr, err := gzip.NewReader(strings.NewReader(z.body))
		if err != nil {
			t.Fatalf("%s: not gzip: %v", path, err)
		}
		opened, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		plain := anon.get(path)
		if plain.header.Get("Content-Encoding") != "" {
			t.Errorf("%s without gzip: Content-Encoding %q", path, plain.header.Get("Content-Encoding"))
		}
		e.uncached()
		fresh := anon.get(path)
		e.cached()
		if string(opened) != plain.body || plain.body != fresh.body {
			t.Errorf("%s: the kept gzip opens to another page than a fresh render", path)
		}
		if anon == reader && (!strings.Contains(string(opened), `value="digital@kiosko.test"`) || strings.Contains(string(opened), "premium@")) {
			t.Errorf("%s: the signed-in gzip page does not carry its own reader's address only", path)
		}
	}
}
