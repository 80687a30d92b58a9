package web

import (
	"context"
	"html/template"
	"net/url"
	"strings"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
)

// NewAccountDataMail returns the emails of verification, email change and
// deletion (kiosko.AccountDataMail), in the account's language, sent
// through d.Mailer like the other account emails.
func NewAccountDataMail(d *httpx.Deps) kiosko.AccountDataMail {
	return &accountMail{d: d, tmpl: template.Must(template.New("mail").Parse(mailHTML))}
}

func (m *accountMail) link(path, token string) string {
	return strings.TrimRight(m.d.PublicURL, "/") + path + "?token=" + url.QueryEscape(token)
}

// VerifyAddress sends the link that verifies the address.
func (m *accountMail) VerifyAddress(ctx context.Context, a *kiosko.Account, token string) error {
	lang, c := m.lang(a), m.catalog()
	return m.send(ctx, a, mailData{
		Lang: lang, Site: c.T(lang, "web.site.name"), Subject: c.T(lang, "accounts.mail.verify.subject"), Greeting: m.greeting(lang, a),
		Paragraphs: []string{c.T(lang, "accounts.mail.verify.body"), c.T(lang, "accounts.mail.verify.validity")},
		Link:       m.link("/account/verify", token), Button: c.T(lang, "accounts.mail.verify.button"),
		Footer: c.T(lang, "accounts.mail.verify.ignore"),
	})
}

// ConfirmNewAddress sends the link that confirms a new address, to it.
func (m *accountMail) ConfirmNewAddress(ctx context.Context, a *kiosko.Account, newEmail, token string) error {
	lang, c := m.lang(a), m.catalog()
	to := *a
	to.Email = newEmail
	return m.send(ctx, &to, mailData{
		Lang: lang, Site: c.T(lang, "web.site.name"), Subject: c.T(lang, "accounts.mail.change.subject"), Greeting: m.greeting(lang, a),
		Paragraphs: []string{c.T(lang, "accounts.mail.change.body"), c.T(lang, "accounts.mail.verify.validity")},
		Link:       m.link("/account/email/confirm", token), Button: c.T(lang, "accounts.mail.change.button"),
		Footer: c.T(lang, "accounts.mail.change.ignore"),
	})
}

// AddressChangeRequested tells the current address a change was asked for.
func (m *accountMail) AddressChangeRequested(ctx context.Context, a *kiosko.Account) error {
	lang, c := m.lang(a), m.catalog()
	return m.send(ctx, a, mailData{
		Lang: lang, Site: c.T(lang, "web.site.name"), Subject: c.T(lang, "accounts.mail.requested.subject"), Greeting: m.greeting(lang, a),
		Paragraphs: []string{c.T(lang, "accounts.mail.requested.body"), c.T(lang, "accounts.mail.requested.still")},
		Link:       strings.TrimRight(m.d.PublicURL, "/") + "/password/forgot", Button: c.T(lang, "web.mail.changed.button"),
		Footer: c.T(lang, "accounts.mail.requested.not_you"),
	})
}

// AddressChanged tells the old address the change is done.
func (m *accountMail) AddressChanged(ctx context.Context, a *kiosko.Account, oldEmail string) error {
	lang, c := m.lang(a), m.catalog()
	to := *a
	to.Email = oldEmail
	return m.send(ctx, &to, mailData{
		Lang: lang, Site: c.T(lang, "web.site.name"), Subject: c.T(lang, "accounts.mail.changed.subject"), Greeting: m.greeting(lang, a),
		Paragraphs: []string{c.T(lang, "accounts.mail.changed.body")},
		Footer:     c.T(lang, "accounts.mail.requested.not_you"),
	})
}

// AccountDeleted confirms the account is gone.
func (m *accountMail) AccountDeleted(ctx context.Context, a *kiosko.Account) error {
	lang, c := m.lang(a), m.catalog()
	return m.send(ctx, a, mailData{
		Lang: lang, Site: c.T(lang, "web.site.name"), Subject: c.T(lang, "accounts.mail.deleted.subject"), Greeting: m.greeting(lang, a),
		Paragraphs: []string{c.T(lang, "accounts.mail.deleted.body"), c.T(lang, "accounts.mail.deleted.kept")},
		Footer:     c.T(lang, "accounts.mail.deleted.footer"),
	})
}

// SeatEnded tells a member their seat ended with the owner's account.
func (m *accountMail) SeatEnded(ctx context.Context, member *kiosko.Account) error {
	lang, c := m.lang(member), m.catalog()
	return m.send(ctx, member, mailData{
		Lang: lang, Site: c.T(lang, "web.site.name"), Subject: c.T(lang, "accounts.mail.seat_ended.subject"), Greeting: m.greeting(lang, member),
		Paragraphs: []string{c.T(lang, "accounts.mail.seat_ended.body"), c.T(lang, "accounts.mail.seat_ended.still")},
		Link:       strings.TrimRight(m.d.PublicURL, "/") + "/plans", Button: c.T(lang, "accounts.mail.seat_ended.button"),
		Footer: c.T(lang, "accounts.mail.deleted.footer"),
	})
}
