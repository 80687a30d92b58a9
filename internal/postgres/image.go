package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/kiosko/kiosko"
)

func errImageNotFound() *kiosko.Error { return notFound("error.image_unknown", "No such image.") }

// CreateArticleImage stores an image with its files in one transaction.
func (db *DB) CreateArticleImage(ctx context.Context, img *kiosko.ArticleImage, files []kiosko.ImageFile) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO article_images (id, width, height, created_at, created_by) VALUES ($1, $2, $3, $4, $5)`,
			img.ID, img.Width, img.Height, nanos(img.CreatedAt), img.CreatedBy); err != nil {
			return constraintErr(err, kiosko.Errorf(kiosko.ECONFLICT, "error.image_taken", "Image %q already exists.", img.ID))
		}
		img.Widths = img.Widths[:0]
		for _, f := range files {
			if _, err := tx.Exec(ctx, `INSERT INTO article_image_files (image_id, width, content_type, data) VALUES ($1, $2, $3, $4)`,
				img.ID, f.Width, f.ContentType, f.Data); err != nil {
				return err
			}
			img.Widths = append(img.Widths, f.Width)
		}
		return nil
	})
	return fail("create image", err)
}

// FindArticleImage returns an image with its widths, or ENOTFOUND.
func (db *DB) FindArticleImage(ctx context.Context, id string) (*kiosko.ArticleImage, error) {
	img, err := queryOne(ctx, db.pool, errImageNotFound(), func(r pgx.Row) (*kiosko.ArticleImage, error) {
		var img kiosko.ArticleImage
		var created int64
		err := r.Scan(&img.ID, &img.Width, &img.Height, &created, &img.CreatedBy)
		img.CreatedAt = fromNanos(created)
		return &img, err
	}, `SELECT id, width, height, created_at, created_by FROM article_images WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	img.Widths, err = queryList(ctx, db.pool, func(r pgx.Row) (int, error) {
		var w int
		return w, r.Scan(&w)
	}, `SELECT width FROM article_image_files WHERE image_id = $1 ORDER BY width`, id)
	if err != nil {
		return nil, fail("find image widths", err)
	}
	return img, nil
}

// FindImageFile returns one width of an image, or ENOTFOUND.
func (db *DB) FindImageFile(ctx context.Context, id string, width int) (*kiosko.ImageFile, error) {
	return queryOne(ctx, db.pool, errImageNotFound(), func(r pgx.Row) (*kiosko.ImageFile, error) {
		f := kiosko.ImageFile{ImageID: id, Width: width}
		return &f, r.Scan(&f.ContentType, &f.Data)
	}, `SELECT content_type, data FROM article_image_files WHERE image_id = $1 AND width = $2`, id, width)
}
