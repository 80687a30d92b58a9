package web

import (
	"net/http"
	"strings"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
)

// The newsletter's pages: the sign-up box's form, the double opt-in
// confirmation, unsubscribing (also RFC 8058 one-click), and the editors'
// preview. Links in emails only ever show a page with a button on GET:
// mail scanners follow links, and must not confirm or unsubscribe anyone.
func init() {
	routeHooks = append(routeHooks, func(s *Server, mux *http.ServeMux) {
		s.Handle(mux, "POST /newsletter", s.newsletterSubscribe)
		s.Handle(mux, "GET /newsletter/confirm", s.newsletterConfirmPage)
		s.Handle(mux, "POST /newsletter/confirm", s.newsletterConfirm)
		s.Handle(mux, "GET /newsletter/unsubscribe", s.newsletterUnsubscribePage)
		s.Handle(mux, "POST /newsletter/unsubscribe", s.newsletterUnsubscribe)
		s.Handle(mux, "GET /newsletter/preview", s.newsletterPreview)
		s.Handle(mux, "GET /newsletter/preview/email", s.newsletterPreviewEmail)
	})
}

// NewsletterView is the Data of the newsletter pages.
type NewsletterView struct {
	Heading string
	Text    string
	Action  string // form action of the page's one button, "" for none
	Token   string
	Button  string
	Back    string // link back
}

func (s *Server) newsletterPage(w http.ResponseWriter, r *http.Request, status int, lang string, v *NewsletterView) {
	p := s.NewPage(r, lang)
	p.Title = v.Heading
	if v.Back == "" {
		v.Back = p.HomePath()
	}
	p.Data = v
	s.Render(w, r, status, "newsletter_page", p)
}

// newsletterError answers a newsletter page for err.
func (s *Server) newsletterError(w http.ResponseWriter, r *http.Request, lang string, err error) {
	if !userError(err) {
		s.ServerError(w, r, err)
		return
	}
	if !kiosko.IsLanguage(lang) {
		lang = s.pageLang(r, s.editions(r))
	}
	s.newsletterPage(w, r, formStatus(err), lang, &NewsletterView{
		Heading: s.d.Catalog.T(lang, "newsletter.invalid.title"),
		Text:    s.d.Catalog.Error(lang, err),
	})
}

func (s *Server) newsletter(w http.ResponseWriter, r *http.Request) (*kiosko.Newsletter, bool) {
	if s.d.Newsletter == nil {
		s.NotFound(w, r)
		return nil, false
	}
	return s.d.Newsletter, true
}

func (s *Server) editionLang(r *http.Request, code string) (*kiosko.Edition, string) {
	if ed, err := s.d.Store.FindEdition(r.Context(), code); err == nil {
		return ed, ed.Lang
	}
	return nil, s.pageLang(r, s.editions(r))
}

func (s *Server) newsletterSubscribe(w http.ResponseWriter, r *http.Request) {
	n, ok := s.newsletter(w, r)
	if !ok {
		return
	}
	edition := r.PostFormValue("edition")
	ed, lang := s.editionLang(r, edition)
	email := r.PostFormValue("email")
	if err := n.Subscribe(r.Context(), kiosko.SubscribeRequest{Edition: edition, Email: email, Name: r.PostFormValue("name"), ClientIP: s.d.ClientIP(r)}); err != nil {
		s.newsletterError(w, r, lang, err)
		return
	}
	v := &NewsletterView{Heading: s.d.Catalog.T(lang, "newsletter.check.title"), Text: s.d.Catalog.T(lang, "newsletter.check.text", strings.TrimSpace(email))}
	if next := safeNext(r.PostFormValue("next")); next != "" {
		v.Back = next
	} else if ed != nil {
		v.Back = "/" + ed.Code + "/"
	}
	s.newsletterPage(w, r, http.StatusOK, lang, v)
}

func (s *Server) newsletterConfirmPage(w http.ResponseWriter, r *http.Request) {
	n, ok := s.newsletter(w, r)
	if !ok {
		return
	}
	token := r.URL.Query().Get("token")
	sub, err := n.Store.FindSubscriberByConfirmHash(r.Context(), kiosko.HashToken(token))
	if err == nil && sub.Status != kiosko.SubscriberPending && sub.Status != kiosko.SubscriberConfirmed {
		err = kiosko.Errorf(kiosko.ENOTFOUND, "error.newsletter_link_invalid", "Link no longer valid.")
	}
	if err != nil || token == "" {
		if err == nil || kiosko.IsNotFound(err) {
			err = kiosko.Errorf(kiosko.ENOTFOUND, "error.newsletter_link_invalid", "Link no longer valid.")
		}
		s.newsletterError(w, r, "", err)
		return
	}
	if sub.Status == kiosko.SubscriberConfirmed {
		s.donePage(w, r, "newsletter.confirmed", sub)
		return
	}
	ed, lang := s.editionLang(r, sub.Edition)
	s.newsletterPage(w, r, http.StatusOK, lang, &NewsletterView{
		Heading: s.d.Catalog.T(lang, "newsletter.confirm.title"),
		Text:    s.d.Catalog.T(lang, "newsletter.confirm.text", sub.Email, editionName(ed, sub.Edition)),
		Action:  "/newsletter/confirm", Token: token, Button: s.d.Catalog.T(lang, "newsletter.confirm.button"),
	})
}

func editionName(ed *kiosko.Edition, code string) string {
	if ed != nil {
		return ed.Name
	}
	return code
}

// donePage says a subscriber's new state: key is "newsletter.confirmed"
// or "newsletter.unsubscribed".
func (s *Server) donePage(w http.ResponseWriter, r *http.Request, key string, sub *kiosko.Subscriber) {
	ed, lang := s.editionLang(r, sub.Edition)
	s.newsletterPage(w, r, http.StatusOK, lang, &NewsletterView{
		Heading: s.d.Catalog.T(lang, key+".title"),
		Text:    s.d.Catalog.T(lang, key+".text", sub.Email, editionName(ed, sub.Edition)),
		Back:    "/" + sub.Edition + "/",
	})
}

func (s *Server) newsletterConfirm(w http.ResponseWriter, r *http.Request) {
	n, ok := s.newsletter(w, r)
	if !ok {
		return
	}
	sub, err := n.Confirm(r.Context(), r.PostFormValue("token"))
	if err != nil {
		s.newsletterError(w, r, "", err)
		return
	}
	s.donePage(w, r, "newsletter.confirmed", sub)
}

func (s *Server) newsletterUnsubscribePage(w http.ResponseWriter, r *http.Request) {
	n, ok := s.newsletter(w, r)
	if !ok {
		return
	}
	token := r.URL.Query().Get("token")
	sub, err := n.SubscriberByUnsubscribeToken(r.Context(), token)
	if err != nil {
		s.newsletterError(w, r, "", err)
		return
	}
	if sub.Status == kiosko.SubscriberUnsubscribed {
		s.donePage(w, r, "newsletter.unsubscribed", sub)
		return
	}
	ed, lang := s.editionLang(r, sub.Edition)
	s.newsletterPage(w, r, http.StatusOK, lang, &NewsletterView{
		Heading: s.d.Catalog.T(lang, "newsletter.unsubscribe.title"),
		Text:    s.d.Catalog.T(lang, "newsletter.unsubscribe.text", editionName(ed, sub.Edition), sub.Email),
		Action:  "/newsletter/unsubscribe", Token: token, Button: s.d.Catalog.T(lang, "newsletter.unsubscribe.button"),
	})
}

// newsletterUnsubscribe takes both the page's button and a mail client's
// RFC 8058 one-click POST (token in the URL, body
// "List-Unsubscribe=One-Click"); neither needs a sign-in.
func (s *Server) newsletterUnsubscribe(w http.ResponseWriter, r *http.Request) {
	n, ok := s.newsletter(w, r)
	if !ok {
		return
	}
	oneClick := r.PostFormValue("List-Unsubscribe") == "One-Click"
	token := r.PostFormValue("token")
	if token == "" {
		token = r.URL.Query().Get("token")
	}
	sub, err := n.Unsubscribe(r.Context(), token)
	if oneClick {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		switch {
		case err == nil:
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("unsubscribed\n"))
		case kiosko.IsNotFound(err):
			http.Error(w, "unknown unsubscribe link", http.StatusNotFound)
		default:
			s.d.Log.Error("one-click unsubscribe", "err", err)
			http.Error(w, "try again later", http.StatusServiceUnavailable)
		}
		return
	}
	if err != nil {
		s.newsletterError(w, r, "", err)
		return
	}
	s.donePage(w, r, "newsletter.unsubscribed", sub)
}

// NewsletterPreviewView is the Data of the preview page.
type NewsletterPreviewView struct {
	Edition  *kiosko.Edition
	Editions []*kiosko.Edition
	Subject  string
	Text     string
	Empty    bool
}

// editor lets editors and admins through; others get the sign-in page or 404.
func (s *Server) editor(w http.ResponseWriter, r *http.Request) bool {
	id, ok := s.requireSignIn(w, r)
	if !ok {
		return false
	}
	if id.Account.Role != kiosko.RoleEditor && id.Account.Role != kiosko.RoleAdmin {
		s.NotFound(w, r)
		return false
	}
	return true
}

func (s *Server) newsletterPreview(w http.ResponseWriter, r *http.Request) {
	n, ok := s.newsletter(w, r)
	if !ok || !s.editor(w, r) {
		return
	}
	code := r.URL.Query().Get("edition")
	p := s.NewPage(r, "")
	if code == "" && len(p.Editions) > 0 {
		code = p.Editions[0].Code
	}
	ed, err := s.d.Store.FindEdition(r.Context(), code)
	if err != nil {
		if kiosko.IsNotFound(err) {
			s.NotFound(w, r)
		} else {
			s.ServerError(w, r, err)
		}
		return
	}
	id := httpx.IdentityFrom(r.Context())
	v := &NewsletterPreviewView{Edition: ed, Editions: p.Editions}
	m, count, err := n.Preview(r.Context(), ed.Code, id.Account.Email, id.Account.Name)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	v.Subject, v.Text, v.Empty = m.Subject, m.Text, count == 0
	p.Title = p.T("newsletter.preview.title")
	p.Data = v
	s.Render(w, r, http.StatusOK, "newsletter_preview", p)
}

// newsletterPreviewEmail serves the HTML part for the preview
// page's frame. Email HTML needs inline styles, so this one response gets
// its own, stricter-elsewhere CSP: no script at all, framed only by us.
func (s *Server) newsletterPreviewEmail(w http.ResponseWriter, r *http.Request) {
	n, ok := s.newsletter(w, r)
	if !ok || !s.editor(w, r) {
		return
	}
	id := httpx.IdentityFrom(r.Context())
	m, _, err := n.Preview(r.Context(), r.URL.Query().Get("edition"), id.Account.Email, id.Account.Name)
	if err != nil {
		if kiosko.ErrorCode(err) == kiosko.EINVALID {
			s.NotFound(w, r)
		} else {
			s.ServerError(w, r, err)
		}
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "private, no-store")
	_, _ = w.Write([]byte(m.HTML))
}

// NewsletterOn reports whether the site offers the newsletter (the
// sign-up box shows only then).
func (p *Page) NewsletterOn() bool { return p.s.d.Newsletter != nil }
