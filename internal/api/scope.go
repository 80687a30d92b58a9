package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
)

// Caller is who makes a publisher call (the newsroom, webhooks, the
// console): a server with an API key, or a person signed in with a role
// that carries the scope.
type Caller struct {
	Key      *kiosko.APIKey   // nil for a person
	Identity *kiosko.Identity // nil for a key
}

// Name says who the caller is, for revisions and logs: "key:NAME" or the
// account's email.
func (c *Caller) Name() string {
	if c.Key != nil {
		return "key:" + c.Key.Name
	}
	return c.Identity.Account.Email
}

// AccountID is the signed-in account's id, 0 for a key.
func (c *Caller) AccountID() int64 {
	if c.Identity == nil {
		return 0
	}
	return c.Identity.Account.ID
}

// CallerFunc is a handler for a call a scope allows.
type CallerFunc func(w http.ResponseWriter, r *http.Request, c *Caller)

// apiKeyTouchEvery spaces the writes of a key's last use.
const apiKeyTouchEvery = time.Minute

// RequireScope answers 401 unless the request carries a live API key
// (Authorization: Bearer kiosko_...) or a session, and 403 unless that key
// has scope or that account's role does (kiosko.RoleHasScope), then calls
// fn. Any route of the package may use it:
//
//	m.Handle("POST /api/v1/webhooks", h.RequireScope(kiosko.ScopeWebhooks, h.addWebhook))
func (h *Handler) RequireScope(scope string, fn CallerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := h.caller(r, scope)
		if err != nil {
			h.Error(w, r, err)
			return
		}
		fn(w, r, c)
	})
}

func (h *Handler) caller(r *http.Request, scope string) (*Caller, error) {
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer "+kiosko.APIKeyPrefix) {
		secret := strings.TrimSpace(strings.TrimPrefix(auth, "Bearer "))
		k, err := h.d.Store.FindAPIKeyByHash(r.Context(), kiosko.HashAPIKey(secret))
		if kiosko.IsNotFound(err) || err == nil && k.Revoked() {
			return nil, kiosko.Errorf(kiosko.EUNAUTHORIZED, "error.apikey_invalid", "This API key is unknown or was revoked.")
		} else if err != nil {
			return nil, err
		}
		if !k.Has(scope) {
			return nil, kiosko.Errorf(kiosko.EFORBIDDEN, "error.apikey_scope_missing", "This API key lacks the %s scope.", scope)
		}
		if now := h.d.Clock.Now(); k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) >= apiKeyTouchEvery {
			if err := h.d.Store.TouchAPIKey(r.Context(), k.ID, now); err != nil {
				h.log().Warn("api key last use", "key", k.ID, "err", err)
			}
		}
		return &Caller{Key: k}, nil
	}
	id, err := h.d.Identify(r)
	if err != nil {
		return nil, err
	}
	if !kiosko.RoleHasScope(id.Account.Role, scope) {
		return nil, kiosko.Errorf(kiosko.EFORBIDDEN, "error.role_scope_missing", "Your account may not make this call.")
	}
	return &Caller{Identity: id}, nil
}
