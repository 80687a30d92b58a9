package web

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"strings"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
	"github.com/kiosko/kiosko/internal/i18n"
)

// accountMail is kiosko.AccountMail: the emails about an account, in the
// account's language, with a text and an HTML part.
type accountMail struct {
	d    *httpx.Deps
	tmpl *template.Template
}

// NewAccountMail returns the account emails, sent through d.Mailer.
func NewAccountMail(d *httpx.Deps) kiosko.AccountMail {
	return &accountMail{d: d, tmpl: template.Must(template.New("mail").Parse(mailHTML))}
}

// mailHTML is the HTML part of account emails: one message with an optional
// button. Email clients ignore stylesheets, so styles are inline here.
const mailHTML = `<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="margin:0;padding:24px;background:#f6f3ee;font-family:Georgia,'Times New Roman',serif;color:#1a1a1a">
<div style="max-width:560px;margin:0 auto;background:#fff;padding:32px;border-top:4px solid #1a1a1a">
<p style="font-size:26px;font-weight:bold;margin:0 0 24px">{{.Site}}</p>
<p style="font-size:16px;line-height:1.5">{{.Greeting}}</p>
{{range .Paragraphs}}<p style="font-size:16px;line-height:1.5">{{.}}</p>{{end}}
{{if .Link}}<p style="margin:28px 0"><a href="{{.Link}}" style="background:#1a1a1a;color:#fff;padding:12px 20px;text-decoration:none;font-family:Helvetica,Arial,sans-serif;font-size:15px">{{.Button}}</a></p>
<p style="font-size:13px;color:#555;word-break:break-all">{{.Link}}</p>{{end}}
<p style="font-size:13px;color:#555;margin-top:32px">{{.Footer}}</p>
</div></body></html>`

type mailData struct {
	Lang, Site, Subject, Greeting string
	Paragraphs                    []string
	Link, Button, Footer          string
}

func (m *accountMail) catalog() *i18n.Catalog { return m.d.Catalog }

func (m *accountMail) lang(a *kiosko.Account) string {
	if kiosko.IsLanguage(a.Lang) {
		return a.Lang
	}
	return kiosko.LangSpanish
}

func (m *accountMail) greeting(lang string, a *kiosko.Account) string {
	if a.Name != "" {
		return m.catalog().T(lang, "web.mail.greeting_name", a.Name)
	}
	return m.catalog().T(lang, "web.mail.greeting")
}

// PasswordReset sends the single-use link to choose a new password.
func (m *accountMail) PasswordReset(ctx context.Context, a *kiosko.Account, token string) error {
	lang := m.lang(a)
	c := m.catalog()
	data := mailData{
		Lang: lang, Site: c.T(lang, "web.site.name"), Subject: c.T(lang, "web.mail.reset.subject"), Greeting: m.greeting(lang, a),
		Paragraphs: []string{c.T(lang, "web.mail.reset.body"), c.T(lang, "web.mail.reset.validity")},
		Link:       strings.TrimRight(m.d.PublicURL, "/") + "/password/reset?token=" + token,
		Button:     c.T(lang, "web.mail.reset.button"), Footer: c.T(lang, "web.mail.reset.ignore"),
	}
	return m.send(ctx, a, data)
}

// PasswordChanged tells the owner their password was changed.
func (m *accountMail) PasswordChanged(ctx context.Context, a *kiosko.Account) error {
	lang := m.lang(a)
	c := m.catalog()
	data := mailData{
		Lang: lang, Site: c.T(lang, "web.site.name"), Subject: c.T(lang, "web.mail.changed.subject"), Greeting: m.greeting(lang, a),
		Paragraphs: []string{c.T(lang, "web.mail.changed.body"), c.T(lang, "web.mail.changed.signed_out")},
		Link:       strings.TrimRight(m.d.PublicURL, "/") + "/password/forgot",
		Button:     c.T(lang, "web.mail.changed.button"), Footer: c.T(lang, "web.mail.changed.not_you"),
	}
	return m.send(ctx, a, data)
}

func (m *accountMail) send(ctx context.Context, a *kiosko.Account, data mailData) error {
	if m.d.Mailer == nil {
		return fmt.Errorf("account mail: no mailer")
	}
	var html bytes.Buffer
	if err := m.tmpl.Execute(&html, data); err != nil {
		return fmt.Errorf("account mail: %w", err)
	}
	var text strings.Builder
	text.WriteString(data.Greeting + "\n\n")
	for _, p := range data.Paragraphs {
		text.WriteString(p + "\n\n")
	}
	if data.Link != "" {
		text.WriteString(data.Button + ":\n" + data.Link + "\n\n")
	}
	text.WriteString(data.Footer + "\n\n-- \n" + data.Site + "\n")
	msg := &kiosko.Message{To: a.Email, Subject: data.Subject, Text: text.String(), HTML: html.String()}
	if err := m.d.Mailer.Send(ctx, msg); err != nil {
		return fmt.Errorf("account mail: %w", err)
	}
	return nil
}
