// Package admin is the publisher console's web site under /admin/: the
// accounts list and search, an account's page with its timeline and the
// admin's actions, the plans, insights and newsletter issues. Only
// accounts with role admin reach it; everyone else gets the site's 404, so
// the console's existence is not advertised. Pages are server-rendered in
// the admin's language and work without JavaScript; actions are POST
// forms behind the site's cross-origin protection, each with a
// confirmation step.
package admin

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/console"
	"github.com/kiosko/kiosko/internal/httpx"
	"github.com/kiosko/kiosko/webhook"
)

//go:embed templates/*.html admin.css
var files embed.FS

// Handler serves /admin/.
type Handler struct {
	d        *httpx.Deps
	c        *console.Console
	notFound http.HandlerFunc
	tmpl     *template.Template
	mux      *http.ServeMux
	css      []byte
	hooks    webhook.Store // may be nil
}

// New builds the console site. notFound answers everyone who is not an
// admin (the site's own 404 page).
func New(d *httpx.Deps, c *console.Console, notFound http.HandlerFunc) (*Handler, error) {
	h := &Handler{d: d, c: c, notFound: notFound, mux: http.NewServeMux()}
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"whenp": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"money": money,
		"planform": func(p *Page, plan *kiosko.Plan, existing bool, i int) planForm {
			if plan == nil {
				plan = &kiosko.Plan{Names: map[string]string{}, Currency: "EUR", Period: "month", Seats: 1, ReadersPerSeat: 1}
			}
			price := ""
			if plan.PriceCents >= 0 {
				price = fmt.Sprintf("%d.%02d", plan.PriceCents/100, plan.PriceCents%100)
			}
			id := "new"
			if i >= 0 {
				id = fmt.Sprint(i)
			}
			return planForm{Page: p, Plan: plan, Existing: existing, ID: id, Price: price}
		},
		"known": func(ps []*kiosko.Plan, code string) bool {
			for _, p := range ps {
				if p.Code == code {
					return true
				}
			}
			return false
		},
	}
	var err error
	if h.tmpl, err = template.New("").Funcs(funcs).ParseFS(files, "templates/*.html"); err != nil {
		return nil, fmt.Errorf("admin: templates: %w", err)
	}
	if h.css, err = files.ReadFile("admin.css"); err != nil {
		return nil, err
	}
	h.routes()
	return h, nil
}

func (h *Handler) routes() {
	m := h.mux
	m.HandleFunc("GET /admin/admin.css", h.stylesheet)
	m.HandleFunc("GET /admin/{$}", h.accounts)
	m.HandleFunc("GET /admin/accounts/{id}", h.account)
	m.HandleFunc("POST /admin/accounts/{id}/{action}", h.act)
	for _, hook := range routeHooks {
		hook(h, m)
	}
	m.HandleFunc("/admin/", h.notFound)
}

// routeHooks lets other files of the package add pages (plans, insights).
var routeHooks []func(h *Handler, mux *http.ServeMux)

// ServeHTTP lets admins in and answers 404 to everyone else.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, err := h.d.Identify(r)
	if err != nil || id.Account.Role != kiosko.RoleAdmin {
		if err != nil && kiosko.ErrorCode(err) != kiosko.EUNAUTHORIZED {
			h.d.Log.Error("admin: identify", "err", err)
		}
		h.notFound(w, r)
		return
	}
	h.mux.ServeHTTP(w, r.WithContext(httpx.WithIdentity(r.Context(), id)))
}

// planForm is what the plan form template receives.
type planForm struct {
	Page     *Page
	Plan     *kiosko.Plan
	Existing bool
	ID       string
	Price    string
}

// Page is what every console template receives.
type Page struct {
	Lang   string
	Title  string
	Admin  *kiosko.Account
	Nav    string // the section in the menu: accounts, plans, insights, newsletter
	Notice string
	Error  string
	Data   any
	h      *Handler
}

// T returns a catalog message in the page's language.
func (p *Page) T(key string, args ...any) string { return p.h.d.Catalog.T(p.Lang, key, args...) }

// Other is the other language, for the language switch.
func (p *Page) Other() string {
	if p.Lang == kiosko.LangSpanish {
		return kiosko.LangEnglish
	}
	return kiosko.LangSpanish
}

func (h *Handler) page(r *http.Request, nav string) *Page {
	lang := h.d.Lang(r, "")
	if l := r.URL.Query().Get("lang"); kiosko.IsLanguage(l) {
		lang = l
	}
	return &Page{Lang: lang, Admin: httpx.IdentityFrom(r.Context()).Account, Nav: nav, h: h}
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p *Page) {
	var buf bytes.Buffer
	if err := h.tmpl.ExecuteTemplate(&buf, name, p); err != nil {
		h.serverError(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "private, no-store")
	hd.Set("Content-Language", p.Lang)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	h.d.Log.Error("admin page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	lang := h.d.Lang(r, "")
	http.Error(w, h.d.Catalog.T(lang, "admin.error.internal"), http.StatusInternalServerError)
}

// fail answers an error: a user error on the page it belongs to (via
// again), anything else as a 500.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, again func(msg string, status int)) {
	if again == nil || (kiosko.IsNotFound(err) && !console.IsUserError(err)) {
		if kiosko.IsNotFound(err) {
			h.notFound(w, r)
			return
		}
		h.serverError(w, r, err)
		return
	}
	if console.IsUserError(err) {
		status := httpx.HTTPStatus(kiosko.ErrorCode(err))
		if c := kiosko.ErrorCode(err); c == kiosko.EINVALID || c == kiosko.ECONFLICT {
			status = http.StatusUnprocessableEntity
		}
		again(h.d.Catalog.Error(h.page(r, "").Lang, err), status)
		return
	}
	h.serverError(w, r, err)
}

func (h *Handler) stylesheet(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	_, _ = w.Write(h.css)
}

// money formats cents in a currency, e.g. "9.99 EUR".
func money(cents int64, currency string) string {
	return fmt.Sprintf("%d.%02d %s", cents/100, cents%100, currency)
}

// pathID reads a numeric path value.
func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// compactJSON shows event data on one line, without braces for {}.
func compactJSON(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "{}" || s == "null" {
		return ""
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return s
	}
	return buf.String()
}
