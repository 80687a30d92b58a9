package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/geoip"
	"github.com/kiosko/kiosko/internal/httpx"
)

// The reader's own data: verifying the address, changing it, downloading
// and deleting everything stored, and receipts. Routes answer 404 when the
// site runs without the Accounts service.
func init() {
	routeHooks = append(routeHooks, func(s *Server, mux *http.ServeMux) {
		s.Handle(mux, "GET /account/verify", s.verifyEmail)
		s.Handle(mux, "POST /account/verify/resend", s.resendVerification)
		s.Handle(mux, "GET /account/email", s.emailForm)
		s.Handle(mux, "POST /account/email", s.changeEmail)
		s.Handle(mux, "GET /account/email/confirm", s.confirmEmailForm)
		s.Handle(mux, "POST /account/email/confirm", s.confirmEmail)
		s.Handle(mux, "GET /account/export", s.exportAccount)
		s.Handle(mux, "GET /account/delete", s.deleteForm)
		s.Handle(mux, "POST /account/delete", s.deleteAccount)
		s.Handle(mux, "GET /account/receipts", s.receipts)
	})
}

// afterSignUp sends the new account its verification link, off the
// request: the sign-up answer takes as long whatever the mail server does.
func (s *Server) afterSignUp(r *http.Request, a *kiosko.Account) {
	if s.d.Accounts == nil {
		return
	}
	acct := *a
	ctx := context.WithoutCancel(r.Context())
	go func() {
		if err := s.d.Accounts.SendVerification(ctx, &acct); err != nil {
			s.d.Log.Warn("verification email after sign-up", "account", acct.ID, "err", err)
		}
	}()
}

// AccountsView is the data of the pages in templates/accounts.html.
type AccountsView struct {
	Message  string // a catalog key: what happened
	Email    string
	Token    string
	Field    string
	Receipts []ReceiptRow
	Online   bool
}

// ReceiptRow is one line of /account/receipts.
type ReceiptRow struct {
	kiosko.Receipt
	Amount   string
	State    string // the status in the page's language
	PlanName string
	Granted  bool
}

func (s *Server) accountsOn(w http.ResponseWriter, r *http.Request) bool {
	if s.d.Accounts == nil {
		s.NotFound(w, r)
		return false
	}
	return true
}

// accountsPage renders one of the pages of templates/accounts.html.
func (s *Server) accountsPage(w http.ResponseWriter, r *http.Request, name, title string, v *AccountsView, err error) {
	if err != nil && !userError(err) {
		s.ServerError(w, r, err)
		return
	}
	p := s.NewPage(r, "")
	p.Title = p.T(title)
	p.Data = v
	status := http.StatusOK
	if err != nil {
		p.Error = s.d.Catalog.Error(p.Lang, err)
		if e, ok := err.(*kiosko.Error); ok {
			v.Field = e.Field
		}
		status = formStatus(err)
		if kiosko.ErrorCode(err) == kiosko.ETOOMANY {
			status = http.StatusTooManyRequests
		}
	}
	s.Render(w, r, status, name, p)
}

func (s *Server) message(w http.ResponseWriter, r *http.Request, key string) {
	s.accountsPage(w, r, "accounts_message", "accounts.title", &AccountsView{Message: key}, nil)
}

func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request) {
	if !s.accountsOn(w, r) {
		return
	}
	if _, err := s.d.Accounts.Verify(r.Context(), r.URL.Query().Get("token")); err != nil {
		s.accountsPage(w, r, "accounts_message", "accounts.title", &AccountsView{}, err)
		return
	}
	s.message(w, r, "accounts.verify.done")
}

func (s *Server) resendVerification(w http.ResponseWriter, r *http.Request) {
	if !s.accountsOn(w, r) {
		return
	}
	id, ok := s.requireSignIn(w, r)
	if !ok {
		return
	}
	if id.Account.EmailVerifiedAt != nil {
		s.message(w, r, "accounts.verify.already")
		return
	}
	if err := s.d.Accounts.SendVerification(r.Context(), id.Account); err != nil {
		s.accountsPage(w, r, "accounts_message", "accounts.title", &AccountsView{}, err)
		return
	}
	s.message(w, r, "accounts.verify.sent")
}

func (s *Server) emailForm(w http.ResponseWriter, r *http.Request) {
	if !s.accountsOn(w, r) {
		return
	}
	if _, ok := s.requireSignIn(w, r); !ok {
		return
	}
	s.accountsPage(w, r, "accounts_email", "accounts.email.title", &AccountsView{}, nil)
}

func (s *Server) changeEmail(w http.ResponseWriter, r *http.Request) {
	if !s.accountsOn(w, r) {
		return
	}
	id, ok := s.requireSignIn(w, r)
	if !ok {
		return
	}
	v := &AccountsView{}
	if err := parseForm(w, r); err != nil {
		s.accountsPage(w, r, "accounts_email", "accounts.email.title", v, err)
		return
	}
	v.Email = strings.TrimSpace(r.PostForm.Get("email"))
	if err := s.d.Accounts.RequestEmailChange(r.Context(), id, r.PostForm.Get("current_password"), v.Email); err != nil {
		s.accountsPage(w, r, "accounts_email", "accounts.email.title", v, err)
		return
	}
	s.message(w, r, "accounts.email.sent")
}

// confirmEmailForm asks for a click before the address changes, so a mail
// scanner that follows links cannot confirm a change for the reader.
func (s *Server) confirmEmailForm(w http.ResponseWriter, r *http.Request) {
	if !s.accountsOn(w, r) {
		return
	}
	s.accountsPage(w, r, "accounts_email_confirm", "accounts.email.title", &AccountsView{Token: r.URL.Query().Get("token")}, nil)
}

func (s *Server) confirmEmail(w http.ResponseWriter, r *http.Request) {
	if !s.accountsOn(w, r) {
		return
	}
	v := &AccountsView{}
	if err := parseForm(w, r); err != nil {
		s.accountsPage(w, r, "accounts_message", "accounts.title", v, err)
		return
	}
	if _, err := s.d.Accounts.ConfirmEmailChange(r.Context(), r.PostForm.Get("token")); err != nil {
		s.accountsPage(w, r, "accounts_message", "accounts.title", v, err)
		return
	}
	s.message(w, r, "accounts.email.done")
}

// exportAccount downloads everything stored about the reader as one JSON
// file.
func (s *Server) exportAccount(w http.ResponseWriter, r *http.Request) {
	if !s.accountsOn(w, r) {
		return
	}
	id, ok := s.requireSignIn(w, r)
	if !ok {
		return
	}
	exp, err := s.d.Accounts.Export(r.Context(), id.Account, s.d.PublicURL)
	var body []byte
	if err == nil {
		body, err = exp.JSON()
	}
	if err != nil {
		// Too many downloads this hour: a page saying so (429).
		s.accountsPage(w, r, "accounts_message", "accounts.title", &AccountsView{}, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+exp.FileName()+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}

func (s *Server) deleteForm(w http.ResponseWriter, r *http.Request) {
	if !s.accountsOn(w, r) {
		return
	}
	if _, ok := s.requireSignIn(w, r); !ok {
		return
	}
	s.accountsPage(w, r, "accounts_delete", "accounts.delete.title", &AccountsView{}, nil)
}

var errConfirmDelete = &kiosko.Error{Code: kiosko.EINVALID, Key: "accounts.error.confirm_delete", Field: "confirm",
	Message: "Tick the box to confirm you want your account deleted."}

func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request) {
	if !s.accountsOn(w, r) {
		return
	}
	id, ok := s.requireSignIn(w, r)
	if !ok {
		return
	}
	v := &AccountsView{}
	err := parseForm(w, r)
	if err == nil && r.PostForm.Get("confirm") != "yes" {
		err = errConfirmDelete
	}
	if err == nil {
		_, err = s.d.Accounts.DeleteOwn(r.Context(), id, r.PostForm.Get("current_password"))
	}
	if err != nil {
		s.accountsPage(w, r, "accounts_delete", "accounts.delete.title", v, err)
		return
	}
	s.d.ClearSession(w)
	// The page after deletion is anonymous.
	r = r.WithContext(httpx.WithIdentity(r.Context(), nil))
	s.message(w, r, "accounts.delete.done")
}

func (s *Server) receipts(w http.ResponseWriter, r *http.Request) {
	if !s.accountsOn(w, r) {
		return
	}
	id, ok := s.requireSignIn(w, r)
	if !ok {
		return
	}
	p := s.NewPage(r, "")
	list, err := s.d.Accounts.Receipts(r.Context(), id.Account)
	v := &AccountsView{Online: s.d.Billing != nil && s.d.Billing.Online()}
	for _, rc := range list {
		row := ReceiptRow{Receipt: rc, Granted: rc.Provider == kiosko.ProviderManual}
		if row.Granted {
			row.PlanName = s.planName(rc.PlanCode, p.Lang)
		} else {
			row.Amount = money(p.Lang, rc.AmountCents, rc.Currency)
			row.State = rc.Status
			if key := "accounts.receipts.state." + rc.Status; s.d.Catalog.Has(p.Lang, key) {
				row.State = p.T(key)
			}
		}
		v.Receipts = append(v.Receipts, row)
	}
	s.accountsPage(w, r, "accounts_receipts", "accounts.receipts.title", v, err)
}

// money writes an amount in cents the way lang writes it: "14,99 EUR",
// "EUR 14.99".
func money(lang string, cents int64, currency string) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	whole, frac := cents/100, cents%100
	if lang == kiosko.LangEnglish {
		return fmt.Sprintf("%s%s %d.%02d", sign, currency, whole, frac)
	}
	return fmt.Sprintf("%s%d,%02d %s", sign, whole, frac, currency)
}

// signInClient is the device signing in on this browser, with the
// language it reads in: the one the reader's steps chose (the edition they
// came from, the switch), else the browser's.
func (s *Server) signInClient(w http.ResponseWriter, r *http.Request) kiosko.Client {
	c := s.d.Client(r, s.d.EnsureDevice(w, r), place(r))
	if lang := chosenLang(r, s.editions(r)); lang != "" {
		c.Lang = lang
	}
	return c
}

// tellDevicesApart names each device's country and language in the page's language
// (devices signed in before countries were kept have a time zone there,
// which is not shown), and numbers devices that share a name by when they
// were first seen ("Firefox on Linux (2)"), so the reader can tell which
// one to sign out.
func (s *Server) tellDevicesApart(p *Page, rows []DeviceRow) {
	count := map[string]int{}
	for i := range rows {
		rows[i].Place = geoip.Name(rows[i].Place, p.Lang)
		if kiosko.IsLanguage(rows[i].Lang) {
			rows[i].Lang = p.T("accounts.devices.lang." + rows[i].Lang)
		} else {
			rows[i].Lang = ""
		}
		count[rows[i].Name]++
	}
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return rows[a].FirstSeen.Compare(rows[b].FirstSeen) })
	nth := map[string]int{}
	for _, i := range order {
		name := rows[i].Name
		if name == "" || count[name] < 2 {
			continue
		}
		nth[name]++
		rows[i].Name = fmt.Sprintf("%s (%d)", name, nth[name])
	}
}
