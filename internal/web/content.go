package web

import (
	"context"
	"time"

	"github.com/kiosko/kiosko"
)

// The reader's pages read editions and articles through these, from the
// content cache when the server has one (kiosko.ContentCache, forgotten
// through the change feed), else from the store. Each list read also gives
// a serial that changes whenever the list is read again, for the keys of
// rendered pages (pagecache.go); 0 means "not cached": such a page is not
// kept.

func (s *Server) findEditions(ctx context.Context) ([]*kiosko.Edition, uint64, error) {
	if c := s.d.Content; c != nil {
		return c.Editions(ctx)
	}
	eds, err := s.d.Store.FindEditions(ctx)
	return eds, 0, err
}

func (s *Server) findEdition(ctx context.Context, code string) (*kiosko.Edition, error) {
	if c := s.d.Content; c != nil {
		return c.Edition(ctx, code)
	}
	return s.d.Store.FindEdition(ctx, code)
}

func (s *Server) findArticleByID(ctx context.Context, id string) (*kiosko.Article, error) {
	if c := s.d.Content; c != nil {
		return c.Article(ctx, id)
	}
	return s.d.Store.FindArticleByID(ctx, id)
}

// frontArticles are an edition's newest articles visible at now.
func (s *Server) frontArticles(ctx context.Context, edition string, now time.Time, limit int) ([]*kiosko.Article, uint64, error) {
	if c := s.d.Content; c != nil {
		return c.Front(ctx, edition, now, limit)
	}
	arts, err := s.d.Store.FindArticles(ctx, kiosko.ArticleFilter{Edition: edition, VisibleAt: now, Limit: limit})
	return arts, 0, err
}

func (s *Server) findArticleImage(ctx context.Context, id string) (*kiosko.ArticleImage, error) {
	if c := s.d.Content; c != nil {
		return c.ArticleImage(ctx, id)
	}
	return s.d.Store.FindArticleImage(ctx, id)
}
