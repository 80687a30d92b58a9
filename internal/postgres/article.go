package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/kiosko/kiosko"
)

func errEditionNotFound() *kiosko.Error { return notFound("error.edition_unknown", "No such edition.") }
func errArticleNotFound() *kiosko.Error { return notFound("error.article_unknown", "No such article.") }

const editionColumns = `code, name, lang, timezone`

func scanEdition(r pgx.Row) (*kiosko.Edition, error) {
	var e kiosko.Edition
	return &e, r.Scan(&e.Code, &e.Name, &e.Lang, &e.Timezone)
}

// CreateEdition stores e; ECONFLICT if the code is taken.
func (db *DB) CreateEdition(ctx context.Context, e *kiosko.Edition) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO editions (`+editionColumns+`) VALUES ($1, $2, $3, $4)`, e.Code, e.Name, e.Lang, e.Timezone)
	return fail("create edition", constraintErr(err, kiosko.Errorf(kiosko.ECONFLICT, "error.edition_taken", "Edition %q already exists.", e.Code)))
}

// FindEdition returns an edition, or ENOTFOUND.
func (db *DB) FindEdition(ctx context.Context, code string) (*kiosko.Edition, error) {
	return queryOne(ctx, db.pool, errEditionNotFound(), scanEdition, `SELECT `+editionColumns+` FROM editions WHERE code = $1`, code)
}

// FindEditions lists every edition by code.
func (db *DB) FindEditions(ctx context.Context) ([]*kiosko.Edition, error) {
	eds, err := queryList(ctx, db.pool, scanEdition, `SELECT `+editionColumns+` FROM editions ORDER BY code COLLATE "C"`)
	return eds, fail("find editions", err)
}

const articleColumns = `id, edition, title, standfirst, author, body, access, published_at`

func scanArticle(r pgx.Row) (*kiosko.Article, error) {
	var a kiosko.Article
	var body string
	var published int64
	if err := r.Scan(&a.ID, &a.Edition, &a.Title, &a.Standfirst, &a.Author, &body, &a.Access, &published); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(body), &a.Body); err != nil {
		return nil, fmt.Errorf("article %q body: %w", a.ID, err)
	}
	a.PublishedAt = fromNanos(published)
	return &a, nil
}

// CreateArticle stores a; ECONFLICT if the id is taken, EINVALID if its
// edition does not exist.
func (db *DB) CreateArticle(ctx context.Context, a *kiosko.Article) error {
	body := a.Body
	if body == nil {
		body = []string{}
	}
	bodyJSON, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("create article: %w", err)
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO articles (`+articleColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.ID, a.Edition, a.Title, a.Standfirst, a.Author, string(bodyJSON), a.Access, nanos(a.PublishedAt))
	return fail("create article", constraintErr(err, kiosko.Errorf(kiosko.ECONFLICT, "error.article_taken", "Article %q already exists.", a.ID)))
}

// FindArticleByID returns an article, or ENOTFOUND.
func (db *DB) FindArticleByID(ctx context.Context, id string) (*kiosko.Article, error) {
	return queryOne(ctx, db.pool, errArticleNotFound(), scanArticle, `SELECT `+articleColumns+` FROM articles WHERE id = $1`, id)
}

// FindArticles lists articles newest first.
func (db *DB) FindArticles(ctx context.Context, f kiosko.ArticleFilter) ([]*kiosko.Article, error) {
	var c conds
	if f.Edition != "" {
		c.add("edition = ?", f.Edition)
	}
	if !f.Since.IsZero() {
		c.add("published_at >= ?", nanos(f.Since))
	}
	if !f.Until.IsZero() {
		c.add("published_at < ?", nanos(f.Until))
	}
	q := `SELECT ` + articleColumns + ` FROM articles` + c.where() + ` ORDER BY published_at DESC, id COLLATE "C"` + c.limit(f.Limit)
	articles, err := queryList(ctx, db.pool, scanArticle, q, c.args...)
	if err != nil {
		return nil, fail("find articles", err)
	}
	return articles, nil
}
