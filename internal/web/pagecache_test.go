package web

import (
	"context"
	"net/http"
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
