package web

// The billing pages: upgrading (Stripe Checkout, or what to do when an
// admin grants plans by hand), the owner's seats and invitations, company
// CSV uploads and domains, accepting an invitation, joining a company by
// email domain, the Customer Portal link and the payment webhook.

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
)

func init() {
	routeHooks = append(routeHooks, func(s *Server, m *http.ServeMux) {
		for pattern, h := range map[string]http.HandlerFunc{
			"GET /billing":                          s.billingPage,
			"GET /billing/upgrade":                  s.upgradePage,
			"POST /billing/checkout":                s.checkout,
			"GET /billing/done":                     s.checkoutDone,
			"POST /billing/portal":                  s.portal,
			"POST /billing/invite":                  s.billingForm("invited#seats", s.invite),
			"POST /billing/invite/csv":              s.inviteCSV,
			"POST /billing/invitations/{id}/cancel": s.billingForm("canceled#seats", s.cancelInvitation),
			"POST /billing/seats/{id}/remove":       s.billingForm("removed#seats", s.removeMember),
			"POST /billing/seats/{id}/reassign":     s.billingForm("reassigned#seats", s.reassign),
			"POST /billing/domains":                 s.billingForm("domains#domains", s.setDomains),
			"GET /billing/join":                     s.joinPage,
			"POST /billing/join":                    s.join,
			"GET /invite/{token}":                   s.invitationPage,
			"POST /invite/{token}":                  s.acceptInvitation,
		} {
			s.Handle(m, pattern, s.withBilling(h))
		}
		// The webhook carries no session; its signature is its credential.
		m.HandleFunc("POST /billing/webhook", s.withBilling(s.webhook))
	})
}

// withBilling answers 404 while no billing service is wired (httpx.Deps.Billing).
func (s *Server) withBilling(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.d.Billing == nil {
			s.NotFound(w, r)
			return
		}
		h(w, r)
	}
}

// OnlinePayment reports whether readers can pay on the site; the plans page
// uses it to say plainly when they cannot.
func (p *Page) OnlinePayment() bool { return p.s.d.Billing != nil && p.s.d.Billing.Online() }

// UpgradePath is where "choose this plan" leads: the upgrade page, which
// takes the reader through payment (or explains how to get the plan) and
// then to inviting the other readers.
func (p *Page) UpgradePath(plan string) string {
	return "/billing/upgrade?plan=" + url.QueryEscape(plan)
}

// BillingView is the data of the billing page.
type BillingView struct {
	O         *kiosko.SeatsOverview // nil: the reader owns no subscription
	PlanName  string
	Price     string
	Per       string
	Online    bool
	Stripe    bool // the subscription is paid through Stripe (portal link)
	Member    *MemberOf
	Refused   []RefusedRow // rows of an uploaded file that were not invited
	Invited   int
	Email     string // the invite form, filled again after an error
	Domains   string
	Field     string
	SeatsLeft int // free seats not promised to an invitation
}

// MemberOf describes a seat the reader holds in someone else's subscription.
type MemberOf struct {
	Owner    string
	PlanName string
}

// RefusedRow is a refused line of an uploaded file, with its reason in the
// reader's language.
type RefusedRow struct {
	Line   int
	Email  string
	Reason string
}

var billingNotices = map[string]bool{"invited": true, "csv": true, "removed": true, "reassigned": true, "canceled": true, "domains": true, "joined": true, "checkout": true}

func (s *Server) billingPage(w http.ResponseWriter, r *http.Request) {
	id, ok := s.requireSignIn(w, r)
	if !ok {
		return
	}
	s.renderBilling(w, r, id, http.StatusOK, &BillingView{}, nil)
}

// renderBilling renders the billing page with v's form values and err's
// message, if any.
func (s *Server) renderBilling(w http.ResponseWriter, r *http.Request, id *kiosko.Identity, status int, v *BillingView, formErr error) {
	if formErr != nil && !userError(formErr) {
		s.ServerError(w, r, formErr)
		return
	}
	p := s.NewPage(r, "")
	p.Title = p.T("billing.title")
	if done := r.URL.Query().Get("done"); billingNotices[done] && formErr == nil {
		p.Notice = p.T("billing.done." + done)
	}
	if formErr != nil {
		p.Error = s.d.Catalog.Error(p.Lang, formErr)
		var e *kiosko.Error
		if errors.As(formErr, &e) {
			v.Field = e.Field
		}
	}
	ctx := r.Context()
	b := s.d.Billing
	v.Online = b.Online()
	o, err := b.Overview(ctx, id.Account.ID)
	switch {
	case err == nil:
		v.O = o
		v.SeatsLeft = o.Available
		v.Stripe = o.Subscription.Provider == kiosko.ProviderStripe && v.Online
		if o.Plan != nil {
			v.PlanName = o.Plan.Name(p.Lang)
			v.Per = p.T("web.plans.per." + o.Plan.Period)
		} else {
			v.PlanName = o.Subscription.PlanCode
		}
		v.Price = formatPrice(p.Lang, o.Subscription.PriceCents, o.Subscription.Currency)
		if v.Domains == "" {
			v.Domains = strings.Join(o.Domains, ", ")
		}
	case kiosko.IsNotFound(err):
		if seat, sub, err := s.d.Store.FindSeatForAccount(ctx, id.Account.ID, s.d.Clock.Now()); err == nil && sub.OwnerID != id.Account.ID && seat != nil {
			m := &MemberOf{PlanName: sub.PlanCode}
			if owner, err := s.d.Store.FindAccountByID(ctx, sub.OwnerID); err == nil {
				m.Owner = owner.Email
			}
			if pl, err := s.d.Plans.Find(sub.PlanCode); err == nil {
				m.PlanName = pl.Name(p.Lang)
			}
			v.Member = m
		}
	default:
		s.ServerError(w, r, err)
		return
	}
	p.Data = v
	s.Render(w, r, status, "billing", p)
}

// UpgradeView is the data of the upgrade page.
type UpgradeView struct {
	Plan     *kiosko.Plan
	PlanName string
	Price    string
	Per      string
	Seats    int
	Online   bool
	Next     string // "/billing/upgrade?plan=…", for sign-in links
	Email    string // the signed-in reader's address, to tell the publisher
	Have     bool   // the reader reads with this plan already: nothing to buy
	HaveMine bool   // Have, and the reader pays for it
}

// upgradePage leads from "share with someone: upgrade" to a plan with more
// seats: payment when it is online, plain words about who grants plans
// when it is not, and inviting once the seats are there.
func (s *Server) upgradePage(w http.ResponseWriter, r *http.Request) {
	p := s.NewPage(r, "")
	p.Title = p.T("billing.upgrade.title")
	code := orDefault(r.URL.Query().Get("plan"), kiosko.PlanPremium)
	b := s.d.Billing
	plan, err := s.d.Plans.Find(code)
	if err != nil || !plan.Paid() {
		p.Error = s.d.Catalog.Error(p.Lang, &kiosko.Error{Code: kiosko.EINVALID, Key: "error.plan_unknown"})
		p.Data = &UpgradeView{Online: b.Online()}
		s.Render(w, r, http.StatusNotFound, "billing_upgrade", p)
		return
	}
	seats, _ := strconv.Atoi(r.URL.Query().Get("seats"))
	if seats < 1 {
		seats = plan.Seats
	}
	v := s.upgradeView(p, plan, seats)
	if p.Identity != nil {
		v.Email = p.Identity.Account.Email
		// Seats enough already: straight to inviting.
		if sub, err := b.OwnedSubscription(r.Context(), p.Identity.Account.ID); err == nil && sub.Seats >= 2 && sub.Seats >= plan.Seats && !plan.SeatsPerUnit {
			redirect(w, r, "/billing#invite")
			return
		}
	}
	// Never an upgrade to the plan one reads with (reader.go); an owner of
	// a plan sold by the seat may still buy more seats.
	if current, mine := s.currentPlan(r); current == plan.Code && (!plan.SeatsPerUnit || !mine) {
		v.Have, v.HaveMine = true, mine
	}
	p.Data = v
	s.Render(w, r, http.StatusOK, "billing_upgrade", p)
}

// upgradeView describes a plan on the upgrade page (plan nil: none).
func (s *Server) upgradeView(p *Page, plan *kiosko.Plan, seats int) *UpgradeView {
	v := &UpgradeView{Online: s.d.Billing.Online(), Seats: seats}
	if plan != nil {
		v.Plan, v.PlanName, v.Next = plan, plan.Name(p.Lang), "/billing/upgrade?plan="+url.QueryEscape(plan.Code)
		v.Price, v.Per = formatPrice(p.Lang, plan.PriceCents, plan.Currency), p.T("web.plans.per."+plan.Period)
	}
	return v
}

func (s *Server) checkout(w http.ResponseWriter, r *http.Request) {
	id, ok := s.requireSignIn(w, r)
	if !ok {
		return
	}
	p := s.NewPage(r, "")
	if err := parseForm(w, r); err != nil {
		s.renderBilling(w, r, id, http.StatusBadRequest, &BillingView{}, err)
		return
	}
	code := r.PostForm.Get("plan")
	seats := 0
	if raw := strings.TrimSpace(r.PostForm.Get("seats")); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil {
			n = -1 // not a number: refused as seats below 1
		}
		seats = n
	}
	base := strings.TrimRight(s.d.PublicURL, "/")
	dest, err := s.d.Billing.Checkout(r.Context(), id.Account, code, seats,
		base+"/billing/done?plan="+url.QueryEscape(code), base+"/billing/upgrade?plan="+url.QueryEscape(code), p.Lang)
	if err != nil {
		if !userError(err) && kiosko.ErrorCode(err) != kiosko.ENOTIMPLEMENTED {
			s.ServerError(w, r, err)
			return
		}
		p.Title = p.T("billing.upgrade.title")
		p.Error = s.d.Catalog.Error(p.Lang, err)
		plan, ferr := s.d.Plans.Find(code)
		if ferr != nil || !plan.Paid() {
			plan = nil
		}
		v := s.upgradeView(p, plan, max(seats, 1))
		v.Email = id.Account.Email
		p.Data = v
		s.Render(w, r, billingStatus(err), "billing_upgrade", p)
		return
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
}

// checkoutDone is where Stripe sends the reader back. The webhook, not this
// page, activates the subscription; it usually has by now.
func (s *Server) checkoutDone(w http.ResponseWriter, r *http.Request) {
	id, ok := s.requireSignIn(w, r)
	if !ok {
		return
	}
	code := r.URL.Query().Get("plan")
	if sub, err := s.d.Billing.OwnedSubscription(r.Context(), id.Account.ID); err == nil && sub.PlanCode == code {
		redirect(w, r, "/billing?done=checkout#invite")
		return
	}
	p := s.NewPage(r, "")
	p.Title = p.T("billing.pending.title")
	p.Data = code
	s.Render(w, r, http.StatusOK, "billing_pending", p)
}

func (s *Server) portal(w http.ResponseWriter, r *http.Request) {
	id, ok := s.requireSignIn(w, r)
	if !ok {
		return
	}
	dest, err := s.d.Billing.Portal(r.Context(), id.Account, strings.TrimRight(s.d.PublicURL, "/")+"/billing")
	if err != nil {
		s.renderBilling(w, r, id, billingStatus(err), &BillingView{}, err)
		return
	}
	http.Redirect(w, r, dest, http.StatusSeeOther)
}

func (s *Server) inviteCSV(w http.ResponseWriter, r *http.Request) {
	id, ok := s.requireSignIn(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, kiosko.MaxInviteCSVBytes+64<<10)
	f, _, err := r.FormFile("file")
	if err != nil {
		s.renderBilling(w, r, id, http.StatusUnprocessableEntity, &BillingView{}, &kiosko.Error{Code: kiosko.EINVALID, Key: "error.csv_unreadable", Field: "file"})
		return
	}
	defer f.Close()
	rep, err := s.d.Billing.InviteCSV(r.Context(), id.Account, io.LimitReader(f, kiosko.MaxInviteCSVBytes+1))
	if err != nil {
		s.renderBilling(w, r, id, formStatus(err), &BillingView{}, err)
		return
	}
	if len(rep.Refused) == 0 {
		redirect(w, r, "/billing?done=csv#seats")
		return
	}
	lang := s.pageLang(r, s.editions(r)) // the page's language (reader.go)
	v := &BillingView{Invited: len(rep.Invited)}
	for _, x := range rep.Refused {
		v.Refused = append(v.Refused, RefusedRow{Line: x.Line, Email: x.Email, Reason: s.d.Catalog.Error(lang, x.Err)})
	}
	s.renderBilling(w, r, id, http.StatusOK, v, nil)
}

// billingStatus is formStatus, with 501 when online payment is not configured.
func billingStatus(err error) int {
	if kiosko.ErrorCode(err) == kiosko.ENOTIMPLEMENTED {
		return http.StatusNotImplemented
	}
	return formStatus(err)
}

// pathID reads a numeric path value; 0 when it is not one.
func pathID(r *http.Request, name string) int64 {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// billingForm runs one of the billing page's forms for the signed-in
// owner: back to the page with a notice when it worked, or the page again
// with the reason (and what was typed) when it did not.
func (s *Server) billingForm(done string, act func(r *http.Request, owner *kiosko.Account) (*BillingView, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.requireSignIn(w, r)
		if !ok {
			return
		}
		if err := parseForm(w, r); err != nil {
			s.renderBilling(w, r, id, http.StatusBadRequest, &BillingView{}, err)
			return
		}
		if v, err := act(r, id.Account); err != nil {
			s.renderBilling(w, r, id, formStatus(err), v, err)
			return
		}
		redirect(w, r, "/billing?done="+done)
	}
}

func (s *Server) invite(r *http.Request, owner *kiosko.Account) (*BillingView, error) {
	email := strings.TrimSpace(r.PostForm.Get("email"))
	_, err := s.d.Billing.Invite(r.Context(), owner, email)
	return &BillingView{Email: email}, err
}

func (s *Server) cancelInvitation(r *http.Request, owner *kiosko.Account) (*BillingView, error) {
	return &BillingView{}, s.d.Billing.CancelInvitation(r.Context(), owner, pathID(r, "id"))
}

func (s *Server) removeMember(r *http.Request, owner *kiosko.Account) (*BillingView, error) {
	return &BillingView{}, s.d.Billing.RemoveMember(r.Context(), owner, pathID(r, "id"))
}

func (s *Server) reassign(r *http.Request, owner *kiosko.Account) (*BillingView, error) {
	_, err := s.d.Billing.Reassign(r.Context(), owner, pathID(r, "id"), strings.TrimSpace(r.PostForm.Get("email")))
	return &BillingView{}, err
}

func (s *Server) setDomains(r *http.Request, owner *kiosko.Account) (*BillingView, error) {
	raw := r.PostForm.Get("domains")
	_, err := s.d.Billing.SetDomains(r.Context(), owner, raw)
	return &BillingView{Domains: raw}, err
}

// JoinView is the data of the join page.
type JoinView struct {
	Email string
	Sent  bool
}

func (s *Server) joinPage(w http.ResponseWriter, r *http.Request) {
	id, ok := s.requireSignIn(w, r)
	if !ok {
		return
	}
	p := s.NewPage(r, "")
	p.Title = p.T("billing.join.title")
	p.Data = &JoinView{Email: id.Account.Email}
	s.Render(w, r, http.StatusOK, "billing_join", p)
}

func (s *Server) join(w http.ResponseWriter, r *http.Request) {
	id, ok := s.requireSignIn(w, r)
	if !ok {
		return
	}
	res, err := s.d.Billing.Join(r.Context(), id.Account)
	if err == nil && !res.Sent {
		redirect(w, r, "/billing?done=joined")
		return
	}
	if err != nil && !userError(err) {
		s.ServerError(w, r, err)
		return
	}
	p := s.NewPage(r, "")
	p.Title = p.T("billing.join.title")
	p.Data = &JoinView{Email: id.Account.Email, Sent: err == nil}
	status := http.StatusOK
	if err != nil {
		p.Error = s.d.Catalog.Error(p.Lang, err)
		status = formStatus(err)
	}
	s.Render(w, r, status, "billing_join", p)
}

// InvitationView is the data of an invitation's page.
type InvitationView struct {
	Token    string
	Kind     string
	Email    string // the invited address
	Owner    string // who invited, for owner invitations
	Next     string // this page, for the sign-in and sign-up links
	Problem  bool   // the link cannot be used (the page's Error says why)
	SignedAs string
}

func (s *Server) invitationPage(w http.ResponseWriter, r *http.Request) {
	s.renderInvitation(w, r, http.StatusOK, nil)
}

func (s *Server) renderInvitation(w http.ResponseWriter, r *http.Request, status int, formErr error) {
	token := r.PathValue("token")
	p := s.NewPage(r, "")
	p.Title = p.T("billing.invitation.title")
	v := &InvitationView{Token: token, Next: "/invite/" + url.PathEscape(token)}
	inv, owner, err := s.d.Billing.FindInvitation(r.Context(), token)
	if err == nil {
		err = formErr
	}
	if inv != nil {
		v.Kind, v.Email = inv.Kind, inv.Email
		if owner != nil {
			v.Owner = owner.Email
			if owner.Name != "" {
				v.Owner = owner.Name + " (" + owner.Email + ")"
			}
		}
	}
	if p.Identity != nil {
		v.SignedAs = p.Identity.Account.Email
	}
	if err != nil {
		if !userError(err) {
			s.ServerError(w, r, err)
			return
		}
		p.Error = s.d.Catalog.Error(p.Lang, err)
		v.Problem = inv == nil
		if status == http.StatusOK {
			status = formStatus(err)
		}
	}
	p.Data = v
	s.Render(w, r, status, "billing_invitation", p)
}

func (s *Server) acceptInvitation(w http.ResponseWriter, r *http.Request) {
	id, ok := s.requireSignIn(w, r)
	if !ok {
		return
	}
	if _, _, err := s.d.Billing.Accept(r.Context(), r.PathValue("token"), id.Account); err != nil {
		s.renderInvitation(w, r, formStatus(err), err)
		return
	}
	redirect(w, r, "/billing?done=joined")
}

// maxWebhookBytes bounds a webhook body; Stripe's events are a few KB.
const maxWebhookBytes = 1 << 20

// webhook receives the payment provider's events: a bad signature is 400
// and changes nothing; a failure to apply is 500, so the provider retries.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	b := s.d.Billing
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBytes))
	if err != nil {
		s.d.WriteError(w, r, kiosko.Errorf(kiosko.EINVALID, "error.body_too_large", "webhook body: %v", err))
		return
	}
	sig := ""
	if b.Provider != nil {
		sig = r.Header.Get(b.Provider.SignatureHeader())
	}
	ev, err := b.ParseWebhook(payload, sig)
	if err != nil {
		s.d.Log.Warn("webhook refused", "err", err)
		s.d.WriteError(w, r, err)
		return
	}
	if ev != nil {
		if err := b.HandleEvent(r.Context(), ev); err != nil {
			s.d.WriteError(w, r, fmt.Errorf("webhook: %w", err))
			return
		}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]bool{"received": true})
}
