package main

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kiosko/kiosko/internal/demo"
)

// TestBrowserEditorPublishes is an editor in Chromium writing an article
// in the newsroom, watching the live preview render it (newsroom.js and
// the server's sanitizer), publishing it, and a reader in another
// browser finding it on the front page and reading it.
func TestBrowserEditorPublishes(t *testing.T) {
	exe := chromium(t)
	m := startMain(t)
	editor := newProfile(t, exe, "editor", m.URL())
	editor.signIn("editor@kiosko.test", demo.Password)
	editor.run("write",
		chromedp.Navigate(m.URL()+"/newsroom/new?edition=es"),
		chromedp.WaitVisible(chromedp.CSS("#f-title")),
		chromedp.SendKeys(chromedp.CSS("#f-title"), "La redacción publica desde el navegador"),
		chromedp.SendKeys(chromedp.CSS("#f-id"), "es-desde-el-navegador"),
		chromedp.SendKeys(chromedp.CSS("#f-dek"), "Una prueba de punta a punta."),
		chromedp.SendKeys(chromedp.CSS("#f-body"), "Primer párrafo con **negrita**.\n\n<img src=x onerror=\"document.title='pwned'\">"),
	)
	editor.run("live preview",
		chromedp.WaitVisible(chromedp.CSS("#preview strong")),
		chromedp.WaitNotPresent(chromedp.CSS("#preview img[onerror]")),
	)
	editor.run("publish",
		chromedp.Click(chromedp.CSS("#publish")),
		chromedp.WaitVisible(chromedp.CSS(`#article-status[data-status="published"]`)),
	)
	reader := newProfile(t, exe, "reader", m.URL())
	reader.run("front page",
		chromedp.Navigate(m.URL()+"/es/"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/es/es-desde-el-navegador"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/es/es-desde-el-navegador"]`)),
		chromedp.WaitVisible(chromedp.CSS("#article-body strong")),
	)
}
