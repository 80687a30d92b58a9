package web

import (
	"net/http"

	"github.com/kiosko/kiosko"
)

// Gone answers 410 for an article the newsroom unpublished: it existed,
// it will not come back, and search engines should drop it.
func (s *Server) Gone(w http.ResponseWriter, r *http.Request, ed *kiosko.Edition) {
	p := s.NewPage(r, ed.Lang)
	p.Edition = ed
	p.Title = p.T("newsroom.gone.title")
	s.Render(w, r, http.StatusGone, "gone", p)
}
