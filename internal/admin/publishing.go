package admin

import (
	"net/http"
	"strconv"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/webhook"
)

func init() {
	routeHooks = append(routeHooks, func(h *Handler, m *http.ServeMux) {
		m.HandleFunc("GET /admin/newsletter", h.newsletter)
		m.HandleFunc("GET /admin/editions", h.editions)
		m.HandleFunc("GET /admin/apikeys", h.apiKeys)
		m.HandleFunc("POST /admin/apikeys/{id}/revoke", h.revokeAPIKey)
		m.HandleFunc("GET /admin/webhooks", h.webhooks)
		m.HandleFunc("GET /admin/webhooks/{id}", h.webhook)
	})
}

// SetWebhooks gives the console the webhook outbox (nil: the webhooks
// pages say there are none).
func (h *Handler) SetWebhooks(s webhook.Store) { h.hooks = s }

type issueRow struct {
	Issue  *kiosko.Issue
	Counts kiosko.DeliveryCounts
}

// newsletter lists the issues with their delivery counts.
func (h *Handler) newsletter(w http.ResponseWriter, r *http.Request) {
	p := h.page(r, "newsletter")
	p.Title = p.T("admin.newsletter.title")
	issues, err := h.d.Store.FindIssues(r.Context(), 100)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	var rows []issueRow
	for _, is := range issues {
		c, err := h.d.Store.CountDeliveries(r.Context(), is.ID)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		rows = append(rows, issueRow{is, c})
	}
	p.Data = rows
	h.render(w, r, http.StatusOK, "newsletter", p)
}

// editions lists the editions.
func (h *Handler) editions(w http.ResponseWriter, r *http.Request) {
	p := h.page(r, "editions")
	p.Title = p.T("admin.editions.title")
	eds, err := h.d.Store.FindEditions(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if code := r.URL.Query().Get("added"); code != "" {
		p.Notice = p.T("admin.editions.added", code)
	}
	p.Data = &editionsData{Editions: eds, Form: kiosko.Edition{Lang: p.Lang}}
	h.render(w, r, http.StatusOK, "editions", p)
}

// apiKeys lists the API keys (never the keys themselves: only hashes are
// stored) with a revoke action.
func (h *Handler) apiKeys(w http.ResponseWriter, r *http.Request) {
	p := h.page(r, "apikeys")
	p.Title = p.T("admin.apikeys.title")
	keys, err := h.d.Store.FindAPIKeys(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if r.URL.Query().Get("revoked") != "" {
		p.Notice = p.T("admin.apikeys.revoked")
	}
	p.Data = &apiKeysData{Keys: keys, Scopes: kiosko.Scopes}
	h.render(w, r, http.StatusOK, "apikeys", p)
}

// revokeAPIKey revokes a key after confirmation; its callers get 401 from
// then on.
func (h *Handler) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok || r.ParseForm() != nil {
		h.notFound(w, r)
		return
	}
	keys, err := h.d.Store.FindAPIKeys(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	var key *kiosko.APIKey
	for _, k := range keys {
		if k.ID == id && k.RevokedAt == nil {
			key = k
		}
	}
	if key == nil {
		h.notFound(w, r)
		return
	}
	if r.PostForm.Get("confirm") != "yes" {
		p := h.page(r, "apikeys")
		p.Title = p.T("admin.confirm.title")
		p.Data = &confirmData{Action: "/admin/apikeys/" + strconv.FormatInt(id, 10) + "/revoke", Back: "/admin/apikeys",
			Question: p.T("admin.confirm.revoke_key", key.Name, key.Prefix)}
		h.render(w, r, http.StatusOK, "confirm", p)
		return
	}
	if err := h.c.RevokeAPIKey(r.Context(), h.page(r, "").Admin, key); err != nil {
		h.fail(w, r, err, nil)
		return
	}
	http.Redirect(w, r, "/admin/apikeys?revoked=1", http.StatusSeeOther)
}

type endpointRow struct {
	Endpoint         *webhook.Endpoint
	Pending, Failed  int
	Delivered, Total int
}

// webhooks lists the endpoints with their messages by status.
func (h *Handler) webhooks(w http.ResponseWriter, r *http.Request) {
	p := h.page(r, "webhooks")
	p.Title = p.T("admin.webhooks.title")
	var rows []endpointRow
	if h.hooks != nil {
		eps, err := h.hooks.FindWebhookEndpoints(r.Context())
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		for _, ep := range eps {
			msgs, err := h.hooks.FindWebhookMessages(r.Context(), ep.ID)
			if err != nil {
				h.serverError(w, r, err)
				return
			}
			row := endpointRow{Endpoint: ep, Total: len(msgs)}
			for _, m := range msgs {
				switch m.Status {
				case webhook.StatusPending:
					row.Pending++
				case webhook.StatusFailed:
					row.Failed++
				case webhook.StatusDelivered:
					row.Delivered++
				}
			}
			rows = append(rows, row)
		}
	}
	p.Data = rows
	h.render(w, r, http.StatusOK, "webhooks", p)
}

type messageRow struct {
	Message  *webhook.Message
	Attempts []*webhook.Attempt
}

type endpointData struct {
	Endpoint *webhook.Endpoint
	Messages []messageRow
}

// webhook shows one endpoint's newest deliveries and every attempt.
func (h *Handler) webhook(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok || h.hooks == nil {
		h.notFound(w, r)
		return
	}
	ep, err := h.hooks.FindWebhookEndpoint(r.Context(), id)
	if err != nil {
		h.fail(w, r, err, nil)
		return
	}
	msgs, err := h.hooks.FindWebhookMessages(r.Context(), id)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if len(msgs) > 100 {
		msgs = msgs[len(msgs)-100:]
	}
	d := &endpointData{Endpoint: ep}
	for i := len(msgs) - 1; i >= 0; i-- {
		atts, err := h.hooks.FindWebhookAttempts(r.Context(), msgs[i].ID)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		d.Messages = append(d.Messages, messageRow{msgs[i], atts})
	}
	p := h.page(r, "webhooks")
	p.Title = ep.URL
	p.Data = d
	h.render(w, r, http.StatusOK, "webhook", p)
}
