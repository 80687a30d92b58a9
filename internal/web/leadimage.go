package web

import (
	"context"
	"fmt"
	"strings"

	"github.com/kiosko/kiosko"
)

// LeadImage is an article's lead image as the page shows it: every stored
// width in srcset, so each screen loads the one it needs.
type LeadImage struct {
	Src, Srcset, Alt string
	Width, Height    int
}

// leadImage loads a's lead image; nil without one (or if it went missing).
func (s *Server) leadImage(ctx context.Context, a *kiosko.Article) *LeadImage {
	if a.Image == "" {
		return nil
	}
	img, err := s.findArticleImage(ctx, a.Image)
	if err != nil || len(img.Widths) == 0 {
		if err != nil && !kiosko.IsNotFound(err) {
			s.d.Log.Warn("lead image", "article", a.ID, "err", err)
		}
		return nil
	}
	set := make([]string, len(img.Widths))
	for i, w := range img.Widths {
		set[i] = fmt.Sprintf("/images/%s/%d %dw", img.ID, w, w)
	}
	w := img.Widths[len(img.Widths)-1]
	return &LeadImage{Src: fmt.Sprintf("/images/%s/%d", img.ID, w), Srcset: strings.Join(set, ", "), Alt: a.ImageAlt,
		Width: w, Height: img.Height * w / max(img.Width, 1)}
}
