package main

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kiosko/kiosko/internal/demo"
)

// TestAdminClearsWarningInBrowser: in real browsers, an admin finds a
// warned account in the console, clears its warning after confirming, and
// the reader's banner is gone on the next page.
func TestAdminClearsWarningInBrowser(t *testing.T) {
	exe := chromium(t)
	m := startMain(t)
	reader := newProfile(t, exe, "reader", m.URL())
	reader.signIn("digital@kiosko.test", demo.Password)
	warnSeat(t, m, "digital@kiosko.test")
	reader.run("the banner shows", chromedp.Navigate(m.URL()+"/es/"), chromedp.WaitVisible(chromedp.CSS("#sharing-banner")))

	admin := newProfile(t, exe, "admin", m.URL())
	admin.signIn("admin@kiosko.test", demo.Password)
	admin.run("search the account",
		chromedp.Navigate(m.URL()+"/admin/"),
		chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), "digital"),
		chromedp.Submit(chromedp.CSS("#q")),
		chromedp.WaitVisible(chromedp.Search(`//a[text()="digital@kiosko.test"]`)),
		chromedp.Click(chromedp.Search(`//a[text()="digital@kiosko.test"]`)),
		chromedp.WaitVisible(chromedp.CSS("strong.warned")),
	)
	admin.run("clear the warning, confirmed",
		chromedp.Click(chromedp.CSS(`form[action$="/clear-warning"] button`)),
		chromedp.WaitReady(chromedp.CSS(`input[name="confirm"]`)),
		chromedp.Click(chromedp.CSS(`form[action$="/clear-warning"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
		chromedp.WaitNotPresent(chromedp.CSS("strong.warned")),
	)
	reader.run("the banner is gone", chromedp.Navigate(m.URL()+"/es/"), chromedp.WaitReady(chromedp.CSS("#main")), chromedp.WaitNotVisible(chromedp.CSS("#sharing-banner")))
}
