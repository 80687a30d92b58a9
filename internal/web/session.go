package web

import (
	"net/http"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
)

// endPrevious ends the session this browser held before it signed in again
// (OWASP Session Management: a new sign-in never leaves the old session
// alive beside the new one, whoever it belonged to).
func (s *Server) endPrevious(r *http.Request, next *kiosko.SignInResult) {
	old := httpx.IdentityFrom(r.Context())
	if old == nil || old.Session.ID == next.Session.ID {
		return
	}
	if err := s.d.Auth.EndSession(r.Context(), old, next.Account.ID == old.Account.ID && next.DeviceID == old.Session.DeviceID); err != nil {
		s.d.Log.Warn("end the previous session", "err", err)
	}
}

// keepDeviceToken gives a signed-in browser without a valid device token
// one for its account: readers signed in before device tokens existed get
// theirs on their next page, without signing in again.
func (s *Server) keepDeviceToken(w http.ResponseWriter, r *http.Request, id *kiosko.Identity) {
	if s.d.Auth.ValidDeviceToken(s.d.DeviceToken(r), id.Account.ID) {
		return
	}
	s.d.SetDeviceToken(w, s.d.Auth.IssueDeviceToken(id.Account.ID))
}

// TooLarge answers 413 with the site's error page, for a body over the
// route's cap (httpx.BodyLimits).
func (s *Server) TooLarge(w http.ResponseWriter, r *http.Request) {
	p := s.NewPage(r, "")
	p.Title = p.T("security.toolarge.title")
	w.Header().Set("Connection", "close")
	s.Render(w, r, http.StatusRequestEntityTooLarge, "toolarge", p)
}
