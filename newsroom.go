package kiosko

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// BodyRenderer turns what editors and CMSs send into HTML safe for
// readers (internal/markup): Markdown rendered then sanitized, or HTML
// sanitized.
type BodyRenderer interface {
	Markdown(src string) (string, error)
	HTML(src string) string
}

// Newsroom is how articles are written, scheduled, published and taken
// down, from kiosko's own /newsroom/ or from a CMS through the API. Every
// save keeps a revision; an article becoming published writes an
// article.published event in the same transaction, once.
type Newsroom struct {
	Store     Store
	Render    BodyRenderer
	Clock     Clock
	PublicURL string // base of the article links in events
	Log       *slog.Logger
}

// ArticleInput is an article as an editor or a CMS sends it. Exactly one
// of BodyMarkdown and BodyHTML is set (neither: an empty body).
type ArticleInput struct {
	ID           string
	Edition      string
	Title        string
	Standfirst   string
	BodyMarkdown *string
	BodyHTML     *string
	Authors      []string
	Section      string
	Access       string
	// Status is StatusDraft or StatusPublished ("" is published); a
	// published article whose PublishedAt is ahead is scheduled.
	Status      string
	PublishedAt *time.Time // nil: now when first published, else kept
	Image       string
	ImageAlt    string
	// Revision, when not 0, is the revision the edit started from: a save
	// over a newer one is refused (ECONFLICT), so nobody's work is lost.
	Revision int
	// Create: the article must not exist yet (a new one from the
	// newsroom's form must not overwrite another with the same id).
	Create bool
}

// ArticleErrors are every problem of one input, each naming its field.
// errors.As finds the first *Error, so an API answers with it, and a form
// shows each next to its field.
type ArticleErrors []*Error

func (e ArticleErrors) Error() string {
	msgs := make([]string, len(e))
	for i, fe := range e {
		msgs[i] = fe.Field + ": " + fe.Message
	}
	return "invalid article: " + strings.Join(msgs, "; ")
}

// Unwrap gives errors.As the field errors.
func (e ArticleErrors) Unwrap() []error {
	out := make([]error, len(e))
	for i, fe := range e {
		out[i] = fe
	}
	return out
}

// For returns the error of field, or nil.
func (e ArticleErrors) For(field string) *Error {
	for _, fe := range e {
		if fe.Field == field {
			return fe
		}
	}
	return nil
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// ValidSlug reports whether id may be an article's id: lowercase letters,
// digits and single hyphens, at most 120 characters.
func ValidSlug(id string) bool { return len(id) <= 120 && slugPattern.MatchString(id) }

// Limits of an article's fields.
const (
	maxTitle      = 300
	maxStandfirst = 1000
	maxAuthors    = 20
	maxName       = 200
	maxBody       = 512 << 10 // bytes of source
)

func (n *Newsroom) now() time.Time {
	if n.Clock == nil {
		return time.Now().UTC()
	}
	return n.Clock.Now().UTC()
}

func (n *Newsroom) log() *slog.Logger {
	if n.Log == nil {
		return slog.Default()
	}
	return n.Log
}

// validate checks in and returns its cleaned fields.
func (n *Newsroom) validate(ctx context.Context, in *ArticleInput) error {
	var errs ArticleErrors
	in.ID = strings.TrimSpace(in.ID)
	in.Title = strings.TrimSpace(in.Title)
	in.Standfirst = strings.TrimSpace(in.Standfirst)
	in.Section = CleanName(strings.TrimSpace(in.Section))
	in.ImageAlt = strings.TrimSpace(in.ImageAlt)
	if !ValidSlug(in.ID) {
		errs = append(errs, FieldError("id", "error.article_id", "The id must be lowercase letters, digits and hyphens (a slug), at most 120 characters."))
	}
	if _, err := n.Store.FindEdition(ctx, in.Edition); IsNotFound(err) {
		errs = append(errs, FieldError("edition", "error.article_edition", "There is no such edition."))
	} else if err != nil {
		return fmt.Errorf("find edition: %w", err)
	}
	switch {
	case in.Title == "":
		errs = append(errs, FieldError("title", "error.article_title", "An article needs a title."))
	case utf8.RuneCountInString(in.Title) > maxTitle:
		errs = append(errs, FieldError("title", "error.article_title_long", "The title is too long (at most 300 characters)."))
	}
	if utf8.RuneCountInString(in.Standfirst) > maxStandfirst {
		errs = append(errs, FieldError("dek", "error.article_dek_long", "The standfirst is too long (at most 1000 characters)."))
	}
	if !ValidAccess(in.Access) {
		errs = append(errs, FieldError("access", "error.article_access", "Access must be open, free or subscriber."))
	}
	if in.Status == "" {
		in.Status = StatusPublished
	}
	if in.Status != StatusDraft && in.Status != StatusPublished {
		errs = append(errs, FieldError("status", "error.article_status", "Status must be draft or published."))
	}
	var authors []string
	for _, a := range in.Authors {
		if a = CleanName(strings.TrimSpace(a)); a != "" && !slices.Contains(authors, a) {
			authors = append(authors, a)
		}
	}
	if len(authors) > maxAuthors || slices.ContainsFunc(authors, func(a string) bool { return utf8.RuneCountInString(a) > maxName }) {
		errs = append(errs, FieldError("authors", "error.article_authors", "At most 20 authors, each name at most 200 characters."))
	}
	in.Authors = authors
	switch {
	case in.BodyMarkdown != nil && in.BodyHTML != nil:
		errs = append(errs, FieldError("body", "error.article_body_both", "Send the body as Markdown or as HTML, not both."))
	case in.BodyMarkdown != nil && len(*in.BodyMarkdown) > maxBody, in.BodyHTML != nil && len(*in.BodyHTML) > maxBody:
		errs = append(errs, FieldError("body", "error.article_body_long", "The body is too long (at most 512 KiB)."))
	}
	if in.Image != "" {
		if _, err := n.Store.FindArticleImage(ctx, in.Image); IsNotFound(err) {
			errs = append(errs, FieldError("image", "error.image_unknown", "There is no such image."))
		} else if err != nil {
			return fmt.Errorf("find image: %w", err)
		}
		if in.ImageAlt == "" {
			errs = append(errs, FieldError("image_alt", "error.image_alt", "Describe the image for readers who cannot see it."))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Check validates in as Save would, storing nothing: an import checks
// every file before it saves any.
func (n *Newsroom) Check(ctx context.Context, in ArticleInput) error { return n.validate(ctx, &in) }

// Save creates or updates an article from in; by names who saves (an
// editor's email, "key:NAME" for an API key) for the revision. created
// says it did not exist. A save that changes nothing stores nothing and
// returns the article as it is, so a CMS may push the same article again
// and again.
func (n *Newsroom) Save(ctx context.Context, in ArticleInput, by string) (a *Article, created bool, err error) {
	if err := n.validate(ctx, &in); err != nil {
		return nil, false, err
	}
	now := n.now()
	old, err := n.Store.FindArticleByID(ctx, in.ID)
	switch {
	case IsNotFound(err):
		old, created = nil, true
	case err != nil:
		return nil, false, fmt.Errorf("save article: %w", err)
	case in.Create:
		return nil, false, ArticleErrors{{Code: ECONFLICT, Key: "error.article_taken", Field: "id", Message: "An article with this id already exists."}}
	case in.Revision != 0 && in.Revision != old.Revision:
		return nil, false, Errorf(ECONFLICT, "error.article_changed", "Someone else saved this article in the meantime.")
	}
	a = &Article{ID: in.ID, Edition: in.Edition, Title: in.Title, Standfirst: in.Standfirst, Authors: in.Authors, Section: in.Section,
		Access: in.Access, Image: in.Image, ImageAlt: in.ImageAlt, UpdatedAt: now}
	if a.Authors == nil {
		a.Authors = []string{}
	}
	switch {
	case in.BodyHTML != nil:
		a.BodyHTML = n.Render.HTML(*in.BodyHTML)
	case in.BodyMarkdown != nil:
		a.BodyMarkdown = *in.BodyMarkdown
		if a.BodyHTML, err = n.Render.Markdown(a.BodyMarkdown); err != nil {
			return nil, false, fmt.Errorf("save article: %w", err)
		}
	}
	switch {
	case in.PublishedAt != nil:
		a.PublishedAt = in.PublishedAt.UTC()
	case old != nil && !old.PublishedAt.IsZero():
		a.PublishedAt = old.PublishedAt
	case in.Status == StatusPublished:
		a.PublishedAt = now
	}
	a.Status = in.Status
	if a.Status == StatusPublished && a.PublishedAt.After(now) {
		a.Status = StatusScheduled
	}
	if old != nil {
		a.Revision = old.Revision
		if sameArticle(a, old) {
			return old, false, nil
		}
	}
	if a.Status == StatusPublished && (old == nil || old.Status != StatusPublished) {
		ctx = WithEvents(ctx, n.publishedEvent(a, now))
	}
	if err := n.Store.SaveArticle(ctx, a, by); err != nil {
		return nil, false, err
	}
	return a, created, nil
}

// sameArticle reports whether saving a over old would change nothing a
// reader or an editor sees.
func sameArticle(a, old *Article) bool {
	return a.Edition == old.Edition && a.Title == old.Title && a.Standfirst == old.Standfirst && slices.Equal(a.Authors, old.Authors) &&
		a.Section == old.Section && a.Access == old.Access && a.BodyMarkdown == old.BodyMarkdown && a.BodyHTML == old.BodyHTML &&
		a.Image == old.Image && a.ImageAlt == old.ImageAlt && a.Status == old.Status && a.PublishedAt.Equal(old.PublishedAt)
}

// publishedEvent is the article.published event of a.
func (n *Newsroom) publishedEvent(a *Article, now time.Time) Event {
	url := ""
	if base := strings.TrimRight(n.PublicURL, "/"); base != "" {
		url = base + "/" + a.Edition + "/" + a.ID
	}
	return NewEvent(EventArticlePublished, 0, 0, map[string]any{
		"id": a.ID, "edition": a.Edition, "title": a.Title, "access": a.Access, "url": url,
		"published_at": a.PublishedAt.UTC().Format(time.RFC3339),
	}, now)
}

// Unpublish takes an article down: readers get 410 from then on. Taking
// down an article already down changes nothing.
func (n *Newsroom) Unpublish(ctx context.Context, id, by string) (*Article, error) {
	a, err := n.Store.FindArticleByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.Status == StatusUnpublished {
		return a, nil
	}
	a.Status, a.UpdatedAt = StatusUnpublished, n.now()
	if err := n.Store.SaveArticle(ctx, a, by); err != nil {
		return nil, err
	}
	return a, nil
}

// Restore saves revision number of an article's content (title,
// standfirst, body, authors, section, access, image) as a new revision.
// Its status and publication time stay as they are now: restoring an old
// text never publishes or unpublishes anything.
func (n *Newsroom) Restore(ctx context.Context, id string, number int, by string) (*Article, error) {
	cur, err := n.Store.FindArticleByID(ctx, id)
	if err != nil {
		return nil, err
	}
	rev, err := n.Store.FindArticleRevision(ctx, id, number)
	if err != nil {
		return nil, err
	}
	a := rev.Article
	a.Status, a.PublishedAt, a.Revision, a.UpdatedAt = cur.Status, cur.PublishedAt, cur.Revision, n.now()
	if err := n.Store.SaveArticle(ctx, &a, by); err != nil {
		return nil, err
	}
	return &a, nil
}

// PublishDue marks published the scheduled articles whose time has come,
// each with its article.published event. Readers already see them (a
// scheduled article is visible from its published_at on); this makes the
// event happen once: of several nodes doing it at once, one save wins and
// the others find the article changed and skip it.
func (n *Newsroom) PublishDue(ctx context.Context) (int, error) {
	now := n.now()
	due, err := n.Store.FindArticles(ctx, ArticleFilter{Statuses: []string{StatusScheduled}, VisibleAt: now, Limit: 100})
	if err != nil {
		return 0, fmt.Errorf("publish due: %w", err)
	}
	done := 0
	for _, a := range due {
		a.Status = StatusPublished
		a.UpdatedAt = now
		err := n.Store.SaveArticle(WithEvents(ctx, n.publishedEvent(a, now)), a, "schedule")
		if ErrorCode(err) == ECONFLICT {
			continue // another node (or an editor) got there first
		} else if err != nil {
			return done, fmt.Errorf("publish due %s: %w", a.ID, err)
		}
		done++
	}
	return done, nil
}

// RunScheduler publishes due articles every interval until ctx ends.
func (n *Newsroom) RunScheduler(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if k, err := n.PublishDue(ctx); err != nil && !errors.Is(err, context.Canceled) {
			n.log().Error("newsroom schedule", "err", err)
		} else if k > 0 {
			n.log().Info("scheduled articles published", "count", k)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
