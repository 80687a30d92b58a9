package api

import (
	"net/http"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
)

type deviceJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	FirstSeen string `json:"first_seen"`
	LastSeen  string `json:"last_seen"`
	Place     string `json:"place"`
	Lang      string `json:"lang,omitempty"` // the language the device reads in (es, en), when known
	Reading   bool   `json:"reading"`        // holds the seat's reading lease
	Current   bool   `json:"current"`        // the device asking
}

// listDevices is GET /api/v1/devices: every device signed in to the
// account, most recently seen first.
func (h *Handler) listDevices(w http.ResponseWriter, r *http.Request, id *kiosko.Identity) {
	ctx := r.Context()
	devices, err := h.d.Store.FindSignedInDevices(ctx, id.Account.ID, h.d.Clock.Now())
	if err != nil {
		h.Error(w, r, err)
		return
	}
	holder, reading := h.d.Reading.Holder(ctx, id.Account.ID)
	out := make([]deviceJSON, 0, len(devices))
	for _, dev := range devices {
		out = append(out, deviceJSON{ID: dev.ID, Name: dev.Name, FirstSeen: timestamp(dev.FirstSeen), LastSeen: timestamp(dev.LastSeen), Place: dev.Place, Lang: dev.Lang,
			Reading: reading && holder.Device == dev.ID, Current: dev.ID == id.Session.DeviceID})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

type passwordCheck struct {
	CurrentPassword string `json:"current_password"`
}

// signOutDevice is DELETE /api/v1/devices/{id}: every session of that
// device ends at once and its open pages are told.
func (h *Handler) signOutDevice(w http.ResponseWriter, r *http.Request, id *kiosko.Identity) {
	var req passwordCheck
	if !h.decode(w, r, &req, false) {
		return
	}
	if err := h.d.Auth.SignOutDevice(r.Context(), id, r.PathValue("id"), req.CurrentPassword); err != nil {
		h.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
