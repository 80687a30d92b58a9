package api

import (
	"net/http"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
)

// The reader's own account for apps: verifying the address, changing it,
// downloading everything stored, receipts and deletion. Each route calls
// the same kiosko.Accounts method as the page of /account/... does, with
// the same rules and limits; they answer 404 when the site runs without
// the Accounts service.
func init() {
	routeHooks = append(routeHooks, func(h *Handler, mux *http.ServeMux) {
		mux.Handle("GET /api/v1/account", h.SignedIn(h.showAccount))
		mux.Handle("POST /api/v1/account/verification", h.SignedIn(h.resendVerification))
		mux.HandleFunc("POST /api/v1/account/verification/confirm", h.confirmVerification)
		mux.Handle("POST /api/v1/account/email", h.SignedIn(h.changeEmail))
		mux.HandleFunc("POST /api/v1/account/email/confirm", h.confirmEmail)
		mux.Handle("GET /api/v1/account/export", h.SignedIn(h.exportAccount))
		mux.Handle("GET /api/v1/account/receipts", h.SignedIn(h.receipts))
		mux.Handle("DELETE /api/v1/account", h.SignedIn(h.deleteAccount))
	})
}

var errNoAccounts = kiosko.Errorf(kiosko.ENOTFOUND, "error.not_found", "No such API call.")

// accounts returns the Accounts service, or answers 404 without it.
func (h *Handler) accounts(w http.ResponseWriter, r *http.Request) (*kiosko.Accounts, bool) {
	if h.d.Accounts == nil {
		h.Error(w, r, errNoAccounts)
		return nil, false
	}
	return h.d.Accounts, true
}

type accountJSON struct {
	ID            int64  `json:"id"`
	Email         string `json:"email"`
	Name          string `json:"name"`
	Lang          string `json:"lang"` // the language of the account's emails
	EmailVerified bool   `json:"email_verified"`
	CreatedAt     string `json:"created_at"`
}

// showAccount is GET /api/v1/account: who is signed in, and whether the
// address is verified yet (an app offers a new link when it is not).
func (h *Handler) showAccount(w http.ResponseWriter, r *http.Request, id *kiosko.Identity) {
	a := id.Account
	httpx.WriteJSON(w, http.StatusOK, accountJSON{ID: a.ID, Email: a.Email, Name: a.Name, Lang: a.Lang, EmailVerified: a.EmailVerifiedAt != nil,
		CreatedAt: timestamp(a.CreatedAt)})
}

// resendVerification is POST /api/v1/account/verification: a new link to
// the address (202), earlier links stop working, three an hour (429). An
// address already verified gets nothing (204).
func (h *Handler) resendVerification(w http.ResponseWriter, r *http.Request, id *kiosko.Identity) {
	svc, ok := h.accounts(w, r)
	if !ok {
		return
	}
	if id.Account.EmailVerifiedAt != nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err := svc.SendVerification(r.Context(), id.Account); err != nil {
		h.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

type tokenRequest struct {
	Token string `json:"token"`
}

// confirmVerification is POST /api/v1/account/verification/confirm: the
// token of a verification link, for an app that opens the link itself.
// Like the link, it needs no session.
func (h *Handler) confirmVerification(w http.ResponseWriter, r *http.Request) {
	svc, ok := h.accounts(w, r)
	if !ok {
		return
	}
	var req tokenRequest
	if !h.decode(w, r, &req, false) {
		return
	}
	if _, err := svc.Verify(r.Context(), req.Token); err != nil {
		h.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type emailChange struct {
	CurrentPassword string `json:"current_password"`
	Email           string `json:"email"`
}

// changeEmail is POST /api/v1/account/email: a confirmation link to the
// new address and a notice to the current one, which keeps working until
// the link is followed (202).
func (h *Handler) changeEmail(w http.ResponseWriter, r *http.Request, id *kiosko.Identity) {
	svc, ok := h.accounts(w, r)
	if !ok {
		return
	}
	var req emailChange
	if !h.decode(w, r, &req, false) {
		return
	}
	if err := svc.RequestEmailChange(r.Context(), id, req.CurrentPassword, req.Email); err != nil {
		h.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// confirmEmail is POST /api/v1/account/email/confirm: the token of an
// email-change link; the account switches to the new address. No session
// needed, as with the link.
func (h *Handler) confirmEmail(w http.ResponseWriter, r *http.Request) {
	svc, ok := h.accounts(w, r)
	if !ok {
		return
	}
	var req tokenRequest
	if !h.decode(w, r, &req, false) {
		return
	}
	if _, err := svc.ConfirmEmailChange(r.Context(), req.Token); err != nil {
		h.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// exportAccount is GET /api/v1/account/export: the file /account/export
// downloads, byte for byte the same form, five an hour per account (429).
func (h *Handler) exportAccount(w http.ResponseWriter, r *http.Request, id *kiosko.Identity) {
	svc, ok := h.accounts(w, r)
	if !ok {
		return
	}
	exp, err := svc.Export(r.Context(), id.Account, h.d.PublicURL)
	var body []byte
	if err == nil {
		body, err = exp.JSON()
	}
	if err != nil {
		h.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+exp.FileName()+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}

type receiptJSON struct {
	Provider    string `json:"provider"` // stripe, or manual for a plan granted by hand
	ID          string `json:"id"`       // the provider's invoice id; the subscription's for a grant
	Number      string `json:"number,omitempty"`
	AmountCents int64  `json:"amount_cents"`
	Currency    string `json:"currency,omitempty"`
	Status      string `json:"status"` // paid, open, void, uncollectible, draft; granted
	Date        string `json:"date"`
	HostedURL   string `json:"hosted_url,omitempty"`
	PDFURL      string `json:"pdf_url,omitempty"`
	Plan        string `json:"plan,omitempty"`  // for a grant: the plan granted
	Until       string `json:"until,omitempty"` // for a grant: when it ends
	Granted     bool   `json:"granted"`
}

// receipts is GET /api/v1/account/receipts: the reader's invoices at the
// payment provider and the plans granted by hand, newest first.
func (h *Handler) receipts(w http.ResponseWriter, r *http.Request, id *kiosko.Identity) {
	svc, ok := h.accounts(w, r)
	if !ok {
		return
	}
	list, err := svc.Receipts(r.Context(), id.Account)
	if err != nil {
		h.Error(w, r, err)
		return
	}
	out := make([]receiptJSON, 0, len(list))
	for _, rc := range list {
		out = append(out, receiptJSON{Provider: rc.Provider, ID: rc.Ref, Number: rc.Number, AmountCents: rc.AmountCents, Currency: rc.Currency,
			Status: rc.Status, Date: timestamp(rc.At), HostedURL: rc.HostedURL, PDFURL: rc.PDFURL, Plan: rc.PlanCode, Until: timestamp(rc.Until),
			Granted: rc.Provider == kiosko.ProviderManual})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// deleteAccount is DELETE /api/v1/account {current_password}: what the
// reader pays for ends at the period's end, the seats they gave are freed
// and their members told, everything about them is erased, every session
// ends (this one too), and a last email confirms it (204). If the payment
// provider cannot be reached nothing is deleted (503).
func (h *Handler) deleteAccount(w http.ResponseWriter, r *http.Request, id *kiosko.Identity) {
	svc, ok := h.accounts(w, r)
	if !ok {
		return
	}
	var req passwordCheck
	if !h.decode(w, r, &req, false) {
		return
	}
	if _, err := svc.DeleteOwn(r.Context(), id, req.CurrentPassword); err != nil {
		h.Error(w, r, err)
		return
	}
	if r.Header.Get("Authorization") == "" {
		h.d.ClearSession(w)
	}
	w.WriteHeader(http.StatusNoContent)
}
