package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/mail"
	"github.com/kiosko/kiosko/internal/mailpit"
	"github.com/kiosko/kiosko/internal/newsletter"
)

// withNewsletter wires the newsletter to a real Mailpit.
func withNewsletter(t *testing.T, e *env) *mailpit.Server {
	t.Helper()
	mp := mailpit.Start(t)
	cfg := mail.Config{Addr: mp.SMTPAddr, Log: e.d.Log}
	bulk, err := mail.NewBulk(cfg, mail.BulkConfig{Connections: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bulk.Close() })
	r, err := newsletter.NewRenderer(e.d.Catalog)
	if err != nil {
		t.Fatal(err)
	}
	e.d.Newsletter = &kiosko.Newsletter{Store: e.store, Mailer: mail.New(cfg), Bulk: bulk, Render: r, Clock: e.clock,
		PublicURL: e.srv.URL, Settings: kiosko.DefaultNewsletterSettings(), Log: e.d.Log}
	return mp
}

// linkTo returns the path and query of the first link to path in text.
func linkTo(t *testing.T, text, base, path string) string {
	t.Helper()
	i := strings.Index(text, base+path)
	if i < 0 {
		t.Fatalf("no link to %s in %q", path, text)
	}
	link := text[i+len(base):]
	if j := strings.IndexAny(link, " \r\n>\""); j >= 0 {
		link = link[:j]
	}
	return link
}

func TestNewsletterSignUpConfirmAndOneClickUnsubscribe(t *testing.T) {
	e := newEnv(t)
	mp := withNewsletter(t, e)
	b := e.browser("en")
	art := e.articles("es", kiosko.AccessFree)[0]

	// The box is on the article page, in the edition's language.
	p := b.get("/es/" + art.ID)
	if !p.has(`id="newsletter-box"`) || !p.has("La semana, en tu correo") {
		t.Fatalf("no Spanish sign-up box on the article page")
	}
	p = b.post("/newsletter", url.Values{"edition": {"es"}, "email": {"lectora@example.com"}, "next": {"/es/" + art.ID}})
	if p.status != http.StatusOK || !p.has("Revisa tu correo") {
		t.Fatalf("sign up: %d %s", p.status, text(p.body))
	}
	// The same again answers the same.
	if p2 := b.post("/newsletter", url.Values{"edition": {"es"}, "email": {"lectora@example.com"}}); p2.status != http.StatusOK || !p2.has("Revisa tu correo") {
		t.Fatalf("repeat sign up: %d", p2.status)
	}
	m := mp.WaitFor(t, "lectora@example.com", 1)[0]
	confirm := linkTo(t, m.Text, e.srv.URL, "/newsletter/confirm")

	// GET shows a button and confirms nothing (mail scanners follow links).
	p = b.get(confirm)
	if p.status != http.StatusOK || !p.has(`action="/newsletter/confirm"`) {
		t.Fatalf("confirm page: %d %s", p.status, text(p.body))
	}
	if s, _ := e.store.FindSubscriber(context.Background(), "es", "lectora@example.com"); s.Status != kiosko.SubscriberPending {
		t.Fatalf("GET confirmed: %s", s.Status)
	}
	token := strings.TrimPrefix(confirm, "/newsletter/confirm?token=")
	for range 2 { // a double click answers the same
		p = b.post("/newsletter/confirm", url.Values{"token": {token}})
		if p.status != http.StatusOK || !p.has("Suscripción confirmada") {
			t.Fatalf("confirm: %d %s", p.status, text(p.body))
		}
	}
	// The reader came from the Spanish edition: the flow stays in Spanish
	// for an English browser too.
	if p = b.post("/newsletter/confirm", url.Values{"token": {"forged"}}); p.status != http.StatusNotFound || !p.has("ya no es válido") {
		t.Fatalf("forged token: %d %s", p.status, text(p.body))
	}

	// The issue carries List-Unsubscribe; a one-click POST without any
	// cookie unsubscribes.
	if _, err := e.d.Newsletter.SendIssue(context.Background(), "es", kiosko.SendOptions{}); err != nil {
		t.Fatal(err)
	}
	issue := mp.WaitFor(t, "lectora@example.com", 2)[1]
	unsub := strings.Trim(issue.Header("List-Unsubscribe"), "<>")
	if issue.Header("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.HasPrefix(unsub, e.srv.URL+"/newsletter/unsubscribe?token=") {
		t.Fatalf("headers: %q %q", issue.Header("List-Unsubscribe"), issue.Header("List-Unsubscribe-Post"))
	}
	// The footer link shows a page with a button, and unsubscribes nobody
	// (mail scanners follow links).
	if p := e.browser("").get(strings.TrimPrefix(unsub, e.srv.URL)); p.status != http.StatusOK || !p.has("Darme de baja") {
		t.Fatalf("unsubscribe page: %d", p.status)
	}
	stillSubscribed := func(after string) {
		t.Helper()
		if s, err := e.store.FindSubscriber(context.Background(), "es", "lectora@example.com"); err != nil || s.Status != kiosko.SubscriberConfirmed {
			t.Fatalf("after %s: %+v, %v; want still subscribed", after, s, err)
		}
	}
	stillSubscribed("opening the unsubscribe page")
	// A link that is not one is refused, in the reader's language, and
	// unsubscribes nobody.
	if p := e.browser("en").get("/newsletter/unsubscribe?token=forged"); p.status != http.StatusNotFound || !p.has("no longer valid") {
		t.Fatalf("unsubscribe page with a bad token: %d %s", p.status, text(p.body))
	}
	if p := e.browser("en").post("/newsletter/unsubscribe", url.Values{"token": {"forged"}}); p.status != http.StatusNotFound || !p.has("no longer valid") {
		t.Fatalf("unsubscribe with a bad token: %d %s", p.status, text(p.body))
	}
	res, err := http.Post(e.srv.URL+"/newsletter/unsubscribe?token=forged", "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("one-click with a bad token: %d, want 404", res.StatusCode)
	}
	stillSubscribed("bad tokens")
	res, err = http.Post(unsub, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("one-click: %d", res.StatusCode)
	}
	if s, _ := e.store.FindSubscriber(context.Background(), "es", "lectora@example.com"); s.Status != kiosko.SubscriberUnsubscribed {
		t.Fatalf("after one-click: %s", s.Status)
	}
}

func TestNewsletterPreviewIsForEditors(t *testing.T) {
	e := newEnv(t)
	mp := withNewsletter(t, e)
	if p := e.browser("en").get("/newsletter/preview?edition=us"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/signin") {
		t.Fatalf("anonymous: %d %s", p.status, p.location())
	}
	reader := e.browser("en")
	reader.signIn("digital@kiosko.test", demo.Password)
	if p := reader.get("/newsletter/preview?edition=us"); p.status != http.StatusNotFound {
		t.Fatalf("reader: %d", p.status)
	}
	ed := e.browser("en")
	ed.signIn("editor@kiosko.test", demo.Password)
	p := ed.get("/newsletter/preview?edition=us")
	// The page speaks the editor's own language (her account is Spanish),
	// not her browser's.
	if p.status != http.StatusOK || !p.has("Vista previa del boletín") || !p.has(`src="/newsletter/preview/email?edition=us"`) {
		t.Fatalf("editor: %d %s", p.status, text(p.body))
	}
	frame := ed.get("/newsletter/preview/email?edition=us")
	if frame.status != http.StatusOK || !strings.Contains(frame.header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("frame: %d %q", frame.status, frame.header.Get("Content-Security-Policy"))
	}
	if mp.Count(t) != 0 {
		t.Fatal("the preview sent mail")
	}
}
