package kiosko

import (
	"context"
	"time"
)

// ArticleImage is an uploaded image (a lead image, or one in a body),
// kept in the database in a few widths so that every node serves it.
type ArticleImage struct {
	ID        string // random, also in its URLs
	Width     int    // of the original
	Height    int
	Widths    []int // of the stored files, smallest first
	CreatedAt time.Time
	CreatedBy string
}

// ImageFile is one stored width of an image.
type ImageFile struct {
	ImageID     string
	Width       int
	ContentType string
	Data        []byte
}

// ImageStore keeps article images.
type ImageStore interface {
	// CreateArticleImage stores an image with its files in one transaction.
	CreateArticleImage(ctx context.Context, img *ArticleImage, files []ImageFile) error
	// FindArticleImage returns an image with its widths, or ENOTFOUND.
	FindArticleImage(ctx context.Context, id string) (*ArticleImage, error)
	// FindImageFile returns one width of an image, or ENOTFOUND.
	FindImageFile(ctx context.Context, id string, width int) (*ImageFile, error)
}
