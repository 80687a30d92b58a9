package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kiosko/kiosko/internal/demo"
)

// void drops an action's result, so it runs in a profile's step.
func void[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}

// inShadow is a JS expression for the element sel inside kiosko's shadow
// root on the publisher's page, or null.
func inShadow(sel string) string {
	return fmt.Sprintf(`(function(){var h=document.querySelector("[data-kiosko-ui]");return h&&h.shadowRoot?h.shadowRoot.querySelector(%q):null})()`, sel)
}

// waitShadow waits until sel inside the shadow root is shown (shown
// true) or absent or hidden (false).
func waitShadow(sel string, shown bool) chromedp.Action[chromedp.Void] {
	expr := fmt.Sprintf(`(function(){var e=%s;var on=!!e&&!e.hidden&&!e.closest("[hidden]");return on===%v})()`, inShadow(sel), shown)
	return void(chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond)))
}

// waitState waits until the script says it shows state (its host's
// data-state) and the paywalled element is shown or hidden accordingly.
func waitState(state string, bodyShown bool) chromedp.Action[chromedp.Void] {
	return void(chromedp.Poll[bool](fmt.Sprintf(`(function(){var h=document.querySelector("[data-kiosko-ui]");var b=document.querySelector("[data-kiosko-body]");
return !!h&&h.getAttribute("data-state")===%q&&b.hidden===%v})()`, state, !bodyShown), chromedp.WithPollingInterval(50*time.Millisecond)))
}

// shadowText waits until sel inside the shadow root holds text.
func shadowText(sel, text string) chromedp.Action[chromedp.Void] {
	return void(chromedp.Poll[bool](fmt.Sprintf(`(function(){var e=%s;return !!e&&e.textContent.indexOf(%q)>=0})()`, inShadow(sel), text)))
}

// clickShadow clicks the middle of sel inside the shadow root with real
// mouse input, as a person would.
func clickShadow(sel string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		var r []float64
		expr := fmt.Sprintf(`(function(){var e=%s;e.scrollIntoView({block:"center"});var b=e.getBoundingClientRect();return [b.x+b.width/2,b.y+b.height/2]})()`, inShadow(sel))
		r, err := chromedp.Evaluate[[]float64](expr)(ctx, t)
		if err != nil {
			return chromedp.Void{}, err
		}
		return chromedp.MouseClickXY(r[0], r[1])(ctx, t)
	}
}

// TestEmbedOnAPublisherSite drives two profiles of one Digital account
// through the seed's scenario on the demo publisher site, another origin
// whose pages use only embed.js: B meets the interstitial and continues,
// A is told at once, and repeated contested takeovers put the sharing
// banner on both.
func TestEmbedOnAPublisherSite(t *testing.T) {
	exe := chromium(t)
	m := startMain(t, "--demo-site-addr", "127.0.0.1:0")
	site := m.Config.Integration.DemoSiteURL
	arts, err := m.Store.FindArticles(context.Background(), kioskoFilter("es"))
	if err != nil {
		t.Fatal(err)
	}
	path := ""
	for _, a := range arts {
		if a.Access == "subscriber" {
			path = "/es/" + a.ID
			break
		}
	}
	if path == "" || site == "" {
		t.Fatalf("no subscriber article (%q) or no demo site (%q)", path, site)
	}

	anon := newProfile(t, exe, "anonymous", m.URL())
	anon.run("an anonymous reader meets the wall", chromedp.Navigate(site+path), waitState("wall-subscribe", false), waitShadow("#kiosko-wall", true))
	anon.run("in the page's language, with the newsletter box", shadowText("#kiosko-wall", "suscriptores"),
		waitShadow("form", true))
	anon.run("the host page's CSS does not reach it",
		void(chromedp.Poll[bool](`getComputedStyle(`+inShadow("form button")+`).backgroundColor!=="rgb(255, 255, 0)"`)),
		void(chromedp.Poll[bool](`getComputedStyle(document.querySelector("a")).backgroundColor==="rgb(255, 255, 0)"`)))

	a := newProfile(t, exe, "A", m.URL())
	b := newProfile(t, exe, "B", m.URL())
	a.signIn("digital@kiosko.test", demo.Password)
	b.signIn("digital@kiosko.test", demo.Password)

	a.run("A reads on the publisher's page", chromedp.Navigate(site+path), waitState("reading", true), waitShadow("[part=panel]", false))
	b.run("B meets the interstitial", chromedp.Navigate(site+path), waitState("conflict", false), waitShadow("[data-kiosko=continue]", true))
	b.run("the interstitial has focus", void(chromedp.Poll[bool](`document.activeElement&&document.activeElement.matches("[data-kiosko-ui]")`)))

	start := time.Now()
	b.run("B continues", clickShadow("[data-kiosko=continue]"), waitState("reading", true))
	a.runWithin("A displaced without a reload", pushWait, waitState("displaced", false), waitShadow("[data-kiosko=continue]", true))
	t.Logf("A was told %v after B clicked continue", time.Since(start).Round(time.Millisecond))

	a.run("A takes back", clickShadow("[data-kiosko=continue]"), waitState("reading", true))
	b.runWithin("B displaced", pushWait, waitState("displaced", false))
	b.run("B takes back", clickShadow("[data-kiosko=continue]"), waitState("reading", true))
	a.runWithin("A displaced again", pushWait, waitState("displaced", false))
	a.run("A reads the message", clickShadow("#kiosko-inter"))
	for _, p := range []*profile{a, b} {
		p.runWithin("sharing banner shown", pushWait, waitShadow(".banner", true))
	}
}

// TestEmbedFailsSafely loads kiosko's own script from a server whose API
// is unreachable (every call's connection is dropped) and checks both
// publisher settings: data-fail="open" shows the body with a note,
// data-fail="closed" keeps it hidden and says why.
func TestEmbedFailsSafely(t *testing.T) {
	exe := chromium(t)
	m := startMain(t)
	res, err := http.Get(m.URL() + "/embed.js")
	if err != nil {
		t.Fatal(err)
	}
	script, _ := io.ReadAll(res.Body)
	res.Body.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/embed.js":
			w.Header().Set("Content-Type", "text/javascript")
			_, _ = w.Write(script)
		case strings.HasPrefix(r.URL.Path, "/page/"):
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><html lang="en"><body><div id="story" data-kiosko-body><p>The story.</p></div>
<script src="/embed.js" data-article="a-story" data-edition="us" data-newsletter="off" data-fail=%q></script></body></html>`, strings.TrimPrefix(r.URL.Path, "/page/"))
		default: // kiosko unreachable: the connection drops
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}
	}))
	defer down.Close()
	p := newProfile(t, exe, "reader", m.URL())
	p.run("fail open shows the body", chromedp.Navigate(down.URL+"/page/open"), waitState("failed-open", true),
		shadowText("[part=note]", "could not check"))
	p.run("fail closed keeps it hidden", chromedp.Navigate(down.URL+"/page/closed"), waitState("failed-closed", false),
		waitShadow("[part=panel]", true), shadowText("[part=panel]", "cannot check"))
}
