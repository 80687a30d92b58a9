package kiosko

import (
	"context"
	"html"
	"strings"
	"time"
)

// Edition is a section of the publication with its own language and
// newsletter, e.g. "es" in Spanish and "us" in English.
type Edition struct {
	Code     string
	Name     string
	Lang     string
	Timezone string // IANA name, for the newsletter schedule
	// NewsletterDay is the weekday its newsletter goes out ("friday");
	// "" follows the server's KIOSKO_NEWSLETTER_DAY.
	NewsletterDay string
}

// reservedEditionCodes are first path segments the site uses itself.
var reservedEditionCodes = map[string]bool{"api": true, "static": true, "images": true, "newsroom": true, "admin": true,
	"account": true, "billing": true, "signin": true, "signup": true, "signout": true, "password": true, "invite": true,
	"newsletter": true, "plans": true, "terms": true, "business": true, "embed": true, "healthz": true, "readyz": true, "metrics": true}

// ValidateEdition checks an edition an admin adds: a short code of
// lowercase letters and digits that is not one of the site's own paths, a
// name, a language kiosko speaks, and a known time zone and weekday.
func ValidateEdition(e *Edition) error {
	e.Code, e.Name = strings.TrimSpace(e.Code), CleanName(strings.TrimSpace(e.Name))
	if len(e.Code) < 2 || len(e.Code) > 20 || !ValidSlug(e.Code) || reservedEditionCodes[e.Code] {
		return FieldError("code", "error.edition_code", "The edition code must be 2 to 20 lowercase letters, digits or hyphens, and not one of the site's own paths.")
	}
	if e.Name == "" || len(e.Name) > 100 {
		return FieldError("name", "error.edition_name", "An edition needs a name of at most 100 characters.")
	}
	if !IsLanguage(e.Lang) {
		return FieldError("lang", "error.edition_lang", "The language must be es or en.")
	}
	if e.Timezone != "" {
		if _, err := time.LoadLocation(e.Timezone); err != nil || e.Timezone == "Local" {
			return FieldError("tz", "error.edition_tz", "Unknown time zone: use an IANA name such as Europe/Madrid.")
		}
	}
	if e.NewsletterDay != "" {
		if _, err := ParseWeekday(e.NewsletterDay); err != nil {
			return FieldError("newsletter_day", "error.edition_day", "The newsletter day must be a weekday, such as friday.")
		}
	}
	return nil
}

// Access levels of an article.
const (
	AccessOpen       = "open"       // never counted, never walled: public-service news
	AccessFree       = "free"       // counts against the meter
	AccessSubscriber = "subscriber" // always needs a seat
)

// Article statuses. A scheduled article is one whose PublishedAt is still
// ahead; readers see it from then on (the newsroom's publisher marks it
// published at that time, once).
const (
	StatusDraft       = "draft"
	StatusScheduled   = "scheduled"
	StatusPublished   = "published"
	StatusUnpublished = "unpublished"
)

// Article is one story of an edition.
type Article struct {
	ID         string // a slug, unique across editions; also the URL
	Edition    string
	Title      string
	Standfirst string // the dek
	Authors    []string
	Section    string
	Access     string
	// BodyMarkdown is the Markdown source; "" when the body came as HTML
	// (from a CMS), in which case BodyHTML is its own source.
	BodyMarkdown string
	// BodyHTML is the body rendered and sanitized: safe to send as is.
	BodyHTML    string
	Image       string // lead image id (ArticleImage), "" for none
	ImageAlt    string
	Status      string
	PublishedAt time.Time
	UpdatedAt   time.Time
	// Revision counts the saves; a save names the revision it started
	// from, so two editors never overwrite each other unknowingly.
	Revision int
}

// Author is the byline: the authors joined.
func (a *Article) Author() string { return strings.Join(a.Authors, ", ") }

// VisibleAt reports whether readers see the article at t.
func (a *Article) VisibleAt(t time.Time) bool {
	return (a.Status == StatusPublished || a.Status == StatusScheduled) && !a.PublishedAt.After(t)
}

// Gone reports whether the article was unpublished (readers get 410).
func (a *Article) Gone() bool { return a.Status == StatusUnpublished }

// Metered reports whether opening the article counts against the meter.
func (a *Article) Metered() bool { return a.Access == AccessFree }

// NeedsSeat reports whether the article needs a subscription seat (and
// a reading lease) to be read.
// Anything but open and free does: an unknown level fails closed.
func (a *Article) NeedsSeat() bool { return a.Access != AccessOpen && a.Access != AccessFree }

// ValidAccess reports whether s is an access level.
func ValidAccess(s string) bool {
	return s == AccessOpen || s == AccessFree || s == AccessSubscriber
}

// ArticleDefaults fills what older callers leave out: an article without
// a status is published, and one never updated was updated when published.
func ArticleDefaults(a *Article) {
	if a.Status == "" {
		a.Status = StatusPublished
	}
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.PublishedAt
	}
	if a.Authors == nil {
		a.Authors = []string{}
	}
}

// ParagraphsBody turns paragraphs of plain text into a Markdown source that
// renders them unchanged (punctuation Markdown would read is escaped) and
// the HTML of that source. Migration 0005 does the same in SQL for the
// articles stored before bodies were Markdown.
func ParagraphsBody(paragraphs []string) (markdown, html string) {
	var md, h strings.Builder
	for i, p := range paragraphs {
		if i > 0 {
			md.WriteString("\n\n")
		}
		md.WriteString(escapeParagraph(p))
		h.WriteString("<p>")
		h.WriteString(htmlEscape(p))
		h.WriteString("</p>\n")
	}
	return md.String(), h.String()
}

// markdownEscaper backslash-escapes the characters that could start
// Markdown syntax inside a paragraph of prose.
var markdownEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `_`, `\_`, "`", "\\`", `[`, `\[`, `]`, `\]`,
	`<`, `\<`, `>`, `\>`, `#`, `\#`, `&`, `\&`, `!`, `\!`, `|`, `\|`, `~`, `\~`)

// escapeParagraph makes one paragraph of prose Markdown that renders it
// as it is: inline punctuation escaped, and a start that would read as a
// list item, a heading rule or a numbered item ("2026. ...") escaped too.
func escapeParagraph(p string) string {
	s := markdownEscaper.Replace(strings.TrimLeft(p, " \t"))
	if s != "" && strings.ContainsRune("-+=", rune(s[0])) {
		return `\` + s
	}
	n := 0
	for n < len(s) && n < 5 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n >= 1 && n <= 4 && n < len(s) && (s[n] == '.' || s[n] == ')') {
		return s[:n] + `\` + s[n:]
	}
	return s
}

func htmlEscape(s string) string { return html.EscapeString(s) }

// ArticleFilter narrows FindArticles.
type ArticleFilter struct {
	Edition string
	// Statuses: only these; empty means what readers may see
	// (published and scheduled).
	Statuses []string
	// VisibleAt: only articles readers see at this time (published, or
	// scheduled for then or earlier). Zero does not filter.
	VisibleAt time.Time
	Since     time.Time // published at or after
	Until     time.Time // published before
	Limit     int
}

// ArticleRevision is an article as one save left it.
type ArticleRevision struct {
	ArticleID string
	Number    int
	SavedAt   time.Time
	SavedBy   string // who saved: an account's email or an API key's name
	Article   Article
}

// ArticleStore keeps editions and articles.
type ArticleStore interface {
	CreateEdition(ctx context.Context, e *Edition) error
	FindEdition(ctx context.Context, code string) (*Edition, error)
	FindEditions(ctx context.Context) ([]*Edition, error)
	// CreateArticle stores a new article (revision 1); ECONFLICT if the
	// id is taken.
	CreateArticle(ctx context.Context, a *Article) error
	// SaveArticle creates or replaces a.ID and keeps a revision, in one
	// transaction with the events pending in ctx. a.Revision is the
	// revision the change starts from (0: the article must not exist);
	// ECONFLICT when the stored one differs. On success a.Revision is the
	// new revision.
	SaveArticle(ctx context.Context, a *Article, by string) error
	FindArticleByID(ctx context.Context, id string) (*Article, error)
	// FindArticles lists articles newest first.
	FindArticles(ctx context.Context, f ArticleFilter) ([]*Article, error)
	// FindArticleRevisions lists an article's revisions, newest first.
	FindArticleRevisions(ctx context.Context, id string) ([]*ArticleRevision, error)
	// FindArticleRevision returns one revision, or ENOTFOUND.
	FindArticleRevision(ctx context.Context, id string, number int) (*ArticleRevision, error)
}
