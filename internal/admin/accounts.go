package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/console"
)

const pageSize = 50

type accountsData struct {
	Query    string
	Accounts []*kiosko.Account
	Next     string // link to the next page, "" on the last
}

// accounts lists accounts newest first, or those whose email or name
// starts with ?q=, a page at a time (?before= is the last id seen).
func (h *Handler) accounts(w http.ResponseWriter, r *http.Request) {
	p := h.page(r, "accounts")
	p.Title = p.T("admin.accounts.title")
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 200 {
		q = q[:200]
	}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	list, err := h.d.Store.SearchAccounts(r.Context(), kiosko.AccountQuery{Text: q, BeforeID: before, Limit: pageSize + 1})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	data := &accountsData{Query: q, Accounts: list}
	if len(list) > pageSize {
		data.Accounts = list[:pageSize]
		v := url.Values{"before": {strconv.FormatInt(list[pageSize-1].ID, 10)}}
		if q != "" {
			v.Set("q", q)
		}
		data.Next = "/admin/?" + v.Encode()
	}
	p.Data = data
	if r.URL.Query().Get("deleted") != "" {
		p.Notice = p.T("admin.done.delete")
	}
	h.render(w, r, http.StatusOK, "accounts", p)
}

// TimelineLine is a timeline entry ready to show.
type TimelineLine struct {
	At      time.Time
	Text    string // what happened, in the admin's language
	Detail  string // devices, reason, event data
	Actor   string // the admin who did it, for admin actions
	Lease   bool
	RawType string
}

type accountData struct {
	View     *console.AccountView
	Timeline []TimelineLine
	Older    string // link to older timeline entries
	Plans    []*kiosko.Plan
}

const timelineSize = 100

// account shows one account: subscriptions and seats, devices, the
// timeline, and the action forms.
func (h *Handler) account(w http.ResponseWriter, r *http.Request) {
	h.showAccount(w, r, http.StatusOK, "", "")
}

func (h *Handler) showAccount(w http.ResponseWriter, r *http.Request, status int, notice, errMsg string) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	p := h.page(r, "accounts")
	var before time.Time
	if n, err := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64); err == nil && n > 0 {
		before = time.Unix(0, n).UTC()
	}
	v, err := h.c.Account(r.Context(), id, before, timelineSize+1)
	if kiosko.IsNotFound(err) {
		h.notFound(w, r)
		return
	} else if err != nil {
		h.serverError(w, r, err)
		return
	}
	plans, err := h.c.Plans(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	data := &accountData{View: v, Plans: plans.Sorted()}
	entries := v.Timeline
	if len(entries) > timelineSize {
		entries = entries[:timelineSize]
		data.Older = "/admin/accounts/" + strconv.FormatInt(id, 10) + "?before=" + strconv.FormatInt(entries[len(entries)-1].At.UnixNano(), 10)
	}
	for _, e := range entries {
		data.Timeline = append(data.Timeline, h.line(p, v, e))
	}
	p.Title = v.Account.Email
	p.Data = data
	if done := r.URL.Query().Get("done"); notice == "" && done != "" && doneKeys[done] != "" {
		notice = p.T(doneKeys[done])
	}
	p.Notice, p.Error = notice, errMsg
	h.render(w, r, status, "account", p)
}

// timelineKeys name each kind of entry; an unknown type shows as itself.
var timelineKeys = map[string]string{
	kiosko.EventSignedIn:                     "admin.tl.signed_in",
	kiosko.EventEmailSent:                    "admin.tl.email_sent",
	kiosko.EventAccountCreated:               "admin.tl.account_created",
	kiosko.EventAccountDeleted:               "admin.tl.account_deleted",
	kiosko.EventSubscriptionCreated:          "admin.tl.subscription_created",
	kiosko.EventSubscriptionUpdated:          "admin.tl.subscription_updated",
	kiosko.EventSubscriptionCanceled:         "admin.tl.subscription_canceled",
	kiosko.EventSeatAdded:                    "admin.tl.seat_added",
	kiosko.EventSeatRemoved:                  "admin.tl.seat_removed",
	kiosko.EventSharingWarningSet:            "admin.tl.warning_set",
	kiosko.EventSharingWarningCleared:        "admin.tl.warning_cleared",
	kiosko.EventNewsletterSubscribed:         "admin.tl.newsletter_subscribed",
	kiosko.EventNewsletterUnsubscribed:       "admin.tl.newsletter_unsubscribed",
	kiosko.EventAdminPlanGranted:             "admin.tl.admin_plan_granted",
	kiosko.EventAdminPlanRevoked:             "admin.tl.admin_plan_revoked",
	kiosko.EventAdminSeatsChanged:            "admin.tl.admin_seats_changed",
	kiosko.EventAdminSeatFreed:               "admin.tl.admin_seat_freed",
	kiosko.EventAdminWarningCleared:          "admin.tl.admin_warning_cleared",
	kiosko.EventAdminSignedOut:               "admin.tl.admin_signed_out",
	kiosko.EventAdminResetSent:               "admin.tl.admin_reset_sent",
	kiosko.EventAdminDeleteRequested:         "admin.tl.admin_delete_requested",
	"lease." + kiosko.EventClaim:             "admin.tl.claim",
	"lease." + kiosko.EventConflict:          "admin.tl.conflict",
	"lease." + kiosko.EventTakeoverContested: "admin.tl.takeover_contested",
	"lease." + kiosko.EventTakeoverQuiet:     "admin.tl.takeover_quiet",
	"lease." + kiosko.EventTakeoverCounted:   "admin.tl.takeover_counted",
	"lease." + kiosko.EventWarningSet:        "admin.tl.lease_warning_set",
	"lease." + kiosko.EventWarningCleared:    "admin.tl.lease_warning_cleared",
	"lease." + kiosko.EventRemoteSignOut:     "admin.tl.remote_sign_out",
	"lease." + kiosko.EventPasswordSignOut:   "admin.tl.password_sign_out",
}

func (h *Handler) line(p *Page, v *console.AccountView, e *kiosko.TimelineEntry) TimelineLine {
	k := e.Type
	if e.Source == "lease" {
		k = "lease." + e.Type
	}
	l := TimelineLine{At: e.At, Text: e.Type, Lease: e.Source == "lease", RawType: e.Type}
	if key, ok := timelineKeys[k]; ok {
		l.Text = p.T(key)
	}
	var parts []string
	if e.Device != "" {
		parts = append(parts, e.Device)
	}
	if e.OtherDevice != "" {
		parts = append(parts, "← "+e.OtherDevice)
	}
	if e.Reason != "" {
		parts = append(parts, e.Reason)
	}
	if d := compactJSON(e.Data); d != "" {
		parts = append(parts, d)
	}
	l.Detail = strings.Join(parts, " · ")
	if a := v.Actors[e.ActorID]; a != nil {
		l.Actor = a.Email
	}
	return l
}
