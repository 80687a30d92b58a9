package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kiosko/kiosko"
)

func errEditionNotFound() *kiosko.Error { return notFound("error.edition_unknown", "No such edition.") }
func errArticleNotFound() *kiosko.Error { return notFound("error.article_unknown", "No such article.") }

func errArticleTaken(id string) *kiosko.Error {
	return kiosko.Errorf(kiosko.ECONFLICT, "error.article_taken", "Article %q already exists.", id)
}

func errArticleChanged() *kiosko.Error {
	return kiosko.Errorf(kiosko.ECONFLICT, "error.article_changed", "Someone else saved this article in the meantime.")
}

const editionColumns = `code, name, lang, timezone, newsletter_day`

func scanEdition(r scanner) (*kiosko.Edition, error) {
	var e kiosko.Edition
	return &e, r.Scan(&e.Code, &e.Name, &e.Lang, &e.Timezone, &e.NewsletterDay)
}

// CreateEdition stores e; ECONFLICT if the code is taken.
func (db *DB) CreateEdition(ctx context.Context, e *kiosko.Edition) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO editions (`+editionColumns+`) VALUES (?, ?, ?, ?, ?)`, e.Code, e.Name, e.Lang, e.Timezone, e.NewsletterDay)
	if err != nil {
		return fmt.Errorf("create edition: %w", constraintErr(err, kiosko.Errorf(kiosko.ECONFLICT, "error.edition_taken", "Edition %q already exists.", e.Code)))
	}
	return nil
}

// FindEdition returns an edition, or ENOTFOUND.
func (db *DB) FindEdition(ctx context.Context, code string) (*kiosko.Edition, error) {
	return queryOne(ctx, db.read, errEditionNotFound(), scanEdition, `SELECT `+editionColumns+` FROM editions WHERE code = ?`, code)
}

// FindEditions lists every edition by code.
func (db *DB) FindEditions(ctx context.Context) ([]*kiosko.Edition, error) {
	return queryList(ctx, db.read, scanEdition, `SELECT `+editionColumns+` FROM editions ORDER BY code`)
}

// articleFields are the columns an article and its revisions share.
const articleFields = `edition, title, standfirst, authors, section, access, body_markdown, body_html, image, image_alt, status, published_at`

const articleColumns = `id, ` + articleFields + `, updated_at, revision`

// articleValues are a's articleFields, in order.
func articleValues(a *kiosko.Article) ([]any, error) {
	authors, err := json.Marshal(a.Authors)
	if err != nil {
		return nil, err
	}
	return []any{a.Edition, a.Title, a.Standfirst, string(authors), a.Section, a.Access, a.BodyMarkdown, a.BodyHTML,
		a.Image, a.ImageAlt, a.Status, nanos(a.PublishedAt)}, nil
}

// articleDest are pointers to a's articleFields, in order; finish decodes
// what needs it once the row is scanned.
func articleDest(a *kiosko.Article) (dest []any, finish func() error) {
	var authors string
	var published int64
	dest = []any{&a.Edition, &a.Title, &a.Standfirst, &authors, &a.Section, &a.Access, &a.BodyMarkdown, &a.BodyHTML,
		&a.Image, &a.ImageAlt, &a.Status, &published}
	return dest, func() error {
		a.PublishedAt = fromNanos(published)
		if err := json.Unmarshal([]byte(authors), &a.Authors); err != nil {
			return fmt.Errorf("article %q authors: %w", a.ID, err)
		}
		return nil
	}
}

func scanArticle(r scanner) (*kiosko.Article, error) {
	var a kiosko.Article
	var updated int64
	fields, finish := articleDest(&a)
	dest := append([]any{&a.ID}, fields...)
	if err := r.Scan(append(dest, &updated, &a.Revision)...); err != nil {
		return nil, err
	}
	a.UpdatedAt = fromNanos(updated)
	return &a, finish()
}

// CreateArticle stores a new article with revision 1; ECONFLICT if the id
// is taken, EINVALID if its edition does not exist.
func (db *DB) CreateArticle(ctx context.Context, a *kiosko.Article) error {
	a.Revision = 0
	err := db.SaveArticle(ctx, a, "")
	var ke *kiosko.Error
	if errors.As(err, &ke) && ke.Key == "error.article_changed" {
		return fmt.Errorf("create article: %w", errArticleTaken(a.ID))
	}
	return err
}

// SaveArticle creates or replaces a.ID and keeps a revision, in one
// transaction with the events pending in ctx.
func (db *DB) SaveArticle(ctx context.Context, a *kiosko.Article, by string) error {
	kiosko.ArticleDefaults(a)
	values, err := articleValues(a)
	if err != nil {
		return fmt.Errorf("save article: %w", err)
	}
	next := a.Revision + 1
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		var current int
		err := tx.QueryRowContext(ctx, `SELECT revision FROM articles WHERE id = ?`, a.ID).Scan(&current)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if a.Revision != 0 {
				return errArticleChanged()
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO articles (`+articleColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				append(append([]any{a.ID}, values...), nanos(a.UpdatedAt), next)...)
			if err != nil {
				return constraintErr(err, errArticleTaken(a.ID))
			}
		case err != nil:
			return err
		case current != a.Revision:
			return errArticleChanged()
		default:
			_, err = tx.ExecContext(ctx, `UPDATE articles SET (`+articleFields+`, updated_at, revision) = (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) WHERE id = ?`,
				append(values, nanos(a.UpdatedAt), next, a.ID)...)
			if err != nil {
				return constraintErr(err, nil)
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO article_revisions (article_id, number, saved_at, saved_by, `+articleFields+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			append([]any{a.ID, next, nanos(a.UpdatedAt), by}, values...)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("save article: %w", err)
	}
	a.Revision = next
	return nil
}

// FindArticleByID returns an article, or ENOTFOUND.
func (db *DB) FindArticleByID(ctx context.Context, id string) (*kiosko.Article, error) {
	return queryOne(ctx, db.read, errArticleNotFound(), scanArticle, `SELECT `+articleColumns+` FROM articles WHERE id = ?`, id)
}

// FindArticles lists articles newest first.
func (db *DB) FindArticles(ctx context.Context, f kiosko.ArticleFilter) ([]*kiosko.Article, error) {
	var c conds
	if f.Edition != "" {
		c.add("edition = ?", f.Edition)
	}
	statuses := f.Statuses
	if len(statuses) == 0 {
		statuses = []string{kiosko.StatusPublished, kiosko.StatusScheduled}
	}
	list, _ := json.Marshal(statuses)
	c.add("status IN (SELECT value FROM json_each(?))", string(list))
	if !f.VisibleAt.IsZero() {
		c.add("published_at <= ?", nanos(f.VisibleAt))
	}
	if !f.Since.IsZero() {
		c.add("published_at >= ?", nanos(f.Since))
	}
	if !f.Until.IsZero() {
		c.add("published_at < ?", nanos(f.Until))
	}
	q := `SELECT ` + articleColumns + ` FROM articles` + c.where() + ` ORDER BY published_at DESC, id` + c.limit(f.Limit)
	articles, err := queryList(ctx, db.read, scanArticle, q, c.args...)
	if err != nil {
		return nil, fmt.Errorf("find articles: %w", err)
	}
	return articles, nil
}

const revisionColumns = `article_id, number, saved_at, saved_by, ` + articleFields

func scanRevision(r scanner) (*kiosko.ArticleRevision, error) {
	var rev kiosko.ArticleRevision
	var saved int64
	fields, finish := articleDest(&rev.Article)
	if err := r.Scan(append([]any{&rev.ArticleID, &rev.Number, &saved, &rev.SavedBy}, fields...)...); err != nil {
		return nil, err
	}
	rev.SavedAt = fromNanos(saved)
	rev.Article.ID, rev.Article.Revision, rev.Article.UpdatedAt = rev.ArticleID, rev.Number, rev.SavedAt
	return &rev, finish()
}

// FindArticleRevisions lists an article's revisions, newest first.
func (db *DB) FindArticleRevisions(ctx context.Context, id string) ([]*kiosko.ArticleRevision, error) {
	revs, err := queryList(ctx, db.read, scanRevision, `SELECT `+revisionColumns+` FROM article_revisions WHERE article_id = ? ORDER BY number DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("find revisions: %w", err)
	}
	return revs, nil
}

// FindArticleRevision returns one revision, or ENOTFOUND.
func (db *DB) FindArticleRevision(ctx context.Context, id string, number int) (*kiosko.ArticleRevision, error) {
	return queryOne(ctx, db.read, notFound("error.revision_unknown", "No such revision."), scanRevision,
		`SELECT `+revisionColumns+` FROM article_revisions WHERE article_id = ? AND number = ?`, id, number)
}
