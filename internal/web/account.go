package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
)

// FormView holds what a reader typed, to fill a form in again.
type FormView struct {
	Email string
	Name  string
	Next  string
	Token string // password reset
	Field string // the field at fault
	Done  bool   // the form did its job (forgot, reset)
}

// maxFormBytes bounds a form body.
const maxFormBytes = 64 << 10

// parseForm reads a form body; a body that cannot be read is bad input.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return kiosko.Errorf(kiosko.EINVALID, "error.bad_request", "bad form: %v", err)
	}
	return nil
}

// formPage renders a form again with err's message in the reader's language.
func (s *Server) formPage(w http.ResponseWriter, r *http.Request, name, title string, f *FormView, err error) {
	if err != nil && !userError(err) {
		s.ServerError(w, r, err)
		return
	}
	p := s.NewPage(r, "")
	p.Title = p.T(title)
	p.Data = f
	p.Scripts = []string{"tz.js"}
	status := http.StatusOK
	if err != nil {
		p.Error = s.d.Catalog.Error(p.Lang, err)
		var e *kiosko.Error
		if errors.As(err, &e) {
			f.Field = e.Field
		}
		status = formStatus(err)
	}
	s.Render(w, r, status, name, p)
}

func (s *Server) signupForm(w http.ResponseWriter, r *http.Request) {
	s.formPage(w, r, "signup", "web.signup.title", &FormView{Next: safeNext(r.URL.Query().Get("next"))}, nil)
}

// signup creates a free account and signs the reader in.
func (s *Server) signup(w http.ResponseWriter, r *http.Request) {
	f := &FormView{}
	if err := parseForm(w, r); err != nil {
		s.formPage(w, r, "signup", "web.signup.title", f, err)
		return
	}
	f.Email, f.Name, f.Next = strings.TrimSpace(r.PostForm.Get("email")), strings.TrimSpace(r.PostForm.Get("name")), safeNext(r.PostForm.Get("next"))
	a, err := s.d.Auth.SignUpFrom(r.Context(), kiosko.SignUpRequest{
		Email: f.Email, Password: r.PostForm.Get("password"), Name: f.Name, Lang: s.pageLang(r, s.editions(r)),
	}, s.d.Client(r, "", ""))
	if err != nil {
		s.formPage(w, r, "signup", "web.signup.title", f, err)
		return
	}
	s.afterSignUp(r, a) // accounts.go: the verification link
	res, err := s.d.Auth.StartSession(r.Context(), a, s.signInClient(w, r))
	if err != nil {
		s.ServerError(w, r, fmt.Errorf("sign up: %w", err))
		return
	}
	s.endPrevious(r, res)
	s.d.SetSession(w, res.Token)
	s.d.SetDeviceToken(w, res.DeviceToken)
	redirect(w, r, orDefault(f.Next, "/account?done=signup"))
}

func (s *Server) signinForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if httpx.IdentityFrom(r.Context()) != nil {
		redirect(w, r, orDefault(next, "/account"))
		return
	}
	f := &FormView{Next: next, Done: r.URL.Query().Get("done") == "reset"}
	s.formPage(w, r, "signin", "web.signin.title", f, nil)
}

func (s *Server) signin(w http.ResponseWriter, r *http.Request) {
	f := &FormView{}
	if err := parseForm(w, r); err != nil {
		s.formPage(w, r, "signin", "web.signin.title", f, err)
		return
	}
	f.Email, f.Next = strings.TrimSpace(r.PostForm.Get("email")), safeNext(r.PostForm.Get("next"))
	res, err := s.d.Auth.SignIn(r.Context(), f.Email, r.PostForm.Get("password"), s.signInClient(w, r))
	if err != nil {
		s.formPage(w, r, "signin", "web.signin.title", f, err)
		return
	}
	s.endPrevious(r, res)
	s.d.SetSession(w, res.Token)
	s.d.SetDeviceToken(w, res.DeviceToken)
	s.signedInLang(r, res)
	redirect(w, r, orDefault(f.Next, "/account"))
}

func (s *Server) signout(w http.ResponseWriter, r *http.Request) {
	p := s.NewPage(r, "")
	if p.Identity != nil {
		if err := s.d.Auth.SignOut(r.Context(), p.Identity); err != nil {
			s.ServerError(w, r, err)
			return
		}
	}
	s.d.ClearSession(w)
	redirect(w, r, p.HomePath())
}

func (s *Server) forgotForm(w http.ResponseWriter, r *http.Request) {
	s.formPage(w, r, "forgot", "web.forgot.title", &FormView{}, nil)
}

// forgot answers the same whether or not the address has an account.
func (s *Server) forgot(w http.ResponseWriter, r *http.Request) {
	f := &FormView{}
	if err := parseForm(w, r); err != nil {
		s.formPage(w, r, "forgot", "web.forgot.title", f, err)
		return
	}
	f.Email = strings.TrimSpace(r.PostForm.Get("email"))
	if err := s.d.Auth.RequestPasswordReset(r.Context(), f.Email, s.d.Client(r, "", "")); err != nil {
		s.formPage(w, r, "forgot", "web.forgot.title", f, err)
		return
	}
	f.Done = true
	s.formPage(w, r, "forgot", "web.forgot.title", f, nil)
}

func (s *Server) resetForm(w http.ResponseWriter, r *http.Request) {
	s.formPage(w, r, "reset", "web.reset.title", &FormView{Token: r.URL.Query().Get("token")}, nil)
}

func (s *Server) reset(w http.ResponseWriter, r *http.Request) {
	f := &FormView{}
	if err := parseForm(w, r); err != nil {
		s.formPage(w, r, "reset", "web.reset.title", f, err)
		return
	}
	f.Token = r.PostForm.Get("token")
	if _, err := s.d.Auth.ResetPassword(r.Context(), f.Token, r.PostForm.Get("password")); err != nil {
		s.formPage(w, r, "reset", "web.reset.title", f, err)
		return
	}
	// Every session ended, this browser's too.
	s.d.ClearSession(w)
	redirect(w, r, "/signin?done=reset")
}

// AccountView is the data of the account page.
type AccountView struct {
	PlanName    string
	Status      string // a catalog key: account.status.*
	RenewsAt    time.Time
	Subscribed  bool // owns a subscription
	SeatElse    bool // holds a seat in someone else's subscription
	Subs        []SubscriptionRow
	Devices     []DeviceRow
	Field       string // the field at fault in a device form
	ErrorDevice string // the device whose form failed
}

// SubscriptionRow is one subscription on the account page.
type SubscriptionRow struct {
	PlanName  string
	StatusKey string
	Seats     int
	RenewsAt  time.Time
	Cancels   bool
}

// DeviceRow is one signed-in device on the account page.
type DeviceRow struct {
	ID        string
	Name      string // "" when unknown
	Place     string
	Lang      string // the language the device reads in, named in the page's language; "" when not known
	FirstSeen time.Time
	LastSeen  time.Time
	Reading   bool // holds the seat's reading lease now
	Current   bool // the device of this page
}

func (s *Server) account(w http.ResponseWriter, r *http.Request) {
	id, ok := s.requireSignIn(w, r)
	if !ok {
		return
	}
	notice := map[string]string{
		"signup": "web.account.done.signup", "password": "web.account.done.password",
		"device": "web.account.done.device", "others": "web.account.done.others",
	}[r.URL.Query().Get("done")]
	s.renderAccount(w, r, id, http.StatusOK, notice, "", nil)
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, id *kiosko.Identity, status int, notice, device string, formErr error) {
	ctx, now := r.Context(), s.d.Clock.Now()
	p := s.NewPage(r, "")
	p.Title = p.T("web.account.title")
	v := &AccountView{ErrorDevice: device}
	p.Data = v
	if notice != "" {
		p.Notice = p.T(notice)
	}
	if formErr != nil {
		p.Error = s.d.Catalog.Error(p.Lang, formErr)
		var e *kiosko.Error
		if errors.As(formErr, &e) {
			v.Field = e.Field
		}
	}
	subs, err := s.d.Store.FindSubscriptionsByOwner(ctx, id.Account.ID)
	if err != nil {
		s.ServerError(w, r, fmt.Errorf("account: %w", err))
		return
	}
	for _, sub := range subs {
		v.Subs = append(v.Subs, SubscriptionRow{PlanName: s.planName(sub.PlanCode, p.Lang), StatusKey: "web.account.status." + sub.Status,
			Seats: sub.Seats, RenewsAt: sub.CurrentPeriodEnd, Cancels: sub.CancelAtPeriodEnd})
	}
	_, sub, err := s.d.Store.FindSeatForAccount(ctx, id.Account.ID, now)
	switch {
	case err == nil:
		v.PlanName, v.Status, v.RenewsAt = s.planName(sub.PlanCode, p.Lang), "web.account.status."+sub.Status, sub.CurrentPeriodEnd
		v.SeatElse = sub.OwnerID != id.Account.ID
	case kiosko.IsNotFound(err):
		v.PlanName, v.Status = s.planName(kiosko.PlanFree, p.Lang), "web.account.status.free"
	default:
		s.ServerError(w, r, fmt.Errorf("account: %w", err))
		return
	}
	devs, err := s.d.Store.FindSignedInDevices(ctx, id.Account.ID, now)
	if err != nil {
		s.ServerError(w, r, fmt.Errorf("account: devices: %w", err))
		return
	}
	var holder kiosko.Lease
	if s.d.Reading != nil {
		holder, _ = s.d.Reading.Holder(ctx, id.Account.ID)
	}
	for _, d := range devs {
		v.Devices = append(v.Devices, DeviceRow{ID: d.ID, Name: d.Name, Place: d.Place, Lang: d.Lang, FirstSeen: d.FirstSeen, LastSeen: d.LastSeen,
			Reading: holder.Device != "" && holder.Device == d.ID, Current: d.ID == id.Session.DeviceID})
	}
	s.tellDevicesApart(p, v.Devices) // accounts.go
	s.Render(w, r, status, "account", p)
}

// planName is a plan's name in lang, or its code when the plan is gone
// from the catalogue.
func (s *Server) planName(code, lang string) string {
	if p, err := s.d.Plans.Find(code); err == nil {
		return p.Name(lang)
	}
	return code
}

func (s *Server) passwordForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.requireSignIn(w, r); !ok {
		return
	}
	s.formPage(w, r, "password", "web.password.title", &FormView{}, nil)
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	id, ok := s.requireSignIn(w, r)
	if !ok {
		return
	}
	f := &FormView{}
	if err := parseForm(w, r); err != nil {
		s.formPage(w, r, "password", "web.password.title", f, err)
		return
	}
	if err := s.d.Auth.ChangePassword(r.Context(), id, r.PostForm.Get("current_password"), r.PostForm.Get("new_password")); err != nil {
		s.formPage(w, r, "password", "web.password.title", f, err)
		return
	}
	redirect(w, r, "/account?done=password")
}

func (s *Server) signoutDevice(w http.ResponseWriter, r *http.Request) {
	id, ok := s.requireSignIn(w, r)
	if !ok {
		return
	}
	device := r.PathValue("id")
	err := parseForm(w, r)
	if err == nil {
		err = s.d.Auth.SignOutDevice(r.Context(), id, device, r.PostForm.Get("current_password"))
	}
	if err != nil {
		if !userError(err) {
			s.ServerError(w, r, err)
			return
		}
		s.renderAccount(w, r, id, formStatus(err), "", device, err)
		return
	}
	if device == id.Session.DeviceID {
		s.d.ClearSession(w)
		redirect(w, r, "/signin")
		return
	}
	redirect(w, r, "/account?done=device")
}

func (s *Server) signoutOthers(w http.ResponseWriter, r *http.Request) {
	id, ok := s.requireSignIn(w, r)
	if !ok {
		return
	}
	err := parseForm(w, r)
	if err == nil {
		err = s.d.Auth.SignOutOthers(r.Context(), id, r.PostForm.Get("current_password"))
	}
	if err != nil {
		if !userError(err) {
			s.ServerError(w, r, err)
			return
		}
		s.renderAccount(w, r, id, formStatus(err), "", "others", err)
		return
	}
	redirect(w, r, "/account?done=others")
}

// place is the coarse place a sign-in form reports: the browser's time
// zone ("Europe/Madrid"), filled in by static/tz.js. Anything else is dropped.
func place(r *http.Request) string {
	tz := strings.TrimSpace(r.PostForm.Get("tz"))
	if len(tz) > 64 {
		return ""
	}
	for _, c := range tz {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("/_+-", c)) {
			return ""
		}
	}
	return tz
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
