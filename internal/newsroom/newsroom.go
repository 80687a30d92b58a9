// Package newsroom is the editors' site at /newsroom/: the list of
// articles by status and edition, the editor with a live preview,
// scheduling, publishing, unpublishing, revisions with restore, and image
// upload. It is server-rendered like the readers' site, in Spanish and
// English, with its own templates; the rules live in kiosko.Newsroom.
// Readers and anonymous visitors get the site's 404: they never learn it
// is here. It also serves uploaded images at /images/{id}/{width}.
package newsroom

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Server serves /newsroom/ and /images/.
type Server struct {
	d        *httpx.Deps
	notFound http.HandlerFunc
	tmpl     *template.Template
	mux      *http.ServeMux
}

// New builds the newsroom. notFound answers what readers must not see
// (the readers' site's 404 page).
func New(d *httpx.Deps, notFound http.HandlerFunc) (*Server, error) {
	if d == nil || d.Store == nil || d.Newsroom == nil || d.Catalog == nil {
		return nil, errors.New("newsroom: Store, Newsroom and Catalog are required")
	}
	s := &Server{d: d, notFound: notFound, mux: http.NewServeMux()}
	funcs := template.FuncMap{
		"safe": func(s string) template.HTML { return template.HTML(s) }, // bodies are sanitized when saved
		"list": func(xs ...string) []string { return xs },
	}
	var err error
	if s.tmpl, err = template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html"); err != nil {
		return nil, fmt.Errorf("newsroom: templates: %w", err)
	}
	m := s.mux
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /newsroom/static/", s.editorsOnly(http.StripPrefix("/newsroom/static/", http.FileServerFS(static)).ServeHTTP))
	m.HandleFunc("GET /newsroom/{$}", s.editorsOnly(s.list))
	m.HandleFunc("GET /newsroom/new", s.editorsOnly(s.newForm))
	m.HandleFunc("POST /newsroom/articles", s.editorsOnly(s.save))
	m.HandleFunc("GET /newsroom/articles/{id}", s.editorsOnly(s.editForm))
	m.HandleFunc("POST /newsroom/articles/{id}/unpublish", s.editorsOnly(s.unpublish))
	m.HandleFunc("GET /newsroom/articles/{id}/revisions", s.editorsOnly(s.revisions))
	m.HandleFunc("POST /newsroom/articles/{id}/revisions/{n}/restore", s.editorsOnly(s.restore))
	m.HandleFunc("POST /newsroom/preview", s.editorsOnly(s.preview))
	m.HandleFunc("POST /newsroom/images", s.editorsOnly(s.uploadImage))
	m.HandleFunc("GET /images/{id}/{width}", s.serveImage)
	m.HandleFunc("/newsroom/", s.editorsOnly(func(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) }))
	return s, nil
}

// ServeHTTP routes the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// editorsOnly lets editors and admins through and answers everyone else
// with the readers' 404.
func (s *Server) editorsOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := s.d.Identify(r)
		if err != nil || !kiosko.RoleHasScope(id.Account.Role, kiosko.ScopeNewsroom) {
			if err != nil && kiosko.ErrorCode(err) != kiosko.EUNAUTHORIZED {
				s.d.Log.Error("newsroom: identify", "err", err)
			}
			s.notFound(w, r)
			return
		}
		r = r.WithContext(httpx.WithIdentity(r.Context(), id))
		w.Header().Set("Cache-Control", "private, no-store")
		h(w, r)
	}
}

// page is what every newsroom template gets.
type page struct {
	Lang     string
	Title    string
	Editor   *kiosko.Account
	Editions []*kiosko.Edition
	Notice   string
	Data     any
	s        *Server
}

func (s *Server) newPage(r *http.Request, titleKey string) *page {
	id := httpx.IdentityFrom(r.Context())
	p := &page{Lang: s.d.Lang(r, ""), Editor: id.Account, s: s}
	p.Title = p.T(titleKey)
	if eds, err := s.d.Store.FindEditions(r.Context()); err == nil {
		p.Editions = eds
	}
	switch r.URL.Query().Get("done") {
	case "saved":
		p.Notice = p.T("newsroom.notice.saved")
	case "unpublished":
		p.Notice = p.T("newsroom.notice.unpublished")
	case "restored":
		p.Notice = p.T("newsroom.notice.restored")
	}
	return p
}

// T is the catalog text of key in the page's language.
func (p *page) T(key string, args ...any) string { return p.s.d.Catalog.T(p.Lang, key, args...) }

// Time shows t to the editor, in UTC and in words the editor reads.
func (p *page) Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04") + " UTC"
}

// StatusName is a status in the page's language.
func (p *page) StatusName(status string) string { return p.T("newsroom.status." + status) }

// AccessName is an access level in the page's language.
func (p *page) AccessName(access string) string { return p.T("newsroom.access." + access) }

func (s *Server) render(w http.ResponseWriter, status int, name string, p *page) {
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, name, p); err != nil {
		s.d.Log.Error("newsroom: render", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", p.Lang)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.d.Log.Error("newsroom", "method", r.Method, "path", r.URL.Path, "err", err)
	http.Error(w, s.d.Catalog.T(s.d.Lang(r, ""), "error.internal"), http.StatusInternalServerError)
}

// listView is the data of the list page.
type listView struct {
	Articles []*kiosko.Article
	Status   string
	Edition  string
	Statuses []string
}

var allStatuses = []string{kiosko.StatusDraft, kiosko.StatusScheduled, kiosko.StatusPublished, kiosko.StatusUnpublished}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "newsroom.list.title")
	q := r.URL.Query()
	v := &listView{Status: q.Get("status"), Edition: q.Get("edition"), Statuses: allStatuses}
	f := kiosko.ArticleFilter{Edition: v.Edition, Statuses: allStatuses, Limit: 200}
	for _, st := range allStatuses {
		if st == v.Status {
			f.Statuses = []string{st}
		}
	}
	arts, err := s.d.Store.FindArticles(r.Context(), f)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	v.Articles = arts
	p.Data = v
	s.render(w, http.StatusOK, "list", p)
}

func (s *Server) unpublish(w http.ResponseWriter, r *http.Request) {
	id := httpx.IdentityFrom(r.Context())
	_, err := s.d.Newsroom.Unpublish(r.Context(), r.PathValue("id"), id.Account.Email)
	if kiosko.IsNotFound(err) {
		s.notFound(w, r)
		return
	} else if err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/newsroom/articles/"+r.PathValue("id")+"?done=unpublished", http.StatusSeeOther)
}

// revisionsView is the data of an article's revisions page.
type revisionsView struct {
	Article   *kiosko.Article
	Revisions []*kiosko.ArticleRevision
}

func (s *Server) revisions(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a, err := s.d.Store.FindArticleByID(ctx, r.PathValue("id"))
	if kiosko.IsNotFound(err) {
		s.notFound(w, r)
		return
	} else if err != nil {
		s.serverError(w, r, err)
		return
	}
	revs, err := s.d.Store.FindArticleRevisions(ctx, a.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p := s.newPage(r, "newsroom.revisions.title")
	p.Data = &revisionsView{Article: a, Revisions: revs}
	s.render(w, http.StatusOK, "revisions", p)
}

func (s *Server) restore(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil {
		s.notFound(w, r)
		return
	}
	id := httpx.IdentityFrom(r.Context())
	_, err = s.d.Newsroom.Restore(r.Context(), r.PathValue("id"), n, id.Account.Email)
	if kiosko.IsNotFound(err) {
		s.notFound(w, r)
		return
	} else if err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/newsroom/articles/"+r.PathValue("id")+"?done=restored", http.StatusSeeOther)
}

// serveImage serves one width of an uploaded image to anyone: images are
// part of published pages. Their URLs never change content, so they are
// cached for a year.
func (s *Server) serveImage(w http.ResponseWriter, r *http.Request) {
	width, err := strconv.Atoi(r.PathValue("width"))
	if err != nil || width <= 0 {
		s.notFound(w, r)
		return
	}
	f, err := s.d.Store.FindImageFile(r.Context(), r.PathValue("id"), width)
	if kiosko.IsNotFound(err) {
		s.notFound(w, r)
		return
	} else if err != nil {
		s.serverError(w, r, err)
		return
	}
	etag := `"` + f.ImageID + "-" + strconv.Itoa(f.Width) + `"`
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", etag)
	if strings.Contains(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(f.Data)))
	_, _ = w.Write(f.Data)
}
