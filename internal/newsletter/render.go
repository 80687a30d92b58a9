// Package newsletter writes the newsletter's emails, the double opt-in
// confirmation and the weekly issue, in the edition's language from
// embedded templates and the i18n catalogs. It implements
// kiosko.NewsletterRenderer; sending and scheduling live in the root
// package (kiosko.Newsletter, kiosko.Scheduler).
package newsletter

import (
	"bytes"
	"embed"
	"hash/maphash"
	htmltemplate "html/template"
	"strings"
	"sync"
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

	// The list of articles is most of an issue and the same for every
	// recipient: it is rendered once per issue and language and kept here,
	// keyed by a hash of what it shows.
	seed     maphash.Seed
	mu       sync.Mutex
	articles map[uint64]renderedArticles
	zones    sync.Map // time zone name -> *time.Location
}

type renderedArticles struct {
	html htmltemplate.HTML
	text string
}

// maxCachedIssues bounds the articles cache; a server renders a handful
// of issues a week.
const maxCachedIssues = 32

var _ kiosko.NewsletterRenderer = (*Renderer)(nil)

// NewRenderer parses the templates; cat nil uses the embedded catalogs.
func NewRenderer(cat *i18n.Catalog) (*Renderer, error) {
	if cat == nil {
		cat = i18n.Default()
	}
	r := &Renderer{cat: cat, seed: maphash.MakeSeed(), articles: map[uint64]renderedArticles{}}
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

// Confirmation writes the double opt-in email. It greets nobody by name:
// the name was typed by whoever filled the form, who may not be the
// address's owner, and must not put their words in kiosko's email.
func (r *Renderer) Confirmation(c *kiosko.ConfirmationContent) (*kiosko.Message, error) {
	d := confirmData{ConfirmationContent: c, Lang: lang(c.Edition)}
	text, html, err := r.both("confirm", d)
	if err != nil {
		return nil, err
	}
	return &kiosko.Message{To: c.Email, Subject: r.cat.T(d.Lang, "newsletter.confirm.subject", c.Edition.Name), Text: text, HTML: html}, nil
}

// location returns the time zone called name, UTC when unknown.
// time.LoadLocation reads the zone database on every call, which would be
// a file read per message.
func (r *Renderer) location(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	if l, ok := r.zones.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		l = time.UTC
	}
	r.zones.Store(name, l)
	return l
}

type issueData struct {
	*kiosko.IssueContent
	Lang         string
	Date         string
	ArticlesHTML htmltemplate.HTML // issue_articles.html, rendered once per issue
	ArticlesText string            // issue_articles.txt
	Greeting     string            // "Hola, Ana:", or a marker (PrepareIssue)
}

// issueArticles returns the rendered list of articles of d, from the cache
// when an identical list was rendered before.
func (r *Renderer) issueArticles(d *issueData) (renderedArticles, error) {
	var h maphash.Hash
	h.SetSeed(r.seed)
	field := func(s string) {
		h.WriteString(s)
		h.WriteByte(0)
	}
	field(d.Lang)
	for _, a := range d.Articles {
		field(a.ID)
		field(a.Title)
		field(a.Standfirst)
		field(a.Author)
		field(a.URL)
		maphash.WriteComparable(&h, a.PublishedAt.UnixNano())
	}
	key := h.Sum64()
	r.mu.Lock()
	ra, ok := r.articles[key]
	r.mu.Unlock()
	if ok {
		return ra, nil
	}
	var text, html strings.Builder
	if err := r.text.ExecuteTemplate(&text, "issue_articles.txt", d); err != nil {
		return ra, err
	}
	if err := r.html.ExecuteTemplate(&html, "issue_articles.html", d); err != nil {
		return ra, err
	}
	ra = renderedArticles{html: htmltemplate.HTML(html.String()), text: text.String()}
	r.mu.Lock()
	if len(r.articles) >= maxCachedIssues {
		clear(r.articles)
	}
	r.articles[key] = ra
	r.mu.Unlock()
	return ra, nil
}

// Issue writes one recipient's copy of an issue.
func (r *Renderer) Issue(c *kiosko.IssueContent) (*kiosko.Message, error) {
	p, err := r.PrepareIssue(c)
	if err != nil {
		return nil, err
	}
	return p.Copy(c.Email, c.Name, c.UnsubscribeURL).Message(), nil
}

// Slots of a prepared issue: what differs from one recipient to the next.
const (
	slotNone = iota
	slotGreeting
	slotEmail
	slotUnsubscribe
)

// segment is a stretch of a prepared body: a literal, or a slot.
type segment struct {
	text string
	slot int
}

// preparedIssue is an issue rendered once, with slots for each recipient.
type preparedIssue struct {
	r          *Renderer
	lang       string
	subject    string
	text, html []segment
}

// PrepareIssue renders an issue once for every recipient: the templates
// run with a random marker in place of the greeting, the address and the
// unsubscribe link, and the output is cut at the markers. A copy is then
// the shared stretches with the recipient's values in between, escaped as
// the templates would have, so it is byte for byte what rendering the
// templates for that recipient writes. c's Email, Name and UnsubscribeURL
// are not used.
func (r *Renderer) PrepareIssue(c *kiosko.IssueContent) (kiosko.PreparedIssue, error) {
	l := lang(c.Edition)
	loc := r.location(c.Edition.Timezone)
	d := issueData{IssueContent: c, Lang: l, Date: FormatDate(r.cat, l, c.Issue.Until.In(loc))}
	arts, err := r.issueArticles(&d)
	if err != nil {
		return nil, err
	}
	d.ArticlesHTML, d.ArticlesText = arts.html, arts.text
	mark := "kslot" + kiosko.NewToken()[:16]
	marks := map[string]int{mark + "g": slotGreeting, mark + "e": slotEmail, mark + "u": slotUnsubscribe}
	content := *c
	content.Email, content.UnsubscribeURL = mark+"e", mark+"u"
	d.IssueContent, d.Greeting = &content, mark+"g"
	text, html, err := r.both("issue", d)
	if err != nil {
		return nil, err
	}
	return &preparedIssue{r: r, lang: l, subject: r.cat.T(l, "newsletter.issue.subject", c.Edition.Name, d.Date),
		text: cut(text, mark, marks), html: cut(html, mark, marks)}, nil
}

// cut splits s at every marker (mark plus one letter).
func cut(s, mark string, marks map[string]int) []segment {
	var out []segment
	for {
		i := strings.Index(s, mark)
		if i < 0 || i+len(mark) >= len(s) {
			break
		}
		slot, ok := marks[s[i:i+len(mark)+1]]
		if !ok {
			break
		}
		if i > 0 {
			out = append(out, segment{text: s[:i]})
		}
		out = append(out, segment{slot: slot})
		s = s[i+len(mark)+1:]
	}
	if s != "" {
		out = append(out, segment{text: s})
	}
	return out
}

func (r *Renderer) greeting(lang, name string) string {
	if name != "" {
		return r.cat.T(lang, "newsletter.greeting_name", name)
	}
	return r.cat.T(lang, "newsletter.greeting")
}

// Copy returns one recipient's copy of the issue.
func (p *preparedIssue) Copy(email, name, unsubscribeURL string) *kiosko.BulkMessage {
	values := [...]string{slotGreeting: p.r.greeting(p.lang, name), slotEmail: email, slotUnsubscribe: unsubscribeURL}
	fill := func(segs []segment, escape func(string) string) []kiosko.Piece {
		out := make([]kiosko.Piece, len(segs))
		for i, s := range segs {
			if s.slot == slotNone {
				out[i] = kiosko.Piece{Text: s.text, Shared: true}
			} else {
				out[i] = kiosko.Piece{Text: escape(values[s.slot])}
			}
		}
		return out
	}
	return &kiosko.BulkMessage{To: email, Subject: p.subject,
		Text: fill(p.text, func(s string) string { return s }), HTML: fill(p.html, htmltemplate.HTMLEscapeString)}
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
