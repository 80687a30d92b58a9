package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/api"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/httpx"
)

// chromium finds Debian's browser, or skips (fails under
// KIOSKO_REQUIRE_SERVICES=1, as in CI).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("KIOSKO_REQUIRE_SERVICES") == "1" {
		t.Fatal("chromium is not installed (apt-get install chromium)")
	}
	t.Skip("chromium is not installed (apt-get install chromium); skipping the browser test")
	return ""
}

// TestBrowserReading drives reading.js in Chromium against the site and the
// real API. A failed step leaves a screenshot in the test's artifact
// directory (kept with go test -artifacts).
func TestBrowserReading(t *testing.T) {
	exe := chromium(t)
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
			t.Fatalf("%s: %v (screenshot: %s)", step, err, screenshot(t, ctx, step))
		}
	}
	// expect evaluates a script expression in the tab and fails, with a
	// screenshot, when it does not give want.
	expect := func(ctx context.Context, step, expr, want string) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		got, err := chromedp.Run(c, chromedp.Evaluate[string](expr))
		if err != nil || got != want {
			t.Errorf("%s: %s = %q (%v), want %q (screenshot: %s)", step, expr, got, err, want, screenshot(t, ctx, step))
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
	// Opened on the interstitial, the page moves focus to it, and says
	// when the other device was last active as the server does.
	expect(b, "B-first-load", `document.activeElement && document.activeElement.id`, "interstitial")
	expect(b, "B-last-active", `document.getElementById("other-seen").textContent`, "ahora mismo")
	expect(b, "B-headline", `document.getElementById("interstitial-title").textContent`, "Tu suscripción se está leyendo en otro dispositivo")
	run(b, "B-continues", 10*time.Second, chromedp.Click(chromedp.CSS("#continue-here")), chromedp.WaitVisible(chromedp.CSS("#article-body")))
	// Pages heartbeat every 30 s or more: a few seconds is the push, not a
	// poll, with room for a busy machine.
	run(a, "A-displaced", 4*time.Second, chromedp.WaitVisible(chromedp.CSS("#interstitial")), chromedp.WaitNotVisible(chromedp.CSS("#article-body")))
	expect(a, "A-headline", `document.getElementById("interstitial-title").textContent`, "Tu suscripción ha pasado a leerse en otro dispositivo")
	expect(a, "A-focus", `document.activeElement && document.activeElement.id`, "interstitial")
	expect(a, "A-last-active", `document.getElementById("other-seen").textContent`, "ahora mismo")
	e.clock.Add(time.Second) // the clock is the test's: move it as the reader would
	run(a, "A-takes-back", 5*time.Second, chromedp.Click(chromedp.CSS("#continue-here")), chromedp.WaitVisible(chromedp.CSS("#article-body")))
	run(b, "B-displaced", 4*time.Second, chromedp.WaitVisible(chromedp.CSS("#interstitial")))
	e.clock.Add(time.Second)
	run(b, "B-takes-back", 5*time.Second, chromedp.Click(chromedp.CSS("#continue-here")), chromedp.WaitVisible(chromedp.CSS("#article-body")))
	// A's reader is still there and reads the message: a person at each
	// device, right after the other took the seat.
	run(a, "A-displaced-again", 4*time.Second, chromedp.WaitVisible(chromedp.CSS("#interstitial")))
	e.clock.Add(time.Second)
	run(a, "A-reads-the-message", 2*time.Second, chromedp.Click(chromedp.CSS("#interstitial-title")))
	run(a, "A-banner", 4*time.Second, chromedp.WaitVisible(chromedp.CSS("#sharing-banner")))
	run(b, "B-banner", 4*time.Second, chromedp.WaitVisible(chromedp.CSS("#sharing-banner")))
	run(a, "A-password", 10*time.Second,
		chromedp.Navigate(srv.URL+"/account/password"),
		chromedp.WaitVisible(chromedp.CSS("#current_password")),
		chromedp.SendKeys(chromedp.CSS("#current_password"), demo.Password),
		chromedp.SendKeys(chromedp.CSS("#new_password"), "a brand new passphrase"),
		chromedp.Submit(chromedp.CSS("#new_password")),
		chromedp.WaitNotPresent(chromedp.CSS("#new_password")))
	run(b, "B-signed-out", 4*time.Second, chromedp.WaitVisible(chromedp.CSS("#signed-out")))
	// The masthead no longer offers "My account · Sign out".
	expect(b, "B-masthead", `[...document.querySelectorAll(".nav-signed-in")].every(e => e.hidden) && !document.querySelector(".nav-signed-out").hidden ? "signed out" : "signed in"`, "signed out")
}

// screenshot saves what the tab shows into the test's artifact directory
// and returns the file's path, or why there is none.
func screenshot(t *testing.T, ctx context.Context, step string) string {
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	buf, err := chromedp.Run(c, chromedp.FullScreenshot(80))
	if err != nil {
		return "none: " + err.Error()
	}
	path := filepath.Join(t.ArtifactDir(), strings.NewReplacer("/", "_", " ", "_").Replace(step)+".jpg")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		return "none: " + err.Error()
	}
	return path
}
