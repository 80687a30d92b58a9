package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
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

// profile is one browser with its own profile directory: its own cookies,
// so its own device.
type profile struct {
	t    *testing.T
	name string
	ctx  context.Context
	base string
}

// newProfile starts a browser; extra are more Chromium options.
func newProfile(t *testing.T, exe, name, base string, extra ...chromedp.ExecAllocatorOption) *profile {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 800),
	)
	opts = append(opts, extra...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	p := &profile{t: t, name: name, ctx: ctx, base: base}
	// The first run starts the browser, which lives as long as that run's
	// context: it must be the profile's own, without a timeout.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("%s: start chromium: %v", name, err)
	}
	return p
}

// run performs actions within 15 s, saving a screenshot on failure.
func (p *profile) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	p.runWithin(step, 15*time.Second, actions...)
}

func (p *profile) runWithin(step string, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, d)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %s: %v (screenshot: %s)", p.name, step, err, p.screenshot(step))
	}
}

func (p *profile) screenshot(step string) string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(80))
	if err != nil {
		return "none: " + err.Error()
	}
	// The artifact directory is the test's own: removed after the run
	// unless go test -artifacts keeps it.
	path := filepath.Join(p.t.ArtifactDir(), sanitize(fmt.Sprintf("%s-%s.jpg", p.name, step)))
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		return "none: " + err.Error()
	}
	return path
}

func sanitize(s string) string {
	out := []rune(s)
	for i, r := range out {
		if r == ' ' || r == '/' {
			out[i] = '_'
		}
	}
	return string(out)
}

func (p *profile) signIn(email, pw string) {
	p.t.Helper()
	p.run("sign in",
		chromedp.Navigate(p.base+"/signin"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), pw),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitNotPresent(chromedp.CSS("#password")),
	)
}

// TestTwoDevicesOneSeat is the reading rule in two real browsers: one
// Digital account, two profiles (two devices).
func TestTwoDevicesOneSeat(t *testing.T) {
	exe := chromium(t)
	m := startMain(t)
	ctx := context.Background()
	arts, err := m.Store.FindArticles(ctx, kioskoFilter("es"))
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
	if path == "" {
		t.Fatal("no subscriber article in the demo edition")
	}

	a := newProfile(t, exe, "A", m.URL())
	b := newProfile(t, exe, "B", m.URL())
	a.signIn("digital@kiosko.test", demo.Password)
	b.signIn("digital@kiosko.test", demo.Password)

	a.run("A reads", chromedp.Navigate(m.URL()+path), chromedp.WaitVisible(chromedp.CSS("#article-body")))
	b.run("B meets the interstitial", chromedp.Navigate(m.URL()+path), chromedp.WaitVisible(chromedp.CSS("#interstitial")), chromedp.WaitNotPresent(chromedp.CSS("#article-body p")))

	// B continues here; A is told at once, without a reload.
	b.run("B continues", chromedp.Click(chromedp.CSS("#continue-here")), chromedp.WaitVisible(chromedp.CSS("#article-body")))
	// Pages heartbeat every 30 s or more: a few seconds is the push, not a
	// poll, with room for a busy machine.
	a.runWithin("A displaced without a reload", 4*time.Second, chromedp.WaitVisible(chromedp.CSS("#interstitial")), chromedp.WaitNotVisible(chromedp.CSS("#article-body")))

	// Takeovers fought back, and a person at each device, put the seat under sharing warning.
	a.run("A takes back", chromedp.Click(chromedp.CSS("#continue-here")), chromedp.WaitVisible(chromedp.CSS("#article-body")))
	b.runWithin("B displaced", 4*time.Second, chromedp.WaitVisible(chromedp.CSS("#interstitial")))
	b.run("B takes back", chromedp.Click(chromedp.CSS("#continue-here")), chromedp.WaitVisible(chromedp.CSS("#article-body")))
	// A's reader is still there and reads the message: the page tells the
	// server a person was there, and that third takeover counts.
	a.runWithin("A displaced again", 2*time.Second, chromedp.WaitVisible(chromedp.CSS("#interstitial")))
	a.run("A reads the message", chromedp.Click(chromedp.CSS("#interstitial-title")))
	for _, p := range []*profile{a, b} {
		p.runWithin("sharing warning shown", 4*time.Second, chromedp.WaitVisible(chromedp.CSS("#sharing-banner")))
	}
	// The banner is on every page of the seat, not only the article.
	a.run("banner on the front page", chromedp.Navigate(m.URL()+"/es/"), chromedp.WaitVisible(chromedp.CSS("#sharing-banner")))

	// A changes the password: B's open page says it was signed out.
	a.run("A changes the password",
		chromedp.Navigate(m.URL()+"/account/password"),
		chromedp.WaitVisible(chromedp.CSS("#current_password")),
		chromedp.SendKeys(chromedp.CSS("#current_password"), demo.Password),
		chromedp.SendKeys(chromedp.CSS("#new_password"), "a brand new passphrase"),
		chromedp.Submit(chromedp.CSS("#new_password")),
		chromedp.WaitNotPresent(chromedp.CSS("#new_password")),
	)
	b.runWithin("B told it was signed out", 4*time.Second, chromedp.WaitVisible(chromedp.CSS("#signed-out")))
	a.run("A's warning lifted", chromedp.Navigate(m.URL()+"/es/"), chromedp.WaitNotVisible(chromedp.CSS("#sharing-banner")))
}

func kioskoFilter(edition string) kiosko.ArticleFilter { return kiosko.ArticleFilter{Edition: edition} }
