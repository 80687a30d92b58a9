package web

import (
	"context"
	"html/template"
	"net/url"
	"strings"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
)

// billingMail is kiosko.BillingMail: invitations to a seat and company
// address confirmations, with the account emails' layout.
type billingMail struct{ m *accountMail }

// NewBillingMail returns the seat emails, sent through d.Mailer.
func NewBillingMail(d *httpx.Deps) kiosko.BillingMail {
	return &billingMail{m: &accountMail{d: d, tmpl: template.Must(template.New("mail").Parse(mailHTML))}}
}

// Invitation is written in the owner's language: the invitee has no
// account yet, and the owner knows which language they share.
func (b *billingMail) Invitation(ctx context.Context, to, lang string, owner *kiosko.Account, plan *kiosko.Plan, token string) error {
	if !kiosko.IsLanguage(lang) {
		lang = kiosko.LangSpanish
	}
	c := b.m.catalog()
	who := owner.Email
	if owner.Name != "" {
		who = owner.Name
	}
	planName := ""
	if plan != nil {
		planName = plan.Name(lang)
	}
	data := mailData{
		Lang: lang, Site: c.T(lang, "web.site.name"), Subject: c.T(lang, "billing.mail.invite.subject", who), Greeting: c.T(lang, "web.mail.greeting"),
		Paragraphs: []string{c.T(lang, "billing.mail.invite.body", who, planName), c.T(lang, "billing.mail.invite.own_login"), c.T(lang, "billing.mail.invite.validity")},
		Link:       strings.TrimRight(b.m.d.PublicURL, "/") + "/invite/" + url.PathEscape(token),
		Button:     c.T(lang, "billing.mail.invite.button"), Footer: c.T(lang, "billing.mail.invite.ignore", owner.Email),
	}
	return b.m.send(ctx, &kiosko.Account{Email: to, Lang: lang}, data)
}

// JoinVerification asks a reader to confirm their company address.
func (b *billingMail) JoinVerification(ctx context.Context, a *kiosko.Account, token string) error {
	lang := b.m.lang(a)
	c := b.m.catalog()
	data := mailData{
		Lang: lang, Site: c.T(lang, "web.site.name"), Subject: c.T(lang, "billing.mail.join.subject"), Greeting: b.m.greeting(lang, a),
		Paragraphs: []string{c.T(lang, "billing.mail.join.body"), c.T(lang, "billing.mail.invite.validity")},
		Link:       strings.TrimRight(b.m.d.PublicURL, "/") + "/invite/" + url.PathEscape(token),
		Button:     c.T(lang, "billing.mail.join.button"), Footer: c.T(lang, "billing.mail.join.ignore"),
	}
	return b.m.send(ctx, a, data)
}
