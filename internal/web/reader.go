package web

// The reader's language: every page and email follows the edition the
// reader is in. An edition page speaks its edition's language and
// remembers it (the kiosko_lang cookie, and the account's language when
// signed in, which emails use); pages outside an edition (sign-up, sign-in,
// account, billing) take, in order, the edition of the page they were
// opened from (?next=/es/...), the remembered language, the account's
// language, and Accept-Language. The switch in the masthead posts to
// /language.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
)

// langCookie is the language the reader last read in (httpx.Deps.Lang reads it too).
const langCookie = "kiosko_lang"

func init() {
	routeHooks = append(routeHooks, func(s *Server, m *http.ServeMux) {
		s.Handle(m, "POST /language", s.switchLanguage)
	})
}

// pageLang is the language of a page outside an edition.
func (s *Server) pageLang(r *http.Request, eds []*kiosko.Edition) string {
	if lang := chosenLang(r, eds); lang != "" {
		return lang
	}
	if id := httpx.IdentityFrom(r.Context()); id != nil && kiosko.IsLanguage(id.Account.Lang) {
		return id.Account.Lang
	}
	return s.d.Lang(r, "")
}

// chosenLang is the language the reader's own steps chose: ?lang=, the
// edition of the page they came from, or the one they last read in; ""
// when only the browser's settings could say.
func chosenLang(r *http.Request, eds []*kiosko.Edition) string {
	if lang := r.URL.Query().Get("lang"); kiosko.IsLanguage(lang) {
		return lang
	}
	next := r.URL.Query().Get("next")
	if next == "" && r.PostForm != nil {
		next = r.PostForm.Get("next")
	}
	if lang := editionLangOf(safeNext(next), eds); lang != "" {
		return lang
	}
	if c, err := r.Cookie(langCookie); err == nil && kiosko.IsLanguage(c.Value) {
		return c.Value
	}
	return ""
}

// editions lists the editions, or none when they cannot be read (the
// language then falls back to the cookie and the browser).
func (s *Server) editions(r *http.Request) []*kiosko.Edition {
	eds, _, err := s.findEditions(r.Context())
	if err != nil {
		s.d.Log.Warn("list editions", "err", err)
	}
	return eds
}

// signedInLang stores on the account the language the reader signed in
// with, when their steps chose one, so emails follow the edition they read.
func (s *Server) signedInLang(r *http.Request, res *kiosko.SignInResult) {
	lang := chosenLang(r, s.editions(r))
	if lang == "" || res.Account == nil || res.Account.Lang == lang {
		return
	}
	if err := s.d.Auth.SetLanguage(r.Context(), res.Account.ID, lang); err != nil {
		s.d.Log.Warn("remember the reader's language", "account", res.Account.ID, "err", err)
	}
}

// editionLangOf is the language of the edition a local path is in
// ("/us/some-article" -> "en"), or "".
func editionLangOf(path string, eds []*kiosko.Edition) string {
	code, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if code == "" {
		return ""
	}
	for _, e := range eds {
		if e.Code == code {
			return e.Lang
		}
	}
	return ""
}

// rememberLang keeps lang as the reader's language: in the cookie, and on
// the account when it differs, so later pages and emails use it. It writes
// only when something changes.
func (s *Server) rememberLang(w http.ResponseWriter, r *http.Request, lang string) {
	if !kiosko.IsLanguage(lang) {
		return
	}
	if c, err := r.Cookie(langCookie); err != nil || c.Value != lang {
		s.d.SetCookie(w, langCookie, lang, 365*24*time.Hour)
	}
	id := httpx.IdentityFrom(r.Context())
	if id == nil || id.Account.Lang == lang {
		return
	}
	if err := s.d.Auth.SetLanguage(r.Context(), id.Account.ID, lang); err != nil {
		s.d.Log.Warn("remember the reader's language", "account", id.Account.ID, "err", err)
		return
	}
	id.Account.Lang = lang
}

// switchLanguage is the masthead's language switch.
func (s *Server) switchLanguage(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		redirect(w, r, "/")
		return
	}
	lang := r.PostForm.Get("lang")
	if !kiosko.IsLanguage(lang) {
		s.NotFound(w, r)
		return
	}
	s.rememberLang(w, r, lang)
	next := safeNext(r.PostForm.Get("next"))
	if next == "" {
		eds, _ := s.d.Store.FindEditions(r.Context())
		next = "/" + editionForLang(lang, eds) + "/"
	}
	redirect(w, r, next)
}

// LangLink is a language the reader may switch to.
type LangLink struct {
	Lang string // "en"
	Name string // "English", in that language
	Next string // where the switch leads
}

// OtherLangs lists the languages this page can switch to: on an edition
// page, the front page of an edition in the other language (articles are
// not translations of each other); elsewhere, the same page.
func (p *Page) OtherLangs() []LangLink {
	var out []LangLink
	for _, l := range kiosko.Languages {
		if l == p.Lang {
			continue
		}
		next := p.Path
		if p.Edition != nil {
			next = "/" + editionForLang(l, p.Editions) + "/"
		}
		out = append(out, LangLink{Lang: l, Name: p.s.d.Catalog.T(l, "reader.lang.name"), Next: next})
	}
	return out
}

// Alternates are the hreflang links of an edition's front page: the front
// page of each edition in another language.
func (p *Page) Alternates() []LangLink {
	if _, front := p.Data.(*FrontView); p.Edition == nil || !front {
		return nil
	}
	var out []LangLink
	for _, e := range p.Editions {
		if e.Code != p.Edition.Code && e.Lang != p.Edition.Lang {
			out = append(out, LangLink{Lang: e.Lang, Next: "/" + e.Code + "/"})
		}
	}
	return out
}

// LastActive says when a device was last active, the way the page script
// says it again in the reader's own time zone: "ahora mismo", "hace 5
// minutos", then the time of day ("a las 21:22", "at 9:22 PM"), in the
// edition's time zone until the script runs.
func (p *Page) LastActive(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := p.Now.Sub(t)
	switch {
	case d < time.Minute:
		return p.T("web.ago.now")
	case d < time.Hour:
		return p.T("web.ago.minutes", int(d/time.Minute))
	}
	if p.Edition != nil {
		if loc, err := time.LoadLocation(p.Edition.Timezone); err == nil && p.Edition.Timezone != "" {
			t = t.In(loc)
		}
	}
	return p.T("reader.at_time", timeOfDay(p.Lang, t), t.Hour())
}

// timeOfDay writes a time of day as readers of lang write it: "21:22" in
// Spanish, "9:22 PM" in English (what the script's toLocaleTimeString
// gives for the same languages).
func timeOfDay(lang string, t time.Time) string {
	if lang == kiosko.LangEnglish {
		return t.Format("3:04 PM")
	}
	return fmt.Sprintf("%d:%02d", t.Hour(), t.Minute()) // "1:05", "21:22", as Intl writes them
}

// PluralForms returns the CLDR forms of a plural message, for the script
// (Intl.PluralRules picks one the way the server does).
func (p *Page) PluralForms(key string) map[string]string { return p.s.d.Catalog.Forms(p.Lang, key) }

// LastActiveForms are the texts the page script needs to say "last
// active" the way LastActive does, as JSON for a data attribute.
func (p *Page) LastActiveForms() string {
	c := p.s.d.Catalog
	forms := map[string]any{
		"now":     p.T("web.ago.now"),
		"minutes": pluralOrPlain(c.Forms(p.Lang, "web.ago.minutes"), p.T("web.ago.minutes")),
		"at":      pluralOrPlain(c.Forms(p.Lang, "reader.at_time"), p.T("reader.at_time")),
	}
	b, _ := json.Marshal(forms)
	return string(b)
}

// pluralOrPlain gives the script a plural message's forms, or its one
// text as the "other" form.
func pluralOrPlain(forms map[string]string, text string) map[string]string {
	if forms != nil {
		return forms
	}
	return map[string]string{"other": text}
}

// plansInOrder is the order a reader compares plans in: the free account,
// then the plans for one household from the cheapest, then the plans sold
// by the seat (companies), whatever their price per seat.
func plansInOrder(ps kiosko.PlanSource) []*kiosko.Plan {
	out := ps.Sorted()
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := planRank(out[i]), planRank(out[j])
		return ri < rj
	})
	return out
}

func planRank(p *kiosko.Plan) int {
	switch {
	case !p.Paid():
		return 0
	case p.SeatsPerUnit:
		return 2
	}
	return 1
}

// currentPlan is the plan the signed-in reader reads with now ("" when
// anonymous; the free plan when signed in without a seat), and whether
// they pay for it themselves.
func (s *Server) currentPlan(r *http.Request) (code string, mine bool) {
	id := httpx.IdentityFrom(r.Context())
	if id == nil {
		return "", false
	}
	_, sub, err := s.d.Store.FindSeatForAccount(r.Context(), id.Account.ID, s.d.Clock.Now())
	switch {
	case err == nil:
		return sub.PlanCode, sub.OwnerID == id.Account.ID
	case kiosko.IsNotFound(err):
		return kiosko.PlanFree, true
	}
	s.d.Log.Warn("current plan", "account", id.Account.ID, "err", err)
	return "", false
}

// Contact is the address readers write to for a plan (KIOSKO_CONTACT_EMAIL).
func (p *Page) Contact() string { return p.s.d.ContactEmail }

// Description is the page's meta description: an article's standfirst,
// else the edition's or the site's tagline.
func (p *Page) Description() string {
	if v := p.ArticleData(); v != nil && v.Article.Standfirst != "" {
		return v.Article.Standfirst
	}
	if p.Edition != nil {
		return p.Edition.Name + ": " + p.T("web.site.tagline") + "."
	}
	return p.T("web.site.tagline") + "."
}

// ArticleData is the page's article, on an article page.
func (p *Page) ArticleData() *ArticleView {
	v, _ := p.Data.(*ArticleView)
	return v
}

// Canonical is the page's address without its query, absolute when the
// public URL is known.
func (p *Page) Canonical() string {
	path, _, _ := strings.Cut(p.Path, "?")
	if path == "" {
		path = "/"
	}
	return p.AbsURL(path)
}

// AbsURL makes a local path absolute with KIOSKO_PUBLIC_URL.
func (p *Page) AbsURL(path string) string {
	return strings.TrimRight(p.s.d.PublicURL, "/") + path
}

// OGLocale is the Open Graph locale of the page's language.
func (p *Page) OGLocale() string {
	if p.Lang == kiosko.LangEnglish {
		return "en_US"
	}
	return "es_ES"
}

// BusinessView tells the business page who is reading it.
type BusinessView struct {
	Admin  bool // pays for a company subscription: manage its seats
	Member bool // holds a seat of one: more accounts come from its admin
}

func (s *Server) businessView(r *http.Request) *BusinessView {
	code, mine := s.currentPlan(r)
	pl, err := s.d.Plans.Find(code)
	if err != nil || !pl.SeatsPerUnit {
		return &BusinessView{}
	}
	return &BusinessView{Admin: mine, Member: !mine}
}
