package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto"
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
	for start := time.Now(); ; {
		err := chromedp.Do(ctx, chromedp.Navigate("about:blank"))
		if err == nil {
			break
		}
		if !contextDestroyed(err) || time.Since(start) > stepWait {
			t.Fatalf("%s: start chromium: %v", name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return p
}

// Step deadlines. A loaded CI machine (the suite with -race on two cores)
// makes Chromium slow, so a step gets stepWait. A step that waits for a push
// gets pushWait: room for a busy machine, yet under the pages' heartbeat
// (every 30 s or more), so only the push can end it in time.
const (
	stepWait = 30 * time.Second
	pushWait = 20 * time.Second
)

// run performs actions within stepWait, saving a screenshot on failure.
func (p *profile) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	p.runWithin(step, stepWait, actions...)
}

// runWithin performs actions one after another within d. An action that
// fails only because a navigation destroyed the JavaScript context it was
// evaluating in (Chromium's "Cannot find context with specified id") is
// tried again, within the same deadline; any other error fails the step.
func (p *profile) runWithin(step string, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, d)
	defer cancel()
	for _, a := range actions {
		for {
			err := chromedp.Do(ctx, a)
			if err == nil {
				break
			}
			if !contextDestroyed(err) || ctx.Err() != nil {
				p.t.Fatalf("%s: %s: %v (screenshot: %s)", p.name, step, err, p.screenshot(step))
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// contextDestroyed reports whether err is Chromium's answer to an
// evaluation in an execution context that a navigation has just replaced.
func contextDestroyed(err error) bool {
	var cdpErr *cdproto.Error
	if errors.As(err, &cdpErr) {
		return strings.Contains(cdpErr.Message, "Cannot find context with specified id")
	}
	return strings.Contains(err.Error(), "Cannot find context with specified id")
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
	// Pages heartbeat every 30 s or more: pushWait is the push, not a poll,
	// with room for a busy machine.
	a.runWithin("A displaced without a reload", pushWait, chromedp.WaitVisible(chromedp.CSS("#interstitial")), chromedp.WaitNotVisible(chromedp.CSS("#article-body")))

	// Takeovers fought back, and a person at each device, put the seat under sharing warning.
	a.run("A takes back", chromedp.Click(chromedp.CSS("#continue-here")), chromedp.WaitVisible(chromedp.CSS("#article-body")))
	b.runWithin("B displaced", pushWait, chromedp.WaitVisible(chromedp.CSS("#interstitial")))
	b.run("B takes back", chromedp.Click(chromedp.CSS("#continue-here")), chromedp.WaitVisible(chromedp.CSS("#article-body")))
	// A's reader is still there and reads the message: the page tells the
	// server a person was there, and that third takeover counts.
	a.runWithin("A displaced again", pushWait, chromedp.WaitVisible(chromedp.CSS("#interstitial")))
	a.run("A reads the message", chromedp.Click(chromedp.CSS("#interstitial-title")))
	for _, p := range []*profile{a, b} {
		p.runWithin("sharing warning shown", pushWait, chromedp.WaitVisible(chromedp.CSS("#sharing-banner")))
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
	b.runWithin("B told it was signed out", pushWait, chromedp.WaitVisible(chromedp.CSS("#signed-out")))
	a.run("A's warning lifted", chromedp.Navigate(m.URL()+"/es/"), chromedp.WaitNotVisible(chromedp.CSS("#sharing-banner")))
}

func kioskoFilter(edition string) kiosko.ArticleFilter { return kiosko.ArticleFilter{Edition: edition} }

// The browser steps retry Chromium's destroyed-context answer and nothing
// else: any other failure must still fail the step.
func TestContextDestroyedIsOnlyThatError(t *testing.T) {
	gone := &cdproto.Error{Code: -32000, Message: "Cannot find context with specified id"}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{gone, true},
		{fmt.Errorf("evaluate: %w", gone), true},
		{&cdproto.Error{Code: -32000, Message: "Node with given id does not belong to the document"}, false},
		{context.DeadlineExceeded, false},
		{errors.New("net::ERR_CONNECTION_REFUSED"), false},
	} {
		if got := contextDestroyed(tc.err); got != tc.want {
			t.Errorf("contextDestroyed(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
