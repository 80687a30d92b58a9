package web

import (
	"strings"
	"testing"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
	"github.com/kiosko/kiosko/internal/i18n"
)

func TestAccountMail(t *testing.T) {
	m := newFakeMailer()
	mail := NewAccountMail(&httpx.Deps{Catalog: i18n.Default(), Mailer: m, PublicURL: "https://news.example/"})
	es := &kiosko.Account{Email: "ana@example.com", Name: "Ana <b>", Lang: "es"}
	if err := mail.PasswordReset(t.Context(), es, "tok_123"); err != nil {
		t.Fatal(err)
	}
	msg := m.wait(t)
	link := "https://news.example/password/reset?token=tok_123"
	if msg.To != es.Email || msg.Subject != "Elige una contraseña nueva" || !strings.Contains(msg.Text, link) || !strings.Contains(msg.HTML, link) {
		t.Errorf("reset email: %+v", msg)
	}
	if !strings.Contains(msg.Text, "una hora") || !strings.Contains(msg.HTML, "Ana &lt;b&gt;") {
		t.Errorf("reset email body: %s\n%s", msg.Text, msg.HTML)
	}
	en := &kiosko.Account{Email: "bob@example.com", Lang: "en"}
	if err := mail.PasswordChanged(t.Context(), en); err != nil {
		t.Fatal(err)
	}
	if msg := m.wait(t); msg.Subject != "Your password was changed" || !strings.Contains(msg.Text, "Hello,") || msg.HTML == "" {
		t.Errorf("changed email: %+v", msg)
	}
}
