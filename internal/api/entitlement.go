package api

import (
	"net/http"
	"time"

	"github.com/kiosko/kiosko"
)

// entitler signs the entitlement of one reading answer, if it is
// "reading". It is taken before the reading call, so exp (the time taken
// plus the lease's TTL) is never later than the lapse of the lease that
// call grants or renews.
type entitler struct {
	h       *Handler
	r       *http.Request
	account int64
	article string
	device  string
	exp     time.Time
}

// entitle returns the reader of the request and its entitler.
func (h *Handler) entitle(r *http.Request, id *kiosko.Identity, article string) (kiosko.Reader, *entitler) {
	rd := h.reader(r, id)
	if h.d.Entitlements == nil {
		return rd, nil
	}
	return rd, &entitler{h: h, r: r, account: rd.Account.ID, article: article, device: rd.DeviceID,
		exp: h.d.Reading.Clock.Now().Add(h.d.Reading.Settings.LeaseTTL)}
}

// sign returns the entitlement JWT, or "" without an issuer or when
// signing fails (logged: reading goes on, only the proof is missing).
func (e *entitler) sign() string {
	if e == nil {
		return ""
	}
	tok, err := e.h.d.Entitlements.Sign(e.r.Context(), e.account, e.article, e.device, e.exp)
	if err != nil {
		e.h.log().Error("sign entitlement", "account", e.account, "err", err)
		return ""
	}
	return tok
}
