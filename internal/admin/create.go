package admin

import (
	"net/http"
	"strings"

	"github.com/kiosko/kiosko"
)

func init() {
	routeHooks = append(routeHooks, func(h *Handler, m *http.ServeMux) {
		m.HandleFunc("POST /admin/editions", h.addEdition)
		m.HandleFunc("POST /admin/apikeys", h.createAPIKey)
	})
}

// editionsData is the editions page: the list and the form to add one.
type editionsData struct {
	Editions []*kiosko.Edition
	Form     kiosko.Edition // what was typed, kept when it is refused
}

// addEdition adds an edition after confirmation. The form is checked
// before the question is asked, so a mistake shows on the form itself.
func (h *Handler) addEdition(w http.ResponseWriter, r *http.Request) {
	if r.ParseForm() != nil {
		h.notFound(w, r)
		return
	}
	f := r.PostForm
	e := kiosko.Edition{Code: f.Get("code"), Name: f.Get("name"), Lang: f.Get("lang"), Timezone: strings.TrimSpace(f.Get("tz"))}
	again := func(msg string, status int) {
		p := h.page(r, "editions")
		p.Title, p.Error = p.T("admin.editions.title"), msg
		eds, err := h.d.Store.FindEditions(r.Context())
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		p.Data = &editionsData{Editions: eds, Form: e}
		h.render(w, r, status, "editions", p)
	}
	check := e
	if err := kiosko.ValidateEdition(&check); err != nil {
		h.fail(w, r, err, again)
		return
	}
	if f.Get("confirm") != "yes" {
		p := h.page(r, "editions")
		p.Title = p.T("admin.confirm.title")
		p.Data = &confirmData{Action: "/admin/editions", Back: "/admin/editions", Question: p.T("admin.confirm.add_edition", check.Code),
			Fields: []Field{{"code", e.Code}, {"name", e.Name}, {"lang", e.Lang}, {"tz", e.Timezone}},
			Summary: []Field{{p.T("admin.editions.code"), check.Code}, {p.T("admin.field.name"), check.Name}, {p.T("admin.editions.lang"), check.Lang},
				{p.T("admin.editions.tz"), cmpOr(check.Timezone, "UTC")}}}
		h.render(w, r, http.StatusOK, "confirm", p)
		return
	}
	if err := h.c.AddEdition(r.Context(), h.page(r, "").Admin, &e); err != nil {
		h.fail(w, r, err, again)
		return
	}
	http.Redirect(w, r, "/admin/editions?added="+e.Code, http.StatusSeeOther)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// apiKeysData is the API keys page: the list, the form, and a key just
// created (shown on this one answer only).
type apiKeysData struct {
	Keys   []*kiosko.APIKey
	Scopes []string
	Form   struct {
		Name   string
		Scopes []string
	}
	Created *kiosko.APIKey
	Secret  string
}

// Checked says whether a scope was ticked on the form.
func (d *apiKeysData) Checked(scope string) bool {
	for _, s := range d.Form.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// createAPIKey creates a key after confirmation and answers the page with
// the key in it, once: only its hash is stored, and the answer is not
// cached nor redirected to a URL that would carry it.
func (h *Handler) createAPIKey(w http.ResponseWriter, r *http.Request) {
	if r.ParseForm() != nil {
		h.notFound(w, r)
		return
	}
	f := r.PostForm
	name, scopes := f.Get("name"), f["scope"]
	show := func(p *Page, status int, d *apiKeysData) {
		keys, err := h.d.Store.FindAPIKeys(r.Context())
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		d.Keys, d.Scopes = keys, kiosko.Scopes
		p.Data = d
		w.Header().Set("Cache-Control", "no-store")
		h.render(w, r, status, "apikeys", p)
	}
	again := func(msg string, status int) {
		p := h.page(r, "apikeys")
		p.Title, p.Error = p.T("admin.apikeys.title"), msg
		d := &apiKeysData{}
		d.Form.Name, d.Form.Scopes = name, scopes
		show(p, status, d)
	}
	if _, _, err := kiosko.NewAPIKey(name, scopes, h.d.Clock.Now()); err != nil {
		h.fail(w, r, err, again)
		return
	}
	if f.Get("confirm") != "yes" {
		p := h.page(r, "apikeys")
		p.Title = p.T("admin.confirm.title")
		fields := []Field{{"name", name}}
		for _, s := range scopes {
			fields = append(fields, Field{"scope", s})
		}
		p.Data = &confirmData{Action: "/admin/apikeys", Back: "/admin/apikeys", Question: p.T("admin.confirm.create_key", strings.TrimSpace(name)),
			Fields: fields, Summary: []Field{{p.T("admin.field.name"), strings.TrimSpace(name)}, {p.T("admin.apikeys.scopes"), strings.Join(scopes, ", ")}}}
		h.render(w, r, http.StatusOK, "confirm", p)
		return
	}
	k, secret, err := h.c.CreateAPIKey(r.Context(), h.page(r, "").Admin, name, scopes)
	if err != nil {
		h.fail(w, r, err, again)
		return
	}
	p := h.page(r, "apikeys")
	p.Title = p.T("admin.apikeys.title")
	show(p, http.StatusCreated, &apiKeysData{Created: k, Secret: secret})
}
