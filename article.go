package kiosko

import (
	"context"
	"time"
)

// Edition is a section of the publication with its own language and
// newsletter, e.g. "es" in Spanish and "us" in English.
type Edition struct {
	Code     string
	Name     string
	Lang     string
	Timezone string // IANA name, for the newsletter schedule
}

// Access levels of an article.
const (
	AccessFree       = "free"       // counts against the meter
	AccessSubscriber = "subscriber" // always needs a seat
)

// Article is one story of an edition.
type Article struct {
	ID          string // stable string id, also the URL slug
	Edition     string
	Title       string
	Standfirst  string
	Author      string
	Body        []string // paragraphs of plain text
	Access      string
	PublishedAt time.Time
}

// ArticleFilter narrows FindArticles. Zero fields do not filter.
type ArticleFilter struct {
	Edition string
	Since   time.Time // published at or after
	Until   time.Time // published before
	Limit   int
}

// ArticleStore keeps editions and articles.
type ArticleStore interface {
	CreateEdition(ctx context.Context, e *Edition) error
	FindEdition(ctx context.Context, code string) (*Edition, error)
	FindEditions(ctx context.Context) ([]*Edition, error)
	// CreateArticle stores a; ECONFLICT if the id is taken.
	CreateArticle(ctx context.Context, a *Article) error
	FindArticleByID(ctx context.Context, id string) (*Article, error)
	// FindArticles lists articles newest first.
	FindArticles(ctx context.Context, f ArticleFilter) ([]*Article, error)
}
