package api

import (
	"net/http"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
)

func init() {
	routeHooks = append(routeHooks, func(h *Handler, mux *http.ServeMux) {
		mux.HandleFunc("POST /api/v1/newsletter/subscriptions", h.subscribeNewsletter)
	})
}

// subscribeNewsletter starts a double opt-in for anonymous and signed-in
// readers alike. It answers 202 whether or not the address was on the
// list already, so it tells nobody who subscribes.
func (h *Handler) subscribeNewsletter(w http.ResponseWriter, r *http.Request) {
	if h.d.Newsletter == nil {
		h.Error(w, r, kiosko.Errorf(kiosko.ENOTIMPLEMENTED, "error.not_found", "The newsletter is not available."))
		return
	}
	var req struct {
		Email   string `json:"email"`
		Edition string `json:"edition"`
		Name    string `json:"name"`
	}
	if !h.decode(w, r, &req, false) {
		return
	}
	if err := h.d.Newsletter.Subscribe(r.Context(), kiosko.SubscribeRequest{Edition: req.Edition, Email: req.Email, Name: req.Name, ClientIP: h.d.ClientIP(r)}); err != nil {
		h.Error(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusAccepted, map[string]string{"status": "confirmation_sent"})
}
