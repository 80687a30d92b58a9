// Package newsletter writes the newsletter's emails, the double opt-in
// confirmation and the weekly issue, in the edition's language from
// embedded templates and the i18n catalogs. It implements
// kiosko.NewsletterRenderer; sending and scheduling live in the root
// package (kiosko.Newsletter, kiosko.Scheduler).
package newsletter

import (
	"bytes"
	"embed"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/i18n"
)

//go:embed templates/*
var files embed.FS

// Renderer writes newsletter emails. Safe for concurrent use.
type Renderer struct {
	cat  *i18n.Catalog
	html *htmltemplate.Template
	text *texttemplate.Template
}

var _ kiosko.NewsletterRenderer = (*Renderer)(nil)

// NewRenderer parses the templates; cat nil uses the embedded catalogs.
func NewRenderer(cat *i18n.Catalog) (*Renderer, error) {
	if cat == nil {
		cat = i18n.Default()
	}
	r := &Renderer{cat: cat}
	// The catalog function is bound per message with Clone+Funcs would
	// cost a parse per email; instead every template gets the language in
	// its data and calls t with it.
	funcs := map[string]any{
		"t":    func(lang, key string, args ...any) string { return cat.T(lang, key, args...) },
		"date": func(lang string, t time.Time) string { return FormatDate(cat, lang, t) },
	}
	var err error
	if r.html, err = htmltemplate.New("").Funcs(funcs).ParseFS(files, "templates/*.html"); err != nil {
		return nil, err
	}
	if r.text, err = texttemplate.New("").Funcs(funcs).ParseFS(files, "templates/*.txt"); err != nil {
		return nil, err
	}
	return r, nil
}

// FormatDate writes a date the way the language does: "7 de febrero de
// 2026", "February 7, 2026".
func FormatDate(cat *i18n.Catalog, lang string, t time.Time) string {
	month := cat.T(lang, "newsletter.month."+t.Format("1"))
	return cat.T(lang, "newsletter.date", t.Day(), month, t.Year())
}

func lang(ed *kiosko.Edition) string {
	if ed != nil && kiosko.IsLanguage(ed.Lang) {
		return ed.Lang
	}
	return kiosko.LangSpanish
}

type confirmData struct {
	*kiosko.ConfirmationContent
	Lang string
}

// Confirmation writes the double opt-in email.
func (r *Renderer) Confirmation(c *kiosko.ConfirmationContent) (*kiosko.Message, error) {
	d := confirmData{ConfirmationContent: c, Lang: lang(c.Edition)}
	text, html, err := r.both("confirm", d)
	if err != nil {
		return nil, err
	}
	return &kiosko.Message{To: c.Email, Subject: r.cat.T(d.Lang, "newsletter.confirm.subject", c.Edition.Name), Text: text, HTML: html}, nil
}

type issueData struct {
	*kiosko.IssueContent
	Lang string
	Date string
}

// Issue writes one recipient's copy of an issue.
func (r *Renderer) Issue(c *kiosko.IssueContent) (*kiosko.Message, error) {
	l := lang(c.Edition)
	loc := time.UTC
	if c.Edition.Timezone != "" {
		if z, err := time.LoadLocation(c.Edition.Timezone); err == nil {
			loc = z
		}
	}
	d := issueData{IssueContent: c, Lang: l, Date: FormatDate(r.cat, l, c.Issue.Until.In(loc))}
	text, html, err := r.both("issue", d)
	if err != nil {
		return nil, err
	}
	return &kiosko.Message{To: c.Email, Subject: r.cat.T(l, "newsletter.issue.subject", c.Edition.Name, d.Date), Text: text, HTML: html}, nil
}

var bufs = make(chan *bytes.Buffer, 64)

func getBuf() *bytes.Buffer {
	select {
	case b := <-bufs:
		b.Reset()
		return b
	default:
		return new(bytes.Buffer)
	}
}

func putBuf(b *bytes.Buffer) {
	select {
	case bufs <- b:
	default:
	}
}

func (r *Renderer) both(name string, data any) (text, html string, err error) {
	b := getBuf()
	defer putBuf(b)
	if err := r.text.ExecuteTemplate(b, name+".txt", data); err != nil {
		return "", "", err
	}
	text = strings.TrimSpace(b.String()) + "\n"
	b.Reset()
	if err := r.html.ExecuteTemplate(b, name+".html", data); err != nil {
		return "", "", err
	}
	return text, b.String(), nil
}
