package web

import (
	"fmt"
	"net/http"

	"github.com/kiosko/kiosko"
)

// defaultEditions are the front pages readers of each language land on.
var defaultEditions = map[string]string{kiosko.LangSpanish: "es", kiosko.LangEnglish: "us"}

// editionForLang picks the edition for readers of lang: "es" for Spanish,
// "us" for English when they exist, else the first edition in that
// language, else the first edition.
func editionForLang(lang string, eds []*kiosko.Edition) string {
	want := defaultEditions[lang]
	for _, e := range eds {
		if e.Code == want {
			return want
		}
	}
	for _, e := range eds {
		if e.Lang == lang {
			return e.Code
		}
	}
	if len(eds) > 0 {
		return eds[0].Code
	}
	if want == "" {
		want = defaultEditions[kiosko.LangSpanish]
	}
	return want
}

// home sends the reader to the front page in their language.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	eds, _, err := s.findEditions(r.Context())
	if err != nil {
		s.ServerError(w, r, fmt.Errorf("home: %w", err))
		return
	}
	redirect(w, r, "/"+editionForLang(s.pageLang(r, eds), eds)+"/")
}

// FrontView is the data of a front page.
type FrontView struct {
	Lead     *kiosko.Article   // the newest article, shown large
	Under    []*kiosko.Article // the next two, under the lead
	Top      []*kiosko.Article // the next three, beside the lead
	Rest     []*kiosko.Article
	Articles []*kiosko.Article // every article, newest first
}

// frontPageSize caps the articles of a front page.
const frontPageSize = 60

func (s *Server) frontPage(w http.ResponseWriter, r *http.Request) {
	ed, ok := s.edition(w, r)
	if !ok {
		return
	}
	arts, serial, err := s.frontArticles(r.Context(), ed.Code, s.d.Clock.Now(), frontPageSize)
	if err != nil {
		s.ServerError(w, r, fmt.Errorf("front page: %w", err))
		return
	}
	v := &FrontView{Articles: arts}
	if len(arts) > 0 {
		v.Lead = arts[0]
		rest := arts[1:]
		// Page order is newest first: lead, the two under it, then the
		// column beside it.
		n := min(len(rest), 2)
		v.Under, rest = rest[:n], rest[n:]
		n = min(len(rest), 3)
		v.Top, v.Rest = rest[:n], rest[n:]
	}
	p := s.NewPage(r, ed.Lang)
	s.rememberLang(w, r, ed.Lang)
	p.Edition = ed
	p.Title = ed.Name
	p.Data = v
	// A front page is the same for every reader without a session.
	public := p.Identity == nil
	key := frontKey(p, serial)
	page, ok := s.pages.get(key)
	if !ok {
		if page, err = s.renderKept("front", p, key); err != nil {
			s.ServerError(w, r, err)
			return
		}
		s.pages.put(key, page)
	}
	page.write(w, r, p, public)
}

// edition finds the edition of the path, answering 404 when unknown.
func (s *Server) edition(w http.ResponseWriter, r *http.Request) (*kiosko.Edition, bool) {
	ed, err := s.findEdition(r.Context(), r.PathValue("edition"))
	if kiosko.IsNotFound(err) {
		s.NotFound(w, r)
		return nil, false
	} else if err != nil {
		s.ServerError(w, r, fmt.Errorf("find edition: %w", err))
		return nil, false
	}
	return ed, true
}
