package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
	"github.com/kiosko/kiosko/webhook"
)

// The webhook endpoints over HTTP, for a publisher's own tooling: an API
// key with scope webhooks (or an admin's session). The same as kiosko
// webhook add|list|remove.
func init() {
	routeHooks = append(routeHooks, func(h *Handler, mux *http.ServeMux) {
		mux.Handle("POST /api/v1/webhooks", h.RequireScope(kiosko.ScopeWebhooks, h.addWebhook))
		mux.Handle("GET /api/v1/webhooks", h.RequireScope(kiosko.ScopeWebhooks, h.listWebhooks))
		mux.Handle("DELETE /api/v1/webhooks/{id}", h.RequireScope(kiosko.ScopeWebhooks, h.removeWebhook))
	})
}

type webhookRequest struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

type webhookJSON struct {
	ID           int64    `json:"id"`
	URL          string   `json:"url"`
	Events       []string `json:"events"` // empty: every type
	Enabled      bool     `json:"enabled"`
	CreatedAt    string   `json:"created_at"`
	FailingSince string   `json:"failing_since,omitempty"`
	DisabledAt   string   `json:"disabled_at,omitempty"`
	Pending      int      `json:"pending"`
	Failed       int      `json:"failed"`
	Secret       string   `json:"secret,omitempty"` // only in the answer that creates it
}

func errWebhooksUnavailable() error {
	return kiosko.Errorf(kiosko.ENOTIMPLEMENTED, "error.not_found", "This database keeps no webhooks.")
}

// webhooks is the database's webhook side, behind the NotifyingStore
// (which does not carry it) when there is one.
func (h *Handler) webhooks() (webhook.Store, bool) {
	return kiosko.StoreAs[webhook.Store](h.d.Store)
}

func endpointJSON(e *webhook.Endpoint, msgs []*webhook.Message) webhookJSON {
	out := webhookJSON{ID: e.ID, URL: e.URL, Events: e.Events, Enabled: e.Enabled, CreatedAt: timestamp(e.CreatedAt)}
	if out.Events == nil {
		out.Events = []string{}
	}
	if e.FailingSince != nil {
		out.FailingSince = timestamp(*e.FailingSince)
	}
	if e.DisabledAt != nil {
		out.DisabledAt = timestamp(*e.DisabledAt)
	}
	for _, m := range msgs {
		switch m.Status {
		case webhook.StatusPending:
			out.Pending++
		case webhook.StatusFailed:
			out.Failed++
		}
	}
	return out
}

// addWebhook is POST /api/v1/webhooks: 201 with the secret, shown once.
func (h *Handler) addWebhook(w http.ResponseWriter, r *http.Request, _ *Caller) {
	s, ok := h.webhooks()
	if !ok {
		h.Error(w, r, errWebhooksUnavailable())
		return
	}
	var req webhookRequest
	if !h.decode(w, r, &req, false) {
		return
	}
	if err := (webhook.Guard{AllowPrivate: h.d.WebhookAllowPrivate}).CheckURL(r.Context(), req.URL); err != nil {
		h.Error(w, r, err)
		return
	}
	types, err := webhook.ParseEvents(strings.Join(req.Events, ","))
	if err != nil {
		h.Error(w, r, err)
		return
	}
	e := &webhook.Endpoint{URL: req.URL, Secret: webhook.NewSecret(), Events: types, Enabled: true, CreatedAt: h.d.Clock.Now()}
	if err := s.CreateWebhookEndpoint(r.Context(), e); err != nil {
		h.Error(w, r, err)
		return
	}
	out := endpointJSON(e, nil)
	out.Secret = e.Secret
	httpx.WriteJSON(w, http.StatusCreated, out)
}

// listWebhooks is GET /api/v1/webhooks.
func (h *Handler) listWebhooks(w http.ResponseWriter, r *http.Request, _ *Caller) {
	s, ok := h.webhooks()
	if !ok {
		h.Error(w, r, errWebhooksUnavailable())
		return
	}
	eps, err := s.FindWebhookEndpoints(r.Context())
	if err != nil {
		h.Error(w, r, err)
		return
	}
	out := make([]webhookJSON, 0, len(eps))
	for _, e := range eps {
		msgs, err := s.FindWebhookMessages(r.Context(), e.ID)
		if err != nil {
			h.Error(w, r, err)
			return
		}
		out = append(out, endpointJSON(e, msgs))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// removeWebhook is DELETE /api/v1/webhooks/{id}.
func (h *Handler) removeWebhook(w http.ResponseWriter, r *http.Request, _ *Caller) {
	s, ok := h.webhooks()
	if !ok {
		h.Error(w, r, errWebhooksUnavailable())
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.Error(w, r, kiosko.Errorf(kiosko.ENOTFOUND, "error.webhook_unknown", "No such webhook endpoint."))
		return
	}
	if err := s.DeleteWebhookEndpoint(r.Context(), id); err != nil {
		h.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
