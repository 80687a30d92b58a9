package api

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
)

type signInRequest struct {
	Email      string `json:"email"`
	Password   string `json:"password"`
	DeviceID   string `json:"device_id"`
	DeviceName string `json:"device_name"`
	// DeviceToken is the device_token of the app's last sign-in to this
	// account: with it, guessing elsewhere never locks the app out.
	DeviceToken string `json:"device_token"`
}

type signInResponse struct {
	Token       string `json:"token"`
	DeviceID    string `json:"device_id"`
	DeviceToken string `json:"device_token"`
}

// maxDeviceName bounds a name an app gives its device, in characters.
const maxDeviceName = 80

// createSession is POST /api/v1/sessions: an app signs in and gets a Bearer
// token. A new token at every sign-in; the device keeps its id when the app
// sends a valid one.
func (h *Handler) createSession(w http.ResponseWriter, r *http.Request) {
	var req signInRequest
	if !h.decode(w, r, &req, false) {
		return
	}
	client := h.d.Client(r, req.DeviceID, "")
	client.DeviceName = deviceName(req.DeviceName)
	if req.DeviceToken != "" {
		client.DeviceToken = req.DeviceToken
	}
	res, err := h.d.Auth.SignIn(r.Context(), req.Email, req.Password, client)
	if err != nil {
		h.Error(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, signInResponse{Token: res.Token, DeviceID: res.DeviceID, DeviceToken: res.DeviceToken})
}

// deviceName cleans a device name an app chose: trimmed, no control
// characters, at most maxDeviceName characters.
func deviceName(s string) string {
	s = kiosko.CleanName(strings.ReplaceAll(s, string(utf8.RuneError), ""))
	if utf8.RuneCountInString(s) > maxDeviceName {
		s = strings.TrimSpace(string([]rune(s)[:maxDeviceName]))
	}
	return s
}

// deleteSession is DELETE /api/v1/sessions/current: signing out this device.
func (h *Handler) deleteSession(w http.ResponseWriter, r *http.Request, id *kiosko.Identity) {
	if err := h.d.Auth.SignOut(r.Context(), id); err != nil {
		h.Error(w, r, err)
		return
	}
	if r.Header.Get("Authorization") == "" {
		h.d.ClearSession(w)
	}
	w.WriteHeader(http.StatusNoContent)
}
