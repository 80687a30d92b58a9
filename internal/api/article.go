package api

import (
	"net/http"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
)

type articleJSON struct {
	ID          string `json:"id"`
	Edition     string `json:"edition"`
	Title       string `json:"title"`
	PublishedAt string `json:"published_at"`
	Access      string `json:"access"`
}

// listArticles is GET /api/v1/articles?edition=E: the articles of one
// edition, or of every edition, newest first. Anyone may list them; the
// bodies stay behind the paywall.
func (h *Handler) listArticles(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f := kiosko.ArticleFilter{Edition: r.URL.Query().Get("edition"), VisibleAt: h.d.Clock.Now()}
	if f.Edition != "" {
		if _, err := h.d.Store.FindEdition(ctx, f.Edition); err != nil {
			if kiosko.IsNotFound(err) {
				err = kiosko.Errorf(kiosko.ENOTFOUND, "error.edition_unknown", "No edition %q.", f.Edition)
			}
			h.Error(w, r, err)
			return
		}
	}
	articles, err := h.d.Store.FindArticles(ctx, f)
	if err != nil {
		h.Error(w, r, err)
		return
	}
	out := make([]articleJSON, 0, len(articles))
	for _, a := range articles {
		out = append(out, articleJSON{ID: a.ID, Edition: a.Edition, Title: a.Title, PublishedAt: timestamp(a.PublishedAt), Access: a.Access})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// findArticle looks up the article a reading call names: EINVALID when
// none is named, ENOTFOUND when it does not exist.
func (h *Handler) findArticle(r *http.Request, id string) (*kiosko.Article, error) {
	if id == "" {
		return nil, &kiosko.Error{Code: kiosko.EINVALID, Key: "error.article_required", Message: "Say which article.", Field: "article"}
	}
	a, err := h.d.Store.FindArticleByID(r.Context(), id)
	if err == nil && !a.VisibleAt(h.d.Clock.Now()) {
		err = errArticleNotFound // a draft, one still ahead, or one taken down
	}
	if kiosko.IsNotFound(err) {
		return nil, &kiosko.Error{Code: kiosko.ENOTFOUND, Key: "error.article_unknown", Message: "No such article.", Field: "article"}
	}
	return a, err
}
