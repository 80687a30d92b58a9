package api

import (
	"net/http"

	"github.com/kiosko/kiosko"
)

type passwordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword is POST /api/v1/account/password. Every other session of
// the account ends at once and its pages are told; this one stays.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request, id *kiosko.Identity) {
	var req passwordChange
	if !h.decode(w, r, &req, false) {
		return
	}
	if err := h.d.Auth.ChangePassword(r.Context(), id, req.CurrentPassword, req.NewPassword); err != nil {
		h.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
