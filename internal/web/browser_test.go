//go:build browser

package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/api"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/httpx"
)

// TestBrowserReading drives reading.js in Chromium against the site and the
// real API: go test -tags browser -run TestBrowserReading ./internal/web/
func TestBrowserReading(t *testing.T) {
	exe, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("no chromium")
	}
	e := newEnv(t)
	e.clock.now = time.Now().UTC()
	site, _ := New(e.d)
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", api.New(e.d))
	mux.Handle("/", site)
	srv := httptest.NewServer(http.NewCrossOriginProtection().Handler(httpx.SecurityHeaders(mux)))
	t.Cleanup(srv.Close)
	path := "/es/" + e.articles("es", kiosko.AccessSubscriber)[0].ID

	newTab := func(name string) context.Context {
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
			chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1024, 800))
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(alloc)
		t.Cleanup(func() { cancel(); cancelAlloc() })
		// The first action starts the browser, which lives as long as the
		// context of that action: it must be this one, not a timeout's.
		if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
			t.Fatalf("%s: start chromium: %v", name, err)
		}
		return ctx
	}
	run := func(ctx context.Context, step string, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		start := time.Now()
		defer func() { t.Logf("%s: %v", step, time.Since(start)) }()
		if err := chromedp.Do(c, actions...); err != nil {
			buf, _ := chromedp.Run(ctx, chromedp.FullScreenshot(80))
			os.WriteFile("/tmp/browser-"+step+".jpg", buf, 0o644)
			t.Fatalf("%s: %v", step, err)
		}
	}
	signIn := func(ctx context.Context) {
		run(ctx, "signin", 20*time.Second,
			chromedp.Navigate(srv.URL+"/signin"),
			chromedp.WaitVisible(chromedp.CSS("#email")),
			chromedp.SendKeys(chromedp.CSS("#email"), "digital@kiosko.test"),
			chromedp.SendKeys(chromedp.CSS("#password"), demo.Password),
			chromedp.Submit(chromedp.CSS("#password")),
			chromedp.WaitNotPresent(chromedp.CSS("#password")))
	}
	a, b := newTab("A"), newTab("B")
	signIn(a)
	signIn(b)
	run(a, "A-reads", 10*time.Second, chromedp.Navigate(srv.URL+path), chromedp.WaitVisible(chromedp.CSS("#article-body")))
	run(b, "B-conflict", 10*time.Second, chromedp.Navigate(srv.URL+path), chromedp.WaitVisible(chromedp.CSS("#interstitial")), chromedp.WaitNotPresent(chromedp.CSS("#article-body p")))
	run(b, "B-continues", 10*time.Second, chromedp.Click(chromedp.CSS("#continue-here")), chromedp.WaitVisible(chromedp.CSS("#article-body")))
	run(a, "A-displaced", time.Second, chromedp.WaitVisible(chromedp.CSS("#interstitial")), chromedp.WaitNotVisible(chromedp.CSS("#article-body")))
	e.clock.Add(time.Second) // the clock is the test's: move it as the reader would
	run(a, "A-takes-back", 5*time.Second, chromedp.Click(chromedp.CSS("#continue-here")), chromedp.WaitVisible(chromedp.CSS("#article-body")))
	run(b, "B-displaced", 2*time.Second, chromedp.WaitVisible(chromedp.CSS("#interstitial")))
	e.clock.Add(time.Second) // the clock is the test's: move it as the reader would
	run(b, "B-takes-back", 5*time.Second, chromedp.Click(chromedp.CSS("#continue-here")), chromedp.WaitVisible(chromedp.CSS("#article-body")))
	// A's reader is still there and reads the message: a person at each
	// device, right after the other took the seat.
	run(a, "A-displaced-again", 2*time.Second, chromedp.WaitVisible(chromedp.CSS("#interstitial")))
	e.clock.Add(time.Second) // the clock is the test's: move it as the reader would
	run(a, "A-reads-the-message", 2*time.Second, chromedp.Click(chromedp.CSS("#interstitial-title")))
	run(a, "A-banner", 2*time.Second, chromedp.WaitVisible(chromedp.CSS("#sharing-banner")))
	run(b, "B-banner", 2*time.Second, chromedp.WaitVisible(chromedp.CSS("#sharing-banner")))
	buf, _ := chromedp.Run(a, chromedp.FullScreenshot(100))
	os.WriteFile("/tmp/browser-A.png", buf, 0o644)
	run(a, "A-password", 10*time.Second,
		chromedp.Navigate(srv.URL+"/account/password"),
		chromedp.WaitVisible(chromedp.CSS("#current_password")),
		chromedp.SendKeys(chromedp.CSS("#current_password"), demo.Password),
		chromedp.SendKeys(chromedp.CSS("#new_password"), "a brand new passphrase"),
		chromedp.Submit(chromedp.CSS("#new_password")),
		chromedp.WaitNotPresent(chromedp.CSS("#new_password")))
	run(b, "B-signed-out", 2*time.Second, chromedp.WaitVisible(chromedp.CSS("#signed-out")))
}
