package api

import (
	"net/http"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
)

// readingRequest is the body of claim, heartbeat and takeover. Active is a
// pointer because an absent "active" means true: a client that does not
// track interaction is taken to have a person in front of it.
type readingRequest struct {
	Article string `json:"article"`
	Active  *bool  `json:"active"`
}

func (q readingRequest) active() bool { return q.Active == nil || *q.Active }

// readingJSON is the 200 answer of claim and heartbeat.
type readingJSON struct {
	Status         string  `json:"status"`
	HeartbeatEvery float64 `json:"heartbeat_every"` // seconds
	LeaseTTL       float64 `json:"lease_ttl"`       // seconds
	PresenceWindow float64 `json:"presence_window"` // seconds: how soon a displaced page's report counts
	SharingWarning bool    `json:"sharing_warning"`
	Entitlement    string  `json:"entitlement,omitempty"` // a JWT a publisher verifies (entitlement.go)
}

// takeoverJSON is the 200 answer of a takeover. It also carries the
// heartbeat timing, which the page needs from then on and has not had yet
// when its claim met a conflict.
type takeoverJSON struct {
	Status         string  `json:"status"`
	Contested      bool    `json:"contested"`
	SharingWarning bool    `json:"sharing_warning"`
	HeartbeatEvery float64 `json:"heartbeat_every"`
	LeaseTTL       float64 `json:"lease_ttl"`
	PresenceWindow float64 `json:"presence_window"`
	Entitlement    string  `json:"entitlement,omitempty"`
}

// refusedJSON is the 409 (conflict, displaced) and 402 (paywall) answer.
type refusedJSON struct {
	Status      string           `json:"status"`
	OtherDevice *otherDeviceJSON `json:"other_device,omitempty"`
}

type otherDeviceJSON struct {
	Name     string `json:"name"`
	LastSeen string `json:"last_seen"`
}

// reader is the signed-in device asking to read, named as its device list
// shows it, so the other device's interstitial says who has the lease.
func (h *Handler) reader(r *http.Request, id *kiosko.Identity) kiosko.Reader {
	// The device's name comes with the cached session, so a heartbeat does
	// not read the devices table.
	rd, err := h.d.Auth.Reader(r.Context(), id)
	if err != nil && !kiosko.IsNotFound(err) {
		h.log().Warn("find reading device", "account", id.Account.ID, "err", err)
	}
	return rd
}

// claim is POST /api/v1/reading/claim: a page opens an article.
func (h *Handler) claim(w http.ResponseWriter, r *http.Request, id *kiosko.Identity) {
	var req readingRequest
	if !h.decode(w, r, &req, false) {
		return
	}
	a, err := h.findArticle(r, req.Article)
	if err != nil {
		h.Error(w, r, err)
		return
	}
	rd, ent := h.entitle(r, id, a.ID)
	st, err := h.d.Reading.Claim(r.Context(), rd, a, req.active())
	h.writeReading(w, r, st, err, ent)
}

// heartbeat is POST /api/v1/reading/heartbeat: the page is still visible.
// Every field is optional, so an empty body is fine.
func (h *Handler) heartbeat(w http.ResponseWriter, r *http.Request, id *kiosko.Identity) {
	var req readingRequest
	if !h.decode(w, r, &req, true) {
		return
	}
	// Only a heartbeat that names its article gets an entitlement (for
	// it): signing costs about as much as the rest of a heartbeat, and
	// kiosko's own pages need none.
	rd, ent := h.entitle(r, id, req.Article)
	if req.Article == "" {
		ent = nil
	}
	st, err := h.d.Reading.Heartbeat(r.Context(), rd, req.active())
	h.writeReading(w, r, st, err, ent)
}

// takeover is POST /api/v1/reading/takeover: "continue reading here".
func (h *Handler) takeover(w http.ResponseWriter, r *http.Request, id *kiosko.Identity) {
	var req readingRequest
	if !h.decode(w, r, &req, false) {
		return
	}
	a, err := h.findArticle(r, req.Article)
	if err != nil {
		h.Error(w, r, err)
		return
	}
	rd, ent := h.entitle(r, id, a.ID)
	st, err := h.d.Reading.Takeover(r.Context(), rd, a, req.active())
	if err != nil || st.Status != kiosko.ReadingOK {
		h.writeReading(w, r, st, err, nil)
		return
	}
	s := h.d.Reading.Settings
	httpx.WriteJSON(w, http.StatusOK, takeoverJSON{Status: st.Status, Contested: st.Contested, SharingWarning: st.SharingWarning,
		HeartbeatEvery: s.HeartbeatEvery.Seconds(), LeaseTTL: s.LeaseTTL.Seconds(), PresenceWindow: s.PresenceWindow.Seconds(), Entitlement: ent.sign()})
}

// presenceRequest is the body of a displaced page's report.
type presenceRequest struct {
	Present *bool `json:"present"`
}

var errPresentRequired = kiosko.Errorf(kiosko.EINVALID, "error.present_required", "present must be true or false.")

// presence is POST /api/v1/reading/presence: a displaced page says, once,
// soon after it was displaced, whether a person interacted with it since
// (docs/api.md). The answer says whether that made the takeover count
// towards the sharing warning.
func (h *Handler) presence(w http.ResponseWriter, r *http.Request, id *kiosko.Identity) {
	var req presenceRequest
	if !h.decode(w, r, &req, false) {
		return
	}
	if req.Present == nil {
		h.Error(w, r, errPresentRequired)
		return
	}
	counted, err := h.d.Reading.Report(r.Context(), h.reader(r, id), *req.Present)
	if err != nil {
		h.Error(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, struct {
		Counted bool `json:"counted"`
	}{counted})
}

// writeReading answers a claim or heartbeat with the status bodies of the
// Reading API.
func (h *Handler) writeReading(w http.ResponseWriter, r *http.Request, st kiosko.ReadingStatus, err error, ent *entitler) {
	if err != nil {
		h.Error(w, r, err)
		return
	}
	switch st.Status {
	case kiosko.ReadingOK:
		s := h.d.Reading.Settings
		httpx.WriteJSON(w, http.StatusOK, readingJSON{Status: st.Status, HeartbeatEvery: s.HeartbeatEvery.Seconds(), LeaseTTL: s.LeaseTTL.Seconds(),
			PresenceWindow: s.PresenceWindow.Seconds(), SharingWarning: st.SharingWarning, Entitlement: ent.sign()})
	case kiosko.ReadingConflict, kiosko.ReadingDisplaced:
		body := refusedJSON{Status: st.Status, OtherDevice: &otherDeviceJSON{}}
		if o := st.Other; o != nil {
			body.OtherDevice = &otherDeviceJSON{Name: o.Name, LastSeen: timestamp(o.LastSeen)}
		}
		httpx.WriteJSON(w, http.StatusConflict, body)
	case kiosko.ReadingPaywall:
		httpx.WriteJSON(w, http.StatusPaymentRequired, refusedJSON{Status: st.Status})
	default:
		h.Error(w, r, kiosko.Errorf(kiosko.EINTERNAL, "", "unknown reading status %q", st.Status))
	}
}
