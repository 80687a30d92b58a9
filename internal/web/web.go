// Package web is the reader-facing site: edition front pages, article pages
// behind the metered paywall and the reading rule, accounts, devices, plans
// and terms. Pages are server-rendered with html/template and work with
// JavaScript off; one small script (static/reading.js) heartbeats a
// subscriber article and listens for pushes from /api/v1/reading/events.
//
// # Extending the site (newsletter and others)
//
// Other files of this package may add routes and templates:
//
//   - Routes: append a func to routeHooks in an init(); New calls each one
//     with the Server and its mux after the site's own routes:
//
//     func init() { routeHooks = append(routeHooks, func(s *Server, mux *http.ServeMux) { ... }) }
//
//     Wrap handlers with s.Handle(mux, "POST /newsletter", h) to get the
//     reader's identity loaded once per request (httpx.IdentityFrom).
//
//   - Templates: every templates/*.html file is parsed into one set. A page
//     is a named template that starts with {{template "header" .}} and ends
//     with {{template "footer" .}}; render it with
//     s.Render(w, r, status, "name", page) where page comes from
//     s.NewPage(r, lang). Strings come from the catalogs: {{.T "key" args}}
//     (use $.T inside range/with). Page-specific values go in page.Data.
//     Helpers: {{static "file.css"}} gives a fingerprinted /static/ URL,
//     {{.Date t}} a date in the page's language.
//
//   - Article pages call {{template "newsletter_box" .}} with the *Page; its
//     Edition field is the article's edition and Data is an *ArticleView.
//
//   - Errors: s.NotFound(w, r) and s.ServerError(w, r, err) (logged, never
//     shown); form errors: page.Error = s.Deps().Catalog.Error(lang, err).
package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
)

//go:embed templates/*.html
var templateFS embed.FS

// routeHooks lets other files of the package add routes (see the package doc).
var routeHooks []func(s *Server, mux *http.ServeMux)

// Server is the site, an http.Handler for everything outside /api/v1/.
type Server struct {
	d      *httpx.Deps
	mux    *http.ServeMux
	tmpl   *template.Template
	assets *assets
	pages  pageCache // pagecache.go
}

// New builds the site: parses the templates, fingerprints the static assets
// and sets up the routes.
func New(d *httpx.Deps) (*Server, error) {
	if d == nil || d.Store == nil || d.Auth == nil || d.Catalog == nil {
		return nil, errors.New("web: Store, Auth and Catalog are required")
	}
	if d.Clock == nil {
		d.Clock = kiosko.SystemClock{}
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	s := &Server{d: d, mux: http.NewServeMux()}
	var err error
	if s.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"static": s.assets.url,
		"story":  story,
	}
	if s.tmpl, err = template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html"); err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	s.routes()
	return s, nil
}

// Story is one article teaser: a front page card or a "more" link.
type Story struct {
	P          *Page
	A          *kiosko.Article
	Kind       string // "lead", "top", "grid"
	Subscriber bool
}

// story builds a Story for {{template "story" (story $ .Article "grid")}}.
func story(p *Page, a *kiosko.Article, kind string) Story {
	return Story{P: p, A: a, Kind: kind, Subscriber: a.Access == kiosko.AccessSubscriber}
}

// Deps returns the server's dependencies.
func (s *Server) Deps() *httpx.Deps { return s.d }

// ServeHTTP serves the site.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /static/{file}", s.assets.serve)

	s.Handle(m, "GET /{$}", s.home)
	s.Handle(m, "GET /{edition}/{$}", s.frontPage)
	s.Handle(m, "GET /{edition}/{article}", s.articlePage)
	s.Handle(m, "POST /{edition}/{article}/takeover", s.takeover)

	s.Handle(m, "GET /signup", s.signupForm)
	s.Handle(m, "POST /signup", s.signup)
	s.Handle(m, "GET /signin", s.signinForm)
	s.Handle(m, "POST /signin", s.signin)
	s.Handle(m, "POST /signout", s.signout)
	s.Handle(m, "GET /password/forgot", s.forgotForm)
	s.Handle(m, "POST /password/forgot", s.forgot)
	s.Handle(m, "GET /password/reset", s.resetForm)
	s.Handle(m, "POST /password/reset", s.reset)
	s.Handle(m, "GET /account", s.account)
	s.Handle(m, "GET /account/password", s.passwordForm)
	s.Handle(m, "POST /account/password", s.changePassword)
	s.Handle(m, "POST /account/devices/{id}/signout", s.signoutDevice)
	s.Handle(m, "POST /account/signout-others", s.signoutOthers)

	s.Handle(m, "GET /terms", s.terms)
	s.Handle(m, "GET /plans", s.plans)
	s.Handle(m, "GET /business", s.business)

	for _, hook := range routeHooks {
		hook(s, m)
	}
	s.Handle(m, "/", s.NotFound)
}

// Handle registers h on mux under pattern, with the reader's identity
// loaded once into the request context (httpx.IdentityFrom). A session
// cookie that no longer works is removed.
func (s *Server) Handle(mux *http.ServeMux, pattern string, h http.HandlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if token := s.d.Token(r); token != "" {
			id, err := s.d.Auth.Authenticate(r.Context(), token)
			switch {
			case err == nil:
				r = r.WithContext(httpx.WithIdentity(r.Context(), id))
				s.keepDeviceToken(w, r, id)
				s.d.Auth.NoteDeviceLang(id, s.d.DeviceLang(r)) // the device list's language (accounts.go)
			case kiosko.ErrorCode(err) == kiosko.EUNAUTHORIZED:
				s.d.ClearSession(w)
			default:
				s.d.Log.Error("identify reader", "path", r.URL.Path, "err", err)
			}
		}
		h(w, r)
	})
}

// Page is what every template receives.
type Page struct {
	Lang     string
	Title    string            // the <title>, before the site name
	Identity *kiosko.Identity  // nil: anonymous
	Warned   bool              // the reader's seat is under sharing warning
	Edition  *kiosko.Edition   // the edition the page belongs to, if any
	Editions []*kiosko.Edition // for the masthead's navigation
	Path     string            // the request path, for "next" links
	Notice   string            // a confirmation to show at the top
	Error    string            // a form error to show
	Scripts  []string          // extra static scripts (names under static/)
	Data     any               // page-specific values
	Now      time.Time

	s              *Server
	editionsSerial uint64 // which read of the editions Editions is (0: not cached)
}

// NewPage starts the data of a page in lang for the request's reader.
func (s *Server) NewPage(r *http.Request, lang string) *Page {
	return s.newPage(r, lang, true)
}

// newPage is NewPage; warned false leaves Warned for the caller to set (an
// article page learns it from the claim).
func (s *Server) newPage(r *http.Request, lang string, warned bool) *Page {
	p := &Page{Lang: lang, Identity: httpx.IdentityFrom(r.Context()), Path: r.URL.RequestURI(), Now: s.d.Clock.Now(), s: s}
	if eds, serial, err := s.findEditions(r.Context()); err == nil {
		p.Editions, p.editionsSerial = eds, serial
	} else {
		s.d.Log.Warn("list editions", "err", err)
	}
	if !kiosko.IsLanguage(lang) {
		p.Lang = s.pageLang(r, p.Editions) // reader.go: the edition the reader came from
	}
	if warned && p.Identity != nil && s.d.Reading != nil {
		p.Warned = s.d.Reading.Warned(r.Context(), p.Identity.Account.ID)
	}
	return p
}

// T returns the catalog message key in the page's language.
func (p *Page) T(key string, args ...any) string { return p.s.d.Catalog.T(p.Lang, key, args...) }

// Date formats t as a date in the page's language.
func (p *Page) Date(t time.Time) string { return formatDate(p.s.d.Catalog, p.Lang, t) }

// Ago says how long ago t was, in the page's language.
func (p *Page) Ago(t time.Time) string { return formatAgo(p.s.d.Catalog, p.Lang, t, p.Now) }

// SignedIn reports whether a reader is signed in.
func (p *Page) SignedIn() bool { return p.Identity != nil }

// NextQuery is "?next=PATH" for links to the sign-in and sign-up pages.
func (p *Page) NextQuery() string {
	if p.Path == "" || p.Path == "/" || strings.HasPrefix(p.Path, "/signin") || strings.HasPrefix(p.Path, "/signup") {
		return ""
	}
	return "?next=" + url.QueryEscape(p.Path)
}

// HomePath is the front page of the page's edition, or of the language's.
func (p *Page) HomePath() string {
	if p.Edition != nil {
		return "/" + p.Edition.Code + "/"
	}
	return "/" + editionForLang(p.Lang, p.Editions) + "/"
}

// Render executes the named template with p and writes it with status.
// The page is built in memory first, so a template error becomes the 500
// page rather than half a page.
func (s *Server) Render(w http.ResponseWriter, r *http.Request, status int, name string, p *Page) {
	body, err := s.render(name, p)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	writePage(w, status, p.Lang, body, false)
}

// render executes the named template with p.
func (s *Server) render(name string, p *Page) ([]byte, error) {
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, name, p); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// writePage writes a rendered page. Only a page that is the same for every
// reader without a session (public) may be kept by shared caches (a CDN),
// and only when the answer sets no cookie; every other page is private
// and never stored (docs/deploy.md, "Behind a CDN").
func writePage(w http.ResponseWriter, status int, lang string, body []byte, public bool) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	if public && len(h.Values("Set-Cookie")) == 0 {
		h.Set("Cache-Control", publicPage)
		h.Add("Vary", "Cookie")
	} else {
		h.Set("Cache-Control", "private, no-store")
	}
	h.Set("Content-Language", lang)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// NotFound answers the 404 page in the reader's language.
func (s *Server) NotFound(w http.ResponseWriter, r *http.Request) {
	p := s.NewPage(r, "")
	p.Title = p.T("web.notfound.title")
	s.Render(w, r, http.StatusNotFound, "notfound", p)
}

// ServerError logs err and answers the friendly 500 page.
func (s *Server) ServerError(w http.ResponseWriter, r *http.Request, err error) {
	s.d.Log.Error("page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	p := s.NewPage(r, "")
	p.Title = p.T("web.servererror.title")
	var buf bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&buf, "servererror", p); err != nil {
		s.d.Log.Error("render 500 page", "err", err)
		http.Error(w, p.T("web.servererror.title"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write(buf.Bytes())
}

// redirect answers 303 See Other to a local path.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// requireSignIn sends an anonymous reader to the sign-in page and back.
func (s *Server) requireSignIn(w http.ResponseWriter, r *http.Request) (*kiosko.Identity, bool) {
	if id := httpx.IdentityFrom(r.Context()); id != nil {
		return id, true
	}
	next := r.URL.RequestURI()
	if r.Method != http.MethodGet {
		next = r.Referer()
		if u, err := url.Parse(next); err == nil {
			next = u.RequestURI()
		}
	}
	redirect(w, r, "/signin?next="+url.QueryEscape(safeNext(next)))
	return nil, false
}

// safeNext keeps a "next" parameter only when it is a path on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	return next
}

// formStatus is the status of a form answered again with an error: 422
// for what the reader can correct, else the API's mapping.
func formStatus(err error) int {
	switch code := kiosko.ErrorCode(err); code {
	case kiosko.EINVALID, kiosko.ECONFLICT:
		return http.StatusUnprocessableEntity
	default:
		return httpx.HTTPStatus(code)
	}
}

// userError reports whether err may be shown on a form (anything but an
// internal failure).
func userError(err error) bool {
	c := kiosko.ErrorCode(err)
	return c != kiosko.EINTERNAL && c != kiosko.EUNAVAILABLE
}
