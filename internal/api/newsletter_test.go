package api

import (
	"net/http"
	"testing"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
	"github.com/kiosko/kiosko/internal/mail"
	"github.com/kiosko/kiosko/internal/mailpit"
	"github.com/kiosko/kiosko/internal/newsletter"
)

func TestNewsletterSubscription(t *testing.T) {
	mp := mailpit.Start(t)
	e := newEnv(t, func(d *httpx.Deps) {
		cfg := mail.Config{Addr: mp.SMTPAddr, Log: d.Log}
		r, err := newsletter.NewRenderer(d.Catalog)
		if err != nil {
			t.Fatal(err)
		}
		d.Newsletter = &kiosko.Newsletter{Store: d.Store, Mailer: mail.New(cfg), Render: r, Clock: d.Clock,
			PublicURL: "https://news.example.com", Log: d.Log}
	})
	call := func(body any) call { return call{method: "POST", path: "/api/v1/newsletter/subscriptions", body: body} }
	// Twice: the same answer, one email.
	for range 2 {
		r := e.expect(t, call(map[string]string{"email": "App@Example.com", "edition": "us"}), http.StatusAccepted)
		if got := r.json(t)["status"]; got != "confirmation_sent" {
			t.Fatalf("status %v", got)
		}
	}
	m := mp.WaitFor(t, "app@example.com", 1)[0]
	if m.Subject == "" || len(mp.To(t, "app@example.com")) != 1 {
		t.Fatalf("%d confirmation emails", len(mp.To(t, "app@example.com")))
	}
	if r := e.expect(t, call(map[string]string{"email": "nope", "edition": "us"}), http.StatusBadRequest); r.errorCode(t) != kiosko.EINVALID {
		t.Fatalf("bad email: %s", r.errorCode(t))
	}
	if r := e.expect(t, call(map[string]string{"email": "a@example.com", "edition": "xx"}), http.StatusBadRequest); r.errorMessage(t) == "" {
		t.Fatal("unknown edition has no message")
	}
	e.expect(t, call("not json"), http.StatusBadRequest)
}
