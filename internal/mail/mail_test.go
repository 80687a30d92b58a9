package mail_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/mail"
	"github.com/kiosko/kiosko/internal/mailpit"
)

func TestSMTPSendsTextHTMLAndHeaders(t *testing.T) {
	t.Parallel()
	mp := mailpit.Start(t)
	m := mail.New(mail.Config{Addr: mp.SMTPAddr, From: "El Diario <noticias@example.com>"})
	err := m.Send(context.Background(), &kiosko.Message{
		To:      "lector@example.com",
		Subject: "Confirma tu suscripción: «El boletín»",
		Text:    "Hola, confirma aquí: https://example.com/c/abc",
		HTML:    "<p>Hola, <a href=\"https://example.com/c/abc\">confirma</a></p>",
		Headers: map[string]string{
			"List-Unsubscribe":      "<https://example.com/newsletter/unsubscribe?t=xyz>",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := mp.WaitFor(t, "lector@example.com", 1)[0]
	if got.Subject != "Confirma tu suscripción: «El boletín»" {
		t.Errorf("subject = %q", got.Subject)
	}
	if got.From.Address != "noticias@example.com" || got.From.Name != "El Diario" {
		t.Errorf("from = %+v", got.From)
	}
	if !strings.Contains(got.Text, "https://example.com/c/abc") {
		t.Errorf("text = %q", got.Text)
	}
	if !strings.Contains(got.HTML, `<a href="https://example.com/c/abc">confirma</a>`) {
		t.Errorf("html = %q", got.HTML)
	}
	if h := got.Header("List-Unsubscribe"); h != "<https://example.com/newsletter/unsubscribe?t=xyz>" {
		t.Errorf("List-Unsubscribe = %q", h)
	}
	if h := got.Header("List-Unsubscribe-Post"); h != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q", h)
	}
}

// Without SMTP the message is kept whole as an .eml file; the log names the
// file but never carries the text, whose links hold tokens.
func TestLogMailerWritesEMLAndKeepsLinksOutOfTheLog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	dir := t.TempDir()
	m := mail.New(mail.Config{Log: slog.New(slog.NewTextHandler(&buf, nil)), Dir: dir})
	if err := m.Send(context.Background(), &kiosko.Message{To: "a@example.com", Subject: "Reset", Text: "link: https://x.test/r/1"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a@example.com", "Reset", dir} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log %q lacks %q", buf.String(), want)
		}
	}
	if strings.Contains(buf.String(), "x.test/r/1") {
		t.Errorf("the log carries the link: %q", buf.String())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("eml files = %v", files)
	}
	b, _ := os.ReadFile(files[0])
	for _, want := range []string{"To: <a@example.com>", "Subject: Reset", "https://x.test/r/1"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("eml lacks %q:\n%s", want, b)
		}
	}
}

func TestPermanentRefusalIsClassified(t *testing.T) {
	t.Parallel()
	mp := mailpit.StartWith(t, mailpit.Options{AllowedRecipients: `@good\.example$`})
	for name, m := range map[string]kiosko.Mailer{
		"single": mail.New(mail.Config{Addr: mp.SMTPAddr}),
		"bulk":   mustBulk(t, mail.Config{Addr: mp.SMTPAddr}, mail.BulkConfig{Connections: 1}),
	} {
		err := m.Send(context.Background(), &kiosko.Message{To: "nobody@bad.example", Subject: "x", Text: "x"})
		var d *kiosko.DeliveryError
		if !errors.As(err, &d) || !d.Permanent || d.Code/100 != 5 {
			t.Fatalf("%s: err = %v, want a permanent 5xx DeliveryError", name, err)
		}
		// The connection stays usable after a refused recipient.
		if err := m.Send(context.Background(), &kiosko.Message{To: name + "@good.example", Subject: "x", Text: "x"}); err != nil {
			t.Fatalf("%s: after refusal: %v", name, err)
		}
		mp.WaitFor(t, name+"@good.example", 1)
	}
}

func TestUnreachableServerIsTemporary(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	err = mail.New(mail.Config{Addr: addr}).Send(context.Background(), &kiosko.Message{To: "a@example.com", Subject: "x", Text: "x"})
	var d *kiosko.DeliveryError
	if !errors.As(err, &d) || d.Permanent {
		t.Fatalf("err = %v, want a temporary DeliveryError", err)
	}
}

func TestBulkSendsConcurrentlyOverPooledConnections(t *testing.T) {
	t.Parallel()
	mp := mailpit.Start(t)
	b := mustBulk(t, mail.Config{Addr: mp.SMTPAddr}, mail.BulkConfig{Connections: 3, Rate: 500})
	const n = 60
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- b.Send(context.Background(), &kiosko.Message{To: fmt.Sprintf("r%d@example.com", i), Subject: "s", Text: "t"})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := len(mp.Messages(t)); got != n {
		t.Fatalf("received %d, want %d", got, n)
	}
}

func TestBulkAbandonsTheMessageWhenCommitFails(t *testing.T) {
	t.Parallel()
	mp := mailpit.Start(t)
	b := mustBulk(t, mail.Config{Addr: mp.SMTPAddr}, mail.BulkConfig{Connections: 1})
	boom := errors.New("database is gone")
	err := b.SendCommit(context.Background(), &kiosko.BulkMessage{To: "lost@example.com", Subject: "s", Text: []kiosko.Piece{{Text: "t"}}}, func() error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	called := false
	if err := b.SendCommit(context.Background(), &kiosko.BulkMessage{To: "kept@example.com", Subject: "s", Text: []kiosko.Piece{{Text: "t"}}}, func() error { called = true; return nil }); err != nil || !called {
		t.Fatalf("err = %v, commit called %v", err, called)
	}
	mp.WaitFor(t, "kept@example.com", 1)
	if got := mp.To(t, "lost@example.com"); len(got) != 0 {
		t.Fatalf("abandoned message was delivered: %v", got)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg mail.Config
		ok  bool
	}{
		{mail.Config{}, true},
		{mail.Config{Addr: "smtp.example.com:587", User: "u", Password: "p", From: "A <a@example.com>"}, true},
		{mail.Config{Addr: "smtp.example.com"}, false},
		{mail.Config{Addr: "smtp.example.com:x"}, false},
		{mail.Config{From: "not an address"}, false},
		{mail.Config{Addr: "h:25", Password: "p"}, false},
	} {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: err = %v", tc.cfg, err)
		}
	}
}

func mustBulk(t *testing.T, cfg mail.Config, b mail.BulkConfig) kiosko.BulkMailer {
	t.Helper()
	m, err := mail.NewBulk(cfg, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}
